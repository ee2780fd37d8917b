"""Smoke tests of the benchmark scripts: they must keep working, not produce figures."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from litreview import config

BENCH_DIR = config.PROJECT_ROOT / "bench"
RUNNER = BENCH_DIR / "run_bench.py"
#: ``../shared`` beside the checkout, or where ``LITREVIEW_BENCH_SHARED`` says (a worktree).
SHARED_DIR = Path(os.environ.get("LITREVIEW_BENCH_SHARED")
                  or config.PROJECT_ROOT.parent / "shared")
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


# --------------------------------------------------------------------------- fresh clone


def _fresh_env(work: Path) -> dict[str, str]:
    return {**os.environ, "LITREVIEW_BENCH_WORK": str(work),
            "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}


def test_runner_creates_its_work_folder_on_a_fresh_clone(tmp_path: Path) -> None:
    work = tmp_path / "clone" / "bench" / "_work"
    result = subprocess.run([sys.executable, str(RUNNER), "scale", "--shared",
                             str(tmp_path / "nothing"), "--no-append"], capture_output=True,
                            text=True, timeout=120, cwd=config.PROJECT_ROOT,
                            env=_fresh_env(work))
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert (work / "inputs").is_dir()


def test_monitored_run_creates_the_folder_of_its_log(tmp_path: Path) -> None:
    import procmon

    log = tmp_path / "not" / "yet" / "there.log"
    stats = procmon.run_monitored([sys.executable, "-c", "print('hello')"], log_path=log)
    assert stats.returncode == 0 and log.read_text().strip() == "hello"


def _fake_run(wall: float, ran: list[str], skipped: list[str], code: int = 0) -> dict:
    return {"wall_s": wall, "cpu_s": wall * 1.2, "peak_rss_mb": 100.0 + wall,
            "report_s": wall / 2, "returncode": code, "ran": ran, "skipped": skipped}


def test_monitored_run_times_when_the_watched_file_is_rewritten(tmp_path: Path) -> None:
    import procmon

    watched = tmp_path / "report.html"
    watched.write_text("old")
    script = ("import os, time; time.sleep(0.3); open(os.environ['W'] + '.tmp', 'w')"
              ".write('new'); os.replace(os.environ['W'] + '.tmp', os.environ['W']); "
              "time.sleep(0.6)")
    stats = procmon.run_monitored([sys.executable, "-c", script], watch=watched,
                                  env={**os.environ, "W": str(watched)})
    assert stats.returncode == 0 and stats.watched_s is not None
    assert 0.3 <= stats.watched_s < stats.seconds - 0.3
    untouched = procmon.run_monitored([sys.executable, "-c", "pass"], watch=watched)
    assert untouched.watched_s is None


def test_background_pdf_cpu_is_read_from_the_manifest(tmp_path: Path) -> None:
    import seed_speed

    path = tmp_path / "manifest.json"
    assert seed_speed.background_cpu(path) == 0.0
    path.write_text(json.dumps({"stages": {"review": {
        "background_s": {"pdf": 9.5, "pdf_cpu": 8.25}}}}))
    assert seed_speed.background_cpu(path) == 8.25
    rows = seed_speed.stage_rows(json.loads(path.read_text()))
    assert {"stage": "review", "step": "background: pdf", "seconds": 9.5} in rows


def test_seed_harness_takes_medians_and_the_ratio() -> None:
    import seed_speed

    lr = ["ingest", "topics", "review"]
    runs = {
        "plain": [_fake_run(w, [], []) for w in (30.0, 36.0, 31.0)],
        "cold": [_fake_run(w, lr, []) for w in (39.0, 60.0, 38.0)],
        "warm": [_fake_run(w, [], lr) for w in (2.0, 2.5, 2.1)],
        "edit": [_fake_run(w, ["review"], ["ingest", "topics"]) for w in (8.0, 9.0, 30.0)],
    }
    rows = {r["variant"]: r for r in seed_speed.summarize(runs)}
    assert rows["cold"]["wall_s"] == 39.0 and rows["plain"]["wall_s"] == 31.0
    assert rows["edit"]["wall_s"] == 9.0 and rows["edit"]["skipped"] == "ingest, topics"
    assert rows["edit"]["report_s"] == 4.5
    lines = seed_speed.verdict(list(rows.values()), runs)
    assert lines[0].startswith("PASS cold median 39.0 s")
    assert lines[1].startswith("FAIL cold ÷ plain BERTopic = 39.0 / 31.0 = 1.26")
    assert lines[2].startswith("PASS edit -> updated HTML report: median 4.5 s")
    assert "only review" in lines[2]
    assert lines[3].startswith("PASS edit whole run (PDF included) median 9.0 s")
    assert lines[4] == "PASS warm: every stage skipped"
    runs["edit"][0]["ran"] = ["topics", "review"]
    assert seed_speed.verdict(list(rows.values()), runs)[2].startswith("FAIL edit")


def test_seed_rounds_interleave_the_plain_script() -> None:
    import seed_speed

    assert seed_speed.round_order(0, seed_speed.VARIANTS) == ["plain", "cold", "warm", "edit"]
    assert seed_speed.round_order(1, seed_speed.VARIANTS) == ["cold", "warm", "edit", "plain"]
    assert seed_speed.round_order(0, ["cold"]) == ["cold"]


@pytest.mark.slow
@pytest.mark.bench_run
def test_scale_smoke_takes_the_full_size_path(tmp_path: Path) -> None:
    """`scale` without --limit (the full run's path) on a 200-paper stand-in for the 74k
    file, from a work folder that does not exist yet (a fresh clone)."""
    _need_labeled()
    import common

    shared = tmp_path / "shared"
    docs = common.load_jsonl_gz(LABELED, limit=200)
    common.write_jsonl_gz(docs, shared / common.ARXIV_SUBDIR / common.SCALE_FILE)
    work = tmp_path / "clone" / "bench" / "_work"
    result = subprocess.run([sys.executable, str(RUNNER), "scale", "--shared", str(shared),
                             "--no-append", "-p", "stability_seeds", "0"],
                            capture_output=True, text=True, timeout=900,
                            cwd=config.PROJECT_ROOT, env=_fresh_env(work))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "| end to end |" in result.stdout and "exit " not in result.stdout
    assert {p.name for p in work.glob("scale-*.log")} == {
        "scale-ingest.log", "scale-topics.log", "scale-review.log"}
    assert (work / "scale-full" / "report" / "review.html").exists()


@pytest.mark.slow
@pytest.mark.bench_run
def test_seed_harness_smoke_one_round_on_a_sample(tmp_path: Path) -> None:
    work = tmp_path / "_work"
    result = subprocess.run([sys.executable, str(RUNNER), "seed", "--runs", "1", "--limit",
                             "80", "--no-append", "-p", "stability_seeds", "0"],
                            capture_output=True, text=True, timeout=900,
                            cwd=config.PROJECT_ROOT, env=_fresh_env(work))
    assert result.returncode == 0, result.stderr[-3000:]
    for variant in ("| plain |", "| cold |", "| warm |", "| edit |"):
        assert variant in result.stdout
    assert "only review re-ran" in result.stdout and "every stage skipped" in result.stdout
    assert (work / "seed-plain" / "topics.csv").exists()
    assert (work / "seed-plain" / "documents.html").exists()


@pytest.mark.slow
@pytest.mark.bench_run
def test_outline_scores_the_seed_map_against_the_authors_outline(tmp_path: Path) -> None:
    work = tmp_path / "_work"
    result = subprocess.run([sys.executable, str(RUNNER), "outline", "--no-append",
                             "-p", "stability_seeds", "0"],
                            capture_output=True, text=True, timeout=900,
                            cwd=config.PROJECT_ROOT, env=_fresh_env(work))
    assert result.returncode == 0, result.stderr[-3000:]
    for method in ("| litreview themes | sections |", "| litreview strands | strands |",
                   "| k-means (k=12) |", "| Ward (k=12) |"):
        assert method in result.stdout
    assert "off-topic papers in no theme:" in result.stdout
    assert (work / "outline" / "data" / "doc_topics.parquet").exists()
