"""Write papers as BibTeX (bibtexparser), RIS (rispy) and CSL-JSON (json).

Each writer takes the rows of ``papers.parquet`` (plus a ``tags`` list per paper) and
returns text; the same rows give the same bytes. What litreview reads back from each file
is what it wrote: title, abstract, authors, year/month, venue, DOI, PMID, arXiv id,
keywords (the tags added), citation count and document type.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

import bibtexparser
import rispy
from bibtexparser import model
from bibtexparser.middlewares import default_unparse_stack
from bibtexparser.writer import BibtexFormat
from rispy.writer import RisWriter

_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_STOP = frozenset({"a", "an", "the", "on", "of", "for", "in", "and", "to", "with", "towards"})
#: document_type (any source's spelling, lower-cased) -> (BibTeX entry type, RIS type, CSL type)
_TYPES = {
    "article": ("article", "JOUR", "article-journal"),
    "journal article": ("article", "JOUR", "article-journal"),
    "article-journal": ("article", "JOUR", "article-journal"),
    "jour": ("article", "JOUR", "article-journal"),
    "review": ("article", "JOUR", "article-journal"),
    "conference paper": ("inproceedings", "CONF", "paper-conference"),
    "proceedings paper": ("inproceedings", "CONF", "paper-conference"),
    "inproceedings": ("inproceedings", "CONF", "paper-conference"),
    "paper-conference": ("inproceedings", "CONF", "paper-conference"),
    "conf": ("inproceedings", "CONF", "paper-conference"),
    "book": ("book", "BOOK", "book"),
    "book chapter": ("incollection", "CHAP", "chapter"),
    "chapter": ("incollection", "CHAP", "chapter"),
    "incollection": ("incollection", "CHAP", "chapter"),
    "preprint": ("misc", "GEN", "article"),
}
_DEFAULT_TYPE = ("article", "JOUR", "article-journal")
_DEFAULT_MISC = ("misc", "GEN", "article")


def _value(row: dict[str, Any], name: str) -> Any:
    value = row.get(name)
    if value is None:
        return None
    if hasattr(value, "tolist"):  # numpy arrays of list columns
        value = value.tolist()
    try:
        if value != value:  # NaN / NA
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(value, str) and (not value.strip() or value == "nan"):
        return None
    return value


def _text(row: dict[str, Any], name: str) -> str | None:
    value = _value(row, name)
    return " ".join(str(value).split()) if value is not None else None


def _int(row: dict[str, Any], name: str) -> int | None:
    value = _value(row, name)
    return int(value) if value is not None else None


def _list(row: dict[str, Any], name: str) -> list[str]:
    value = _value(row, name)
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [" ".join(str(v).split()) for v in value if v is not None and str(v).strip()]


def _types(row: dict[str, Any]) -> tuple[str, str, str]:
    kind = (_text(row, "document_type") or "").lower()
    if kind in _TYPES:
        return _TYPES[kind]
    if not _text(row, "venue"):
        return _DEFAULT_MISC
    return _DEFAULT_TYPE


def _safe_url(url: str | None) -> str | None:
    """Only web links leave the corpus: never ``javascript:`` or ``data:``."""
    return url if url and re.match(r"^https?://[^\s\"<>]+$", url, re.IGNORECASE) else None


def citation_keys(rows: Sequence[dict[str, Any]]) -> list[str]:
    """Return ``smith2021mapping``-style keys (title key when no author/year), unique, in order.

    Rows that carry a ``citation_key`` (the review's key, so that a key cited in
    ``review.md`` is the key of the exported entry) keep it.
    """
    if rows and all(_text(row, "citation_key") for row in rows):
        return [str(row["citation_key"]) for row in rows]
    keys: list[str] = []
    used: dict[str, int] = {}
    for row in rows:
        title_words = [
            w for w in _ascii(_text(row, "title") or "").lower().split() if w not in _STOP
        ]
        first_word = title_words[0] if title_words else "untitled"
        authors = _list(row, "authors")
        year = _int(row, "year")
        if authors and year is not None:
            family = authors[0].split(",", 1)[0] if "," in authors[0] else authors[0].split()[-1]
            base = f"{_ascii(family).lower()}{year}{first_word}"
        else:
            base = "".join(title_words[:3]) or "untitled"
        base = re.sub(r"[^a-z0-9]", "", base) or "paper"
        count = used.get(base, 0)
        used[base] = count + 1
        # a, b, c ... for the 2nd, 3rd ... paper with the same key (input order decides).
        keys.append(base if count == 0 else f"{base}{_suffix(count)}")
    return keys


def _suffix(count: int) -> str:
    letters = ""
    while count > 0:
        count, rest = divmod(count - 1, 26)
        letters = chr(97 + rest) + letters
    return letters


_TRANSLIT = str.maketrans(
    {"ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "ß": "ss", "ł": "l", "Ł": "L", "đ": "d", "þ": "th"}
)


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.translate(_TRANSLIT))
    return re.sub(r"[^A-Za-z0-9 ]+", " ", "".join(c for c in decomposed if c.isascii()))


def _notes(row: dict[str, Any]) -> list[str]:
    cited = _int(row, "cited_by")
    return [f"Cited by: {cited}"] if cited is not None else []


def _keywords(row: dict[str, Any]) -> list[str]:
    return list(dict.fromkeys([*_list(row, "keywords"), *_list(row, "tags")]))


def _bibtex_value(text: str) -> str:
    """Braces must balance inside a BibTeX value; drop them where they do not."""
    if "{" not in text and "}" not in text:  # nearly every value: skip the walk
        return text
    depth = 0
    for char in text:
        depth += (char == "{") - (char == "}")
        if depth < 0:
            break
    if depth != 0:
        text = text.replace("{", "(").replace("}", ")")
    return text


def bibtex_entry(row: dict[str, Any], key: str) -> model.Entry:
    """Return one paper row as a bibtexparser entry with key ``key`` (empty fields left out)."""
    entry_type = _types(row)[0]
    fields: list[tuple[str, str | None]] = [
        ("title", _text(row, "title")),
        ("author", " and ".join(_list(row, "authors")) or None),
        ("year", str(_int(row, "year")) if _int(row, "year") is not None else None),
        (
            "month",
            _MONTH_NAMES[_int(row, "month") - 1]  # type: ignore[operator]
            if _int(row, "month") and 1 <= _int(row, "month") <= 12  # type: ignore[operator]
            else None,
        ),
        ("booktitle" if entry_type == "inproceedings" else "journal", _text(row, "venue")),
        ("doi", _text(row, "doi")),
        ("pmid", _text(row, "pmid")),
        ("eprint", _text(row, "arxiv_id")),
        ("archiveprefix", "arXiv" if _text(row, "arxiv_id") else None),
        ("url", _safe_url(_text(row, "url"))),
        ("abstract", _text(row, "abstract")),
        ("keywords", "; ".join(k.replace(";", ",") for k in _keywords(row)) or None),
        ("type", _text(row, "document_type")),
        ("note", "; ".join(_notes(row)) or None),
    ]
    return model.Entry(
        entry_type,
        key,
        [model.Field(name, _bibtex_value(value)) for name, value in fields if value],
    )


def bibtex_text(row: dict[str, Any], key: str) -> str:
    """Return one paper as the BibTeX text :func:`to_bibtex` writes for it.

    bibtexparser's default unparse stack works block by block and its default format
    aligns nothing across entries, so an entry's text does not depend on its neighbours;
    the stack runs in place on this fresh entry (no deep copy of a whole library).
    """
    return bibtexparser.write_string(
        bibtexparser.Library([bibtex_entry(row, key)]),
        unparse_stack=default_unparse_stack(allow_inplace_modification=True),
    )


def join_bibtex(entries: Sequence[str]) -> str:
    """Assemble :func:`bibtex_text` pieces into one file (bibtexparser's block separator)."""
    return BibtexFormat().block_separator.join(entries)


def to_bibtex(rows: Sequence[dict[str, Any]]) -> str:
    """Return the papers as BibTeX entries, keywords joined by ``"; "``."""
    return join_bibtex(
        [bibtex_text(row, key) for key, row in zip(citation_keys(rows), rows, strict=True)]
    )


class _PlainRisWriter(RisWriter):
    """rispy's writer without the ``1.``, ``2.`` counter lines some importers choke on."""

    def set_header(self, count: int) -> str:
        return ""


def ris_reference(row: dict[str, Any], key: str) -> dict[str, Any]:
    """Return one paper row as a rispy reference with id ``key`` (empty fields left out)."""
    year, month = _int(row, "year"), _int(row, "month")
    ref: dict[str, Any] = {"type_of_reference": _types(row)[1], "id": key}
    optional: Iterable[tuple[str, Any]] = (
        ("title", _text(row, "title")),
        ("authors", _list(row, "authors")),
        ("year", str(year) if year is not None else None),
        ("date", f"{year}/{month:02d}//" if year is not None and month else None),
        ("secondary_title", _text(row, "venue")),
        ("doi", _text(row, "doi")),
        ("abstract", _text(row, "abstract")),
        ("keywords", _keywords(row)),
        ("type_of_work", _text(row, "document_type")),
        ("urls", [u for u in [_safe_url(_text(row, "url"))] if u]),
        (
            "notes",
            _notes(row) + ([f"PMID: {_text(row, 'pmid')}"] if _text(row, "pmid") else []),
        ),
        ("custom1", f"arXiv:{_text(row, 'arxiv_id')}" if _text(row, "arxiv_id") else None),
    )
    ref.update((name, value) for name, value in optional if value)
    return ref


def ris_text(row: dict[str, Any], key: str) -> str:
    """Return one paper as the RIS record :func:`to_ris` writes for it (``TY`` … ``ER``)."""
    return rispy.dumps([ris_reference(row, key)], implementation=_PlainRisWriter)


def join_ris(records: Sequence[str]) -> str:
    """Assemble :func:`ris_text` pieces as rispy writes a list: the separator line between."""
    separator = _PlainRisWriter.SEPARATOR
    glue = "" if separator is None else separator + _PlainRisWriter.NEWLINE
    return glue.join(records)


def to_ris(rows: Sequence[dict[str, Any]]) -> str:
    """Return the papers as RIS records (one ``KW`` line per keyword and tag)."""
    return join_ris(
        [ris_text(row, key) for key, row in zip(citation_keys(rows), rows, strict=True)]
    )


def csl_item(row: dict[str, Any], key: str) -> dict[str, Any]:
    """Return one paper row as a CSL-JSON item with id ``key`` (empty fields left out)."""
    year, month = _int(row, "year"), _int(row, "month")
    item: dict[str, Any] = {"id": key, "type": _types(row)[2]}
    authors = []
    for name in _list(row, "authors"):
        family, sep, given = name.partition(", ")
        authors.append({"family": family, "given": given} if sep else {"literal": name})
    optional: Iterable[tuple[str, Any]] = (
        ("title", _text(row, "title")),
        ("author", authors),
        ("issued", {"date-parts": [[year, month] if month else [year]]} if year else None),
        ("container-title", _text(row, "venue")),
        ("DOI", _text(row, "doi")),
        ("PMID", _text(row, "pmid")),
        ("number", f"arXiv:{_text(row, 'arxiv_id')}" if _text(row, "arxiv_id") else None),
        ("URL", _safe_url(_text(row, "url"))),
        ("abstract", _text(row, "abstract")),
        ("keyword", "; ".join(k.replace(";", ",") for k in _keywords(row)) or None),
        ("genre", _text(row, "document_type")),
        ("note", "\n".join(_notes(row)) or None),
    )
    item.update((name, value) for name, value in optional if value)
    return item


def csl_text(row: dict[str, Any], key: str) -> str:
    """Return one paper as the CSL-JSON item :func:`to_csljson` writes for it (array-indented).

    ``json.dumps`` escapes line breaks inside strings, so every line of the item is one line
    of the array, indented one level deeper.
    """
    text = json.dumps(csl_item(row, key), indent=2, ensure_ascii=False)
    return "\n".join("  " + line for line in text.split("\n"))


def join_csljson(items: Sequence[str]) -> str:
    """Assemble :func:`csl_text` pieces into the array ``json.dumps(items, indent=2)`` gives."""
    return ("[\n" + ",\n".join(items) + "\n]" if items else "[]") + "\n"


def to_csljson(rows: Sequence[dict[str, Any]]) -> str:
    """Return the papers as a CSL-JSON array (Zotero: File > Import…)."""
    return join_csljson(
        [csl_text(row, key) for key, row in zip(citation_keys(rows), rows, strict=True)]
    )
