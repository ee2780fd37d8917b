"""Bibliographic metadata beyond title and abstract: authors, dates, keywords, counts.

Parsers put what their format carries on :class:`~litreview.ingest.records.RawRecord`;
:func:`clean_metadata` turns it into the typed values of ``papers.parquet`` and
:func:`richness` says how much a record carries, so that merging prefers the richer one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from litreview.ingest.clean import clean_text, normalize_authors, parse_year
from litreview.ingest.records import RawRecord

#: Columns added to ``papers.parquet`` besides the historical ones (``year``, ``authors``,
#: ``venue``, ``doi`` were there before; ``authors`` is now a list of names).
METADATA_COLUMNS = ["month", "pmid", "keywords", "cited_by", "document_type"]
#: The fields that count towards a record's richness when duplicates are merged.
RICH_FIELDS = ("authors", "year", "month", "venue", "doi", "pmid", "keywords", "cited_by")

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_MONTH_WORD = re.compile(r"\b(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\b", re.I)
# 2021-03, 2021/03/04, 2021.03 (a year then a month number)
_NUMERIC_DATE = re.compile(r"(?<!\d)(1[89]\d\d|2[01]\d\d)[-/.](\d{1,2})(?!\d)")
_ARXIV_NEW = re.compile(r"^(\d{2})(\d{2})\.\d{4,5}$")
_ARXIV_OLD = re.compile(r"^[a-z][a-z.-]+/(\d{2})(\d{2})\d{3}$")


def parse_month(value: object) -> int | None:
    """Return the month (1-12) in ``value``: ``3``, ``"Mar"``, ``"2021-03-04"``, ``"2018 Oct"``."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value if 1 <= value <= 12 else None
    text = str(value).strip()
    if re.fullmatch(r"\d{1,2}", text):
        number = int(text)
        return number if 1 <= number <= 12 else None
    match = _NUMERIC_DATE.search(text)
    if match:
        number = int(match.group(2))
        return number if 1 <= number <= 12 else None
    match = _MONTH_WORD.search(text)
    return _MONTHS[match.group(1).lower()] if match else None


def arxiv_year_month(arxiv_id: str | None) -> tuple[int | None, int | None]:
    """Return the submission (year, month) encoded in an arXiv id (``2301.01234`` -> 2023, 1)."""
    if not arxiv_id:
        return None, None
    match = _ARXIV_NEW.match(arxiv_id) or _ARXIV_OLD.match(arxiv_id)
    if not match:
        return None, None
    yy, mm = int(match.group(1)), int(match.group(2))
    if not 1 <= mm <= 12:
        return None, None
    # New-style ids start in 0704 (2007); old-style ones run from 9108 to 0703.
    return (1900 + yy if yy >= 91 else 2000 + yy), mm


def author_list(value: str | list[str] | None) -> list[str]:
    """Return the authors as a list of clean names, first occurrence kept."""
    if value is None:
        return []
    if isinstance(value, str):
        joined = normalize_authors(value)
        names = joined.split("; ") if joined else []
    else:
        names = [clean_text(v) for v in value if v is not None]
    return list(dict.fromkeys(n for n in names if n))


def keyword_list(values: Iterable[object] | None) -> list[str]:
    """Return clean keywords, duplicates (case-insensitive) dropped, order kept."""
    seen: dict[str, str] = {}
    for value in values or []:
        text = clean_text(value)
        if text and text.casefold() not in seen:
            seen[text.casefold()] = text
    return list(seen.values())


def split_keywords(text: str | None, separators: str = ";") -> list[str]:
    """Split a keyword field (``"a; b; c"``) on any of ``separators``."""
    if not text:
        return []
    return [part.strip() for part in re.split(f"[{re.escape(separators)}]", text) if part.strip()]


def parse_count(value: object) -> int | None:
    """Return a non-negative citation count from ``12``, ``"12"``, ``"1,234"``, else None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float):
        return int(value) if value >= 0 and value == int(value) else None
    text = str(value).strip().replace(",", "")
    return int(text) if text.isdigit() else None


def normalize_pmid(value: object) -> str | None:
    """Return a PubMed id as digits (``"35757629"``; ``"https://pubmed…/35757629"`` too)."""
    if value is None:
        return None
    match = re.search(r"(?<!\d)(\d{1,9})(?!\d)\s*/?\s*$", str(value).strip())
    if not match:
        return None
    return match.group(1).lstrip("0") or None


def clean_metadata(record: RawRecord, arxiv_id: str | None) -> dict[str, Any]:
    """Return the typed metadata of one record (authors list, year, month, keywords ...).

    arXiv listings (``jsonl``) date a paper by its id's YYMM (an ``update_date`` field is the
    last revision); other formats use the id only when they carry no year.
    """
    year = parse_year(record.year)
    month = parse_month(record.month) if record.month is not None else None
    if month is None and record.year is not None and not isinstance(record.year, int):
        month = parse_month(record.year) if re.search(r"\D", str(record.year)) else None
    id_year, id_month = arxiv_year_month(arxiv_id)
    if id_year is not None and (record.format == "jsonl" or year is None):
        year, month = id_year, id_month
    return {
        "authors": author_list(record.authors),
        "year": year,
        "month": month if year is not None else None,
        "pmid": normalize_pmid(record.pmid),
        "keywords": keyword_list(record.keywords),
        "cited_by": parse_count(record.cited_by),
        "document_type": clean_text(record.document_type),
    }


def richness(row: dict[str, Any]) -> int:
    """Count the metadata fields a cleaned record carries (for picking among duplicates)."""
    return sum(1 for name in RICH_FIELDS if row.get(name) not in (None, [], ""))


def split_keyword_field(text: object) -> list[str]:
    """Split a free keyword field: on ``;`` when it has one, else on ``,``."""
    if text is None:
        return []
    value = str(text)
    return split_keywords(value, ";" if ";" in value else ",")


_CITED_BY = re.compile(r"cited\s*by\s*:?\s*(\d[\d,]*)", re.IGNORECASE)


def cited_by_in_note(note: object) -> int | None:
    """Scopus writes citation counts into a note: ``"cited By 12"``."""
    match = _CITED_BY.search(str(note)) if note else None
    return parse_count(match.group(1)) if match else None


def bibtex_metadata(fields: dict[str, str], entry_type: str | None) -> dict[str, Any]:
    """Metadata keyword arguments for a BibTeX entry's lower-cased fields."""
    keywords: list[str] = []
    for name in ("author_keywords", "keywords", "keywords-plus", "mendeley-tags"):
        keywords += split_keyword_field(fields.get(name))
    cited = fields.get("times-cited") or fields.get("citations")
    return {
        "month": fields.get("month"),
        "pmid": fields.get("pmid"),
        "keywords": keywords,
        "cited_by": parse_count(cited) if cited else cited_by_in_note(fields.get("note")),
        "document_type": fields.get("document_type") or fields.get("type") or entry_type,
    }


def ris_metadata(fields: dict[str, Any]) -> dict[str, Any]:
    """Metadata keyword arguments for one record as parsed by rispy."""
    keywords: list[str] = []
    for value in fields.get("keywords") or []:
        keywords += split_keywords(str(value))
    notes = fields.get("notes") or []
    notes = notes if isinstance(notes, list) else [notes]
    cited = next((c for c in map(cited_by_in_note, notes) if c is not None), None)
    pmid = next((m.group(1) for n in notes if (m := re.match(r"PMID:\s*(\d+)", str(n)))), None)
    customs = [str(fields.get(f"custom{i}") or "") for i in range(1, 9)]
    arxiv = next((c for c in customs if c.lower().startswith("arxiv:")), None)
    date = fields.get("date") or fields.get("publication_year") or fields.get("year")
    extra = {
        "month": date,
        "pmid": pmid,
        "keywords": keywords,
        "cited_by": cited,
        "document_type": fields.get("type_of_work") or fields.get("type_of_reference"),
    }
    if arxiv:
        extra["arxiv_id"] = arxiv
    return extra


def jsonl_metadata(obj: dict[str, Any]) -> dict[str, Any]:
    """Metadata keyword arguments for one JSON Lines object (arXiv metadata style)."""
    lowered = {str(k).lower(): v for k, v in obj.items()}
    keywords = lowered.get("keywords") or []
    if isinstance(keywords, str):
        keywords = split_keyword_field(keywords)
    categories = lowered.get("categories")
    if isinstance(categories, str):
        keywords = [*keywords, *categories.split()]
    parsed = lowered.get("authors_parsed")
    authors = None
    if isinstance(parsed, list) and all(isinstance(p, list) for p in parsed):
        authors = [", ".join(x for x in (p[0], " ".join(p[1:2])) if x) for p in parsed if p]
    cited = lowered.get("cited_by", lowered.get("citationcount", lowered.get("cited_by_count")))
    extra: dict[str, Any] = {
        "month": lowered.get("month"),
        "pmid": lowered.get("pmid"),
        "keywords": [str(k) for k in keywords if k],
        "cited_by": cited,
        "document_type": lowered.get("type") if isinstance(lowered.get("type"), str) else None,
    }
    if authors:
        extra["authors"] = authors
    return extra
