"""Parse Web of Science plain-text ("tagged", ``savedrecs.txt``) exports.

Written by hand: the format is simple (``FN``/``VR`` header, records from ``PT`` to ``ER``,
two-letter tags, continuation lines indented by three spaces, ``EF`` at the end), and the
Python readers of it, ``metaknowledge`` and ``wostools``, have had no release since 2020,
give no line numbers and stop at the first malformed record.

A record that is not closed by ``ER`` (the next ``PT`` comes first, or the file ends) is
rejected with its line: it was cut off, and half a record must not pass for a whole one.
"""

from __future__ import annotations

import re

from litreview.ingest.metadata import split_keywords
from litreview.ingest.records import RawRecord, excerpt_of, message

FORMAT = "wos"
_TAG = re.compile(r"^([A-Z][A-Z0-9])(?: (.*))?$")
_CONTINUATION = re.compile(r"^ {2,3}\S|^\t\S")
_HEADER_TAGS = frozenset({"FN", "VR", "EF"})


def looks_like_wos(text: str) -> bool:
    """Tell whether ``text`` is a WoS tagged export (``FN``/``VR`` header or ``PT`` ... ``ER``)."""
    head = text[:8192].lstrip("\ufeff")
    lines = [line for line in head.split("\n") if line.strip()][:12]
    if not lines:
        return False
    if lines[0].startswith("FN ") and any(line.startswith("VR ") for line in lines[:3]):
        return True
    return lines[0].startswith("PT ") and sum(1 for line in lines if _TAG.match(line)) >= 4


def parse(text: str, source: str) -> tuple[list[RawRecord], list[str]]:
    """Return one record per ``PT`` ... ``ER`` block; an unclosed block is a rejected record."""
    records: list[RawRecord] = []
    messages: list[str] = []
    fields: dict[str, list[list[str]]] | None = None
    start = 0
    last_tag: str | None = None

    def close(reason: str | None) -> None:
        assert fields is not None
        record = to_record(fields, source, start)
        if reason:
            record.reject_reason = reason
        records.append(record)

    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.lstrip("\ufeff")
        if not line.strip():
            continue
        match = _TAG.match(line)
        if match and match.group(1) == "PT":
            if fields is not None:
                close(f"WoS record not closed by ER (line {number} starts the next one)")
            fields, start, last_tag = {"PT": [[(match.group(2) or "").strip()]]}, number, "PT"
        elif match and match.group(1) == "ER":
            if fields is None:
                messages.append(message(source, number, "ER line outside a WoS record, ignored"))
            else:
                close(None)
            fields, last_tag = None, None
        elif match and match.group(1) == "EF" and fields is not None:
            close(f"WoS record not closed by ER (the file ends at line {number})")
            fields, last_tag = None, None
        elif match and match.group(1) in _HEADER_TAGS and fields is None:
            continue
        elif fields is None:
            messages.append(
                message(
                    source, number, f"text outside a WoS record, ignored: {line.strip()[:60]!r}"
                )
            )
        elif match:
            last_tag = match.group(1)
            fields.setdefault(last_tag, []).append([(match.group(2) or "").strip()])
        elif _CONTINUATION.match(line) and last_tag is not None:
            fields[last_tag][-1].append(line.strip())
        else:
            messages.append(
                message(source, number, f"not a WoS tag line, ignored: {line.strip()[:60]!r}")
            )
    if fields is not None:
        close("truncated WoS record (the file ends before its ER line)")
    return records, messages


def _text(fields: dict[str, list[list[str]]], tag: str) -> str | None:
    """The first value of ``tag`` with its continuation lines joined by spaces."""
    for lines in fields.get(tag, []):
        value = " ".join(part for part in lines if part)
        if value:
            return value
    return None


def _items(fields: dict[str, list[list[str]]], tag: str) -> list[str]:
    """All values of a list tag: every continuation line is an item."""
    return [part for lines in fields.get(tag, []) for part in lines if part]


def to_record(fields: dict[str, list[list[str]]], source: str, line: int) -> RawRecord:
    """Map the tags of one WoS record to a raw record."""
    title = _text(fields, "TI")
    keywords = split_keywords(_text(fields, "DE")) + split_keywords(_text(fields, "ID"))
    authors = _items(fields, "AF") or _items(fields, "AU")
    authors += _items(fields, "CA") + _items(fields, "GP")
    year = _text(fields, "PY") or _text(fields, "EA")
    return RawRecord(
        source_file=source,
        line=line,
        format=FORMAT,
        title=title,
        abstract=_text(fields, "AB"),
        doi=_text(fields, "DI"),
        source_id=_text(fields, "UT"),
        pmid=_text(fields, "PM"),
        year=year,
        month=_text(fields, "PD") or (_text(fields, "EA") if not _text(fields, "PY") else None),
        authors=authors or None,
        venue=_text(fields, "SO") or _text(fields, "SE") or _text(fields, "BS"),
        keywords=keywords,
        cited_by=_text(fields, "TC"),
        document_type=_text(fields, "DT"),
        excerpt=excerpt_of(title or _text(fields, "UT")),
    )
