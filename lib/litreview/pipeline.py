"""Run the notebooks in order with papermill: the one way a whole review is produced.

Each stage notebook is executed into ``DIR/notebooks/`` (first under a temporary
name, moved into place only when every cell ran), and a no-input HTML copy is
exported beside it. A failing stage stops the run with :class:`StageFailed`,
which names the notebook, the cell and the error; its half-executed copy is kept
as ``<name>.failed.ipynb`` for inspection and the stage is marked failed in the
manifest, so nothing looks complete that is not.

Stage contracts: what each stage reads and writes under ``DIR`` is declared once
(``config.STAGE_READS`` / ``config.STAGE_WRITES``). When a stage completes, the runner
records the SHA-256 of those files in the stage's manifest record (``contract``).
Before a stage runs on files an earlier run produced, :func:`check_upstream` checks that
the producing stage completed and that its recorded outputs are the bytes now on disk,
and that it was itself produced from the files now on disk; otherwise the run is
refused (:class:`StaleStage`). One run at a time per ``DIR``: :func:`lock_output`.

Skipping what is up to date: the contract also records the stage's effective parameters
(its notebook's defaults overlaid with what the run passed), what code produced it (the
litreview version, the SHA-256 of its notebook and of the library's files, the versions of
the packages that decide the results), every file it wrote under ``DIR`` (``products``)
and, for ingest, the hash of every corpus file it found (``sources``). A stage whose
recorded contract still holds — same inputs, parameters, code and outputs — is skipped
and left untouched (:func:`skip_reason`); the runner says on the terminal which stages
it skipped and why, and why it re-ran the others. ``force`` re-runs stages regardless.

Warm kernels: while a stage runs, the next stage's kernel is started and imports that
stage's modules (``WARM_IMPORTS``: torch, sentence-transformers, bertopic … for topics) on
the other core; papermill then runs the notebook on it (``km``). A run whose first stages
are skipped (an edited review parameter) starts the first stage likely to run right away,
during the skip checks. A kernel started on a guess that did not hold is stopped.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import functools
import hashlib
import json
import os
import re
import socket
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from litreview import config, params
from litreview.io import read_json, write_json, write_text

#: Kept here for compatibility; they live in :mod:`litreview.config` (the bottom layer).
OFFLINE_ENV = config.OFFLINE_ENV
default_offline_env = config.default_offline_env

#: The lock file of an output folder (holds the pid, host and start time of its run).
LOCK_NAME = ".litreview.lock"

#: A Python warning as the kernel prints it: ``path:line: Category: message``.
_WARNING_LINE = re.compile(r"^(?P<where>\S.*?):(?P<line>\d+): (?P<category>\w*Warning): "
                           r"(?P<message>.*\S)\s*$")

#: The parameter error of the declaration (``litreview.params``), under its old name too.
ParameterError = params.ParameterError


class StageFailed(RuntimeError):
    """A stage notebook raised; the message says where and what."""


class CurationStopped(StageFailed):
    """A stage stopped on the curation file (an entry that matches nothing, strict run):
    the message is the file's problems, each ``file:line: why``, on one line."""


class StaleStage(RuntimeError):
    """A stage would read files that no completed, current earlier stage produced."""


class OutputLocked(RuntimeError):
    """Another litreview run holds the output folder."""


def notebook_path(stage: str, notebooks_dir: Path = config.NOTEBOOKS_DIR) -> Path:
    """Return the source notebook of ``stage`` (``ingest``, ``topics`` or ``review``)."""
    if stage not in config.STAGE_NOTEBOOKS:
        raise ParameterError(
            f"unknown stage {stage!r}; choose from {', '.join(config.STAGES)}"
        )
    path = notebooks_dir / config.STAGE_NOTEBOOKS[stage]
    if not path.exists():
        raise FileNotFoundError(
            f"{path} not found: litreview runs the notebooks of its checkout; "
            "install it with `pip install -e .` from the repository."
        )
    return path


def notebook_parameters(stage: str) -> dict[str, dict[str, Any]]:
    """Return the parameters a stage notebook's cell declares (name, type, default, help)."""
    import papermill

    return dict(papermill.inspect_notebook(str(notebook_path(stage))))


def load_parameter_files(paths: Iterable[str | os.PathLike]) -> dict[str, Any]:
    """Merge flat YAML parameter files (later files win) into typed, checked values."""
    return params.parse_assignments(params.read_files(paths))


def split_parameters(
    parameters: Mapping[str, Any], stages: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """Give each stage the parameters it declares, typed and checked; refuse unknown names."""
    checked = params.parse_assignments(parameters, stages)
    return {
        stage: {k: v for k, v in checked.items() if k in params.for_stage(stage)}
        for stage in stages
    }


# --------------------------------------------------------------------------- contracts


def producer(relative: str) -> str:
    """The stage that writes ``relative`` (a path under DIR)."""
    for stage in config.STAGES:
        if relative in config.STAGE_WRITES[stage]:
            return stage
    raise KeyError(relative)  # pragma: no cover - config declares every read


def hash_files(out: Path, relatives: Iterable[str]) -> dict[str, str]:
    """SHA-256 of each of ``relatives`` under ``out`` that exists."""
    from litreview.manifest import sha256_file

    return {rel: sha256_file(out / rel) for rel in relatives if (out / rel).is_file()}


@dataclass(frozen=True)
class Problem:
    """Why ``stage`` (an earlier one) cannot be trusted by the stage about to run."""

    stage: str
    reason: str


def check_upstream(
    out: str | os.PathLike, stage: str, *, in_run: Sequence[str] = (),
    manifest: Mapping[str, Any] | None = None,
) -> list[Problem]:
    """List what is wrong with the earlier stages whose files ``stage`` would read.

    Stages in ``in_run`` run before ``stage`` in this run and are not checked. For each
    other producer: it must be recorded ``complete`` with a contract, each file ``stage``
    reads from it must have the SHA-256 it recorded as its output, and each file it read
    under DIR must still have the SHA-256 it recorded as its input (else it is stale: an
    earlier stage was re-run since). Producers of producers are checked the same way.
    """
    out = Path(out)
    if manifest is None:
        path = config.manifest_path(out)
        manifest = read_json(path) if path.exists() else {}
    records = manifest.get("stages", {})
    problems: list[Problem] = []
    seen: set[str] = set()

    def visit(consumer: str) -> None:
        reads = config.STAGE_READS[consumer]
        for upstream in [s for s in config.STAGES if any(producer(r) == s for r in reads)]:
            if upstream in seen or upstream in in_run:
                continue
            seen.add(upstream)
            problem = _problem(out, upstream, records.get(upstream),
                               [r for r in reads if producer(r) == upstream])
            if problem:
                problems.append(Problem(upstream, problem))
            visit(upstream)

    visit(stage)
    return problems


def _problem(out: Path, stage: str, record: Mapping[str, Any] | None,
             wanted: Sequence[str]) -> str | None:
    if not record:
        return "has not run in this output folder"
    status = record.get("status")
    if status == "failed":
        return "failed in its last run, so its files are not trustworthy"
    if status == "running":
        return ("is marked running: another run is writing this folder, or one was "
                "interrupted")
    contract = record.get("contract")
    if status != "complete" or not isinstance(contract, Mapping):
        return ("has no recorded output hashes (it was not run by `litreview run`, or by "
                "an older litreview)")
    recorded_out = contract.get("outputs", {})
    current = hash_files(out, list(wanted) + list(contract.get("inputs", {})))
    for rel in wanted:
        if rel not in current:
            return f"wrote {rel}, which is now missing"
        if recorded_out.get(rel) != current[rel]:
            return f"wrote another {rel} than the one now in the folder"
    for rel, digest in contract.get("inputs", {}).items():
        if current.get(rel) != digest:
            return (f"is stale: it read another {rel} than the one now in the folder "
                    f"(stage {producer(rel)} was re-run since)")
    return None


def format_problems(out: Path, stage: str, problems: Sequence[Problem],
                    stages: Sequence[str]) -> str:
    """One message for a refused stage, with the command that fixes it."""
    first = min(config.STAGES.index(p.stage) for p in problems)
    last = max(config.STAGES.index(s) for s in [stage, *stages])
    redo = config.STAGES[first:last + 1]
    lines = [f"stage {stage!r} would read files no current earlier stage produced in {out}:"]
    lines += [f"  - stage {p.stage!r} {p.reason}" for p in problems]
    lines.append(f"Re-run from there: litreview run --stages {','.join(redo)} --out {out} "
                 "(or add --rerun-stale)")
    return "\n".join(lines)


def stale_stages(out: str | os.PathLike, stages: Sequence[str]) -> list[str]:
    """Earlier stages that ``stages`` need re-run first (what ``--rerun-stale`` adds)."""
    ordered = [s for s in config.STAGES if s in stages]
    found: set[str] = set()
    for stage in ordered:
        for problem in check_upstream(out, stage, in_run=ordered):
            found.add(problem.stage)
    return [s for s in config.STAGES if s in found]


# --------------------------------------------------------------------------- lock


@contextlib.contextmanager
def lock_output(out: str | os.PathLike, *, log: Any = print) -> Iterator[Path]:
    """Hold ``DIR/.litreview.lock`` for the duration; refuse when another run holds it.

    The lock is an ``flock`` on the file (released by the kernel when its process dies,
    however it dies); the file holds the holder's pid, host and start time for the
    message. Where ``flock`` is unavailable the pid decides: a lock whose process is not
    alive on this host is stale and taken over. Hand-written because the message must
    name the holder and ``filelock`` truncates the file before it knows it may.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        holder = _read_holder(fd)
        if not _flock(fd):
            raise OutputLocked(_locked_message(out, holder))
        if holder.get("pid") and holder.get("pid") != os.getpid():
            log(f"[litreview] taking over a stale lock on {out} (pid {holder['pid']} "
                f"on {holder.get('host', '?')} is not running)")
        os.ftruncate(fd, 0)
        stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        os.pwrite(fd, f"{os.getpid()} {socket.gethostname()} {stamp}\n".encode(), 0)
        try:
            yield path
        finally:
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # closing releases the flock


def _flock(fd: int) -> bool:
    """Take the lock without waiting; False when a live process holds it."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: the pid alone decides
        holder = _read_holder(fd)
        return not holder or not _alive(holder)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as err:
        if err.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return False
        holder = _read_holder(fd)  # a file system without flock: the pid decides
        return not holder or not _alive(holder)
    return True


def _read_holder(fd: int) -> dict[str, Any]:
    text = os.pread(fd, 4096, 0).decode("utf-8", "replace").split()
    if not text or not text[0].isdigit():
        return {}
    return {"pid": int(text[0]), "host": text[1] if len(text) > 1 else "",
            "since": text[2] if len(text) > 2 else ""}


def _alive(holder: Mapping[str, Any]) -> bool:
    if holder.get("host") and holder["host"] != socket.gethostname():
        return True  # cannot tell for another host: assume it runs
    try:
        os.kill(int(holder["pid"]), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _locked_message(out: Path, holder: Mapping[str, Any]) -> str:
    who = (f"pid {holder['pid']} on {holder.get('host') or '?'}, since "
           f"{holder.get('since') or '?'}" if holder else "holder unknown")
    return (f"{out} is in use by another litreview run ({who}); wait for it to finish "
            f"or choose another --out. The lock is {out / LOCK_NAME}.")


# --------------------------------------------------------------------------- running


def run_pipeline(
    out_dir: str | os.PathLike,
    *,
    parameters: Mapping[str, Any] | None = None,
    stages: Sequence[str] = config.STAGES,
    export_html: bool = True,
    force: Iterable[str] = (),
    log: Any = print,
) -> list[Path]:
    """Execute the stage notebooks in order into ``out_dir``; return the executed copies.

    A stage whose recorded contract still holds (:func:`skip_reason`) is skipped, unless
    it is in ``force``; the log says which stages were skipped or re-run and why. The
    returned list holds the executed copies of the stages that ran.

    ``parameters`` is one flat mapping, checked against ``litreview.params``; each
    notebook receives the names it declares, plus ``out_dir`` (absolute). Holds the
    output folder's lock; refuses (:class:`StaleStage`) a stage whose earlier stages'
    files are failed, missing or stale; raises :class:`StageFailed` on the first
    failing cell. Warnings the kernels print are echoed through ``log``.
    """
    out = Path(out_dir).resolve()
    ordered = [s for s in config.STAGES if s in stages]
    per_stage = split_parameters(dict(parameters or {}), ordered)
    with lock_output(out, log=log):
        for stage in ordered:  # before any kernel starts: what is wrong already
            problems = check_upstream(out, stage, in_run=ordered)
            if problems:
                raise StaleStage(format_problems(out, stage, problems, ordered))
        return _run_locked(out, ordered, per_stage, export_html=export_html,
                           force=set(force), log=log)


def _run_locked(out: Path, ordered: Sequence[str], per_stage: Mapping[str, dict[str, Any]],
                *, export_html: bool, force: set[str] = frozenset(), log: Any) -> list[Path]:
    os.environ.update(OFFLINE_ENV)
    previous = os.environ.get(PDF_DEFER_ENV)
    os.environ[PDF_DEFER_ENV] = "1"  # the review kernel leaves its PDF writer running
    try:
        return _run_stages(out, ordered, per_stage, export_html=export_html, force=force,
                           log=log)
    finally:
        if previous is None:
            os.environ.pop(PDF_DEFER_ENV, None)
        else:
            os.environ[PDF_DEFER_ENV] = previous


def _skip_iri_checker() -> None:
    """Leave out jsonschema's optional IRI format checker in this process.

    papermill imports nbformat, whose validator imports jsonschema's format checkers; the
    IRI one imports ``rfc3987_syntax``, which builds a grammar at import (~1.5 s CPU, a
    tenth of an edited review's run). Notebook schemas have no IRI field, and jsonschema
    skips the check when the module is absent, which a ``None`` in ``sys.modules`` says.
    """
    import sys

    if "jsonschema" not in sys.modules:  # once jsonschema is in, leave it as it is
        sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


def _run_stages(out: Path, ordered: Sequence[str], per_stage: Mapping[str, dict[str, Any]],
                *, export_html: bool, force: set[str], log: Any) -> list[Path]:
    _skip_iri_checker()
    executed_dir = out / "notebooks"
    executed_dir.mkdir(parents=True, exist_ok=True)
    with _WarmKernels() as kernels:
        # The first stage likely to run after a skipped one (an edited review parameter):
        # its kernel starts now, while the stages before it are checked.
        first = next((s for s in ordered if s in force or _likely_runs(out, s, per_stage[s])),
                     None)
        if first is not None:  # the first stage's too: it imports while papermill loads
            kernels.start(first)
            after = ordered.index(first) + 1
            if after < len(ordered) and _warm_ahead(out, first):
                # and the one after it, which would start only once ``first`` runs: its
                # imports (torch, bertopic for topics) are the longest
                kernels.start(ordered[after])
        return _run_each(out, ordered, per_stage, export_html=export_html, force=force,
                         log=log, kernels=kernels, executed_dir=executed_dir)


def _run_each(out: Path, ordered: Sequence[str], per_stage: Mapping[str, dict[str, Any]],
              *, export_html: bool, force: set[str], log: Any, kernels: _WarmKernels,
              executed_dir: Path) -> list[Path]:
    executed: list[Path] = []
    exporter = _ExporterWarmup()
    for index, stage in enumerate(ordered):
        # after the stages before it in this run: their outputs are now on disk
        problems = check_upstream(out, stage, in_run=ordered[:index])
        if problems:
            raise StaleStage(format_problems(out, stage, problems, ordered[index:]))
        source = notebook_path(stage)
        target = executed_dir / source.name
        partial = executed_dir / f".{source.stem}.partial.ipynb"
        failed = executed_dir / f"{source.stem}.failed.ipynb"
        stage_params = {**per_stage[stage], "out_dir": str(out)}
        read_hashes = hash_files(out, config.STAGE_READS[stage])
        fingerprint = stage_fingerprint(stage, per_stage[stage], out)
        why = ("named in --stages or --force" if stage in force
               else skip_reason(out, stage, fingerprint, read_hashes))
        if why is None:
            log(f"[litreview] {stage}: up to date ({_UP_TO_DATE}); skipped")
            kernels.discard(stage)  # started on a guess that did not hold
            continue
        if index + 1 < len(ordered) and _warm_ahead(out, stage):
            kernels.start(ordered[index + 1])  # its outputs change: the next will likely run
        before = _snapshot(out)
        kept = _recorded_products(out, stage)
        _mark_stage(out, stage, "running", drop=("contract",))
        target.unlink(missing_ok=True)
        failed.unlink(missing_ok=True)
        if stage == "review":
            _cancel_background(out)  # a PDF writer left by an interrupted run
        log(f"[litreview] {stage}: running {source.name} ({why}) ...")
        import papermill  # only now: a run that skips every stage never needs it (~0.6 s)
        from papermill.exceptions import PapermillExecutionError

        if export_html:
            exporter.start()
        start = time.perf_counter()
        km = None
        try:
            km = kernels.take(stage)  # a kernel started ahead, its imports done (or None)
            papermill.execute_notebook(
                str(source),
                str(partial),
                parameters=stage_params,
                cwd=str(source.parent),
                progress_bar=False,
                log_output=False,
                **({"km": km} if km is not None else {}),
            )
        except PapermillExecutionError as err:
            _cancel_background(out)
            os.replace(partial, failed)
            _mark_stage(out, stage, "failed")
            _echo_warnings(failed, stage, log)
            if err.ename == "CurationError":  # the researcher's file, not the code
                head, *lines = str(err.evalue).splitlines()
                raise CurationStopped(
                    f"{head} {'; '.join(line.strip() for line in lines)}".strip()) from None
            raise StageFailed(
                f"stage {stage!r} failed in {source.name}, cell {err.exec_count}: "
                f"{err.ename}: {err.evalue}\n"
                f"The executed notebook with the full traceback is {failed}"
            ) from None
        except BaseException:
            _cancel_background(out)
            partial.unlink(missing_ok=True)
            _mark_stage(out, stage, "failed")
            raise
        finally:
            kernels.stop(km)
        os.replace(partial, target)
        seconds = time.perf_counter() - start
        _echo_warnings(target, stage, log)
        if export_html:  # while the PDF writer (if any) still runs
            try:
                exporter.join()
                _export_html(target)
            except BaseException:
                _cancel_background(out)
                raise
        try:
            background = _wait_background(out) if stage == "review" else {}
        except Exception as err:
            _mark_stage(out, stage, "failed")
            raise StageFailed(f"stage {stage!r}: {err}") from None
        except BaseException:  # interrupted while the PDF was being written
            _cancel_background(out)
            _mark_stage(out, stage, "failed")
            raise
        written = hash_files(out, config.STAGE_WRITES[stage])
        missing = [rel for rel in config.STAGE_WRITES[stage]
                   if rel not in written and _read_later(rel)]
        if missing:
            _mark_stage(out, stage, "failed")
            raise StageFailed(f"stage {stage!r} ran but did not write "
                              f"{', '.join(missing)} under {out}")
        record_complete(out, stage, read_hashes, fingerprint=fingerprint,
                        products=_products(out, before, kept),
                        notebook_seconds=round(seconds, 3),
                        **({"background_s": background} if background else {}))
        log(f"[litreview] {stage}: done in {time.perf_counter() - start:.1f} s -> {target}")
        executed.append(target)
    return executed


# --------------------------------------------------------------------------- warm kernels

#: Modules a stage's kernel imports before its notebook starts, while the stage before it
#: runs on the other core: the notebook's own imports and the heavy ones its library calls
#: import on first use (torch and sentence-transformers for the embedding, bertopic for
#: the key terms, umap for the map). A module that fails to import is left to the notebook,
#: which then reports it in its cell.
WARM_IMPORTS: dict[str, tuple[str, ...]] = {
    "ingest": ("pandas", "IPython.display", "litreview.ingest", "litreview.io",
               "litreview.manifest", "litreview.plots.ingest", "litreview.plots.screening"),
    "topics": ("pandas", "IPython.display", "litreview.config", "litreview.manifest",
               "litreview.topics", "litreview.curation", "litreview.topics.curate",
               "litreview.topics.identity", "litreview.embed",
               "torch", "sentence_transformers", "sklearn.feature_extraction.text",
               "scipy.cluster.hierarchy", "bertopic", "umap", "plotly.graph_objects",
               "matplotlib.figure"),
    "review": ("pandas", "IPython.display", "litreview.review", "litreview.report",
               "litreview.export", "litreview.plots.review", "litreview.plots.screening",
               "sklearn.feature_extraction.text", "sklearn.cluster", "plotly.graph_objects",
               "matplotlib.figure"),
}

#: Run silently in a warm kernel (no output, no execution count, no history): imports
#: only, and the helper's own name is removed, so the notebook starts from the namespace
#: it would have had. The garbage collector is off while they run: importing torch,
#: transformers and bertopic creates objects by the million, few of them garbage, and
#: each full collection walks them all again. Then they are frozen (``gc.freeze``): they
#: live as long as the kernel, so no later collection of the notebook's own objects need
#: walk them. Nothing a notebook computes depends on when collections run.
_WARM_CODE = """\
def __litreview_warm(names):
    import gc
    import importlib
    gc.disable()
    try:
        for name in names:
            try:
                importlib.import_module(name)
            except Exception:
                pass
    finally:
        gc.freeze()
        gc.enable()
__litreview_warm({names!r})
del __litreview_warm
"""


#: Above this many papers (ingest's count) no kernel waits beside a running topics stage:
#: there the stage takes minutes, so a warm kernel saves little, and its memory (≈ 0.3 GB
#: for the review's) would add to the run's peak, which the topics stage sets.
WARM_AHEAD_MAX_PAPERS = 10_000
#: Start each next stage's kernel ahead of it (``_WarmKernels``).
WARM_KERNELS = True


def _warm_ahead(out: Path, running: str) -> bool:
    """Whether the next stage's kernel may start while ``running`` runs."""
    if running != "topics":
        return True
    path = config.manifest_path(out)
    try:
        counts = (read_json(path) if path.exists() else {}).get("stages", {}).get(
            "ingest", {}).get("counts", {})
        return int(counts.get("papers", 0)) <= WARM_AHEAD_MAX_PAPERS
    except (OSError, ValueError, TypeError, AttributeError):
        return False


def _likely_runs(out: Path, stage: str, given: Mapping[str, Any]) -> bool:
    """A cheap guess that ``stage`` will re-run: it has no complete record in ``out``, or
    its parameters or the part of the curation file it honours changed (the full check,
    :func:`skip_reason`, decides later; no file is hashed here)."""
    path = config.manifest_path(out)
    try:
        record = (read_json(path) if path.exists() else {}).get("stages", {}).get(stage)
    except (OSError, ValueError):
        return True
    if not record or record.get("status") != "complete":
        return True
    contract = record.get("contract")
    if not isinstance(contract, Mapping) or "parameters" not in contract:
        return True
    values = effective_parameters(stage, given)
    if _parameter_change(contract["parameters"], values) is not None:
        return True
    if values.get("curation_file") and stage in ("ingest", "topics"):
        return contract.get("curation") != curation_fingerprint(stage, values["curation_file"])
    return False


class WarmKernel:
    """A Jupyter kernel started for ``stage`` ahead of its turn, importing its modules.

    papermill (nbclient) runs the notebook on it when it is handed over as ``km``
    (:meth:`take`); the runner stops it afterwards (a kernel manager passed in is not the
    client's to stop). Hand-written: papermill starts its kernel when a notebook begins,
    and offers no way to start one earlier.
    """

    def __init__(self, stage: str) -> None:
        import json as _json

        from jupyter_client import AsyncKernelManager, BlockingKernelClient
        from jupyter_core.utils import run_sync

        source = notebook_path(stage)
        spec = _json.loads(source.read_text(encoding="utf-8")).get("metadata", {})
        name = spec.get("kernelspec", {}).get("name") or "python3"
        self.stage = stage
        self.km = AsyncKernelManager(kernel_name=name)  # what nbclient would create
        try:
            # as nbclient starts it: in the notebook's folder, history in memory
            run_sync(self.km.start_kernel)(
                extra_arguments=["--HistoryManager.hist_file=:memory:"],
                cwd=str(source.parent))
            self._client = BlockingKernelClient()
            self._client.load_connection_info(self.km.get_connection_info())
            self._client.start_channels()
            self._msg_id = self._client.execute(
                _WARM_CODE.format(names=WARM_IMPORTS.get(stage, ())), silent=True,
                store_history=False, allow_stdin=False)
        except BaseException:
            self.stop()  # whatever part of it did start
            raise

    def ready(self, timeout: float = 600.0) -> Any:
        """Wait for the imports to finish (the notebook would wait behind them anyway),
        close the warm-up client and return the kernel manager for papermill."""
        import queue

        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                try:
                    reply = self._client.get_shell_msg(timeout=1.0)
                except queue.Empty:
                    if not self.alive():
                        break
                    continue
                if reply.get("parent_header", {}).get("msg_id") == self._msg_id:
                    break
        finally:
            self._client.stop_channels()
        return self.km

    def alive(self) -> bool:
        """Whether the kernel process still runs."""
        from jupyter_core.utils import run_sync

        try:
            return bool(run_sync(self.km.is_alive)())
        except Exception:
            return False

    def stop(self, *, now: bool = False) -> None:
        """Shut the kernel down (``now``: kill it, for one never handed over, which may
        still be importing) and remove its connection file."""
        from jupyter_core.utils import run_sync

        with contextlib.suppress(Exception):
            self._client.stop_channels()
        with contextlib.suppress(Exception):
            run_sync(self.km.shutdown_kernel)(now=now)  # graceful: as nbclient stops its own
        with contextlib.suppress(Exception):
            run_sync(self.km.cleanup_resources)()


def start_warm_kernel(stage: str) -> WarmKernel | None:
    """Start ``stage``'s kernel now (None when it cannot be: papermill then starts one)."""
    try:
        return WarmKernel(stage)
    except Exception:  # no kernelspec, no zmq …: the stage starts its own kernel as before
        return None


class _WarmKernels:
    """The kernels started ahead of their stages in one run; stopped when it ends."""

    def __init__(self) -> None:
        self._waiting: dict[str, WarmKernel | None] = {}
        self._handed: dict[int, WarmKernel] = {}
        self._stopping: list[threading.Thread] = []

    def __enter__(self) -> _WarmKernels:
        return self

    def __exit__(self, *exc: object) -> None:
        for kernel in self._waiting.values():
            if kernel is not None:
                kernel.stop(now=True)
        for kernel in self._handed.values():
            kernel.stop()
        for thread in self._stopping:
            thread.join()
        self._waiting.clear()
        self._handed.clear()
        self._stopping.clear()

    def start(self, stage: str) -> None:
        """Start ``stage``'s kernel unless one was started already (or ``WARM_KERNELS`` is off)."""
        if WARM_KERNELS and stage not in self._waiting:
            self._waiting[stage] = start_warm_kernel(stage)

    def take(self, stage: str) -> Any:
        """The kernel manager started for ``stage``, ready (None: papermill starts one)."""
        kernel = self._waiting.pop(stage, None)
        if kernel is None:
            return None
        if not kernel.alive():
            kernel.stop(now=True)
            return None
        km = kernel.ready()
        self._handed[id(km)] = kernel
        return km

    def stop(self, km: Any) -> None:
        """Stop the kernel behind ``km`` once its stage has run (nothing for None).

        In a thread: a graceful shutdown waits 1–3 s for the kernel process to exit, which
        the next stage need not wait for; the run joins the thread before it returns.
        """
        kernel = self._handed.pop(id(km), None) if km is not None else None
        if kernel is not None:
            thread = threading.Thread(target=kernel.stop, name=f"stop-{kernel.stage}-kernel",
                                      daemon=True)
            thread.start()
            self._stopping.append(thread)

    def discard(self, stage: str) -> None:
        """Stop a kernel started for a stage that is skipped after all."""
        kernel = self._waiting.pop(stage, None)
        if kernel is not None:
            kernel.stop(now=True)


#: Set for the kernels: the review stage leaves its PDF writer running for the runner
#: to collect (:mod:`litreview.report.pdf`); spelled here to keep report off the import path.
PDF_DEFER_ENV = "LITREVIEW_PDF_IN_BACKGROUND"


def _wait_background(out: Path) -> dict[str, float]:
    """Wait for the PDF writer a stage left running; its wall and CPU seconds, by name
    ({} if none)."""
    from litreview.report import pdf

    result = pdf.wait_pdf(config.report_dir(out))
    return {"pdf": result.seconds, "pdf_cpu": result.cpu_seconds} if result else {}


def _cancel_background(out: Path) -> None:
    with contextlib.suppress(Exception):  # a failed stage's own error is the one to show
        from litreview.report import pdf

        pdf.cancel_pdf(config.report_dir(out))


def record_complete(out: str | os.PathLike, stage: str, read_hashes: Mapping[str, str], *,
                    fingerprint: Mapping[str, Any] | None = None,
                    products: Mapping[str, str] | None = None,
                    **extra: Any) -> dict[str, Any]:
    """Mark ``stage`` complete with its contract: ``read_hashes`` and what it wrote now.

    ``fingerprint`` (:func:`stage_fingerprint`) and ``products`` (every file the stage
    wrote, with its SHA-256) make the stage skippable next time; without them the stage
    always re-runs.
    """
    out = Path(out)
    contract: dict[str, Any] = {"inputs": dict(read_hashes),
                                "outputs": hash_files(out, config.STAGE_WRITES[stage])}
    if fingerprint is not None:
        contract.update(fingerprint)
        contract["products"] = dict(products or {})
    _mark_stage(out, stage, "complete", contract=contract, **extra)
    return contract


# --------------------------------------------------------------------------- skipping

_UP_TO_DATE = "inputs and parameters unchanged"
#: Files under DIR that belong to no stage: the manifest and the lock.
_NOT_PRODUCTS = ("manifest.json", LOCK_NAME)


def effective_parameters(stage: str, given: Mapping[str, Any]) -> dict[str, Any]:
    """The values ``stage``'s notebook runs with: its defaults overlaid with ``given``
    (``out_dir`` left out: the folder may move), as JSON would store them."""
    values = {**params.defaults(stage), **given}
    values.pop("out_dir", None)
    return json.loads(json.dumps(values, sort_keys=True, default=str))


@functools.lru_cache(maxsize=1)
def library_sha256() -> str:
    """One SHA-256 over the litreview package's files (code, templates, static assets).

    Editing any library file changes it, so every stage it may affect re-runs: coarse,
    but never a skipped stage computed by other code than the one installed.
    """
    digest = hashlib.sha256()
    for path in sorted(config.PACKAGE_DIR.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            digest.update(path.relative_to(config.PACKAGE_DIR).as_posix().encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()


def stage_fingerprint(stage: str, given: Mapping[str, Any],
                      out: str | os.PathLike | None = None) -> dict[str, Any]:
    """What decides ``stage``'s outputs besides its declared input files: its effective
    parameters, the litreview version, the SHA-256 of its notebook and of the library, the
    package versions, the files it reads when present under ``out`` (``also_read``), and
    for ingest the corpus files it would read (``sources``)."""
    from litreview import __version__
    from litreview.manifest import TRACKED_PACKAGES, package_versions, sha256_file

    values = effective_parameters(stage, given)
    fingerprint: dict[str, Any] = {
        "parameters": values,
        "code": {
            "litreview_version": __version__,
            "notebook_sha256": sha256_file(notebook_path(stage)),
            "library_sha256": library_sha256(),
            "packages": package_versions(TRACKED_PACKAGES),
        },
    }
    if out is not None:
        fingerprint["also_read"] = also_read_hashes(out, stage)
    if stage == "ingest":
        fingerprint["sources"] = corpus_sources(values.get("corpus_paths") or [])
    if values.get("curation_file") and stage in ("ingest", "topics"):
        fingerprint["curation"] = curation_fingerprint(stage, values["curation_file"])
    return fingerprint


def curation_fingerprint(stage: str, path: str) -> str:
    """SHA-256 of the part of the curation file ``stage`` honours: screening for ingest,
    the map edits for topics (so a rename re-runs topics, not ingest); the error text when
    the file cannot be read (the stage then re-runs and reports it)."""
    from litreview.curation import CurationError, load_curation

    resolved = path if os.path.isabs(path) else os.path.join(config.NOTEBOOKS_DIR, path)
    try:
        curation = load_curation(resolved, strict=False)
    except CurationError as err:
        return f"error: {err}"
    return curation.screening_fingerprint() if stage == "ingest" else curation.map_fingerprint()


def also_read_hashes(out: str | os.PathLike, stage: str) -> dict[str, str]:
    """SHA-256 of the files ``stage`` reads when present (``config.STAGE_ALSO_READS``)."""
    return hash_files(Path(out), config.STAGE_ALSO_READS.get(stage, ()))


def corpus_sources(paths: Sequence[str]) -> dict[str, Any]:
    """SHA-256 of every file ingest would read from ``paths`` (found as ingest finds them,
    relative paths against ``notebooks/`` as the kernel resolves them), and the entries it
    would skip; ``{"error": ...}`` when they cannot be listed (the stage then re-runs and
    reports the problem itself)."""
    from litreview.ingest.reading import scan_inputs
    from litreview.manifest import sha256_file

    resolved = [p if os.path.isabs(p) else os.path.join(config.NOTEBOOKS_DIR, p)
                for p in map(str, paths)]
    try:
        scan = scan_inputs(resolved)
        files = {path.as_posix(): sha256_file(path) for path, _ in scan.files}
    except Exception as err:  # any failure here means "cannot tell": re-run
        return {"error": f"{type(err).__name__}: {err}"}
    return {"files": files, "skipped": sorted(map(list, scan.skipped))}


def skip_reason(out: str | os.PathLike, stage: str, fingerprint: Mapping[str, Any],
                read_hashes: Mapping[str, str],
                manifest: Mapping[str, Any] | None = None) -> str | None:
    """Why ``stage`` must re-run in ``out``, in words; None when its recorded contract
    still holds (same inputs, parameters, code, and its outputs present and unchanged)."""
    out = Path(out)
    if manifest is None:
        path = config.manifest_path(out)
        manifest = read_json(path) if path.exists() else {}
    record = manifest.get("stages", {}).get(stage)
    if not record:
        return "it has not run in this output folder"
    if record.get("status") != "complete":
        return f"its last run is marked {record.get('status') or 'unfinished'}"
    contract = record.get("contract")
    if not isinstance(contract, Mapping) or "parameters" not in contract:
        return "no record of the parameters it ran with"
    return (_code_change(contract.get("code", {}), fingerprint["code"])
            or _parameter_change(contract["parameters"], fingerprint["parameters"])
            or _curation_change(stage, contract.get("curation"), fingerprint.get("curation"))
            or _input_change(contract.get("inputs", {}), read_hashes)
            or _input_change(contract.get("also_read", {}), fingerprint.get("also_read", {}))
            or _source_change(contract.get("sources"), fingerprint.get("sources"))
            or _output_change(out, contract))


def _code_change(old: Mapping[str, Any], new: Mapping[str, Any]) -> str | None:
    if old.get("litreview_version") != new["litreview_version"]:
        return (f"litreview version changed ({old.get('litreview_version')} -> "
                f"{new['litreview_version']})")
    if old.get("notebook_sha256") != new["notebook_sha256"]:
        return "its notebook changed"
    if old.get("library_sha256") != new["library_sha256"]:
        return "the litreview library code changed"
    old_packages = old.get("packages", {})
    changed = sorted(name for name, version in new["packages"].items()
                     if old_packages.get(name) != version)
    if changed:
        return f"package version(s) changed: {', '.join(changed)}"
    return None


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "..."


def _parameter_change(old: Mapping[str, Any], new: Mapping[str, Any]) -> str | None:
    changed = [name for name in sorted({*old, *new}) if old.get(name) != new.get(name)]
    if not changed:
        return None
    details = ", ".join(f"{name} {_short(old.get(name))} -> {_short(new.get(name))}"
                        for name in changed[:3])
    more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
    return f"parameter(s) changed: {details}{more}"


def _curation_change(stage: str, old: str | None, new: str | None) -> str | None:
    if new is None or old == new:
        return None
    part = "screening" if stage == "ingest" else "map"
    return f"the {part} entries of the curation file changed"


def _input_change(old: Mapping[str, str], new: Mapping[str, str]) -> str | None:
    for rel in sorted({*old, *new}):
        if old.get(rel) != new.get(rel):
            try:
                by = f"stage {producer(rel)} re-ran"
            except KeyError:
                by = "it was rewritten"
            return f"its input {rel} changed ({by})"
    return None


def _source_change(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> str | None:
    if new is None:
        return None
    if "error" in new or old is None or "error" in old:
        return "the corpus files could not be compared"
    old_files, new_files = old.get("files", {}), new.get("files", {})
    added = sorted(set(new_files) - set(old_files))
    removed = sorted(set(old_files) - set(new_files))
    edited = sorted(p for p in set(old_files) & set(new_files) if old_files[p] != new_files[p])
    for label, items in (("corpus file changed", edited), ("corpus file added", added),
                         ("corpus file removed", removed)):
        if items:
            more = f" and {len(items) - 1} more" if len(items) > 1 else ""
            return f"{label}: {items[0]}{more}"
    if old.get("skipped") != new.get("skipped"):
        return "the corpus entries skipped while reading changed"
    return None


def _output_change(out: Path, contract: Mapping[str, Any]) -> str | None:
    wrote = {**contract.get("products", {}), **contract.get("outputs", {})}
    current = hash_files(out, wrote)
    for rel in sorted(wrote):
        if rel not in current:
            return f"its output {rel} is missing"
        if current[rel] != wrote[rel]:
            return f"its output {rel} was changed since it ran"
    return None


def _snapshot(out: Path) -> dict[str, tuple[int, int, int]]:
    """``(size, mtime_ns, inode)`` of every file under ``out`` (hidden entries left out)."""
    found: dict[str, tuple[int, int, int]] = {}
    for root, dirs, files in os.walk(out):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in files:
            if name.startswith("."):
                continue
            path = Path(root, name)
            rel = path.relative_to(out).as_posix()
            if rel in _NOT_PRODUCTS:
                continue
            with contextlib.suppress(OSError):
                st = path.stat()
                found[rel] = (st.st_size, st.st_mtime_ns, st.st_ino)
    return found


def _products(out: Path, before: Mapping[str, tuple[int, int, int]],
              kept: Mapping[str, str] | None = None) -> dict[str, str]:
    """SHA-256 of every file under ``out`` created or rewritten since ``before``, and of
    each of ``kept`` (the stage's products of its last run) still holding the bytes it
    wrote then: a stage may leave a file it would write identically alone (the review's
    figures when their data did not change), and that file is still its product."""
    after = _snapshot(out)
    products = hash_files(out, sorted(rel for rel, stat in after.items()
                                      if before.get(rel) != stat))
    unchanged = hash_files(out, [rel for rel in (kept or {}) if rel not in products])
    products.update({rel: digest for rel, digest in unchanged.items() if kept[rel] == digest})
    return dict(sorted(products.items()))


def _recorded_products(out: Path, stage: str) -> dict[str, str]:
    """The products the stage's last complete run recorded ({} when none)."""
    path = config.manifest_path(out)
    record = (read_json(path) if path.exists() else {}).get("stages", {}).get(stage, {})
    contract = record.get("contract") if record.get("status") == "complete" else None
    return dict(contract.get("products", {})) if isinstance(contract, Mapping) else {}


def _read_later(relative: str) -> bool:
    return any(relative in reads for reads in config.STAGE_READS.values())


def _mark_stage(out: Path, stage: str, status: str, *, drop: Sequence[str] = (),
                **extra: Any) -> None:
    path = config.manifest_path(out)
    manifest = read_json(path) if path.exists() else {}
    record = manifest.setdefault("stages", {}).setdefault(stage, {})
    for key in drop:
        record.pop(key, None)
    record["status"] = status
    record.update(extra)
    write_json(path, manifest)


# --------------------------------------------------------------------------- notebook outputs


def kernel_warnings(executed: str | os.PathLike) -> list[str]:
    """The Python warnings an executed notebook's kernel printed, once each, in order.

    Read from the cells' stderr outputs (where ``warnings.warn`` in a kernel lands), as
    ``Category: message``; the library's cache warnings (``EmbeddingCacheWarning`` …)
    reach the terminal this way.
    """
    import nbformat

    notebook = nbformat.read(os.fspath(executed), as_version=4)
    found: list[str] = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") != "stream" or output.get("name") != "stderr":
                continue
            for line in str(output.get("text", "")).replace("\r", "\n").splitlines():
                match = _WARNING_LINE.match(line)
                if match:
                    text = f"{match['category']}: {match['message']}"
                    if text not in found:
                        found.append(text)
    return found


def _echo_warnings(executed: Path, stage: str, log: Any) -> None:
    try:
        found = kernel_warnings(executed)
    except Exception:  # an unreadable copy must not hide the stage's result
        return
    for text in found:
        log(f"[litreview] {stage}: warning: {text}")


#: Template of the exported notebook HTML: JupyterLab's, without the scripts it would
#: fetch from a CDN (require.js, MathJax, mermaid) and without widget loaders, so the
#: copy opens offline and loads nothing from the network. Plots are images or
#: self-contained plotly HTML in the outputs, which need none of these.
_OFFLINE_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
"""


@functools.lru_cache(maxsize=1)
def _exporter() -> Any:
    """The HTML exporter of the executed notebooks, its templates compiled (built once)."""
    import jinja2
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        extra_loaders=[jinja2.DictLoader({"litreview_offline.html.j2": _OFFLINE_TEMPLATE})],
        template_file="litreview_offline.html.j2",
        exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True,
    )
    exporter.from_notebook_node(nbformat.v4.new_notebook())  # compiles the templates
    return exporter


class _ExporterWarmup:
    """Builds :func:`_exporter` (nbconvert's imports, ~2–4 s CPU) in a thread while the
    first notebook runs, instead of between two stages; the runner's own thread only
    waits on the kernel meanwhile. Hand-written: one thread, joined before first use."""

    def __init__(self) -> None:
        self._thread: Any = None

    def start(self) -> None:
        import threading

        if self._thread is None:
            self._thread = threading.Thread(target=self._build, name="litreview-nbconvert",
                                            daemon=True)
            self._thread.start()

    @staticmethod
    def _build() -> None:
        with contextlib.suppress(Exception):  # _export_html then reports the problem
            _exporter()

    def join(self) -> None:
        if self._thread is not None:
            self._thread.join()


def _export_html(executed: Path) -> Path:
    """Write a no-input HTML copy of an executed notebook beside it (no CDN scripts)."""
    import nbformat

    body, _ = _exporter().from_notebook_node(nbformat.read(executed, as_version=4))
    return write_text(executed.with_suffix(".html"), body)
