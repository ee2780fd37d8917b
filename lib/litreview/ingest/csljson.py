"""Parse CSL-JSON (Zotero "Export Collection… > CSL JSON", Better BibTeX, pandoc, citeproc).

The text is decoded by the standard ``json`` module through :mod:`litreview.ingest.jsontext`,
which keeps each item's line and, when one item of an array is broken, still reads the rest.
"""

from __future__ import annotations

import re
from typing import Any

from litreview.ingest.jsontext import split_items
from litreview.ingest.metadata import cited_by_in_note, split_keyword_field
from litreview.ingest.records import RawRecord, excerpt_of

FORMAT = "csljson"
_CSL_KEYS = ('"container-title"', '"issued"', '"citation-key"', '"family"', '"date-parts"')


def looks_like_csljson(text: str) -> bool:
    """Tell whether ``text`` is CSL-JSON: JSON items with ``type`` and CSL-only keys."""
    head = text[:65536].lstrip("\ufeff").lstrip()
    if not head.startswith(("[", "{")) or '"type"' not in head:
        return False
    return sum(key in head for key in _CSL_KEYS) >= 2 or ('"issued"' in head and '"title"' in head)


def parse(text: str, source: str) -> tuple[list[RawRecord], list[str]]:
    """Return one record per CSL item; a broken item is a rejected record at its line."""
    records: list[RawRecord] = []
    for item in split_items(text.lstrip("\ufeff")):
        if item.error:
            reason = item.error
        elif not isinstance(item.value, dict):
            reason = "JSON value is not a CSL item object"
        else:
            records.append(to_record(item.value, source, item.line, item.raw))
            continue
        records.append(
            RawRecord(source, item.line, FORMAT, reject_reason=reason, excerpt=excerpt_of(item.raw))
        )
    return records, []


def _text(value: object) -> str | None:
    if isinstance(value, list):  # some exporters write container-title as a list
        value = next((v for v in value if isinstance(v, str) and v.strip()), None)
    if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
        return str(value).strip()
    return None


def csl_name(name: object) -> str | None:
    """``{"family": "Smith", "given": "Jane"}`` -> ``"Smith, Jane"``; ``literal`` as is."""
    if isinstance(name, str):
        return name.strip() or None
    if not isinstance(name, dict):
        return None
    literal = _text(name.get("literal"))
    if literal:
        return literal
    family = " ".join(
        part
        for part in (_text(name.get("non-dropping-particle")), _text(name.get("family")))
        if part
    )
    given = _text(name.get("given"))
    if family and given:
        return f"{family}, {given}"
    return family or given


def csl_date(value: object) -> tuple[str | None, str | None]:
    """Return ``(year, month)`` text of a CSL date (``date-parts``, ``raw`` or ``literal``)."""
    if isinstance(value, dict):
        parts = value.get("date-parts")
        if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]:
            first = parts[0]
            year = _text(first[0])
            month = _text(first[1]) if len(first) > 1 else None
            return year, month
        raw = _text(value.get("raw")) or _text(value.get("literal"))
        return raw, raw
    text = _text(value)
    return text, text


def to_record(item: dict[str, Any], source: str, line: int, raw: str) -> RawRecord:
    """Map one CSL-JSON item to a raw record."""
    authors = [name for name in map(csl_name, item.get("author") or []) if name]
    year, month = csl_date(item.get("issued"))
    if year is None:
        year, month = csl_date(item.get("published-print") or item.get("published-online"))
    keywords = split_keyword_field(_text(item.get("keyword")))
    if isinstance(item.get("keyword"), list):
        keywords = [k for k in (_text(v) for v in item["keyword"]) if k]
    arxiv = None
    number = _text(item.get("number"))
    if number and re.match(r"^(?:arxiv:)?\d{4}\.\d{4,5}", number, re.IGNORECASE):
        arxiv = number
    return RawRecord(
        source_file=source,
        line=line,
        format=FORMAT,
        title=_text(item.get("title")),
        abstract=_text(item.get("abstract")),
        doi=_text(item.get("DOI")) or _text(item.get("doi")),
        arxiv_id=arxiv,
        source_id=_text(item.get("citation-key")) or _text(item.get("id")),
        pmid=_text(item.get("PMID")),
        year=year,
        month=month,
        authors=authors or None,
        venue=_text(item.get("container-title")) or _text(item.get("publisher")),
        url=_text(item.get("URL")),
        keywords=keywords,
        cited_by=cited_by_in_note(item.get("note")),
        document_type=_text(item.get("genre")) or _text(item.get("type")),
        excerpt=excerpt_of(raw),
    )
