/* litreview report: paper table (search, theme filter, sort, pages) and figure lightbox.
   No dependencies. The table is rendered one page at a time, so it stays fast with
   tens of thousands of papers. "#q=term&theme=2" in the URL pre-fills the filters. */
(function () {
  "use strict";
  var PAGE_SIZE = 50;

  function setupTable() {
    var dataEl = document.getElementById("paper-data");
    var table = document.getElementById("paper-table");
    if (!dataEl || !table) { return; }
    var data = JSON.parse(dataEl.textContent);
    var themes = data.themes;
    var rows = data.rows; // [key, title, year, themeIndex, url, cited]
    var themeName = function (i) { return i >= 0 ? themes[i] : "(no theme)"; };
    var haystack = rows.map(function (r) {
      return (r[1] + " \u0001 " + themeName(r[3]) + " \u0001 " + r[0]).toLowerCase();
    });
    var sortKeys = {
      1: rows.map(function (r) { return r[1].toLowerCase(); }),
      2: rows.map(function (r) { return r[2] === null ? -Infinity : r[2]; }),
      3: rows.map(function (r) { return themeName(r[3]).toLowerCase(); })
    };
    var search = document.getElementById("paper-search");
    var themeSelect = document.getElementById("paper-theme");
    var count = document.getElementById("paper-count");
    var pageLabel = document.getElementById("paper-page");
    var prev = document.getElementById("paper-prev");
    var next = document.getElementById("paper-next");
    var tbody = table.tBodies[0];
    var state = { q: "", theme: "", col: 0, dir: 1, page: 0 };
    var shown = [];

    function filter() {
      var terms = state.q.toLowerCase().split(/\s+/).filter(Boolean);
      var theme = state.theme === "" ? null : Number(state.theme);
      shown = [];
      for (var i = 0; i < rows.length; i++) {
        if (theme !== null && rows[i][3] !== theme) { continue; }
        var ok = true;
        for (var t = 0; t < terms.length && ok; t++) { ok = haystack[i].indexOf(terms[t]) !== -1; }
        if (ok) { shown.push(i); }
      }
      if (state.col) {
        var key = sortKeys[state.col];
        var dir = state.dir;
        shown.sort(function (a, b) {
          return key[a] < key[b] ? -dir : key[a] > key[b] ? dir : a - b;
        });
      }
      state.page = 0;
    }

    function cell(tr, text, cls) {
      var td = document.createElement("td");
      if (cls) { td.className = cls; }
      td.textContent = text;
      tr.appendChild(td);
      return td;
    }

    function render() {
      var pages = Math.max(1, Math.ceil(shown.length / PAGE_SIZE));
      state.page = Math.min(state.page, pages - 1);
      var start = state.page * PAGE_SIZE;
      var fragment = document.createDocumentFragment();
      shown.slice(start, start + PAGE_SIZE).forEach(function (i) {
        var r = rows[i];
        var tr = document.createElement("tr");
        tr.className = "paper-row";
        var td = cell(tr, "");
        var web = typeof r[4] === "string" && /^https?:\/\//i.test(r[4]);  // never javascript:
        if (r[5] || web) {
          var a = document.createElement("a");
          a.href = r[5] ? "#ref-" + r[0] : r[4];
          if (!r[5]) { a.rel = "noopener noreferrer"; }
          a.textContent = r[1];
          td.appendChild(a);
        } else {
          td.textContent = r[1];
        }
        cell(tr, r[2] === null ? "" : String(r[2]), "num");
        cell(tr, themeName(r[3]));
        fragment.appendChild(tr);
      });
      tbody.replaceChildren(fragment);
      if (!shown.length) {
        var empty = document.createElement("tr");
        cell(empty, "No paper matches.", "empty").colSpan = 3;
        tbody.appendChild(empty);
      }
      count.textContent = shown.length === rows.length
        ? rows.length.toLocaleString("en") + " papers"
        : shown.length.toLocaleString("en") + " of " + rows.length.toLocaleString("en") + " papers";
      count.dataset.count = String(shown.length);
      pageLabel.textContent = "page " + (state.page + 1) + " of " + pages;
      prev.disabled = state.page === 0;
      next.disabled = state.page >= pages - 1;
    }

    function update() { filter(); render(); }

    var timer = null;
    search.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { state.q = search.value; update(); }, 120);
    });
    themeSelect.addEventListener("change", function () { state.theme = themeSelect.value; update(); });
    prev.addEventListener("click", function () { state.page -= 1; render(); });
    next.addEventListener("click", function () { state.page += 1; render(); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
      th.tabIndex = 0;
      function sortBy() {
        var col = Number(th.dataset.col);
        state.dir = state.col === col ? -state.dir : 1;
        state.col = col;
        Array.prototype.forEach.call(th.parentNode.cells, function (other) {
          other.setAttribute("aria-sort", "none");
        });
        th.setAttribute("aria-sort", state.dir > 0 ? "ascending" : "descending");
        update();
      }
      th.addEventListener("click", sortBy);
      th.addEventListener("keydown", function (e) { if (e.key === "Enter") { sortBy(); } });
    });

    var params = readParams();
    if (params.q) { search.value = state.q = params.q; }
    if (params.theme !== undefined && themeSelect.querySelector('option[value="' + CSS.escape(params.theme) + '"]')) {
      themeSelect.value = state.theme = params.theme;
    }
    update();
  }

  function readParams() {
    var out = {};
    [window.location.search.slice(1), window.location.hash.slice(1)].forEach(function (part) {
      if (part.indexOf("=") === -1) { return; }
      new URLSearchParams(part).forEach(function (value, key) { out[key] = value; });
    });
    return out;
  }

  function setupLightbox() {
    var box = document.getElementById("lightbox");
    if (!box) { return; }
    var big = box.querySelector("img");
    document.querySelectorAll("figure.fig img").forEach(function (img) {
      img.addEventListener("click", function () {
        big.src = img.src;
        big.alt = img.alt;
        box.hidden = false;
      });
    });
    box.addEventListener("click", function () { box.hidden = true; });
    document.addEventListener("keydown", function (e) { if (e.key === "Escape") { box.hidden = true; } });
  }

  function setupTocHighlight() {
    var links = document.querySelectorAll("#toc a");
    if (!links.length || !("IntersectionObserver" in window)) { return; }
    var byId = {};
    links.forEach(function (a) { byId[a.getAttribute("href").slice(1)] = a; });
    var observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (entry.isIntersecting && byId[entry.target.id]) {
          links.forEach(function (a) { a.classList.remove("current"); });
          byId[entry.target.id].classList.add("current");
        }
      });
    }, { rootMargin: "0px 0px -70% 0px" });
    Object.keys(byId).forEach(function (id) {
      var target = document.getElementById(id);
      if (target) { observer.observe(target); }
    });
  }

  setupTable();
  setupLightbox();
  setupTocHighlight();
  document.documentElement.dataset.ready = "1";
}());
