"""Write the PDF report in a separate process, so the HTML report is not kept waiting.

WeasyPrint is the slowest step of the review stage (~10 s CPU for the seed corpus's
~70 pages, all in its own layout code); it needs only the print HTML, which is ready as
soon as the figures are. :func:`start_pdf` writes that HTML to a hidden file beside the
report and starts this file as a script on it (``python -I``: WeasyPrint is all it
imports); the stage meanwhile writes the Markdown, the exports and the rest of its
notebook, and :func:`wait_pdf` collects the result (``litreview run`` waits after the
notebook has finished and its HTML copy is exported, so the PDF overlaps with those too).

The review stage starts the writer even earlier, at its beginning (:func:`prepare_pdf`):
it imports WeasyPrint and loads its fonts while the review is composed, then reads the
print HTML's file name from its stdin when :func:`start_pdf` hands it over.

The hand-off is two hidden files in ``DIR/report/`` (hidden names are no stage product):

- ``.review.pdf.job``: the writer holds an ``flock`` on it while it runs (taken by the
  parent before the writer starts, so a waiter can never see it free too early); the
  lock goes when the writer exits, however it exits. The file holds the writer's pid.
- ``.review.pdf.status``: JSON ``{"ok": …, "seconds": …, "error": …}`` written by the writer
  before it exits.

Hand-written (a dozen lines of ``subprocess`` and ``fcntl``) because the writer must
outlive the notebook kernel that starts it, which a ``multiprocessing`` or
``concurrent.futures`` pool would not allow. Where ``fcntl`` is missing (not POSIX)
:func:`start_pdf` writes the PDF in-process instead.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

# Standard library only at the top: the writer runs this file as a script (``python -I``),
# so that it imports WeasyPrint and nothing else (litreview's package imports pandas).

#: Set (to ``1``) by ``litreview run`` for its kernels: the stage then leaves the PDF to
#: finish in the background and the runner waits for it (:func:`wait_pdf`).
DEFER_ENV = "LITREVIEW_PDF_IN_BACKGROUND"
JOB_NAME = ".review.pdf.job"
STATUS_NAME = ".review.pdf.status"
HTML_NAME = ".review.print.html"


#: Writers started by this process, by report folder (to reap them once done).
_STARTED: dict[Path, subprocess.Popen] = {}


class PdfFailed(RuntimeError):
    """The PDF writer failed; the message says why."""


@dataclass(frozen=True)
class PdfResult:
    """A finished PDF: its path, the seconds the writer took and the CPU seconds of its
    whole process (imports included: it may outlive its parent, so no one else counts it)."""

    path: Path
    seconds: float
    cpu_seconds: float = 0.0


def write_pdf(html: str, path: str | os.PathLike, base_url: str | os.PathLike) -> Path:
    """Render ``html`` (the print variant) to ``path`` with WeasyPrint, atomically (as
    :func:`litreview.io.atomic_path`: a temporary file beside it, then a rename)."""
    from weasyprint import HTML

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp.pdf",
                                dir=target.parent)
    os.close(fd)
    try:
        HTML(string=html, base_url=os.fspath(base_url)).write_pdf(name)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(name, 0o666 & ~mask)
        os.replace(name, target)
    finally:
        Path(name).unlink(missing_ok=True)
    return target


def _background_supported() -> bool:
    try:
        import fcntl  # noqa: F401
    except ImportError:  # pragma: no cover - not POSIX
        return False
    return True


def prepare_pdf(path: str | os.PathLike) -> bool:
    """Start the writer of ``path`` (``DIR/report/review.pdf``) before its HTML exists.

    The writer imports WeasyPrint and lays out a one-line page (fontconfig and Pango
    loaded: ~1 s CPU) while the review is still being composed on the other core, then
    waits for :func:`start_pdf` to hand it the print HTML. Until then the job counts as
    pending; :func:`cancel_pdf` stops a writer that is never handed its HTML (a writer
    whose parent exits first reads end-of-file and reports that it got nothing).
    Returns False where no background writer is possible (no ``fcntl``).
    """
    path = Path(path)
    if not _background_supported():  # pragma: no cover - not POSIX
        return False
    cancel_pdf(path.parent)  # a writer left over from an interrupted run
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.parent / STATUS_NAME).unlink(missing_ok=True)
    _spawn(path, None)
    return True


def start_pdf(html: str, path: str | os.PathLike) -> bool:
    """Start writing ``html`` to ``path`` (``DIR/report/review.pdf``) in another process:
    hand it to the writer :func:`prepare_pdf` started, or start one now.

    Returns True when a writer was started (collect it with :func:`wait_pdf`); False when
    the PDF was written here and now (no ``fcntl``).
    """
    path = Path(path)
    folder = path.parent
    if not _background_supported():  # pragma: no cover - not POSIX
        write_pdf(html, path, folder)
        return False
    from litreview import io

    waiting = _STARTED.get(folder.resolve())
    if (waiting is not None and waiting.stdin is not None and not waiting.stdin.closed
            and waiting.poll() is None and pending(folder)):
        html_file = io.write_text(folder / HTML_NAME, html)
        try:
            waiting.stdin.write(os.fsencode(html_file) + b"\n")
            waiting.stdin.close()
            return True
        except OSError:  # it died meanwhile: start a fresh one below
            pass
    cancel_pdf(folder)  # a writer left over from an interrupted run
    (folder / STATUS_NAME).unlink(missing_ok=True)
    _spawn(path, io.write_text(folder / HTML_NAME, html))
    return True


def _spawn(path: Path, html_file: Path | None) -> subprocess.Popen:
    """Start the writer script on ``html_file`` (None: it reads the file's name from its
    stdin), holding the job lock before it starts."""
    import fcntl

    folder = path.parent
    fd = os.open(folder / JOB_NAME, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        proc = subprocess.Popen(
            [sys.executable, "-I", os.fspath(Path(__file__).resolve()),
             os.fspath(html_file) if html_file is not None else _FROM_STDIN,
             os.fspath(path), str(fd)],
            pass_fds=(fd,), stdin=subprocess.DEVNULL if html_file is not None else subprocess.PIPE,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        os.pwrite(fd, f"{proc.pid}\n".encode(), 0)
        _STARTED[folder.resolve()] = proc  # reaped by wait_pdf when it runs here
    finally:
        os.close(fd)  # the writer holds the lock from here on
    return proc


def pending(folder: str | os.PathLike) -> bool:
    """Whether a PDF writer was started in ``folder`` and not yet collected."""
    return (Path(folder) / JOB_NAME).exists()


def wait_pdf(folder: str | os.PathLike, timeout: float = 1800.0) -> PdfResult | None:
    """Wait for the writer started in ``folder`` (``DIR/report``); None when none was.

    Raises :class:`PdfFailed` with the writer's error when it failed or vanished
    without a word, or when it is still running after ``timeout`` seconds (it is then
    stopped).
    """
    import fcntl

    folder = Path(folder)
    job = folder / JOB_NAME
    if not job.exists():
        return None
    fd = os.open(job, os.O_RDWR)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                if time.monotonic() > deadline:
                    _kill(fd)
                    raise PdfFailed(f"the PDF writer ran over {timeout:.0f} s and was "
                                    "stopped") from None
                time.sleep(0.05)
    finally:
        os.close(fd)
    proc = _STARTED.pop(folder.resolve(), None)
    if proc is not None:
        proc.wait()  # it has released the lock: it is exiting
    status_path = folder / STATUS_NAME
    try:
        status = json.loads(status_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        status = {"ok": False, "error": "the PDF writer exited without reporting"}
    finally:
        job.unlink(missing_ok=True)
        status_path.unlink(missing_ok=True)
        (folder / HTML_NAME).unlink(missing_ok=True)
    if not status.get("ok"):
        raise PdfFailed(f"writing {folder / 'review.pdf'} failed: {status.get('error')}")
    return PdfResult(Path(status["path"]), float(status.get("seconds", 0.0)),
                     float(status.get("cpu_seconds", 0.0)))


def cancel_pdf(folder: str | os.PathLike) -> None:
    """Stop a writer still running in ``folder`` and remove its hand-off files."""
    folder = Path(folder)
    job = folder / JOB_NAME
    if job.exists():
        with contextlib.suppress(OSError):
            fd = os.open(job, os.O_RDWR)
            try:
                _kill(fd)
            finally:
                os.close(fd)
    proc = _STARTED.pop(folder.resolve(), None)
    if proc is not None:
        if proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()  # a prepared writer still waiting reads end-of-file
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)
    for name in (JOB_NAME, STATUS_NAME, HTML_NAME):
        (folder / name).unlink(missing_ok=True)


def _kill(fd: int) -> None:
    """SIGTERM the writer whose pid the job file holds, if it still holds the lock."""
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return  # free: nobody is writing
    except OSError:
        pass
    text = os.pread(fd, 64, 0).decode("ascii", "replace").strip()
    if text.isdigit():
        with contextlib.suppress(OSError):
            os.kill(int(text), signal.SIGTERM)


#: The writer's HTML_FILE argument when it is to read the file's name from its stdin.
_FROM_STDIN = "-"
#: Laid out once by a prepared writer while it waits: it loads fontconfig and the fonts
#: the report's families resolve to. The report's PDF comes out byte-identical.
_WARM_HTML = ('<p style="font-family: serif">a <i>b</i> <b>c</b></p>'
              '<p style="font-family: sans-serif">d <b>e</b></p>'
              '<p style="font-family: monospace">f</p>')


#: The writer's garbage-collector thresholds (``gc.set_threshold``). WeasyPrint's layout
#: allocates millions of short-lived objects, and under Python's defaults (700, 10, 10)
#: the collector runs a thousand times per report, walking the growing box tree again
#: and again while freeing almost nothing (reference counting frees the rest). Rarer
#: collections still collect every cycle; the PDF's bytes do not depend on when.
GC_THRESHOLDS = (200_000, 50, 100)


def _main(argv: list[str]) -> int:
    """``python -I .../report/pdf.py HTML_FILE|- PDF_PATH LOCK_FD``: the writer (``-``:
    prepared, it reads the HTML file's name from stdin once warm)."""
    import gc

    gc.set_threshold(*GC_THRESHOLDS)
    html_arg, pdf_path, lock_fd = argv[0], Path(argv[1]), int(argv[2])
    status_path = pdf_path.parent / STATUS_NAME
    start = time.perf_counter()
    try:
        if html_arg == _FROM_STDIN:
            from weasyprint import HTML

            with contextlib.suppress(Exception):  # only a warm-up
                HTML(string=_WARM_HTML).write_pdf()
            line = sys.stdin.buffer.readline().rstrip(b"\n")
            if not line:
                raise RuntimeError("no HTML was handed to the PDF writer (its stage stopped)")
            html_arg = os.fsdecode(line)
            start = time.perf_counter()  # the wait is not the writer's time
        write_pdf(Path(html_arg).read_text(encoding="utf-8"), pdf_path, pdf_path.parent)
        status = {"ok": True, "path": os.fspath(pdf_path),
                  "seconds": round(time.perf_counter() - start, 3),
                  "cpu_seconds": round(time.process_time(), 3)}
    except BaseException as err:  # every failure is reported to the waiter, in words
        status = {"ok": False, "error": f"{type(err).__name__}: {err}"}
    partial = status_path.with_name(status_path.name + ".tmp")
    partial.write_text(json.dumps(status), encoding="utf-8")
    os.replace(partial, status_path)  # whole or absent for the waiter
    os.close(lock_fd)
    return 0 if status["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
