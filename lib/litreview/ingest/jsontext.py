"""Split JSON text into items with the line each starts on, one broken item losing no other.

Accepts a JSON array of objects (CSL-JSON, an OpenAlex ``works`` list), an API page
``{"results": [...]}``, one object, or JSON Lines. The standard ``json`` module does the
parsing; this module only finds where each item starts, and when the whole array does not
parse, decodes the items one by one so that only the broken one is lost.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

_DECODER = json.JSONDecoder()
#: Keys under which an API response lists its items.
LIST_KEYS = ("results", "items", "data")


@dataclass
class JsonItem:
    """One item: its 1-based start line, the decoded value or the error, and its raw text."""

    line: int
    value: object = None
    error: str | None = None
    raw: str = ""


def split_items(text: str) -> list[JsonItem]:
    """Return the items of a JSON array / API page / object / JSON Lines text, in order."""
    stripped = text.lstrip()
    offset_line = text[: len(text) - len(stripped)].count("\n") + 1
    if stripped.startswith("[") or (stripped.startswith("{") and not _is_json_lines(stripped)):
        try:
            value = json.loads(text)
        except ValueError:
            if stripped.startswith("["):
                return _tolerant_array(text)
            return _json_lines(text)
        key = None
        if isinstance(value, dict):
            key = next((k for k in LIST_KEYS if isinstance(value.get(k), list)), None)
            if key is None:
                return [JsonItem(offset_line, value, raw=stripped[:300])]
            value = value[key]
        if not isinstance(value, list):
            return [JsonItem(offset_line, value, raw=stripped[:300])]
        starts = _item_start_lines(text, key)
        return [
            JsonItem(starts[i] if i < len(starts) else offset_line, item, raw=_raw(item))
            for i, item in enumerate(value)
        ]
    return _json_lines(text)


def _raw(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)[:300]


def _is_json_lines(text: str) -> bool:
    first = text.split("\n", 1)[0].strip()
    try:
        json.loads(first)
    except ValueError:
        return False
    return "\n" in text.strip()


def _json_lines(text: str) -> list[JsonItem]:
    items = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            items.append(JsonItem(number, json.loads(line), raw=line[:300]))
        except ValueError as exc:
            items.append(JsonItem(number, error=f"invalid JSON ({exc.msg})", raw=line[:300]))
    return items


def _item_start_lines(text: str, key: str | None) -> list[int]:
    """Lines where the objects of the top-level array (or of ``{key: [...]}``) start."""
    starts: list[int] = []
    stack: list[tuple[str, str | None]] = []  # (bracket, key it is the value of)
    line, i, n = 1, 0, len(text)
    last_string: str | None = None
    pending_key: str | None = None
    while i < n:
        char = text[i]
        if char == "\n":
            line += 1
        elif char == '"':
            end = i + 1
            while end < n and text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            last_string = text[i + 1 : end]
            line += text.count("\n", i, end)
            i = end
        elif char == ":":
            pending_key = last_string
        elif char in "[{":
            parent = stack[-1] if stack else None
            if char == "{" and parent is not None and parent[0] == "[":
                top_level = len(stack) == 1 and key is None
                under_key = len(stack) == 2 and key is not None and parent[1] == key
                if top_level or under_key:
                    starts.append(line)
            stack.append((char, pending_key if stack and stack[-1][0] == "{" else None))
            pending_key = None
        elif char in "]}":
            if stack:
                stack.pop()
        elif char == ",":
            pending_key = None
        i += 1
    return starts


def _tolerant_array(text: str) -> list[JsonItem]:
    """Decode a broken array item by item: starts are ``{`` at the items' indentation."""
    lines = text.split("\n")
    offsets = [0]
    for line in lines[:-1]:
        offsets.append(offsets[-1] + len(line) + 1)
    first = text.index("[") + 1
    match = re.compile(r"\s*").match(text, first)
    assert match is not None
    first_item = match.end()
    candidates: list[int] = []
    if first_item < len(text) and text[first_item] == "{":
        candidates.append(first_item)
    line_starts = [
        (offsets[k] + len(line) - len(line.lstrip()), len(line) - len(line.lstrip()))
        for k, line in enumerate(lines)
        if line.lstrip().startswith("{")
    ]
    later = [(pos, width) for pos, width in line_starts if pos > first_item]
    if later:
        indent = min(width for _, width in later)
        candidates += [pos for pos, width in later if width == indent]
    candidates = sorted(set(candidates))
    items: list[JsonItem] = []
    for k, position in enumerate(candidates):
        line = text.count("\n", 0, position) + 1
        end = candidates[k + 1] if k + 1 < len(candidates) else len(text)
        raw = text[position:end]
        try:
            value, stop = _DECODER.raw_decode(text, position)
        except ValueError as exc:
            where = getattr(exc, "lineno", line)
            items.append(
                JsonItem(line, error=f"invalid JSON item (line {where}: {exc.msg})", raw=raw[:300])
            )
            continue
        if stop > end:
            items.append(JsonItem(line, error="invalid JSON item (runs into the next one)"))
            continue
        items.append(JsonItem(line, value, raw=raw[:300]))
    if not items:
        items.append(
            JsonItem(1, error="invalid JSON array (no item could be read)", raw=text[:300])
        )
    return items
