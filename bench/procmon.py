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


def run_monitored(cmd: Sequence[str], *, cwd: Path | None = None, interval: float = 0.5,
                  env: dict[str, str] | None = None, log_path: Path | None = None) -> RunStats:
    """Run ``cmd``; return its wall time, the peak summed RSS of its process tree
    (psutil, incl. papermill kernels; None without psutil) and the largest single
    descendant's max RSS from ``getrusage(RUSAGE_CHILDREN)``.
    """
    try:
        import psutil
    except ImportError:  # psutil is in the bench extra
        psutil = None
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if log_path:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    log = open(log_path, "w", encoding="utf-8") if log_path else subprocess.PIPE  # noqa: SIM115
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

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    out, _ = proc.communicate()
    seconds = time.perf_counter() - start
    done.set()
    thread.join()
    if log_path:
        log.close()  # type: ignore[union-attr]
        out = Path(log_path).read_text(encoding="utf-8", errors="replace")
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return RunStats(proc.returncode, seconds, peak[0] if psutil else None,
                    max(after, before) / 1024, (out or "")[-3000:])
