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


# --------------------------------------------------------------------------- skipping


class _FakeKernel:
    """Stands in for papermill: each stage writes files that depend on what it reads and
    on its parameters, as the real notebooks do; records which stages ran."""

    def __init__(self) -> None:
        self.ran: list[str] = []

    def __call__(self, source, target, **kwargs) -> None:
        stage = {v: k for k, v in config.STAGE_NOTEBOOKS.items()}[Path(source).name]
        values = kwargs["parameters"]
        out = Path(values["out_dir"])
        self.ran.append(stage)
        if stage == "ingest":
            corpus = "".join(sorted(p.read_text() for folder in values["corpus_paths"]
                                    for p in Path(folder).iterdir()))
            files = {rel: corpus for rel in config.STAGE_WRITES["ingest"]}
        elif stage == "topics":
            papers = (out / "data/papers.parquet").read_text()
            seed = values.get("seed", 42)
            files = {rel: f"{papers}|seed={seed}" for rel in config.STAGE_WRITES["topics"]}
            files["figures/topics_map.html"] = f"map {seed}"
            files["figures/topics_map.png"] = f"png {values.get('top_n_terms', 10)}"
        else:
            topics = (out / "data/topics.parquet").read_text()
            files = {f"report/review.{fmt}": f"{values.get('title')}|{topics}"
                     for fmt in values.get("formats", ["html", "pdf", "md"])}
        for rel, text in files.items():
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            (out / rel).write_text(text)
        nbformat.write(nbformat.v4.new_notebook(), target)


class _FakeWarm:
    """Stands in for a kernel started ahead of its stage (:class:`pipeline.WarmKernel`)."""

    def __init__(self, stage: str, events: list[tuple[str, str]]) -> None:
        self.stage, self.events, self.km = stage, events, object()
        events.append(("start", stage))

    def alive(self) -> bool:
        return True

    def ready(self) -> object:
        self.events.append(("ready", self.stage))
        return self.km

    def stop(self, *, now: bool = False) -> None:
        self.events.append(("stop", self.stage))


@pytest.fixture(autouse=True)
def warm(monkeypatch) -> list[tuple[str, str]]:
    """No real kernel is started ahead of a stage here; the events say what would be."""
    events: list[tuple[str, str]] = []
    monkeypatch.setattr(pipeline, "start_warm_kernel", lambda stage: _FakeWarm(stage, events))
    return events


@pytest.fixture
def kernel(monkeypatch, warm) -> _FakeKernel:
    import papermill

    fake = _FakeKernel()
    original = fake.__call__

    def execute(source, target, **kwargs):
        stage = {v: k for k, v in config.STAGE_NOTEBOOKS.items()}[Path(source).name]
        fake.km.append((stage, kwargs.get("km") is not None))
        warm.append(("execute", stage))
        original(source, target, **kwargs)

    fake.km = []
    monkeypatch.setattr(papermill, "execute_notebook", execute)
    return fake


def _folder_bytes(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.name != pipeline.LOCK_NAME}


def _run(out: Path, corpus: Path, **kwargs) -> list[str]:
    logged: list[str] = []
    parameters = dict(kwargs.pop("parameters", {}))
    if "ingest" in kwargs.get("stages", config.STAGES):
        parameters["corpus_paths"] = [str(corpus)]
    pipeline.run_pipeline(out, parameters=parameters, export_html=False,
                          log=logged.append, **kwargs)
    return logged


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "a.txt").write_text("paper a")
    return folder


def test_unchanged_run_skips_every_stage_and_leaves_the_folder_byte_identical(
    tmp_path: Path, corpus: Path, kernel: _FakeKernel
) -> None:
    out = tmp_path / "out"
    _run(out, corpus)
    assert kernel.ran == ["ingest", "topics", "review"]
    record = read_json(config.manifest_path(out))["stages"]["topics"]["contract"]
    assert record["parameters"]["seed"] == 42 and "out_dir" not in record["parameters"]
    assert record["code"]["litreview_version"] and len(record["code"]["notebook_sha256"]) == 64
    assert "figures/topics_map.html" in record["products"]
    assert "notebooks/02_topics.ipynb" in record["products"]
    before = _folder_bytes(out)
    logged = _run(out, corpus)
    assert kernel.ran == ["ingest", "topics", "review"]  # nothing ran again
    assert _folder_bytes(out) == before  # manifest included
    for stage in config.STAGES:
        assert f"[litreview] {stage}: up to date (inputs and parameters unchanged); skipped" \
            in logged


def test_review_parameter_reruns_only_review(tmp_path, corpus, kernel) -> None:
    out = tmp_path / "out"
    _run(out, corpus)
    topics_before = (out / "data/topics.parquet").read_bytes()
    logged = _run(out, corpus, parameters={"title": "Another title"})
    assert kernel.ran == ["ingest", "topics", "review", "review"]
    assert (out / "report/review.html").read_text().startswith("Another title|")
    assert (out / "data/topics.parquet").read_bytes() == topics_before
    assert any("review: running 03_review.ipynb (parameter(s) changed: title "
               '"A thematic review of the corpus" -> "Another title")' in m for m in logged)
    # and back: the contract now holds for the new title
    _run(out, corpus, parameters={"title": "Another title"})
    assert kernel.ran.count("review") == 2


def test_topics_parameter_reruns_topics_and_review(tmp_path, corpus, kernel) -> None:
    out = tmp_path / "out"
    _run(out, corpus)
    logged = _run(out, corpus, parameters={"seed": 7})
    assert kernel.ran[3:] == ["topics", "review"]
    assert any("topics: running" in m and "seed 42 -> 7" in m for m in logged)
    assert any("review: running" in m and "data/" in m and "stage topics re-ran" in m
               for m in logged)



def test_a_changed_figure_the_report_embeds_reruns_review(tmp_path, corpus, kernel) -> None:
    out = tmp_path / "out"
    _run(out, corpus)
    logged = _run(out, corpus, parameters={"top_n_terms": 5})  # tables same, figure not
    assert kernel.ran[3:] == ["topics", "review"]
    assert any("review: running" in m and "figures/topics_map.png changed" in m
               for m in logged)

def test_rerun_with_identical_outputs_lets_later_stages_skip(tmp_path, corpus, kernel) -> None:
    out = tmp_path / "out"
    _run(out, corpus)
    _run(out, corpus, force=["topics"])  # deterministic: same bytes as before
    assert kernel.ran[3:] == ["topics"]


def test_force_and_named_stages_rerun_regardless(tmp_path, corpus, kernel) -> None:
    out = tmp_path / "out"
    _run(out, corpus)
    logged = _run(out, corpus, force=config.STAGES)
    assert kernel.ran[3:] == ["ingest", "topics", "review"]
    assert any("named in --stages or --force" in m for m in logged)
    _run(out, corpus, stages=["review"], force=["review"])
    assert kernel.ran[6:] == ["review"]


def test_missing_or_edited_output_reruns_its_stage(tmp_path, corpus, kernel) -> None:
    out = tmp_path / "out"
    _run(out, corpus)
    (out / "figures/topics_map.html").unlink()
    logged = _run(out, corpus)
    assert kernel.ran[3:] == ["topics"]  # same bytes again, so review stays
    assert any("its output figures/topics_map.html is missing" in m for m in logged)
    (out / "report/review.md").write_text("edited by hand")
    logged = _run(out, corpus)
    assert kernel.ran[4:] == ["review"]
    assert any("report/review.md was changed" in m for m in logged)


def test_corpus_change_reruns_ingest_and_what_follows(tmp_path, corpus, kernel) -> None:
    out = tmp_path / "out"
    _run(out, corpus)
    (corpus / "b.txt").write_text("paper b")
    logged = _run(out, corpus)
    assert kernel.ran[3:] == ["ingest", "topics", "review"]
    assert any("corpus file added:" in m and "b.txt" in m for m in logged)
    (corpus / "a.txt").write_text("paper a, revised")
    logged = _run(out, corpus)
    assert any("corpus file changed:" in m and "a.txt" in m for m in logged)


def test_failed_or_unrecorded_stage_reruns(tmp_path, corpus, kernel) -> None:
    out = tmp_path / "out"
    _run(out, corpus)
    pipeline._mark_stage(out, "review", "failed")
    logged = _run(out, corpus)
    assert kernel.ran[3:] == ["review"]
    assert any("its last run is marked failed" in m for m in logged)
    manifest = read_json(config.manifest_path(out))
    del manifest["stages"]["review"]["contract"]["parameters"]
    write_json(config.manifest_path(out), manifest)
    _run(out, corpus)
    assert kernel.ran[4:] == ["review"]


def test_code_change_reruns(tmp_path, corpus, kernel, monkeypatch) -> None:
    out = tmp_path / "out"
    _run(out, corpus)
    monkeypatch.setattr(pipeline, "library_sha256", lambda: "0" * 64)
    logged = _run(out, corpus)
    assert kernel.ran[3:] == ["ingest", "topics", "review"]
    assert any("the litreview library code changed" in m for m in logged)


# --------------------------------------------------------------------------- warm kernels


def _stopped_all(events: list[tuple[str, str]]) -> bool:
    started = [s for e, s in events if e == "start"]
    return sorted(started) == sorted(s for e, s in events if e == "stop")


def test_each_next_stage_kernel_starts_while_the_stage_before_runs(
    tmp_path, corpus, kernel, warm
) -> None:
    out = tmp_path / "out"
    _run(out, corpus)
    # ingest's kernel starts before papermill is imported; topics' before ingest runs,
    # review's before topics; each is stopped (in a thread) once its stage has run
    assert kernel.km == [("ingest", True), ("topics", True), ("review", True)]
    assert warm.index(("start", "ingest")) < warm.index(("execute", "ingest"))
    assert warm.index(("start", "topics")) < warm.index(("execute", "ingest"))
    assert warm.index(("start", "review")) < warm.index(("execute", "topics"))
    assert warm.index(("stop", "ingest")) > warm.index(("execute", "ingest"))
    assert _stopped_all(warm)


def test_an_edited_review_parameter_starts_the_review_kernel_first(
    tmp_path, corpus, kernel, warm
) -> None:
    out = tmp_path / "out"
    _run(out, corpus)
    warm.clear()
    logged = _run(out, corpus, parameters={"title": "Another title"})
    assert warm[0] == ("start", "review")  # before ingest and topics were checked
    assert [e for e in warm if e[0] == "start"] == [("start", "review")]
    assert kernel.km[3:] == [("review", True)]
    assert any("ingest: up to date" in m for m in logged) and _stopped_all(warm)


def test_a_kernel_started_on_a_wrong_guess_is_stopped(tmp_path, corpus, kernel, warm) -> None:
    out = tmp_path / "out"
    _run(out, corpus)
    warm.clear()
    _run(out, corpus, force=["topics"])  # same bytes again: review is skipped after all
    assert kernel.ran[3:] == ["topics"]
    assert ("start", "review") in warm and _stopped_all(warm)
    warm.clear()
    _run(out, corpus)  # nothing to run: no kernel at all
    assert warm == []


def test_a_failing_stage_stops_the_kernels_started_ahead(tmp_path, corpus, monkeypatch,
                                                         warm) -> None:
    import papermill

    def boom(source, target, **kwargs):
        raise RuntimeError("kernel died")

    monkeypatch.setattr(papermill, "execute_notebook", boom)
    with pytest.raises(RuntimeError, match="kernel died"):
        _run(tmp_path / "out", corpus)
    assert ("start", "topics") in warm and _stopped_all(warm)


@pytest.mark.slow
def test_a_warm_kernel_runs_the_notebook_from_a_clean_namespace(tmp_path: Path) -> None:
    """A real kernel: the imports are done, the notebook starts at execution count 1 and
    sees none of the warm-up's names; the garbage collector, off during the imports, is on
    again and the imported objects are frozen."""
    import papermill

    kernel = pipeline.WarmKernel("ingest")
    try:
        km = kernel.ready()
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "language": "python",
                                     "display_name": "Python 3"}
        nb.cells.append(nbformat.v4.new_code_cell(
            "import gc, sys\nprint('litreview.ingest' in sys.modules,"
            " [n for n in dir() if 'warm' in n], gc.isenabled(), gc.get_freeze_count() > 0)"))
        source, target = tmp_path / "t.ipynb", tmp_path / "t.out.ipynb"
        nbformat.write(nb, source)
        papermill.execute_notebook(str(source), str(target), km=km, progress_bar=False)
    finally:
        kernel.stop()
    cell = nbformat.read(target, as_version=4).cells[0]
    assert cell.execution_count == 1
    assert cell.outputs[0]["text"].strip() == "True [] True True"
    assert not kernel.alive()


def test_a_curation_edit_reruns_the_stage_it_concerns_and_starts_its_kernel_first(
    tmp_path, corpus, kernel, warm
) -> None:
    out, curation = tmp_path / "out", tmp_path / "review.yaml"
    curation.write_text("themes:\n  t-a:\n    name: First name\n", encoding="utf-8")
    given = {"curation_file": str(curation)}
    _run(out, corpus, parameters=given)
    warm.clear()
    curation.write_text("themes:\n  t-a:\n    name: Second name\n", encoding="utf-8")
    logged = _run(out, corpus, parameters=given)
    assert any("ingest: up to date" in m for m in logged)  # screening unchanged
    assert any("topics: running" in m and "map entries of the curation file changed" in m
               for m in logged)
    assert warm[0] == ("start", "topics")  # before ingest was checked
    assert kernel.km[3:] == [("topics", True)]  # same bytes from the fake: review skipped
    assert _stopped_all(warm)


def _notebook_imports(stage: str) -> set[str]:
    """The modules a stage notebook's code cells import (submodules named in a from-import
    count as themselves)."""
    import ast

    found: set[str] = set()
    notebook = nbformat.read(pipeline.notebook_path(stage), as_version=4)
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        code = "\n".join(line for line in cell.source.splitlines()
                         if not line.lstrip().startswith(("%", "!")))
        for node in ast.walk(ast.parse(code)):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    name = f"{node.module}.{alias.name}"
                    found.add(name if _is_module(name) else node.module)
    return found


def _is_module(name: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # its parent is a module, not a package
        return False


@pytest.mark.parametrize("stage", config.STAGES)
def test_a_warm_kernel_imports_what_its_notebook_imports(stage: str) -> None:
    import importlib.util

    warmed = set(pipeline.WARM_IMPORTS[stage])
    assert _notebook_imports(stage) <= warmed
    missing = [name for name in warmed if importlib.util.find_spec(name) is None]
    assert missing == []


def test_no_kernel_waits_beside_topics_on_a_large_corpus(tmp_path, corpus, kernel, warm,
                                                         monkeypatch) -> None:
    out = tmp_path / "out"
    _run(out, corpus, stages=["ingest"])
    manifest = read_json(config.manifest_path(out))
    manifest["stages"]["ingest"]["counts"] = {"papers": pipeline.WARM_AHEAD_MAX_PAPERS + 1}
    write_json(config.manifest_path(out), manifest)
    warm.clear()
    _run(out, corpus, stages=["topics", "review"], force=["topics"])
    # topics' own kernel starts ahead of it (nothing else runs then); none waits beside it
    assert kernel.km[-2:] == [("topics", True), ("review", False)]
    assert [e for e in warm if e[0] in ("start", "execute")] == [
        ("start", "topics"), ("execute", "topics"), ("execute", "review")]
