"""Stage contracts, the output lock, kernel warnings and the offline HTML export.

The contract logic is tested on fake output folders and manifests (no papermill).
"""

from __future__ import annotations

import html.parser
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from litreview import config, pipeline
from litreview.io import read_json, write_json


def _write_stage(out: Path, stage: str, *, content: str = "v1") -> None:
    """Write a stage's declared outputs and record it as the runner does."""
    reads = pipeline.hash_files(out, config.STAGE_READS[stage])
    for rel in config.STAGE_WRITES[stage]:
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(f"{stage}:{rel}:{content}")
    pipeline._mark_stage(out, stage, "complete", contract={
        "inputs": reads, "outputs": pipeline.hash_files(out, config.STAGE_WRITES[stage])})


@pytest.fixture
def produced(tmp_path: Path) -> Path:
    """An output folder where ingest and topics completed in order."""
    _write_stage(tmp_path, "ingest")
    _write_stage(tmp_path, "topics")
    return tmp_path


def test_review_reads_what_the_declaration_says(tmp_path: Path) -> None:
    from litreview import review

    declared = {tmp_path / rel for rel in config.STAGE_READS["review"]}
    assert set(review.input_paths(tmp_path)) == declared
    for stage, reads in config.STAGE_READS.items():
        for rel in reads:  # every read is written by an earlier stage
            assert config.STAGES.index(pipeline.producer(rel)) < config.STAGES.index(stage)


def test_current_upstream_passes(produced: Path) -> None:
    assert pipeline.check_upstream(produced, "review") == []
    assert pipeline.check_upstream(produced, "topics") == []
    assert pipeline.stale_stages(produced, ["review"]) == []


def test_reingest_makes_topics_stale_for_review(produced: Path) -> None:
    _write_stage(produced, "ingest", content="another corpus")
    problems = pipeline.check_upstream(produced, "review")
    assert [p.stage for p in problems] == ["topics"]
    assert "stale" in problems[0].reason and "data/papers.parquet" in problems[0].reason
    assert pipeline.stale_stages(produced, ["review"]) == ["topics"]
    # running topics in the same run makes review's inputs current
    assert pipeline.check_upstream(produced, "review", in_run=["topics"]) == []


def test_changed_topics_output_is_refused(produced: Path) -> None:
    (produced / "data" / "doc_topics.parquet").write_text("edited by hand")
    problems = pipeline.check_upstream(produced, "review")
    assert [p.stage for p in problems] == ["topics"]
    assert "data/doc_topics.parquet" in problems[0].reason
    (produced / "data" / "doc_topics.parquet").unlink()
    assert "missing" in pipeline.check_upstream(produced, "review")[0].reason


@pytest.mark.parametrize("status", ["failed", "running"])
def test_failed_or_running_upstream_is_refused(produced: Path, status: str) -> None:
    pipeline._mark_stage(produced, "topics", status)
    problems = pipeline.check_upstream(produced, "review")
    assert [(p.stage, status in p.reason) for p in problems] == [("topics", True)]


def test_stage_without_recorded_hashes_is_refused(produced: Path) -> None:
    manifest = read_json(config.manifest_path(produced))
    del manifest["stages"]["ingest"]["contract"]
    write_json(config.manifest_path(produced), manifest)
    problems = pipeline.check_upstream(produced, "topics")
    assert problems[0].stage == "ingest" and "no recorded output hashes" in problems[0].reason


def test_missing_upstream_and_the_message_say_what_to_run(tmp_path: Path) -> None:
    problems = pipeline.check_upstream(tmp_path, "review")
    assert [p.stage for p in problems] == ["ingest", "topics"]
    message = pipeline.format_problems(tmp_path, "review", problems, ["review"])
    assert "litreview run --stages ingest,topics,review" in message


def test_run_pipeline_refuses_before_any_kernel(produced: Path, monkeypatch) -> None:
    import papermill

    monkeypatch.setattr(papermill, "execute_notebook",
                        lambda *a, **k: pytest.fail("a kernel was started"))
    _write_stage(produced, "ingest", content="re-ingested")
    with pytest.raises(pipeline.StaleStage, match=r"stage 'topics' .*stale"):
        pipeline.run_pipeline(produced, stages=["review"], export_html=False, log=lambda m: None)


def test_cli_refuses_stale_review_with_exit_2(produced: Path, capsys) -> None:
    from litreview import cli

    _write_stage(produced, "ingest", content="re-ingested")
    assert cli.main(["run", "--stages", "review", "--out", str(produced)]) == 2
    err = capsys.readouterr().err
    assert "stage 'topics'" in err and "Traceback" not in err


def test_completed_stage_records_its_contract(tmp_path: Path, monkeypatch) -> None:
    import papermill

    def fake_execute(source, target, **kwargs):
        out = Path(kwargs["parameters"]["out_dir"])
        for rel in config.STAGE_WRITES["ingest"]:
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            (out / rel).write_text(rel)
        nb = nbformat.v4.new_notebook()
        nb.cells.append(nbformat.v4.new_code_cell(outputs=[nbformat.v4.new_output(
            "stream", name="stderr",
            text="/x/embed.py:734: EmbeddingCacheWarning: embedding cache is not used\n")]))
        nbformat.write(nb, target)

    monkeypatch.setattr(papermill, "execute_notebook", fake_execute)
    logged: list[str] = []
    pipeline.run_pipeline(tmp_path, stages=["ingest"], export_html=False,
                          parameters={"corpus_paths": [str(tmp_path)]}, log=logged.append)
    record = read_json(config.manifest_path(tmp_path))["stages"]["ingest"]
    assert record["status"] == "complete"
    assert set(record["contract"]["outputs"]) == set(config.STAGE_WRITES["ingest"])
    assert any("warning: EmbeddingCacheWarning: embedding cache is not used" in m
               for m in logged)
    assert pipeline.check_upstream(tmp_path, "topics") == []


def test_kernel_warnings_are_read_from_stderr_once_each(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    text = ("/lib/litreview/embed.py:734: EmbeddingCacheWarning: cache corrupt; rebuilding\n"
            "  warnings.warn(message, EmbeddingCacheWarning, stacklevel=3)\n"
            "Batches: 100%|###| 9/9\r\n"
            "/lib/x.py:3: UserWarning: second\n")
    nb.cells.append(nbformat.v4.new_code_cell(outputs=[
        nbformat.v4.new_output("stream", name="stderr", text=text),
        nbformat.v4.new_output("stream", name="stderr", text=text),
        nbformat.v4.new_output("stream", name="stdout", text="/a.py:1: UserWarning: stdout\n"),
    ]))
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    assert pipeline.kernel_warnings(path) == [
        "EmbeddingCacheWarning: cache corrupt; rebuilding", "UserWarning: second"]


# --------------------------------------------------------------------------- lock

_HOLD = ("import sys, time; from litreview import pipeline\n"
         "with pipeline.lock_output(sys.argv[1], log=lambda m: None):\n"
         "    print('held', flush=True); time.sleep(60)\n")


def test_second_run_on_one_folder_is_refused_and_a_dead_holder_is_taken_over(
    tmp_path: Path,
) -> None:
    holder = subprocess.Popen([sys.executable, "-c", _HOLD, str(tmp_path)],
                              stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(pipeline.OutputLocked, match=rf"pid {holder.pid}\b"), \
                pipeline.lock_output(tmp_path, log=lambda m: None):
            pass
    finally:
        holder.kill()
        holder.wait()
    logged: list[str] = []
    with pipeline.lock_output(tmp_path, log=logged.append):
        assert (tmp_path / pipeline.LOCK_NAME).read_text().split()[0] == str(os.getpid())
    assert any("stale lock" in m and str(holder.pid) in m for m in logged)


def test_lock_is_released_and_reusable(tmp_path: Path) -> None:
    for _ in range(2):
        with pipeline.lock_output(tmp_path, log=lambda m: None):
            pass
    assert (tmp_path / pipeline.LOCK_NAME).read_text() == ""


def test_dead_pid_is_not_alive() -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    time.sleep(0.05)
    import socket

    assert not pipeline._alive({"pid": dead.pid, "host": socket.gethostname()})
    assert pipeline._alive({"pid": os.getpid(), "host": socket.gethostname()})


# --------------------------------------------------------------------------- HTML


class _Scripts(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.remote: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for key in ("src", "href"):
            url = (values.get(key) or "").strip().lower()
            if tag in ("script", "link", "img", "iframe") and url.startswith(
                    ("http:", "https:", "//")):
                self.remote.append(f"<{tag} {key}={url}>")

    def handle_data(self, data: str) -> None:
        if "cdnjs" in data or "import mermaid from" in data:
            self.remote.append(data[:80])


def test_exported_notebook_html_loads_nothing_from_the_network(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell("Some $x^2$ maths"))
    nb.cells.append(nbformat.v4.new_code_cell("1", outputs=[nbformat.v4.new_output(
        "execute_result", data={"text/plain": "1"}, execution_count=1)]))
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    html_path = pipeline._export_html(path)
    scanner = _Scripts()
    scanner.feed(html_path.read_text(encoding="utf-8"))
    assert scanner.remote == []
    assert "Some" in html_path.read_text(encoding="utf-8")


def test_record_stage_survives_an_input_that_cannot_be_read(tmp_path: Path) -> None:
    from litreview import manifest

    good = tmp_path / "a.txt"
    good.write_text("a")
    gone = tmp_path / "gone.txt"
    manifest.record_stage(tmp_path, "ingest", parameters={}, inputs=[good, gone, tmp_path])
    record = manifest.read_manifest(tmp_path)["stages"]["ingest"]
    assert record["inputs"][str(good)] == manifest.sha256_file(good)
    assert record["inputs"][str(gone)] is None and record["inputs"][str(tmp_path)] is None
    assert set(record["unreadable_inputs"]) == {str(gone), str(tmp_path)}
