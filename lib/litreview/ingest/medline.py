"""Parse PubMed MEDLINE text exports (``pubmed-*.txt``, ``.nbib``).

Written by hand: the format is a few dozen lines of rules (a 4-character tag, ``"- "``,
the value; continuation lines indented by six spaces; records separated by blank lines),
and the one maintained reader, Biopython's ``Bio.Medline``, gives no line numbers, reads a
truncated record as a complete one and would pull a large scientific package into the
install for it. (``metaknowledge``, which also reads MEDLINE, has had no release since 2020.)

Every record starts at a ``PMID-`` line or after a blank line; its line number is where it
starts. A last record cut off by the end of the file (it ends mid-line before its ``SO``
line, or lacks the entry dates written near the end of every record) is rejected, never
half-read.
"""

from __future__ import annotations

import re

from litreview.ingest.metadata import split_keywords
from litreview.ingest.records import RawRecord, excerpt_of, message

FORMAT = "medline"
_TAG = re.compile(r"^([A-Z][A-Z0-9]{0,3}) {0,3}- ?(.*)$")
_CONTINUATION = re.compile(r"^\s+\S")
#: A MEDLINE tag is padded to four characters before the dash.
_TAG_WIDTH = 4
#: Tags PubMed writes near the end of every record; a last record without any was cut off.
_END_TAGS = ("EDAT", "CRDT", "PHST", "SO")


def looks_like_medline(text: str) -> bool:
    """Tell whether ``text`` starts like a MEDLINE export (``PMID- `` then other tags)."""
    lines = [line for line in text[:8192].split("\n") if line.strip()][:20]
    if not lines or not re.match(r"^PMID- ?\d", lines[0]):
        return False
    return sum(1 for line in lines if _is_tag_line(line)) >= min(3, len(lines))


def _is_tag_line(line: str) -> bool:
    return len(line) > _TAG_WIDTH and line[_TAG_WIDTH] == "-" and bool(_TAG.match(line))


def parse(text: str, source: str) -> tuple[list[RawRecord], list[str]]:
    """Return one record per MEDLINE citation; a record cut off by the end of file is rejected."""
    chunks = split_records(text)
    records: list[RawRecord] = []
    messages: list[str] = []
    for index, (start, fields, problems) in enumerate(chunks):
        messages.extend(message(source, line, problem) for line, problem in problems)
        if not fields:
            records.append(
                RawRecord(
                    source,
                    start,
                    FORMAT,
                    reject_reason="not a MEDLINE record (no tag lines)",
                    excerpt=excerpt_of(text.split("\n")[start - 1]),
                )
            )
            continue
        last = index == len(chunks) - 1
        if last and _truncated(fields, text):
            records.append(
                RawRecord(
                    source,
                    start,
                    FORMAT,
                    source_id=_first(fields, "PMID"),
                    title=_first(fields, "TI"),
                    reject_reason="truncated MEDLINE record (the file ends inside it)",
                    excerpt=excerpt_of(_first(fields, "TI") or _first(fields, "PMID")),
                )
            )
            continue
        records.append(to_record(fields, source, start))
    return records, messages


def _truncated(fields: dict[str, list[str]], text: str) -> bool:
    """The last record was cut off: the file ends mid-line before its ``SO`` line, or it lacks
    the entry dates (EDAT/CRDT/PHST) that PubMed writes near the end of every record."""
    if "SO" not in fields and not text.endswith("\n"):
        return True
    return not any(tag in fields for tag in _END_TAGS)


def split_records(text: str) -> list[tuple[int, dict[str, list[str]], list[tuple[int, str]]]]:
    """Split MEDLINE text into ``(start line, {tag: [values]}, [(line, problem)])`` records."""
    chunks: list[tuple[int, dict[str, list[str]], list[tuple[int, str]]]] = []
    fields: dict[str, list[str]] | None = None
    last_tag: str | None = None
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            fields, last_tag = None, None
            continue
        match = _TAG.match(line) if _is_tag_line(line) else None
        if match:
            tag, value = match.group(1), match.group(2)
            if fields is None or (tag == "PMID" and fields):
                fields = {}
                chunks.append((number, fields, []))
            fields.setdefault(tag, []).append(value)
            last_tag = tag
        elif _CONTINUATION.match(line) and fields is not None and last_tag is not None:
            values = fields[last_tag]
            values[-1] = _join(values[-1], line.lstrip())
        else:
            if fields is None:
                fields = {}
                chunks.append((number, fields, []))
            chunks[-1][2].append(
                (number, f"not a MEDLINE tag line, ignored: {line.strip()[:60]!r}")
            )
    return chunks


def _join(previous: str, continuation: str) -> str:
    """Join a wrapped value: PubMed wraps at spaces and after hyphens."""
    if not previous or previous.endswith((" ", "-")):
        return previous + continuation
    return previous + " " + continuation


def _first(fields: dict[str, list[str]], *tags: str) -> str | None:
    for tag in tags:
        for value in fields.get(tag, []):
            if value.strip():
                return value.strip()
    return None


def _doi(fields: dict[str, list[str]]) -> str | None:
    for tag in ("LID", "AID"):
        for value in fields.get(tag, []):
            if value.rstrip().endswith("[doi]"):
                return value.rstrip()[: -len("[doi]")].strip()
    return None


def _mesh(heading: str) -> str:
    """The descriptor of a MeSH heading, without qualifiers or major-topic stars."""
    return heading.split("/", 1)[0].strip().lstrip("*").strip()


def to_record(fields: dict[str, list[str]], source: str, line: int) -> RawRecord:
    """Map the tags of one MEDLINE citation to a raw record."""
    pmid = _first(fields, "PMID")
    authors = [v.strip() for v in fields.get("FAU", []) if v.strip()] or [
        v.strip() for v in fields.get("AU", []) if v.strip()
    ]
    authors += [v.strip() for v in fields.get("CN", []) if v.strip()]
    keywords = [v.strip() for v in fields.get("OT", []) if v.strip()]
    keywords += [_mesh(v) for v in fields.get("MH", []) if _mesh(v)]
    for value in fields.get("KW", []):
        keywords += split_keywords(value)
    date = _first(fields, "DP")
    title = _first(fields, "TI", "BTI")
    return RawRecord(
        source_file=source,
        line=line,
        format=FORMAT,
        title=title,
        abstract=" ".join(v.strip() for v in fields.get("AB", []) if v.strip()) or None,
        doi=_doi(fields),
        source_id=pmid,
        pmid=pmid,
        year=date,
        month=date,
        authors=authors or None,
        venue=_first(fields, "JT", "TA", "CTI"),
        url=f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/" if pmid and pmid.isdigit() else None,
        keywords=keywords,
        document_type=_first(fields, "PT"),
        excerpt=excerpt_of(title or pmid),
    )
