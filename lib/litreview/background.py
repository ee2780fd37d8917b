"""Call a function in a fresh Python process while this one goes on (the second core).

A large corpus's stages have steps that depend only on inputs known early: the 2-D map
on the embeddings, the stability refits on the fitted themes, the exports on the
stage 01/02 tables. :func:`start_call` runs such a step in a new interpreter (its
arguments and result pickled through a temporary folder), :func:`finish_call` collects
it. A fresh process rather than a fork: it holds the step's inputs, not a copy of the
stage kernel's memory (every page a forked child maps counts again in its RSS); it may
run at a lower priority (:data:`NICENESS`), taking only the CPU the stage leaves idle. Same
function, same arguments, same environment: the same result as calling it here.

Hand-written over ``concurrent.futures`` / ``multiprocessing`` because the caller is a
notebook kernel (``spawn`` would re-import its ``__main__``) and the call must be
collected cells later; it is one ``subprocess.Popen`` and two pickle files.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

_ARGS = "call.pkl"
_RESULT = "result.pkl"
_ERRORS = "stderr.txt"


class BackgroundFailed(RuntimeError):
    """The background call failed; the message says how."""


@dataclass
class Call:
    """A function call running in another process (:func:`start_call`)."""

    process: subprocess.Popen
    folder: Path
    target: str


def usable_cpus() -> int:
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def start_call(target: str, *args: Any, nice: bool = False, **kwargs: Any) -> Call | None:
    """Start ``module:function(*args, **kwargs)`` in a fresh Python process; None (nothing
    started) on one CPU or when the process cannot start. Arguments must pickle. With
    ``nice``, the child runs :data:`NICENESS` steps nicer than this process."""
    if usable_cpus() < 2:
        return None
    folder = Path(tempfile.mkdtemp(prefix="litreview-call-"))
    try:
        with open(folder / _ARGS, "wb") as fh:
            pickle.dump((target, args, kwargs), fh, protocol=pickle.HIGHEST_PROTOCOL)
        package_root = os.fspath(Path(__file__).resolve().parents[1])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [package_root, *filter(None, [os.environ.get("PYTHONPATH")])])}
        with open(folder / _ERRORS, "wb") as errors:
            process = subprocess.Popen(
                [sys.executable, "-c", _WORKER, os.fspath(folder), "1" if nice else "0"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errors, env=env)
    except (OSError, pickle.PicklingError, TypeError, AttributeError) as err:
        logger.debug("%s not started in the background (%s)", target, err)
        shutil.rmtree(folder, ignore_errors=True)
        return None
    return Call(process, folder, target)


def finish_call(call: Call) -> Any:
    """Wait for the call and return its result; raises :class:`BackgroundFailed` (with
    the child's last words) when it failed, so that the caller can work it out itself."""
    try:
        code = call.process.wait()
        result = call.folder / _RESULT
        if code == 0 and result.exists():
            with open(result, "rb") as fh:
                return pickle.load(fh)
        errors = call.folder / _ERRORS
        said = errors.read_text(errors="replace")[-2000:] if errors.exists() else ""
        raise BackgroundFailed(f"{call.target} failed in the background (exit {code}): {said}")
    finally:
        shutil.rmtree(call.folder, ignore_errors=True)


def cancel_call(call: Call | None) -> None:
    """Stop a call no longer wanted and remove its files."""
    if call is None:
        return
    if call.process.poll() is None:
        call.process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            call.process.wait(timeout=10)
    shutil.rmtree(call.folder, ignore_errors=True)


#: How much nicer than its parent a child started with ``nice=True`` runs: it takes the
#: CPU the stage leaves idle, and little of what the stage itself could use (the forked
#: half of the review's write-up). Not the default: on a busy machine a nicer child also
#: yields to every other process, and a stage that waits for it waits longer.
NICENESS = 10

#: The child's script (``python -c``): :func:`_main` on the call's folder.
_WORKER = "import sys; from litreview.background import _main; sys.exit(_main(sys.argv[1:]))"


def _main(argv: list[str]) -> int:
    """``FOLDER NICE``: run the pickled call in ``FOLDER`` (``NICE`` 1: at a lower
    priority); its result appears there once whole."""
    folder = Path(argv[0])
    if argv[1:] == ["1"] and hasattr(os, "nice"):
        with contextlib.suppress(OSError):
            os.nice(NICENESS)
    with open(folder / _ARGS, "rb") as fh:
        target, args, kwargs = pickle.load(fh)
    (folder / _ARGS).unlink()  # read: a caller that stopped leaves no copy of its inputs
    module, _, name = target.partition(":")
    result = getattr(importlib.import_module(module), name)(*args, **kwargs)
    partial = folder / (_RESULT + ".partial")
    with open(partial, "wb") as fh:
        pickle.dump(result, fh, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(partial, folder / _RESULT)
    return 0


# --------------------------------------------------------------------------- forked calls


class ForkedCall:
    """A function called in a forked child while this process goes on (the second core).

    For work on data already in memory whose result is small (figure files drawn from a
    stage's tables): the child inherits everything loaded, matplotlib included, so it
    starts at once and nothing is pickled but the result. :func:`fork_call` starts one,
    or returns None where a fork is not worth it or not possible (one CPU, no ``fork``);
    :meth:`result` returns the child's result or raises :class:`BackgroundFailed` (failed,
    died, or silent for ``timeout`` seconds), after which the caller does the work itself.
    Hand-written over ``multiprocessing.Pool``: a pool would pickle the inputs into a
    fresh interpreter that imports everything again.
    """

    def __init__(self, process: Any, conn: Any, name: str) -> None:
        self._process, self._conn, self.name = process, conn, name

    def result(self, timeout: float = 300.0) -> Any:
        try:
            if not self._conn.poll(timeout):
                raise BackgroundFailed(f"{self.name}: no answer in {timeout:.0f} s")
            ok, payload = self._conn.recv()
        except (EOFError, OSError) as err:
            raise BackgroundFailed(
                f"{self.name} ended without an answer ({err or type(err).__name__})") from None
        finally:
            self.cancel()
        if not ok:
            raise BackgroundFailed(f"{self.name} failed in the forked child: {payload}")
        return payload

    def cancel(self) -> None:
        """Stop the child (if it still runs) and close the pipe."""
        if self._process is not None:
            self._process.join(timeout=5.0)
            if self._process.is_alive():
                self._process.kill()
                self._process.join()
            self._process = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _forked_main(conn: Any, function: Any, args: tuple[Any, ...]) -> None:
    try:
        conn.send((True, function(*args)))
    except BaseException as err:  # reported to the parent, which does the work itself
        conn.send((False, f"{type(err).__name__}: {err}"))
    finally:
        conn.close()


def fork_call(function: Any, *args: Any) -> ForkedCall | None:
    """Start ``function(*args)`` in a forked child; None where no child is started (one
    CPU, no ``fork``, or the fork failed). Its result must pickle."""
    import multiprocessing

    if usable_cpus() < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return None
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    name = getattr(function, "__qualname__", repr(function))
    try:
        process = context.Process(target=_forked_main, args=(send, function, args), daemon=True)
        process.start()
    except OSError as err:
        logger.warning("%s runs here: the forked child did not start (%s)", name, err)
        receive.close()
        return None
    finally:
        send.close()
    return ForkedCall(process, receive, name)
