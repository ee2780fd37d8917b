"""The edit loop on the seed corpus: a changed review parameter re-runs only the review."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from litreview import pipeline

pytestmark = pytest.mark.slow


def _folder_bytes(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != pipeline.LOCK_NAME}


def test_seed_review_edit_reruns_only_review_and_writes_html_first(
        review_run: Path, tmp_path: Path) -> None:
    """The shared seed run (smoke parameters), moved, then a changed review parameter."""
    smoke = Path(__file__).with_name("smoke.yaml")
    out = tmp_path / "out"
    shutil.copytree(review_run, out)  # a moved output folder is still up to date
    base = [sys.executable, "-m", "litreview.cli", "run", "--out", str(out),
            "--params", str(smoke)]

    def run(*extra: str) -> str:
        proc = subprocess.run([*base, *extra], capture_output=True, text=True, timeout=1200)
        assert proc.returncode == 0, f"{proc.stdout}\n{proc.stderr}"
        return proc.stdout

    upstream = {rel: data for rel, data in _folder_bytes(out).items()
                if rel.startswith(("data/", "models/", "figures/topics", "notebooks/01",
                                   "notebooks/02"))}
    start = time.perf_counter()
    log = run("-p", "title", "Edited smoke review")
    seconds = time.perf_counter() - start
    assert "[litreview] ingest: up to date (inputs and parameters unchanged)" in log
    assert "[litreview] topics: up to date (inputs and parameters unchanged)" in log
    assert "review: running 03_review.ipynb (parameter(s) changed: title" in log, log
    after = _folder_bytes(out)
    assert {rel: after.get(rel) for rel in upstream} == upstream  # skipped: byte-identical
    assert "Edited smoke review" in (out / "report" / "review.html").read_text()
    report = out / "report"
    assert (report / "review.html").stat().st_mtime_ns <= \
        (report / "review.md").stat().st_mtime_ns <= (report / "review.pdf").stat().st_mtime_ns
    print(f"edit-only run: {seconds:.1f} s")
    log = run("-p", "title", "Edited smoke review")
    assert log.count("up to date") == 3
    assert _folder_bytes(out) == after
