"""Parse BibTeX (Scopus, Web of Science, hand-written) with bibtexparser v2."""

from __future__ import annotations

import bibtexparser
from bibtexparser import model

from litreview.ingest.metadata import bibtex_metadata
from litreview.ingest.records import RawRecord, excerpt_of, message

FORMAT = "bibtex"


def parse(text: str, source: str) -> tuple[list[RawRecord], list[str]]:
    """Return one record per entry; a block bibtexparser cannot parse is a rejected record."""
    try:
        library = bibtexparser.parse_string(text)
    except Exception as exc:  # the splitter is fault-tolerant; this is a last resort
        line = 1
        return [
            RawRecord(
                source,
                line,
                FORMAT,
                reject_reason=f"BibTeX could not be parsed: {exc}",
                excerpt=excerpt_of(text),
            )
        ], []
    records: list[RawRecord] = []
    messages: list[str] = []
    for block in library.blocks:
        line = (block.start_line or 0) + 1  # bibtexparser counts lines from 0
        if isinstance(block, model.Entry):
            records.append(_entry_record(block, source, line))
        elif isinstance(block, model.DuplicateFieldKeyBlock | model.DuplicateBlockKeyBlock):
            # The entry itself is fine; dedup deals with repeated keys, first value wins for fields.
            entry = block.ignore_error_block
            if isinstance(entry, model.Entry):
                if isinstance(block, model.DuplicateBlockKeyBlock):
                    messages.append(message(source, line, f"BibTeX key {entry.key!r} used twice"))
                records.append(_entry_record(entry, source, line))
            else:
                records.append(_failed(block, source, line))
        elif isinstance(block, model.ParsingFailedBlock):
            records.append(_failed(block, source, line))
    return records, messages


def _failed(block: model.ParsingFailedBlock, source: str, line: int) -> RawRecord:
    raw = block.raw or ""
    head = raw.lstrip().split("{", 1)[0].split("(", 1)[0]
    what = (
        "truncated or malformed BibTeX entry" if head.startswith("@") else "unparsable BibTeX block"
    )
    return RawRecord(source, line, FORMAT, reject_reason=what, excerpt=excerpt_of(raw))


def _entry_record(entry: model.Entry, source: str, line: int) -> RawRecord:
    fields: dict[str, str] = {}
    for fld in entry.fields:
        key = fld.key.strip().lower()
        if key not in fields and fld.value is not None:
            fields[key] = _unwrap(str(fld.value))
    return RawRecord(
        source_file=source,
        line=line,
        format=FORMAT,
        title=fields.get("title"),
        abstract=fields.get("abstract"),
        doi=fields.get("doi"),
        arxiv_id=fields.get("eprint")
        if "arxiv" in fields.get("archiveprefix", "").lower()
        else fields.get("arxiv") or fields.get("arxivid"),
        source_id=entry.key.strip() or None,
        year=fields.get("year"),
        authors=fields.get("author"),
        venue=fields.get("journal") or fields.get("booktitle") or fields.get("publisher"),
        url=fields.get("url"),
        excerpt=excerpt_of(entry.raw or fields.get("title")),
        **bibtex_metadata(fields, entry.entry_type),
    )


def _unwrap(value: str) -> str:
    """Remove enclosing ``{...}`` or ``"..."`` (entries recovered from failed blocks keep them)."""
    value = value.strip()
    while len(value) >= 2 and (value[0], value[-1]) in {("{", "}"), ('"', '"')}:
        inner = value[1:-1]
        if inner.count("{") != inner.count("}"):
            break
        value = inner.strip()
    return value
