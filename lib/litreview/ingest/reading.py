"""Find input files, decode their bytes to text and guess their format."""

from __future__ import annotations

import codecs
import csv
import gzip
import json
import os
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from litreview.ingest.formats import EXPORT_EXTENSIONS, EXPORT_PARSERS, detect_export
from litreview.ingest.records import IngestError, message

FORMATS = ("hfpapers", "bibtex", "ris", "csv", "jsonl", *EXPORT_PARSERS)
_EXTENSION_FORMATS = {
    ".bib": "bibtex",
    ".bibtex": "bibtex",
    ".ris": "ris",
    ".csv": "csv",
    ".tsv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".txt": "hfpapers",
    **EXPORT_EXTENSIONS,
}
_TITLE_HEADERS = {"title", "document title", "ti", "article title", "paper title"}


@dataclass
class SourceText:
    """A decoded input file, or the reason it has no usable text."""

    path: Path
    name: str
    text: str | None = None
    problem: str | None = None
    messages: list[str] = field(default_factory=list)


def expand_paths(paths: Sequence[str | os.PathLike]) -> list[tuple[Path, str]]:
    """Return ``(file, display name)`` for every input; folders give their files, sorted.

    The display name is the path relative to the folder given, or the file's base name.
    Hidden files and folders (``.DS_Store``, ``.git``) inside folders are skipped.
    """
    found: list[tuple[Path, str]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            found.extend((p, p.relative_to(path).as_posix()) for p in files)
        elif path.is_file():
            found.append((path, path.name))
        else:
            raise IngestError(f"{path}: no such file or folder")
    names = [name for _, name in found]
    # Two inputs with the same display name would make "file:line" ambiguous.
    return [(path, name if names.count(name) == 1 else path.as_posix()) for path, name in found]


def read_source(path: Path, name: str) -> SourceText:
    """Read and decode one file (through gzip for ``.gz``); never raises for bad content."""
    source = SourceText(path=path, name=name)
    try:
        data = path.read_bytes()
    except OSError as exc:
        source.problem = f"cannot read file ({exc.strerror or exc})"
        return source
    if path.suffix.lower() == ".gz":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            source.problem = f"not a valid gzip file ({exc})"
            return source
    text, problem, warning = decode_bytes(data)
    if warning:
        source.messages.append(message(name, 0, warning))
    if problem:
        source.problem = problem
        return source
    assert text is not None
    if not text.strip():
        source.problem = "empty file" if not text else "file has only whitespace"
        return source
    source.text = text
    return source


def decode_bytes(data: bytes) -> tuple[str | None, str | None, str | None]:
    """Decode file bytes; return ``(text, problem, warning)`` with newlines normalized to LF.

    Tries a BOM (UTF-8, UTF-16, UTF-32), then UTF-8, then cp1252 and latin-1 with a warning.
    NUL bytes or many control characters mean a binary file.
    """
    if not data:
        return "", None, None
    warning = None
    for bom, encoding in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError as exc:
                return None, f"binary or corrupt file (bad {encoding} at byte {exc.start})", None
            break
    else:
        if b"\x00" in data:
            return None, "binary file (contains NUL bytes)", None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            try:
                text = data.decode("cp1252")
                used = "cp1252"
            except UnicodeDecodeError:
                text = data.decode("latin-1")
                used = "latin-1"
            warning = f"not valid UTF-8 (byte {exc.start}); decoded as {used}"
    text = text.lstrip("\ufeff")
    controls = sum(1 for c in text[:65536] if ord(c) < 32 and c not in "\t\n\r\f")
    if controls > max(8, len(text[:65536]) // 100):
        return None, "binary file (many control characters)", None
    # Lone CRs count as line breaks too (IEEE RIS exports mix CRLF, CR and LF).
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text, None, warning


def detect_format(text: str, path: Path) -> str:
    """Guess the format from the content first, the file extension second."""
    head = text[:65536]
    stripped = head.lstrip()
    if exported := detect_export(head):
        return exported
    if re.search(r"^\s*@[A-Za-z]+\s*[{(]", head, re.MULTILINE) and re.search(
        r"^\s*@[A-Za-z]+\s*[{(][^\n]*,", head, re.MULTILINE
    ):
        return "bibtex"
    if re.search(r"^TY  - ", head, re.MULTILINE):
        return "ris"
    if stripped.startswith(("{", "[")) and _looks_like_json(stripped):
        return "jsonl"
    first_line = stripped.split("\n", 1)[0]
    if _looks_like_table_header(first_line):
        return "csv"
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    return _EXTENSION_FORMATS.get(suffixes[-1] if suffixes else "", "hfpapers")


def _looks_like_json(text: str) -> bool:
    first_line = text.split("\n", 1)[0].strip()
    try:
        json.loads(first_line)
        return True
    except ValueError:
        return text.startswith("[")


def _looks_like_table_header(line: str) -> bool:
    delimiter = "\t" if line.count("\t") >= line.count(",") else ","
    if line.count(delimiter) < 1:
        return False
    cells = next(csv.reader([line], delimiter=delimiter), [])
    return any(cell.strip().lower() in _TITLE_HEADERS for cell in cells)
