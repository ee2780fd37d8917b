"""Parse RIS (IEEE, Scopus, Zotero exports) with rispy, one ``TY``..``ER`` record at a time."""

from __future__ import annotations

import re

import rispy

from litreview.ingest.metadata import ris_metadata
from litreview.ingest.records import RawRecord, excerpt_of, message

FORMAT = "ris"
_RECORD_START = re.compile(r"^TY  - ")
_RECORD_END = re.compile(r"^ER  -")


def parse(text: str, source: str) -> tuple[list[RawRecord], list[str]]:
    """Return one record per ``TY`` tag; rispy runs on each chunk so one bad record stays local."""
    records: list[RawRecord] = []
    messages: list[str] = []
    for start, chunk in _chunks(text.split("\n")):
        if not any(_RECORD_END.match(line) for line in chunk):
            # rispy silently drops a record without ER; close it and say so.
            messages.append(message(source, start, "RIS record not closed by an ER line"))
            chunk = [*chunk, "ER  - "]
        try:
            parsed = rispy.loads("\n".join(chunk))
        except Exception as exc:
            records.append(
                RawRecord(
                    source,
                    start,
                    FORMAT,
                    reject_reason=f"bad RIS record: {exc}",
                    excerpt=excerpt_of(" ".join(chunk)),
                )
            )
            continue
        if not parsed:
            records.append(
                RawRecord(
                    source,
                    start,
                    FORMAT,
                    reject_reason="empty RIS record",
                    excerpt=excerpt_of(" ".join(chunk)),
                )
            )
            continue
        records.append(_record(parsed[0], source, start))
    return records, messages


def _chunks(lines: list[str]) -> list[tuple[int, list[str]]]:
    chunks: list[tuple[int, list[str]]] = []
    for number, line in enumerate(lines, start=1):
        if _RECORD_START.match(line):
            chunks.append((number, [line]))
        elif chunks:
            chunks[-1][1].append(line)
    return chunks


def _first(value: object) -> str | None:
    if isinstance(value, list):
        return str(value[0]) if value else None
    return None if value is None else str(value)


def _record(fields: dict, source: str, line: int) -> RawRecord:
    authors = fields.get("authors") or fields.get("first_authors") or []
    return RawRecord(
        source_file=source,
        line=line,
        format=FORMAT,
        title=_first(fields.get("title") or fields.get("primary_title")),
        abstract=_first(fields.get("abstract") or fields.get("notes_abstract")),
        doi=_first(fields.get("doi")),
        source_id=_first(fields.get("id") or fields.get("accession_number")),
        year=_first(fields.get("year") or fields.get("publication_year") or fields.get("date")),
        authors="; ".join(dict.fromkeys(a.strip() for a in authors if a.strip())) or None,
        venue=_first(fields.get("secondary_title") or fields.get("journal_name")),
        url=_first(fields.get("urls") or fields.get("url")),
        excerpt=excerpt_of(_first(fields.get("title"))),
        **ris_metadata(fields),
    )
