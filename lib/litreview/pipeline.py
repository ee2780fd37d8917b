"""Run the notebooks in order with papermill: the one way a whole review is produced.

Each stage notebook is executed into ``DIR/notebooks/`` (first under a temporary
name, moved into place only when every cell ran), and a no-input HTML copy is
exported beside it. A failing stage stops the run with :class:`StageFailed`,
which names the notebook, the cell and the error; its half-executed copy is kept
as ``<name>.failed.ipynb`` for inspection and the stage is marked failed in the
manifest, so nothing looks complete that is not.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from litreview import config
from litreview.io import read_json, write_json, write_text

#: Kept here for compatibility; they live in :mod:`litreview.config` (the bottom layer).
OFFLINE_ENV = config.OFFLINE_ENV
default_offline_env = config.default_offline_env


class StageFailed(RuntimeError):
    """A stage notebook raised; the message says where and what."""


class ParameterError(ValueError):
    """A parameter does not belong to any notebook of the run."""


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
    """Return the parameters a stage notebook declares (name, type, default, help)."""
    import papermill

    return dict(papermill.inspect_notebook(str(notebook_path(stage))))


def load_parameter_files(paths: Iterable[str | os.PathLike]) -> dict[str, Any]:
    """Merge flat YAML parameter files; later files win."""
    merged: dict[str, Any] = {}
    for path in paths:
        content = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        if not isinstance(content, dict):
            raise ParameterError(f"{path}: expected a flat mapping of parameter: value")
        merged.update(content)
    return merged


def split_parameters(
    parameters: Mapping[str, Any], stages: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """Give each stage the parameters its notebook declares; reject unknown names."""
    declared = {stage: notebook_parameters(stage) for stage in stages}
    known = set().union(*(set(names) for names in declared.values())) if declared else set()
    unknown = sorted(set(parameters) - known)
    if unknown:
        listing = "; ".join(f"{s}: {', '.join(sorted(p))}" for s, p in declared.items())
        raise ParameterError(
            f"unknown parameter(s) {', '.join(unknown)} for stages {', '.join(stages)}. "
            f"Known parameters — {listing}"
        )
    return {
        stage: {k: v for k, v in parameters.items() if k in declared[stage]} for stage in stages
    }


def run_pipeline(
    out_dir: str | os.PathLike,
    *,
    parameters: Mapping[str, Any] | None = None,
    stages: Sequence[str] = config.STAGES,
    export_html: bool = True,
    log: Any = print,
) -> list[Path]:
    """Execute the stage notebooks in order into ``out_dir``; return the executed copies.

    ``parameters`` is one flat mapping; each notebook receives the names it
    declares, plus ``out_dir`` (absolute). Raises :class:`StageFailed` on the
    first failing cell.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    out = Path(out_dir).resolve()
    executed_dir = out / "notebooks"
    executed_dir.mkdir(parents=True, exist_ok=True)
    os.environ.update(OFFLINE_ENV)

    ordered = [s for s in config.STAGES if s in stages]
    per_stage = split_parameters(dict(parameters or {}), ordered)
    executed: list[Path] = []
    for stage in ordered:
        source = notebook_path(stage)
        target = executed_dir / source.name
        partial = executed_dir / f".{source.stem}.partial.ipynb"
        failed = executed_dir / f"{source.stem}.failed.ipynb"
        stage_params = {**per_stage[stage], "out_dir": str(out)}
        _mark_stage(out, stage, "running")
        target.unlink(missing_ok=True)
        failed.unlink(missing_ok=True)
        log(f"[litreview] {stage}: running {source.name} ...")
        start = time.perf_counter()
        try:
            papermill.execute_notebook(
                str(source),
                str(partial),
                parameters=stage_params,
                cwd=str(source.parent),
                progress_bar=False,
                log_output=False,
            )
        except PapermillExecutionError as err:
            os.replace(partial, failed)
            _mark_stage(out, stage, "failed")
            raise StageFailed(
                f"stage {stage!r} failed in {source.name}, cell {err.exec_count}: "
                f"{err.ename}: {err.evalue}\n"
                f"The executed notebook with the full traceback is {failed}"
            ) from None
        except BaseException:
            partial.unlink(missing_ok=True)
            _mark_stage(out, stage, "failed")
            raise
        os.replace(partial, target)
        seconds = time.perf_counter() - start
        if export_html:
            _export_html(target)
        _mark_stage(out, stage, "complete", notebook_seconds=round(seconds, 3))
        log(f"[litreview] {stage}: done in {seconds:.1f} s -> {target}")
        executed.append(target)
    return executed


def _mark_stage(out: Path, stage: str, status: str, **extra: Any) -> None:
    path = config.manifest_path(out)
    manifest = read_json(path) if path.exists() else {}
    record = manifest.setdefault("stages", {}).setdefault(stage, {})
    record["status"] = status
    record.update(extra)
    write_json(path, manifest)


def _export_html(executed: Path) -> Path:
    """Write a no-input HTML copy of an executed notebook beside it."""
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(nbformat.read(executed, as_version=4))
    return write_text(executed.with_suffix(".html"), body)
