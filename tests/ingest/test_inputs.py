"""Finding input files: symlinked folders, loops, FIFOs, unreadable entries, big gzip files."""

from __future__ import annotations

import gzip
import os
import tracemalloc
from pathlib import Path

import pytest

from litreview.ingest import format_summary, ingest_paths, reading

from .conftest import abstract_text


def _paper(folder: Path, name: str, title: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f"{title}\n{abstract_text(title)}\n", encoding="utf-8")
    return path


def _skips(result) -> dict[str, str]:
    rows = result.records[result.records.format == reading.SKIPPED]
    assert (rows.status == "rejected").all() and (rows.line == 0).all()
    return dict(zip(rows.source_file, rows.reason, strict=True))


def test_symlinked_folder_is_followed(tmp_path):
    corpus = tmp_path / "corpus"
    _paper(corpus, "a.txt", "Paper in the corpus")
    elsewhere = tmp_path / "elsewhere"
    for i in range(3):
        _paper(elsewhere, f"p{i}.txt", f"Linked paper {i}")
    (corpus / "linked").symlink_to(elsewhere, target_is_directory=True)
    result = ingest_paths([corpus])
    assert sorted(result.records.source_file) == [
        "a.txt",
        "linked/p0.txt",
        "linked/p1.txt",
        "linked/p2.txt",
    ]
    assert len(result.papers) == 4
    assert _skips(result) == {}


def test_symlink_loops_and_second_links_are_skipped_visibly(tmp_path):
    corpus = tmp_path / "corpus"
    _paper(corpus / "sub", "a.txt", "Only paper here")
    (corpus / "sub" / "back").symlink_to(corpus, target_is_directory=True)
    (corpus / "again").symlink_to(corpus / "sub", target_is_directory=True)
    (corpus / "self").symlink_to(corpus / "self")
    (corpus / "gone").symlink_to(tmp_path / "missing.txt")
    result = ingest_paths([corpus])
    assert result.records[result.records.status == "kept"].source_file.tolist() == ["sub/a.txt"]
    skips = _skips(result)
    assert set(skips) == {"again", "gone", "self", "sub/back"}
    assert skips["again"] == "folder already read (as sub)"
    assert skips["sub/back"].startswith("symlink loop")
    assert skips["self"].startswith("symlink loop")
    assert skips["gone"].startswith("broken symlink")
    text = format_summary(result)
    assert "Skipped while finding input files (4):" in text
    assert "  sub/back: symlink loop" in text


def test_fifo_is_reported_and_never_opened(tmp_path):
    corpus = tmp_path / "corpus"
    _paper(corpus, "a.txt", "A paper")
    os.mkfifo(corpus / "pipe.txt")  # opening it for reading would block forever
    result = ingest_paths([corpus])
    assert _skips(result) == {"pipe.txt": "not a regular file (a FIFO; not read)"}
    assert "pipe.txt:0: not a regular file (a FIFO; not read)" in result.messages
    assert len(result.papers) == 1


def test_unreadable_subfolder_is_reported(tmp_path, monkeypatch):
    corpus = tmp_path / "corpus"
    _paper(corpus, "a.txt", "A paper")
    _paper(corpus / "locked", "b.txt", "Hidden away")
    real_scandir = os.scandir

    def scandir(path):
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(reading.os, "scandir", scandir)
    result = ingest_paths([corpus])
    assert _skips(result) == {"locked": "unreadable folder (Permission denied)"}
    assert "locked: unreadable folder (Permission denied)" in format_summary(result)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_and_folder_by_mode(tmp_path):
    corpus = tmp_path / "corpus"
    _paper(corpus, "a.txt", "A paper")
    locked = _paper(corpus, "locked.txt", "Locked paper")
    folder = corpus / "closed"
    _paper(folder, "c.txt", "Closed paper")
    locked.chmod(0)
    folder.chmod(0)
    try:
        result = ingest_paths([corpus])
    finally:
        locked.chmod(0o644)
        folder.chmod(0o755)
    reasons = dict(zip(result.records.source_file, result.records.reason, strict=True))
    assert reasons["locked.txt"].startswith("cannot read file")
    assert reasons["closed"].startswith("unreadable folder")
    assert locked not in result.inputs  # the manifest hashes only what could be read


def test_unreadable_file_is_not_listed_as_an_input(tmp_path, monkeypatch):
    corpus = tmp_path / "corpus"
    good = _paper(corpus, "a.txt", "A paper")
    bad = _paper(corpus, "b.txt", "Unreadable paper")
    real = Path.read_bytes

    def read_bytes(self):
        if self.name == "b.txt":
            raise PermissionError(13, "Permission denied")
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    result = ingest_paths([corpus])
    row = result.records[result.records.source_file == "b.txt"].iloc[0]
    assert row["reason"] == "cannot read file (Permission denied)"
    assert result.inputs == [good] and bad not in result.inputs


def test_explicit_fifo_path_is_skipped_not_an_error(tmp_path):
    good = _paper(tmp_path, "a.txt", "A paper")
    os.mkfifo(tmp_path / "pipe")
    result = ingest_paths([good, tmp_path / "pipe"])
    assert _skips(result) == {
        (tmp_path / "pipe").as_posix(): "not a regular file (a FIFO; not read)"
    }


def test_gzip_is_streamed_and_capped_with_a_clear_message(tmp_path, monkeypatch):
    monkeypatch.setattr(reading, "MAX_INPUT_BYTES", 1024 * 1024)
    bomb = tmp_path / "bomb.jsonl.gz"
    bomb.write_bytes(gzip.compress(b" " * (32 * 1024 * 1024)))  # 32 MiB of blanks, ~32 KB
    good = _paper(tmp_path, "good.txt", "A paper")
    tracemalloc.start()
    try:
        result = ingest_paths([bomb, good])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    row = result.records[result.records.source_file == "bomb.jsonl.gz"].iloc[0]
    assert row["status"] == "rejected"
    assert row["reason"].startswith("decompressed size passes the 1 MiB limit for one input")
    assert len(result.papers) == 1
    assert peak < 8 * 1024 * 1024  # never the whole 32 MiB


def test_plain_file_over_the_cap_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(reading, "MAX_INPUT_BYTES", 1000)
    big = _paper(tmp_path, "big.txt", "Big " * 300)
    good = _paper(tmp_path, "good.txt", "Small paper")
    result = ingest_paths([big, good])
    row = result.records[result.records.source_file == "big.txt"].iloc[0]
    assert row["reason"] == "file is larger than the 1000 bytes limit for one input"


def test_truncated_gzip_is_rejected(tmp_path):
    data = gzip.compress(f"A paper\n{abstract_text()}\n".encode())
    cut = tmp_path / "cut.txt.gz"
    cut.write_bytes(data[: len(data) // 2])
    good = _paper(tmp_path, "good.txt", "Good paper")
    result = ingest_paths([cut, good])
    row = result.records[result.records.source_file == "cut.txt.gz"].iloc[0]
    assert row["reason"].startswith("not a valid gzip file")
