"""Per-paper work of a large corpus split over two processes (the second one forked).

The write-up's per-paper steps (each paper's contribution sentence, the resources it
introduces) are pure functions of the paper's own text, so half of the papers can be
worked out in a forked child, which inherits everything already loaded, while this
process works out the other half; the results are the same, in the same order, as one
process would give. Below ``PARALLEL_MIN_ITEMS`` items, on one CPU, or where ``fork`` is
not available, everything runs here. Hand-written over ``concurrent.futures`` because
the task reads large in-memory state that a pool would otherwise pickle per call.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

#: Fewer items than this are worked out in this process only (every seed-corpus run).
PARALLEL_MIN_ITEMS = 20_000

_TASK: Callable[[list[Any]], list[Any]] | None = None


def _run_task(items: list[Any]) -> list[Any]:
    assert _TASK is not None, "the forked child inherits the task"
    return _TASK(items)


def usable_cpus() -> int:
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def in_two_processes(task: Callable[[list[T]], list[R]], items: Sequence[T], *,
                     min_items: int | None = None) -> list[R]:
    """Return ``task(list(items))``, the second half of the items worked out in a forked
    child when there are more than ``min_items`` (default ``PARALLEL_MIN_ITEMS``).

    ``task`` must map a list of items to one result per item, each depending on its
    item only, and its results must pickle. Should the child fail to start or die,
    its half is worked out here.
    """
    global _TASK
    items = list(items)
    limit = PARALLEL_MIN_ITEMS if min_items is None else min_items
    if (len(items) <= limit or usable_cpus() < 2
            or "fork" not in multiprocessing.get_all_start_methods()):
        return task(items)
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    half = (len(items) + 1) // 2
    _TASK = task  # set before the fork, so that the child inherits it
    try:
        with ProcessPoolExecutor(max_workers=1,
                                 mp_context=multiprocessing.get_context("fork")) as pool:
            future = pool.submit(_run_task, items[half:])
            first = task(items[:half])
            try:
                second = future.result()
            except (BrokenProcessPool, OSError) as err:
                logger.debug("forked half failed (%s); working it out here", err)
                second = task(items[half:])
    finally:
        _TASK = None
    return first + second
