"""Work split over two processes, the second one forked: per-paper work of a large
corpus (:func:`in_two_processes`), and a task worked out beside this process
(:class:`Background`: the review's figures, drawn while the write-up is composed).

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
from typing import Any, Generic, TypeVar

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


class Background(Generic[R]):
    """``task()`` worked out in a forked child while this process goes on with other work.

    The child inherits everything already loaded (no pickling of the task or its data);
    its result comes back through a pipe and must pickle. :meth:`result` waits for it.
    On one CPU, where ``fork`` is not available, or should the child fail to start, die
    or raise, the task is worked out here when :meth:`result` is called, so the result is
    always what ``task()`` gives. Hand-written over ``concurrent.futures``: a pool would
    pickle the task, which here is a closure over the process's state.
    """

    def __init__(self, task: Callable[[], R]) -> None:
        self._task = task
        self._proc: Any = None
        self._conn: Any = None
        if usable_cpus() < 2 or "fork" not in multiprocessing.get_all_start_methods():
            return
        context = multiprocessing.get_context("fork")
        receive, send = context.Pipe(duplex=False)
        try:
            self._proc = context.Process(target=_background_child, args=(task, send),
                                         daemon=True)
            self._proc.start()
        except OSError as err:
            logger.debug("could not fork (%s); the task runs here", err)
            self._proc = None
            receive.close()
        else:
            self._conn = receive
        finally:
            send.close()

    @property
    def forked(self) -> bool:
        """Whether the task was started in a child."""
        return self._proc is not None

    def result(self) -> R:
        """The task's result: the child's, or worked out here (see the class)."""
        if self._proc is None:
            return self._task()
        try:
            status, value = self._conn.recv()
        except (EOFError, OSError) as err:
            status, value = "failed", f"the child ended without a result ({err})"
        finally:
            self._conn.close()
            self._proc.join()
            self._proc = None
        if status == "ok":
            return value
        logger.debug("forked task failed (%s); working it out here", value)
        return self._task()


def _background_child(task: Callable[[], Any], send: Any) -> None:
    try:
        message: tuple[str, Any] = ("ok", task())
    except BaseException as err:  # reported to the parent, which works the task out itself
        message = ("failed", f"{type(err).__name__}: {err}")
    try:
        send.send(message)
    except Exception as err:  # an unpicklable result: the parent works it out
        send.send(("failed", f"result not sent: {type(err).__name__}: {err}"))
    finally:
        send.close()
