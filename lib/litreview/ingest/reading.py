"""Find input files, decode their bytes to text and guess their format."""

from __future__ import annotations

import codecs
import csv
import errno
import gzip
import json
import os
import re
import stat
import zlib
from collections import Counter
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


#: Largest input (after gunzip) read into memory; a bigger file is refused with a message
#: instead of exhausting memory (a 5 MB ``.gz`` can hold gigabytes).
MAX_INPUT_BYTES = 256 * 1024 * 1024
_CHUNK_BYTES = 1024 * 1024


#: ``format`` of the record that stands for an entry skipped while finding the input files
#: (FIFO, symlink loop, unreadable folder): it is a rejected record like any other.
SKIPPED = "skipped"
#: How ``SourceText.problem`` starts when the file's bytes could not be read at all.
UNREAD_PROBLEMS = ("cannot read file", "not a regular file")


@dataclass
class InputScan:
    """The files found under the inputs, and every entry skipped with the reason why."""

    files: list[tuple[Path, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    hidden: int = 0


def expand_paths(paths: Sequence[str | os.PathLike]) -> list[tuple[Path, str]]:
    """Return ``(file, display name)`` for every input file; see ``scan_inputs``."""
    return scan_inputs(paths).files


def scan_inputs(paths: Sequence[str | os.PathLike]) -> InputScan:
    """Find every input file: folders give their files, sorted, symlinked folders included.

    The display name is the path relative to the folder given, or the file's base name.
    A symlinked folder is followed once: a folder reached a second time (a link back to an
    ancestor, i.e. a loop, or a second link to the same folder) is skipped with a reason,
    as are unreadable folders, broken links and entries that are not regular files (FIFOs,
    sockets, devices, which are never opened: reading a FIFO would block). Hidden files and
    folders (``.DS_Store``, ``.git``) inside folders are left out and counted.
    Raises IngestError for an input path that does not exist.
    """
    scan = InputScan()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            _walk(path, path, "", _real_folders(path), [], scan)
        elif path.is_file():
            scan.files.append((path, path.name))
        elif path.is_symlink() and not path.exists():
            scan.skipped.append((path.as_posix(), _broken_link(path)))
        elif path.exists():
            scan.skipped.append((path.as_posix(), _not_regular(path.stat().st_mode)))
        else:
            raise IngestError(f"{path}: no such file or folder")
    counts = Counter(name for _, name in scan.files)
    # Two inputs with the same display name would make "file:line" ambiguous.
    scan.files = [
        (path, name if counts[name] == 1 else path.as_posix()) for path, name in scan.files
    ]
    return scan


def _real_folders(root: Path) -> dict[tuple[int, int], str]:
    """Map the folders under ``root`` reached without links to their display names.

    A link to one of them is skipped (the folder is read under its own name), whatever
    the order in which the two are met.
    """
    found: dict[tuple[int, int], str] = {}
    for folder, subfolders, _ in os.walk(root):  # no links followed; unreadable: see _walk
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        try:
            info = os.stat(folder)
        except OSError:
            continue
        relative = Path(folder).relative_to(root).as_posix()
        found[(info.st_dev, info.st_ino)] = root.as_posix() if relative == "." else relative
    return found


def _walk(
    root: Path,
    folder: Path,
    prefix: str,
    seen: dict[tuple[int, int], str],
    ancestors: list[tuple[int, int]],
    scan: InputScan,
) -> None:
    """Depth-first, sorted by name (the order ``sorted(rglob)`` gave), following links once.

    Hand-written rather than ``os.walk(followlinks=True)``, which loops forever on a link
    to an ancestor and drops unreadable folders and FIFOs without a word.
    """
    display = prefix.rstrip("/") or root.as_posix()
    try:
        info = folder.stat()
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda entry: entry.name)
    except OSError as exc:
        scan.skipped.append((display, f"unreadable folder ({exc.strerror or exc})"))
        return
    here = (info.st_dev, info.st_ino)
    ancestors = [*ancestors, here]
    for entry in entries:
        name = prefix + entry.name
        if entry.name.startswith("."):
            scan.hidden += 1
            continue
        try:
            target = os.stat(entry.path)  # follows symlinks
        except OSError as exc:
            if entry.is_symlink():
                reason = (
                    "symlink loop (the link resolves to itself)"
                    if exc.errno == errno.ELOOP
                    else _broken_link(Path(entry.path))
                )
            else:
                reason = f"unreadable entry ({exc.strerror or exc})"
            scan.skipped.append((name, reason))
            continue
        if stat.S_ISDIR(target.st_mode):
            key = (target.st_dev, target.st_ino)
            if key in ancestors:  # a link (or a bind mount) back to a folder above
                scan.skipped.append(
                    (name, f"symlink loop (links back to folder {seen.get(key, display)})")
                )
            elif not entry.is_symlink():
                _walk(root, Path(entry.path), name + "/", seen, ancestors, scan)
            elif key in seen:
                scan.skipped.append((name, f"folder already read (as {seen[key]})"))
            else:
                seen[key] = name
                _walk(root, Path(entry.path), name + "/", seen, ancestors, scan)
        elif stat.S_ISREG(target.st_mode):
            scan.files.append((Path(entry.path), name))
        else:
            scan.skipped.append((name, _not_regular(target.st_mode)))


def _not_regular(mode: int) -> str:
    kind = (
        "a FIFO"
        if stat.S_ISFIFO(mode)
        else "a socket"
        if stat.S_ISSOCK(mode)
        else "a device"
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
        else "not a regular file"
    )
    return f"not a regular file ({kind}; not read)"


def _broken_link(path: Path) -> str:
    try:
        target = os.readlink(path)
    except OSError:
        target = "?"
    return f"broken symlink (points to {target}, which does not exist)"


def read_source(path: Path, name: str) -> SourceText:
    """Read and decode one file (through gzip for ``.gz``); never raises for bad content.

    A ``.gz`` file is decompressed in chunks and refused once it passes
    ``MAX_INPUT_BYTES``, so memory stays bounded whatever the compression ratio.
    """
    source = SourceText(path=path, name=name)
    limit = MAX_INPUT_BYTES
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            source.problem = _not_regular(info.st_mode)
            return source
        if info.st_size > limit:
            source.problem = f"file is larger than the {_size(limit)} limit for one input"
            return source
        if path.suffix.lower() == ".gz":
            data = _gunzip(path, limit)
            if data is None:
                source.problem = (
                    f"decompressed size passes the {_size(limit)} limit for one input; "
                    "split the file or filter it first"
                )
                return source
        else:
            data = path.read_bytes()
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        source.problem = f"not a valid gzip file ({exc})"
        return source
    except OSError as exc:
        source.problem = f"cannot read file ({exc.strerror or exc})"
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


def _gunzip(path: Path, limit: int) -> bytearray | None:
    """Decompress ``path`` in chunks; None as soon as it passes ``limit`` bytes."""
    data = bytearray()
    with gzip.open(path, "rb") as stream:
        while chunk := stream.read(_CHUNK_BYTES):
            data += chunk
            if len(data) > limit:
                return None
    return data


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:g} MiB" if n >= 1024 * 1024 else f"{n} bytes"


def decode_bytes(data: bytes | bytearray) -> tuple[str | None, str | None, str | None]:
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
