"""A hostile corpus and a parser-based scanner for live markup in HTML and Markdown outputs.

The corpus keeps real abstracts (so papers cluster, get quoted and cited) and injects
script tags, event handlers, ``javascript:``/``data:`` URLs and Markdown link syntax
into every field of BibTeX records, RIS records and a Hugging Face listing.
"""

from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

from markdown_it import MarkdownIt

from litreview import config
from litreview.ingest import hfpapers

SEED_LISTINGS = sorted((config.PROJECT_ROOT / "data" / "corpus").glob("*.txt"))

#: Inline payloads. ``alert(document.domain)`` rather than ``alert(1)`` so sentences that
#: carry them stay quotable (the review skips sentences with enumerations like "(1)").
PAYLOADS = (
    '<script>alert("xss")</script>',
    "<img src=x onerror=alert(document.domain)>",
    "[click me](javascript:alert(document.domain))",
    '<a href="javascript:alert(document.domain)">link</a>',
    "![pic](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "<javascript:alert(document.domain)>",
    "<svg onload=alert(document.domain)>",
    "&lt;script&gt;alert(document.domain)&lt;/script&gt;",
    '<iframe src="javascript:alert(document.domain)"></iframe>',
)
#: Each carries the record number so that records are not merged as "same DOI".
BAD_DOIS = (
    "10.1234/s{i}><script>alert(1)</script>",
    "10.1234/x{i}](javascript:alert(1))",
    "javascript:alert({i})",
    '10.5555/a{i}"onmouseover="alert(1)',
)
BAD_URLS = (
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    'https://ok.example/"><script>alert(1)</script>',
    "JaVaScRiPt:alert(1)",
    'https://github.com/evil/repo"onclick="alert(1)',
)
#: Text the rendered report must show (escaped) somewhere: the payloads reached it.
VISIBLE_MARKERS = ("onerror=alert", "javascript:alert")


def _payload(i: int) -> str:
    return PAYLOADS[i % len(PAYLOADS)]


def _hostile_abstract(abstract: str, i: int) -> str:
    """Inject payloads into the sentences of a real abstract (quoted sentences carry them)."""
    sentences = re.split(r"(?<=[.!?])\s+(?=[A-Z])", abstract)
    out = []
    for j, sentence in enumerate(sentences):
        if j % 2 == 0:
            body = sentence.rstrip(".")
            sentence = f"{body} {_payload(i + j)}."
        out.append(sentence)
    out.insert(1, f"We introduce Evil{i}Bench {_payload(i + 1)}, a benchmark for testing.")
    return " ".join(out)


def _clean_for_bibtex(text: str) -> str:
    return text.replace("{", "(").replace("}", ")").replace("%", " percent").replace("@", " at ")


def write_hostile_corpus(folder: Path, n_bibtex: int = 12, n_ris: int = 12,
                         n_listing: int = 10) -> Path:
    """Write the seed's smaller listing plus hostile BibTeX, RIS and listing files."""
    folder.mkdir(parents=True, exist_ok=True)
    benign, donor = SEED_LISTINGS[-1], SEED_LISTINGS[0]
    shutil.copy(benign, folder / benign.name)
    records, _ = hfpapers.parse(donor.read_text(encoding="utf-8"), donor.name)
    records = [r for r in records if r.abstract][: n_bibtex + n_ris + n_listing]

    bib = []
    for i, rec in enumerate(records[:n_bibtex]):
        title = _clean_for_bibtex(f"{rec.title} {_payload(i)}")
        abstract = _clean_for_bibtex(_hostile_abstract(rec.abstract, i))
        bib.append(
            f"@article{{evil{i},\n"
            f"  title = {{{title}}},\n"
            f"  author = {{{_clean_for_bibtex(_payload(i + 2))} and Smith, Jane}},\n"
            f"  journal = {{{_clean_for_bibtex(_payload(i + 3))}}},\n"
            f"  year = {{2023}},\n"
            f"  doi = {{{_clean_for_bibtex(BAD_DOIS[i % len(BAD_DOIS)].format(i=i))}}},\n"
            f"  url = {{{_clean_for_bibtex(BAD_URLS[i % len(BAD_URLS)])}}},\n"
            f"  abstract = {{{abstract}}}\n}}\n"
        )
    (folder / "hostile.bib").write_text("\n".join(bib), encoding="utf-8")

    ris = []
    for i, rec in enumerate(records[n_bibtex : n_bibtex + n_ris], start=n_bibtex):
        ris.append("\n".join([
            "TY  - JOUR",
            f"TI  - {rec.title} {_payload(i)}",
            f"AU  - {_payload(i + 2)}",
            "AU  - Doe, John",
            f"T2  - {_payload(i + 3)}",
            "PY  - 2022",
            f"DO  - {BAD_DOIS[i % len(BAD_DOIS)].format(i=i)}",
            f"UR  - {BAD_URLS[i % len(BAD_URLS)]}",
            f"AB  - {_hostile_abstract(rec.abstract, i)}",
            "ER  - ",
            "",
        ]))
    # The file name is corpus text too: it is shown as the paper's source.
    (folder / "hostile[x](javascript:alert(1)).ris").write_text("\n".join(ris), encoding="utf-8")

    lines = ["Get trending papers in your email inbox once a day!", ""]
    start = n_bibtex + n_ris
    for i, rec in enumerate(records[start:], start=start):
        lines += [f"{rec.title} {_payload(i)}", _hostile_abstract(rec.abstract, i), ""]
    (folder / "hostile_listing.txt").write_text("\n".join(lines), encoding="utf-8")
    return folder


# --------------------------------------------------------------------------- scanning

_URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "poster", "background",
              "data", "srcset", "cite", "ping"}
_SAFE_SCHEMES = ("http:", "https:", "mailto:")
_OWN_IMAGE = re.compile(r"^data:image/(?:png|jpeg|gif);base64,[A-Za-z0-9+/=\s]+$")
_FORBIDDEN_TAGS = {"object", "embed", "base", "form", "frame", "frameset", "applet", "math"}


class _Scanner(HTMLParser):
    """Collect every element with its attributes, and the text of each <script>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.scripts: list[tuple[dict[str, str], str]] = []
        self.text: list[str] = []
        self._in_script: dict[str, str] | None = None
        self._script_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k.lower(): v or "" for k, v in attrs}
        self.elements.append((tag.lower(), attributes))
        if tag.lower() == "script":
            self._in_script, self._script_text = attributes, []

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag.lower() == "script":
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag.lower() == "script" and self._in_script is not None:
            self.scripts.append((self._in_script, "".join(self._script_text)))
            self._in_script = None

    def handle_data(self, data: str) -> None:
        if self._in_script is not None:
            self._script_text.append(data)
        else:
            self.text.append(data)


def scan_html(html: str, *, allowed_script: callable, where: str,
              allowed_tags: set[str] | None = None,
              allowed_relative: re.Pattern[str] | None = None) -> tuple[list[str], str]:
    """Return (problems, visible text) of an HTML document, nested ``srcdoc`` included."""
    scanner = _Scanner()
    scanner.feed(html)
    scanner.close()
    problems: list[str] = []
    for tag, attrs in scanner.elements:
        if allowed_tags is not None and tag not in allowed_tags:
            problems.append(f"{where}: element <{tag}> {attrs}")
        if tag in _FORBIDDEN_TAGS:
            problems.append(f"{where}: forbidden element <{tag}>")
        for name, value in attrs.items():
            if name.startswith("on"):
                problems.append(f"{where}: event handler <{tag} {name}={value[:60]!r}>")
            if name in _URL_ATTRS:
                problem = _check_url(tag, name, value, allowed_relative)
                if problem:
                    problems.append(f"{where}: {problem}")
            if name == "style" and re.search(r"url\s*\(|expression\s*\(", value, re.I):
                problems.append(f"{where}: style with url()/expression() on <{tag}>")
        if tag == "meta" and attrs.get("http-equiv", "").lower() == "refresh":
            problems.append(f"{where}: meta refresh")
        if tag == "iframe":
            if "src" in attrs or "allow-same-origin" in attrs.get("sandbox", "allow-same-origin"):
                problems.append(f"{where}: iframe that is not a sandboxed srcdoc")
            nested, _ = scan_html(attrs.get("srcdoc", ""), allowed_script=_map_script,
                                  where=where + " (iframe srcdoc)")
            problems += nested
    for attrs, text in scanner.scripts:
        if not allowed_script(attrs, text):
            problems.append(f"{where}: unexpected <script {attrs}> {text.strip()[:80]!r}")
    return problems, " ".join(scanner.text)


def _check_url(tag: str, name: str, value: str, relative: re.Pattern[str] | None) -> str | None:
    url = re.sub(r"[\x00-\x20]", "", value).lower()
    if name == "srcset":
        return f"srcset on <{tag}>" if value else None
    if url.startswith("#") or url.startswith(_SAFE_SCHEMES):
        return None
    if tag == "img" and name == "src" and _OWN_IMAGE.match(value.strip()):
        return None
    if relative is not None and relative.match(value):
        return None
    return f"<{tag} {name}={value[:80]!r}>"


def _map_script(attrs: dict[str, str], text: str) -> bool:
    """Scripts of the plotly document map (plotly.js itself and its newPlot call)."""
    return "src" not in attrs and ("Plotly" in text or "PlotlyConfig" in text)


def report_script(own_js: str) -> callable:
    """Scripts the HTML report may carry: its own JS and the JSON paper data."""

    def allowed(attrs: dict[str, str], text: str) -> bool:
        if "src" in attrs:
            return False
        if attrs.get("type") == "application/json":
            return attrs.get("id") == "paper-data" and not re.search(r"</?script", text, re.I)
        return text.strip() == own_js.strip()

    return allowed


def notebook_script(attrs: dict[str, str], text: str) -> bool:
    """Scripts nbconvert's lab template writes (MathJax, require.js, widget state, plotly)."""
    src = attrs.get("src", "")
    if src:
        return src.startswith(("https://cdnjs.cloudflare.com/", "https://cdn.jsdelivr.net/",
                               "https://unpkg.com/"))
    kind = attrs.get("type", "text/javascript")
    if kind in {"application/json", "application/vnd.jupyter.widget-state+json",
                "text/x-mathjax-config"}:
        return not re.search(r"</?script", text, re.I)
    return bool(re.search(r"MathJax|requirejs|require\.config|Plotly|PlotlyConfig|"
                          r"document\.addEventListener\(\"DOMContentLoaded\"|"
                          r"mermaid|jupyter", text))


#: Elements the CommonMark renderer makes from Markdown syntax (no raw HTML among them).
MARKDOWN_TAGS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "a", "img", "em",
                 "strong", "code", "pre", "table", "thead", "tbody", "tr", "th", "td",
                 "blockquote", "hr", "br", "del", "s"}
OWN_FIGURE = re.compile(r"^\.\./figures/[a-z_]+\.png$")


def render_markdown(text: str) -> str:
    """CommonMark with raw HTML allowed (as lenient viewers do), plus GFM tables/strikethrough."""
    return MarkdownIt("commonmark", {"html": True, "linkify": False}).enable(
        ["table", "strikethrough"]).render(text)
