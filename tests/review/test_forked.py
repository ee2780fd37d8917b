"""Per-paper write-up work split over two processes gives what one process gives."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from litreview import review
from litreview.review import forked

from .conftest import make_output_dir


def test_the_second_half_runs_in_a_forked_child(monkeypatch):
    monkeypatch.setattr(forked, "usable_cpus", lambda: 2)
    if "fork" not in forked.multiprocessing.get_all_start_methods():
        pytest.skip("no fork on this platform")
    me = os.getpid()
    got = forked.in_two_processes(lambda xs: [(x * 2, os.getpid()) for x in xs],
                                  list(range(7)), min_items=0)
    assert [v for v, _ in got] == [0, 2, 4, 6, 8, 10, 12]
    assert {pid for _, pid in got[:4]} == {me}
    assert {pid for _, pid in got[4:]} != {me}


def test_below_the_threshold_or_on_one_cpu_everything_runs_here(monkeypatch):
    me = os.getpid()
    task = lambda xs: [os.getpid() for _ in xs]  # noqa: E731
    assert set(forked.in_two_processes(task, range(5), min_items=5)) == {me}
    monkeypatch.setattr(forked, "usable_cpus", lambda: 1)
    assert set(forked.in_two_processes(task, range(5), min_items=0)) == {me}
    assert forked.in_two_processes(task, [], min_items=0) == []


def test_review_is_the_same_with_the_papers_split(tmp_path: Path, monkeypatch):
    root = make_output_dir(tmp_path / "run")
    alone = review.build_review(root)
    monkeypatch.setattr(forked, "PARALLEL_MIN_ITEMS", 0)
    monkeypatch.setattr(forked, "usable_cpus", lambda: 2)
    calls: list[int] = []
    real = forked.ProcessPoolExecutor if hasattr(forked, "ProcessPoolExecutor") else None
    assert real is None  # imported lazily, only when splitting
    original = forked.in_two_processes

    def counting(task, items, **kw):
        calls.append(len(list(items)))
        return original(task, items, **kw)

    monkeypatch.setattr(forked, "in_two_processes", counting)
    split = review.build_review(root)
    assert len(calls) == 2 and all(n > 10 for n in calls)  # resources, contributions
    split.methods.generated_at = alone.methods.generated_at
    assert repr(split) == repr(alone)


def test_exports_written_in_the_background_are_the_same(tmp_path: Path, monkeypatch):
    """Above EXPORT_BACKGROUND_MIN_PAPERS (lowered here) a separate process writes the
    exports while the review is composed: the same files, the same bytes."""
    from litreview import background, config
    from litreview.review import stage

    def exports(root: Path) -> dict[str, bytes]:
        folder = root / "export"
        return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}

    here_root = make_output_dir(tmp_path / "here")
    _, here = review.write_review(here_root, formats=("md",))
    monkeypatch.setattr(stage, "EXPORT_BACKGROUND_MIN_PAPERS", 0)
    started: list[object] = []
    original = stage._start_export
    monkeypatch.setattr(stage, "_start_export",
                        lambda *a: started.append(original(*a)) or started[-1])
    back_root = make_output_dir(tmp_path / "back")
    _, back = review.write_review(back_root, formats=("md",))
    assert started and (started[0] is not None or background.usable_cpus() < 2)
    assert exports(back_root) == exports(here_root) and exports(here_root)
    assert [p.relative_to(back_root) for p in back] == [p.relative_to(here_root) for p in here]
    assert config.report_dir(back_root).exists()


def test_background_export_that_fails_is_written_here(tmp_path: Path, monkeypatch):
    from litreview import background
    from litreview.review import stage

    monkeypatch.setattr(stage, "EXPORT_BACKGROUND_MIN_PAPERS", 0)
    monkeypatch.setattr(background, "_WORKER", "import sys; sys.exit(3)")
    root = make_output_dir(tmp_path / "run")
    _, written = review.write_review(root, formats=("md",))
    assert any(p.name == "corpus.bib" for p in written)
    assert (root / "export" / "corpus.bib").read_text(encoding="utf-8").startswith("@")
