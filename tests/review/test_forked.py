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


def test_background_task_runs_in_a_child_and_falls_back_here(monkeypatch):
    if "fork" not in forked.multiprocessing.get_all_start_methods():
        pytest.skip("no fork on this platform")
    monkeypatch.setattr(forked, "usable_cpus", lambda: 2)
    me = os.getpid()
    job = forked.Background(lambda: ("done", os.getpid()))
    assert job.forked
    value, pid = job.result()
    assert value == "done" and pid != me

    def fails_in_child():
        if os.getpid() != me:
            raise RuntimeError("only in the child")
        return os.getpid()

    assert forked.Background(fails_in_child).result() == me  # worked out here instead
    unpicklable = forked.Background(lambda: (lambda: None) if os.getpid() != me else "here")
    assert unpicklable.result() == "here"
    monkeypatch.setattr(forked, "usable_cpus", lambda: 1)
    alone = forked.Background(os.getpid)
    assert not alone.forked and alone.result() == me


def test_review_figures_drawn_beside_the_write_up_are_the_same(tmp_path: Path, monkeypatch):
    """The review's figures are drawn in a forked child while the write-up is composed;
    the files are the bytes one process draws, and an unchanged rerun forks nothing."""
    if "fork" not in forked.multiprocessing.get_all_start_methods():
        pytest.skip("no fork on this platform")
    formats = ("md",)
    here = make_output_dir(tmp_path / "here")
    monkeypatch.setattr(forked, "usable_cpus", lambda: 1)
    review.run_review(here, formats=formats)
    beside = make_output_dir(tmp_path / "beside")
    monkeypatch.setattr(forked, "usable_cpus", lambda: 2)
    started: list[bool] = []
    original = forked.Background.__init__

    def counting(self, task):
        original(self, task)
        started.append(self.forked)

    monkeypatch.setattr(forked.Background, "__init__", counting)
    review.run_review(beside, formats=formats)
    assert started == [True]
    names = sorted(p.name for p in (here / "figures").iterdir() if p.name.startswith(".review")
                   or p.name.startswith("review_"))
    assert any(n.startswith("review_strategic_diagram.") for n in names)
    assert names == sorted(p.name for p in (beside / "figures").iterdir()
                           if p.name.startswith(".review") or p.name.startswith("review_"))
    for name in names:
        assert (here / "figures" / name).read_bytes() == (beside / "figures" / name).read_bytes()
    review.run_review(beside, formats=formats)  # nothing changed: every figure is current
    assert started == [True]
