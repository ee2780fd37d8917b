"""Parse JSON Lines (arXiv-style ``id``/``title``/``abstract``) or a JSON array of objects."""

from __future__ import annotations

import json
import re
from typing import Any

from litreview.ingest.metadata import jsonl_metadata
from litreview.ingest.records import RawRecord, excerpt_of

FORMAT = "jsonl"
_ARXIV_ID = re.compile(r"^(?:\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?$")


def parse(text: str, source: str) -> tuple[list[RawRecord], list[str]]:
    """Return one record per JSON object; a line that is not a JSON object is rejected."""
    if text.lstrip().startswith("["):
        return _parse_array(text, source), []
    records: list[RawRecord] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as exc:
            records.append(
                RawRecord(
                    source,
                    number,
                    FORMAT,
                    reject_reason=f"invalid JSON ({exc.msg})",
                    excerpt=excerpt_of(line),
                )
            )
            continue
        records.append(_record(obj, source, number, line))
    return records, []


def _parse_array(text: str, source: str) -> list[RawRecord]:
    try:
        items = json.loads(text)
    except ValueError as exc:
        line = getattr(exc, "lineno", 1)
        return [
            RawRecord(
                source,
                line,
                FORMAT,
                reject_reason=f"invalid JSON ({exc})",
                excerpt=excerpt_of(text),
            )
        ]
    if not isinstance(items, list):
        items = [items]
    # Objects of a pretty-printed array start on the lines holding a "{" at their depth;
    # find them so every record still gets a line number.
    starts = _object_start_lines(text)
    return [
        _record(obj, source, starts[i] if i < len(starts) else 1, json.dumps(obj)[:200])
        for i, obj in enumerate(items)
    ]


def _object_start_lines(text: str) -> list[int]:
    starts: list[int] = []
    depth, line, in_string, escaped = 0, 1, False, False
    for char in text:
        if char == "\n":
            line += 1
        elif in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            if depth == 1 and char == "{":
                starts.append(line)
            depth += 1
        elif char in "]}":
            depth -= 1
    return starts


def _get(obj: dict[str, Any], *names: str) -> str | None:
    lowered = {str(k).lower(): v for k, v in obj.items()}
    for name in names:
        value = lowered.get(name)
        if value is not None and str(value).strip():
            if isinstance(value, list):
                return "; ".join(str(v) for v in value)
            return str(value)
    return None


_JSON_KINDS = {
    bool: "a boolean",
    int: "a number",
    float: "a number",
    list: "a list",
    dict: "an object",
}


def _not_text(obj: dict[str, Any], *names: str) -> str | None:
    """Say why the first present field of ``names`` is not a string, or None when it is.

    A title of ``42``, ``true``, ``["a", "b"]`` or ``{"en": ...}`` is not a title: it is
    rejected with its JSON type rather than kept as the text ``"42"`` or ``"{'en': ...}"``.
    """
    lowered = {str(k).lower(): v for k, v in obj.items()}
    for name in names:
        if name not in lowered or lowered[name] is None:
            continue
        value = lowered[name]
        if isinstance(value, str):
            return None
        kind = _JSON_KINDS.get(type(value), type(value).__name__)
        return f"{name} is {kind}, not text"
    return None


def _record(obj: object, source: str, line: int, raw: str) -> RawRecord:
    if not isinstance(obj, dict):
        return RawRecord(
            source,
            line,
            FORMAT,
            reject_reason="JSON value is not an object",
            excerpt=excerpt_of(raw),
        )
    problem = _not_text(obj, "title") or _not_text(obj, "abstract", "summary")
    if problem:
        return RawRecord(source, line, FORMAT, reject_reason=problem, excerpt=excerpt_of(raw))
    identifier = _get(obj, "id", "paper_id", "eid", "ut")
    arxiv = _get(obj, "arxiv_id", "arxiv")
    if (
        arxiv is None
        and identifier
        and ("categories" in obj or "arxiv" in identifier.lower() or _ARXIV_ID.match(identifier))
    ):
        arxiv = identifier
    return RawRecord(
        source_file=source,
        line=line,
        format=FORMAT,
        title=_get(obj, "title"),
        abstract=_get(obj, "abstract", "summary"),
        doi=_get(obj, "doi"),
        arxiv_id=arxiv,
        source_id=identifier,
        year=_get(obj, "year", "published", "date", "update_date"),
        venue=_get(obj, "venue", "journal", "journal-ref"),
        url=_get(obj, "url", "link"),
        excerpt=excerpt_of(raw),
        **{"authors": _get(obj, "authors", "author"), **jsonl_metadata(obj)},
    )
