"""Smoke tests of the benchmark scripts: they must keep working, not produce figures."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from litreview import config

BENCH_DIR = config.PROJECT_ROOT / "bench"
RUNNER = BENCH_DIR / "run_bench.py"
SHARED_DIR = config.PROJECT_ROOT.parent / "shared"
LABELED = SHARED_DIR / "bench" / "arxiv-cs" / "arxiv-cs-labeled-7811.jsonl.gz"


@pytest.fixture(scope="module", autouse=True)
def bench_on_path() -> None:
    """Make the bench scripts importable as they import one another (``import common``)."""
    sys.path.insert(0, str(BENCH_DIR))
    yield
    sys.path.remove(str(BENCH_DIR))


def _run(*args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(RUNNER), *args], capture_output=True, text=True,
                          timeout=timeout, cwd=config.PROJECT_ROOT)


def _need_labeled() -> None:
    if not LABELED.exists():
        pytest.skip(f"{LABELED} not found: ../shared/bench/arxiv-cs/ is only beside developer "
                    "and CI checkouts")


def test_missing_data_exits_2_with_where_to_put_it(tmp_path: Path) -> None:
    result = _run("quality", "--shared", str(tmp_path), "--no-append", timeout=120)
    assert result.returncode == 2, result.stderr
    assert "arxiv-cs-labeled-7811.jsonl.gz" in result.stderr
    assert "arxiv-cs-74k.jsonl.gz" in result.stderr
    assert "--shared" in result.stderr


def test_seed_tables_from_a_hand_made_manifest(tmp_path: Path) -> None:
    import seed_speed

    manifest = {"stages": {
        "ingest": {"status": "complete", "notebook_seconds": 4.0,
                   "timings_s": {"read_parse": 0.5, "figures": 1.0}},
        "topics": {"status": "complete", "notebook_seconds": 40.0,
                   "timings_s": {"embedding": 14.0, "umap": 9.0, "hdbscan": 0.2}},
    }}
    rows = seed_speed.stage_rows(manifest)
    assert [r["step"] for r in rows if r["stage"] == "topics"] == [
        "(notebook total)", "embedding", "umap", "hdbscan",
        "other (kernel, imports, untimed cells)"]
    other = next(r for r in rows if r["stage"] == "topics" and r["step"].startswith("other"))
    assert other["seconds"] == pytest.approx(16.8)
    notebook = tmp_path / "02_topics.ipynb"
    notebook.write_text(json.dumps({"cells": [
        {"cell_type": "code", "source": ["import bertopic\n"],
         "metadata": {"papermill": {"duration": 5.5}}},
        {"cell_type": "markdown", "source": ["# title"], "metadata": {}},
        {"cell_type": "code", "source": ["# fit\n", "result = run()\n"],
         "metadata": {"papermill": {"duration": 30.25}}},
    ]}))
    md = seed_speed.format_run("Cold run", 50.0, manifest, tmp_path)
    assert "| topics | embedding | 14.0 |" in md
    assert "result = run()" in md and "30.2" in md
    lines = seed_speed.targets(50.0, 20.0)
    assert lines[0].startswith("FAIL cold 50.0 s") and lines[1].startswith("PASS warm")


def test_results_are_appended_as_markdown_and_json(tmp_path: Path) -> None:
    import common

    md, js = tmp_path / "RESULTS.md", tmp_path / "results.json"
    table = common.markdown_table([{"method": "a", "nmi": 0.51234, "themes": 9, "x": None}])
    assert "| a | 0.512 | 9 | — |" in table
    for _ in range(2):
        common.append_results("Quality", table, {"rows": [1]}, results_md=md, results_json=js)
    assert md.read_text().count("## Quality") == 2
    assert [r["title"] for r in json.loads(js.read_text())] == ["Quality", "Quality"]
    common.append_results("Skipped", table, {}, append=False, results_md=md, results_json=js)
    assert "Skipped" not in md.read_text()


def test_ward_at_the_true_k_separates_clear_groups() -> None:
    import methods
    import numpy as np

    rng = np.random.default_rng(0)
    centres = np.eye(8)[:3]
    vectors = np.concatenate([c + 0.05 * rng.normal(size=(10, 8)) for c in centres])
    docs = [f"alpha{i // 10} beta{i // 10} gamma" for i in range(30)]
    result = methods.ward(vectors, docs, 3)
    assert len(set(result.labels.tolist())) == 3
    for g in range(3):
        assert len(set(result.labels[g * 10:(g + 1) * 10].tolist())) == 1
    assert len(result.terms) == 3


@pytest.mark.slow
def test_quality_smoke_on_300_documents() -> None:
    _need_labeled()
    result = _run("quality", "--limit", "300", "--no-append", "-p", "stability_seeds", "0")
    assert result.returncode == 0, result.stderr[-3000:]
    for method in ("| litreview themes |", "| litreview strands |", "| BERTopic defaults |",
                   "| k-means (true k=9) |", "| Ward (true k=9) |", "| NMF tf-idf (true k=9) |",
                   "| LDA (true k=9) |"):
        assert method in result.stdout


@pytest.mark.slow
def test_embedding_candidates_smoke_on_300_documents() -> None:
    _need_labeled()
    if importlib.util.find_spec("onnxruntime") is None:
        pytest.skip("onnxruntime not installed: pip install -e .")
    result = _run("embeddings", "--limit", "300", "--no-append", "--no-litreview-assign",
                  "--candidates", "onnx-int8-128")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "| minilm-fp32 |" in result.stdout and "| onnx-int8-128 |" in result.stdout
