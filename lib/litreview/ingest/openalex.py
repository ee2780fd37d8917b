"""Parse OpenAlex exports: the CSV download of the web app and works JSON / JSON Lines.

The CSV is read with the standard ``csv`` module row by row (so each row keeps its line);
the JSON with ``json`` through :mod:`litreview.ingest.jsontext`. OpenAlex ships abstracts
as an inverted index (word -> positions); :func:`rebuild_abstract` puts the words back in
order and tolerates missing positions.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from litreview.ingest.jsontext import split_items
from litreview.ingest.records import MAX_FIELD_CHARS, RawRecord, excerpt_of, message

FORMAT = "openalex"
#: A rebuilt abstract missing more than this share of its word positions is rejected.
MAX_GAP_SHARE = 0.10
_WORK_ID = re.compile(r"https?://openalex\.org/W\d+", re.IGNORECASE)
_CSV_MARKERS = ("display_name", "publication_year", "cited_by_count", "authorships.")


def looks_like_openalex(text: str) -> bool:
    """Tell whether ``text`` is an OpenAlex CSV export or OpenAlex works JSON."""
    head = text[:65536].lstrip("\ufeff").lstrip()
    if head.startswith(("{", "[")):
        return bool(_WORK_ID.search(head)) and (
            '"abstract_inverted_index"' in head
            or '"authorships"' in head
            or '"publication_year"' in head
        )
    first_line = head.split("\n", 1)[0].lower()
    return sum(marker in first_line for marker in _CSV_MARKERS) >= 3


def parse(text: str, source: str) -> tuple[list[RawRecord], list[str]]:
    """Return one record per work (CSV row or JSON object)."""
    stripped = text.lstrip("\ufeff").lstrip()
    if stripped.startswith(("{", "[")):
        return _parse_json(text, source)
    return _parse_csv(text, source)


def _parse_csv(text: str, source: str) -> tuple[list[RawRecord], list[str]]:
    records: list[RawRecord] = []
    previous = csv.field_size_limit(MAX_FIELD_CHARS * 10)
    try:
        reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
        try:
            header = [cell.strip().lower() for cell in next(reader)]
        except (StopIteration, csv.Error) as exc:
            return [
                RawRecord(source, 1, FORMAT, reject_reason=f"unreadable CSV header ({exc})")
            ], []
        previous_end = reader.line_num
        while True:
            start = previous_end + 1
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                records.append(
                    RawRecord(source, start, FORMAT, reject_reason=f"bad CSV row ({exc})")
                )
                previous_end = reader.line_num
                continue
            previous_end = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            values = {name: cell.strip() for name, cell in zip(header, row, strict=False)}
            records.append(_csv_record(values, source, start, ",".join(row)))
    finally:
        csv.field_size_limit(previous)
    return records, []


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split("|") if part.strip()]


def _csv_record(values: dict[str, str], source: str, line: int, raw: str) -> RawRecord:
    def get(*names: str) -> str | None:
        return next((values[n] for n in names if values.get(n)), None)

    keywords = _split(get("keywords.display_name")) + _split(get("concepts.display_name"))
    return RawRecord(
        source_file=source,
        line=line,
        format=FORMAT,
        title=get("display_name", "title"),
        abstract=get("abstract"),
        doi=get("doi"),
        source_id=get("id"),
        pmid=get("ids.pmid"),
        year=get("publication_year", "publication_date"),
        month=get("publication_date"),
        authors=_split(get("authorships.author.display_name")) or None,
        venue=get("primary_location.source.display_name", "host_venue.display_name"),
        url=get("primary_location.landing_page_url", "doi", "id"),
        keywords=keywords,
        cited_by=get("cited_by_count"),
        document_type=get("type"),
        excerpt=excerpt_of(raw),
    )


def rebuild_abstract(index: object) -> tuple[str | None, int, int]:
    """Rebuild an abstract from ``{word: [positions]}``; return ``(text, words, missing)``.

    Positions that are not non-negative integers are ignored; ``missing`` counts the
    positions between 0 and the last one that no word fills. ``text`` is None when the index
    is not a mapping or holds no position at all.
    """
    if not isinstance(index, dict):
        return None, 0, 0
    words: dict[int, str] = {}
    for word, places in index.items():
        if not isinstance(places, list):
            continue
        for place in places:
            if isinstance(place, int) and not isinstance(place, bool) and place >= 0:
                words.setdefault(place, str(word))
    if not words:
        return None, 0, 0
    order = sorted(words)
    missing = order[-1] + 1 - len(order)
    return " ".join(words[p] for p in order), len(order), missing


def _parse_json(text: str, source: str) -> tuple[list[RawRecord], list[str]]:
    records: list[RawRecord] = []
    messages: list[str] = []
    for item in split_items(text):
        if item.error:
            records.append(
                RawRecord(
                    source,
                    item.line,
                    FORMAT,
                    reject_reason=item.error,
                    excerpt=excerpt_of(item.raw),
                )
            )
            continue
        if not isinstance(item.value, dict):
            records.append(
                RawRecord(
                    source,
                    item.line,
                    FORMAT,
                    reject_reason="JSON value is not an OpenAlex work object",
                    excerpt=excerpt_of(item.raw),
                )
            )
            continue
        record, note = _json_record(item.value, source, item.line, item.raw)
        if note:
            messages.append(message(source, item.line, note))
        records.append(record)
    return records, messages


def _name(value: object) -> str | None:
    if isinstance(value, dict):
        value = value.get("display_name")
    return str(value).strip() if isinstance(value, str | int) and str(value).strip() else None


def _dig(obj: dict[str, Any], *path: str) -> object:
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)  # type: ignore[assignment]
    return obj


def _json_record(
    work: dict[str, Any], source: str, line: int, raw: str
) -> tuple[RawRecord, str | None]:
    note = None
    reject = None
    abstract = work.get("abstract") if isinstance(work.get("abstract"), str) else None
    index = work.get("abstract_inverted_index")
    if not abstract and index is not None:
        abstract, present, missing = rebuild_abstract(index)
        if abstract is None:
            reject = "malformed abstract_inverted_index (no word positions)"
        elif missing:
            span = present + missing
            if missing > MAX_GAP_SHARE * span:
                reject = f"abstract_inverted_index misses {missing} of {span} word positions"
            else:
                note = (
                    f"abstract_inverted_index misses {missing} of {span} word positions; "
                    "abstract rebuilt from the words present"
                )
    authors = []
    for authorship in work.get("authorships") or []:
        if isinstance(authorship, dict):
            name = _name(authorship.get("author")) or _name(authorship.get("raw_author_name"))
            if name:
                authors.append(name)
    keywords = [
        name
        for key in ("keywords", "concepts")
        for entry in (work.get(key) or [])
        if (name := _name(entry))
    ]
    ids = work.get("ids") if isinstance(work.get("ids"), dict) else {}
    venue = _name(_dig(work, "primary_location", "source")) or _name(work.get("host_venue"))
    record = RawRecord(
        source_file=source,
        line=line,
        format=FORMAT,
        title=_text(work.get("display_name")) or _text(work.get("title")),
        abstract=abstract,
        doi=_text(work.get("doi")) or _text(ids.get("doi")),
        source_id=_text(work.get("id")),
        pmid=_text(ids.get("pmid")),
        year=_text(work.get("publication_year")) or _text(work.get("publication_date")),
        month=_text(work.get("publication_date")),
        authors=authors or None,
        venue=venue,
        url=_text(_dig(work, "primary_location", "landing_page_url")) or _text(work.get("id")),
        keywords=keywords,
        cited_by=work.get("cited_by_count"),
        document_type=_text(work.get("type")),
        reject_reason=reject,
        excerpt=excerpt_of(raw),
    )
    return record, note


def _text(value: object) -> str | None:
    if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
        return str(value).strip()
    return None
