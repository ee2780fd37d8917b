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
