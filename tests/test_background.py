"""litreview.background: a function called in a fresh process, collected later."""

from __future__ import annotations

import pytest

from litreview import background


def _started(call: background.Call | None) -> background.Call:
    if call is None:
        pytest.skip("one CPU: nothing runs in the background")
    return call


def test_a_call_returns_what_it_would_here():
    call = _started(background.start_call("os.path:join", "a", "b"))
    assert background.finish_call(call) == "a/b"
    assert not call.folder.exists()


def test_a_failed_call_says_why():
    call = _started(background.start_call("litreview.background:no_such_function"))
    with pytest.raises(background.BackgroundFailed, match="no_such_function"):
        background.finish_call(call)
    assert not call.folder.exists()


def test_a_cancelled_call_leaves_nothing():
    call = _started(background.start_call("time:sleep", 30))
    background.cancel_call(call)
    assert call.process.poll() is not None and not call.folder.exists()
    background.cancel_call(None)


def test_nothing_starts_on_one_cpu(monkeypatch):
    monkeypatch.setattr(background, "usable_cpus", lambda: 1)
    assert background.start_call("os.path:join", "a") is None


def test_a_nice_child_runs_nicer_than_its_parent():
    import os

    if not hasattr(os, "nice"):
        pytest.skip("no os.nice here")
    call = _started(background.start_call("os:nice", 0, nice=True))
    assert background.finish_call(call) == min(19, os.nice(0) + background.NICENESS)
    call = _started(background.start_call("os:nice", 0))
    assert background.finish_call(call) == os.nice(0)
