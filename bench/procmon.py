"""Run a command while sampling the resident memory of its whole process tree."""

from __future__ import annotations

import contextlib
import resource
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass
class RunStats:
    """Wall time, exit status and memory of one monitored command."""

    returncode: int
    seconds: float
    peak_rss_mb: float | None
    max_child_rss_mb: float
    output_tail: str
    #: Seconds from the start until the watched file was (re)written; None if it was not.
    watched_s: float | None = None


def run_monitored(cmd: Sequence[str], *, cwd: Path | None = None, interval: float = 0.5,
                  env: dict[str, str] | None = None, log_path: Path | None = None,
                  watch: Path | None = None) -> RunStats:
    """Run ``cmd``; return its wall time, the peak summed RSS of its process tree
    (psutil, incl. papermill kernels; None without psutil) and the largest single
    descendant's max RSS from ``getrusage(RUSAGE_CHILDREN)``. With ``watch``, also the
    seconds until that file is replaced or rewritten (checked every 50 ms).
    """
    try:
        import psutil
    except ImportError:  # psutil is in the bench extra
        psutil = None
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if log_path:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    log = open(log_path, "w", encoding="utf-8") if log_path else subprocess.PIPE  # noqa: SIM115
    initial = _stamp(watch)
    start = time.perf_counter()
    proc = subprocess.Popen(list(cmd), cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                            text=True)
    peak = [0.0]
    done = threading.Event()

    def sample() -> None:
        if psutil is None:
            return
        try:
            root = psutil.Process(proc.pid)
        except psutil.Error:
            return
        while not done.is_set():
            total = 0
            try:
                for p in [root, *root.children(recursive=True)]:
                    with contextlib.suppress(psutil.Error):
                        total += p.memory_info().rss
            except psutil.Error:
                break
            peak[0] = max(peak[0], total / 2**20)
            done.wait(interval)

    watched: list[float] = []

    def watch_file() -> None:
        while not done.is_set():
            if _stamp(watch) != initial:
                watched.append(time.perf_counter() - start)
                return
            done.wait(0.05)

    threads = [threading.Thread(target=sample, daemon=True)]
    if watch is not None:
        threads.append(threading.Thread(target=watch_file, daemon=True))
    for thread in threads:
        thread.start()
    out, _ = proc.communicate()
    seconds = time.perf_counter() - start
    done.set()
    for thread in threads:
        thread.join()
    if log_path:
        log.close()  # type: ignore[union-attr]
        out = Path(log_path).read_text(encoding="utf-8", errors="replace")
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if watch is not None and not watched and _stamp(watch) != initial:
        watched.append(seconds)  # rewritten in the last 50 ms
    return RunStats(proc.returncode, seconds, peak[0] if psutil else None,
                    max(after, before) / 1024, (out or "")[-3000:],
                    watched[0] if watched else None)


def _stamp(path: Path | None) -> tuple[int, int] | None:
    """``(inode, mtime_ns)`` of ``path``, None when it does not exist (atomic writes
    replace the file: a new inode)."""
    try:
        st = Path(path).stat() if path is not None else None
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns) if st else None
