"""Shared helpers of the benchmarks: data files, machine description, result tables.

Every benchmark prints its figures as Markdown tables and, unless told not to,
appends a dated section to ``bench/RESULTS.md`` and one record to
``bench/results.json``.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import platform
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from litreview.manifest import package_versions

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
#: Environment variable that moves the scratch space (tests point it at a fresh folder).
WORK_ENV = "LITREVIEW_BENCH_WORK"
#: Scratch space of the benchmarks (exported ONNX files, distilled models, run outputs).
WORK_DIR = Path(os.environ.get(WORK_ENV) or BENCH_DIR / "_work").resolve()
RESULTS_MD = BENCH_DIR / "RESULTS.md"
RESULTS_JSON = BENCH_DIR / "results.json"
#: ``../shared`` beside the repository, or ``$LITREVIEW_BENCH_SHARED`` (e.g. in a worktree).
DEFAULT_SHARED = Path(os.environ.get("LITREVIEW_BENCH_SHARED") or REPO_ROOT.parent / "shared")
ARXIV_SUBDIR = Path("bench") / "arxiv-cs"
LABELED_FILE = "arxiv-cs-labeled-7811.jsonl.gz"
SCALE_FILE = "arxiv-cs-74k.jsonl.gz"

#: Distributions whose versions are recorded with every result.
BENCH_PACKAGES = (
    "litreview", "numpy", "scikit-learn", "torch", "sentence-transformers", "transformers",
    "bertopic", "umap-learn", "hdbscan", "numba", "onnxruntime", "onnx", "model2vec", "psutil",
)


class MissingDataError(FileNotFoundError):
    """A benchmark data file is not where the benchmarks look for it."""


@dataclass(frozen=True)
class Doc:
    """One labeled (or unlabeled) document of a benchmark file."""

    id: str
    title: str
    abstract: str
    label: str | None


def data_file(shared: Path, name: str) -> Path:
    """Return ``<shared>/bench/arxiv-cs/<name>``, or raise saying where to put it."""
    path = Path(shared) / ARXIV_SUBDIR / name
    if not path.is_file():
        expected = DEFAULT_SHARED / ARXIV_SUBDIR
        raise MissingDataError(
            f"benchmark data file {path} not found.\n"
            f"Put {LABELED_FILE} and {SCALE_FILE} in {expected}/ "
            f"(i.e. ../shared/{ARXIV_SUBDIR}/ beside the repository), "
            "or pass --shared PATH to the folder that holds bench/arxiv-cs/."
        )
    return path


def load_jsonl_gz(path: Path, limit: int | None = None, seed: int = 0) -> list[Doc]:
    """Read a ``.jsonl.gz`` of id/title/abstract(/label) objects.

    With ``limit``, return a fixed random sample of that many documents, kept in
    file order, so that a subset of a label-sorted file still covers every label.
    """
    docs: list[Doc] = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            obj = json.loads(line)
            label = obj.get("label") or obj.get("primary_category")
            docs.append(Doc(str(obj.get("id", len(docs))), str(obj.get("title") or ""),
                            str(obj.get("abstract") or ""), label))
    if limit is not None and limit < len(docs):
        import numpy as np

        keep = np.sort(np.random.default_rng(seed).choice(len(docs), size=limit, replace=False))
        docs = [docs[i] for i in keep]
    return docs


def write_jsonl_gz(docs: Iterable[Doc], path: Path) -> Path:
    """Write documents as a ``.jsonl.gz`` that litreview's ingest reads."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for doc in docs:
            obj = {"id": doc.id, "title": doc.title, "abstract": doc.abstract}
            if doc.label is not None:
                obj["label"] = doc.label
            fh.write(json.dumps(obj, ensure_ascii=False) + "\n")
    return path


def ensure_work_dir() -> Path:
    """Create the scratch space (and its ``inputs/``) if missing; return it.

    A fresh clone has no ``bench/_work/``: every benchmark writes its logs and outputs
    there, so the runner calls this before any of them.
    """
    (WORK_DIR / "inputs").mkdir(parents=True, exist_ok=True)
    return WORK_DIR


def cli_value(value: Any) -> str:
    """Write a parameter value as ``litreview run -p NAME VALUE`` reads it (comma lists,
    true/false), not as a YAML document (``yaml.safe_dump(0)`` is ``"0\\n...\\n"``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    return str(value)


def set_threads(threads: int | None) -> None:
    """Cap BLAS/OpenMP/torch threads (None: leave the library defaults)."""
    if threads is None:
        return
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                "NUMBA_NUM_THREADS"):
        os.environ[var] = str(threads)
    try:
        import torch

        torch.set_num_threads(threads)
    except ImportError:  # pragma: no cover - torch is a dependency
        pass


def offline_env() -> None:
    """Set the same offline environment as the pipeline's notebook kernels."""
    from litreview.pipeline import default_offline_env

    default_offline_env()


def machine_info() -> dict[str, Any]:
    """Describe this machine: CPU model, cores, RAM, Python, date, package versions."""
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
                break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        usable = os.cpu_count()
    return {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "load_avg_1m": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "ram_gb": ram_gb,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": package_versions(BENCH_PACKAGES),
    }


def machine_line(info: Mapping[str, Any]) -> str:
    """Return a one-line summary of :func:`machine_info` for the report."""
    pk = info.get("packages", {})
    versions = ", ".join(f"{k} {v}" for k, v in pk.items() if v and k in (
        "torch", "sentence-transformers", "bertopic", "umap-learn", "hdbscan", "onnxruntime",
        "model2vec", "scikit-learn"))
    return (f"{info['date']} · {info['cpu']} · {info['cores']} cores "
            f"({info['usable_cores']} usable, load {info['load_avg_1m']}) · "
            f"{info['ram_gb']} GB RAM · Python {info['python']} · {versions}")


def fmt(value: Any, digits: int = 3) -> str:
    """Format one table cell: floats rounded, None as an em dash."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value != value:  # NaN
            return "—"
        if abs(value) >= 100:
            return f"{value:,.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        return f"{value:.{digits}f}"
    return str(value)


def markdown_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None,
                   headers: Mapping[str, str] | None = None) -> str:
    """Return rows of dicts as a Markdown table (columns default to the first row's keys)."""
    if not rows:
        return "_(no rows)_\n"
    columns = list(columns or rows[0].keys())
    headers = dict(headers or {})
    head = "| " + " | ".join(headers.get(c, c) for c in columns) + " |"
    rule = "|" + "|".join("---" for _ in columns) + "|"
    body = ["| " + " | ".join(fmt(row.get(c)) for c in columns) + " |" for row in rows]
    return "\n".join([head, rule, *body]) + "\n"


def append_results(title: str, markdown: str, record: Mapping[str, Any], *,
                   append: bool = True, results_md: Path = RESULTS_MD,
                   results_json: Path = RESULTS_JSON) -> None:
    """Append a dated section to RESULTS.md and a record to results.json (if ``append``)."""
    if not append:
        return
    stamp = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    if not results_md.exists():
        results_md.write_text(
            "# litreview benchmark results\n\nAppended by `bench/run_bench.py`; newest last. "
            "See `bench/README.md` for what each benchmark measures.\n", encoding="utf-8")
    with open(results_md, "a", encoding="utf-8") as fh:
        fh.write(f"\n## {title} — {stamp}\n\n{markdown.rstrip()}\n")
    records: list[Any] = []
    if results_json.exists():
        try:
            records = json.loads(results_json.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            records = []
        if not isinstance(records, list):
            records = [records]
    records.append({"title": title, **record})
    tmp = results_json.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(records, indent=2, default=_json_default) + "\n", encoding="utf-8")
    os.replace(tmp, results_json)


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "item"):
        return obj.item()
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    raise TypeError(f"cannot write {type(obj).__name__} as JSON")
