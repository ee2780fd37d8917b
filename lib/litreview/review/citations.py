"""Citation keys and the reference list: readable, stable keys and each paper's links."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

import pandas as pd

from litreview import sanitize
from litreview.review.helpers import _as_list, _text, _year
from litreview.review.model import Reference, Review
from litreview.review.sentences import normalise_whitespace

# --------------------------------------------------------------------------- citation keys

_TITLE_STOPWORDS = frozenset({
    "a", "an", "the", "of", "for", "and", "or", "in", "on", "to", "with", "from", "by", "via",
    "at", "as", "is", "are", "be", "its", "into", "towards", "toward", "using", "use", "do",
    "does", "can", "we", "our", "how", "what", "why", "when", "which"
})
#: Title words a key starts with, and the most it grows to when keys clash.
_KEY_TITLE_WORDS = {"author": (1, 3), "title": (2, 4)}


def _first_surname(authors: Any) -> str:
    """ASCII, lower-case surname of the first author (``"Smith, J.; Doe, A."`` gives smith)."""
    names = _as_list(authors) if not isinstance(authors, str) else [authors]
    text = normalise_whitespace(_text(names[0])) if names else ""
    first = re.split(r";|\s+and\s+", text)[0].strip()
    if "," in first:
        surname = first.split(",")[0]
    else:  # "G. Kalbe", "Jane Smith", or PubMed's "Smith JR": skip initials
        tokens = [t for t in first.split() if not re.fullmatch(r"(?:[A-Z]\.?-?){1,3}", t)]
        surname = tokens[-1] if tokens else ""
    words = [w.lower() for w in _ascii_words(surname) if not w.isdigit()]
    return words[-1][:20] if words else ""  # "van der Berg" gives berg


#: Words most titles of a machine-learning corpus share: a key built from them
#: ("largelanguage", "machinelearning") tells the reader nothing, so a title key skips them
#: while two other words remain.
_FIELD_WORDS = frozenset({
    "large", "language", "languages", "model", "models", "llm", "llms", "lm", "lms", "vlm",
    "vlms", "mllm", "mllms", "neural", "network", "networks", "deep", "learning", "machine",
    "ai", "artificial", "intelligence",
})


def _significant_words(title: str) -> list[str]:
    words = _ascii_words(normalise_whitespace(title))
    return [w for w in words if w.lower() not in _TITLE_STOPWORDS] or words


def _telling_words(title: str) -> list[str]:
    """A title's significant words without the field's common ones (``_FIELD_WORDS``),
    unless fewer than two would remain."""
    words = _significant_words(title)
    telling = [w for w in words if w.lower() not in _FIELD_WORDS]
    return telling if len(telling) >= 2 else words


def citation_key(
    title: str | None, year: int | None = None, authors: Any = None, *, n_words: int | None = None
) -> str:
    """Return a short, lower-case ASCII citation key, as researchers write them in BibTeX.

    With an author and a year: first author's surname, year, first significant title word
    (``smith2021mapping``). Otherwise the first two significant title words, past the
    words most of the field's titles share (``_FIELD_WORDS``: "Large Language Models
    Assume People are More Rational" gives ``assumepeople``), and the year when known; a
    title whose head before a colon is one name uses that name (``"NormBank: A Knowledge
    Bank…"`` gives ``normbank2023``). ``n_words``
    takes more title words (used to tell clashing keys apart).
    """
    title = normalise_whitespace(_text(title))
    year = _year(year)
    surname = _first_surname(authors)
    words = _significant_words(title)
    if surname and year is not None:
        n = n_words or _KEY_TITLE_WORDS["author"][0]
        return f"{surname}{year}" + "".join(w.lower() for w in words[:n])
    head, sep, _ = title.partition(":")
    head_words = _ascii_words(head) if sep else []
    if len(head_words) == 1 and len(head_words[0]) <= 20 and not n_words:
        words = head_words
    else:
        words = _telling_words(title)
    n = n_words or _KEY_TITLE_WORDS["title"][0]
    key = "".join(w.lower() for w in words[:n]) or (surname or "untitled")
    return key + (str(year) if year is not None else "")


def _ascii_words(text: str) -> list[str]:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.findall(r"[A-Za-z0-9]+", ascii_text.replace("'", "").replace("’", ""))


def assign_citation_keys(papers: pd.DataFrame) -> dict[str, str]:
    """Give every paper a unique key (see :func:`citation_key`), independent of row order.

    Papers whose keys clash get more title words while that tells them apart, then
    a/b/c… suffixes in paper_id order (never a key another paper has).
    """
    columns = papers.reindex(columns=["paper_id", "title", "year", "authors"])
    rows = {str(r.paper_id): (r.title, _year(r.year), r.authors)
            for r in columns.itertuples(index=False)}

    def kind(pid: str) -> str:
        _title, year, authors = rows[pid]
        return "author" if year is not None and _first_surname(authors) else "title"

    keys = {pid: citation_key(*rows[pid]) for pid in sorted(rows)}
    for _ in range(3):
        clashing = _clashes(keys)
        if not clashing:
            break
        for group in clashing:
            longer = {}
            for pid in group:
                start, most = _KEY_TITLE_WORDS[kind(pid)]
                n = min(most, start + 1 + _extra_words(keys[pid], rows[pid]))
                longer[pid] = citation_key(*rows[pid], n_words=n)
            if len(set(longer.values())) > 1:
                keys.update(longer)
    taken = {k for k, n in _counts(keys).items() if n == 1}
    for group in _clashes(keys):
        index = 0
        for pid in group:
            while (candidate := keys[pid] + _letters(index)) in taken:
                index += 1
            taken.add(candidate)
            keys[pid] = candidate
            index += 1
    return keys


def _extra_words(key: str, row: tuple[Any, int | None, Any]) -> int:
    """How many title words beyond the first level ``key`` already uses."""
    title, year, authors = row
    start, most = _KEY_TITLE_WORDS[
        "author" if year is not None and _first_surname(authors) else "title"]
    for n in range(start, most + 1):
        if citation_key(title, year, authors, n_words=n) == key:
            return n - start
    return 0


def _counts(keys: Mapping[str, str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for key in keys.values():
        counts[key] = counts.get(key, 0) + 1
    return counts


def _clashes(keys: Mapping[str, str]) -> list[list[str]]:
    """Groups of paper ids (each sorted) that share a key, in key order."""
    groups: dict[str, list[str]] = {}
    for pid, key in keys.items():
        groups.setdefault(key, []).append(pid)
    return [sorted(ids) for key, ids in sorted(groups.items()) if len(ids) > 1]


def _letters(index: int) -> str:
    """0 -> a, 25 -> z, 26 -> aa, …"""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(ord("a") + rem) + letters
    return letters


# --------------------------------------------------------------------------- references


def _link_fields(papers: pd.DataFrame) -> list[dict[str, Any]]:
    """Return the fields ``_links`` reads, one dict per paper (fast, unlike iterrows)."""
    return papers.reindex(
        columns=["paper_id", "doi", "arxiv_id", "pmid", "url", "urls"]).to_dict("records")


def _references(review: Review, papers: pd.DataFrame) -> list[Reference]:
    cited = {s.paper_id for s in review.citations()}
    cited |= {p.paper_id for t in review.themes for p in t.representatives}
    refs = []
    order = list(cited)
    # One conversion for all cited rows: ``papers.loc[pid]`` per paper cost a minute at 75k.
    for pid, paper in zip(order, papers.loc[order].to_dict("records"), strict=True):
        refs.append(
            Reference(
                key=review.keys[pid],
                paper_id=pid,
                title=normalise_whitespace(paper["title"]),
                year=_year(paper["year"]),
                sources=tuple(str(s) for s in _as_list(paper.get("sources"))),
                links=tuple(_links(paper)),
                code_urls=_code_urls(paper),
            )
        )
    return sorted(refs, key=lambda r: (r.key.lower(), r.key))


def safe_url(url: Any) -> bool:
    """Whether a URL from the corpus is safe to link (see :func:`litreview.sanitize.https_url`)."""
    return sanitize.https_url(url) is not None


def _links(paper: Mapping[str, Any]) -> list[tuple[str, str]]:
    return sanitize.paper_links(paper)


def _code_urls(paper: Mapping[str, Any]) -> tuple[str, ...]:
    return sanitize.code_links(paper)


def _primary_url(paper: Mapping[str, Any]) -> str | None:
    links = _links(paper)
    return links[0][1] if links else None
