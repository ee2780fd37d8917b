"""The litreview command: argument handling, parameter routing, failure reporting."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from litreview import cli, pipeline


def test_parser_knows_the_documented_flags() -> None:
    args = cli.build_parser().parse_args(
        ["run", "--corpus", "a.txt", "b.bib", "--params", "x.yaml", "-p", "seed", "7",
         "--out", "o", "--stages", "ingest,topics", "--keep-title-only"]
    )
    assert args.corpus == ["a.txt", "b.bib"]
    assert args.params == ["x.yaml"]
    assert args.parameter == [["seed", "7"]]
    assert args.out == Path("o")
    assert args.stages == "ingest,topics"
    assert args.keep_title_only
    ingest = cli.build_parser().parse_args(["ingest", "x.ris", "--format", "ris", "--out", "d"])
    assert (ingest.paths, ingest.input_format, ingest.out) == (["x.ris"], "ris", Path("d"))


def test_each_notebook_declares_out_dir_and_its_parameters() -> None:
    stages = ("ingest", "topics", "review")
    declared = {stage: pipeline.notebook_parameters(stage) for stage in stages}
    for stage, params in declared.items():
        assert "out_dir" in params, stage
        assert all(spec["inferred_type_name"] != "None" for spec in params.values()), stage
    assert {"corpus_paths", "input_format", "fuzzy_threshold", "keep_title_only"} <= set(
        declared["ingest"]
    )
    assert {"seed", "embedding_model", "min_topic_size", "stability_seeds"} <= set(
        declared["topics"]
    )
    assert {"title", "n_representative", "n_key_sentences", "formats"} <= set(declared["review"])


def test_parameters_are_routed_to_the_notebooks_that_declare_them() -> None:
    routed = pipeline.split_parameters(
        {"seed": 3, "title": "T", "fuzzy_threshold": 90.0}, ["ingest", "topics", "review"]
    )
    assert routed == {"ingest": {"fuzzy_threshold": 90.0}, "topics": {"seed": 3},
                      "review": {"title": "T"}}


def test_unknown_parameter_is_refused_with_the_known_names() -> None:
    with pytest.raises(pipeline.ParameterError, match=r"unknown parameter.*sed.*seed"):
        pipeline.split_parameters({"sed": 3}, ["topics"])
    assert cli.main(["run", "-p", "sed", "3", "--stages", "topics"]) == 2


def test_parameter_files_layer_later_wins(tmp_path: Path) -> None:
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text(yaml.safe_dump({"seed": 1, "title": "A"}))
    second.write_text(yaml.safe_dump({"seed": 2}))
    assert pipeline.load_parameter_files([first, second]) == {"seed": 2, "title": "A"}
    bad = tmp_path / "bad.yaml"
    bad.write_text("- a\n- b\n")
    with pytest.raises(pipeline.ParameterError, match="flat mapping"):
        pipeline.load_parameter_files([bad])


def test_unknown_stage_is_refused() -> None:
    with pytest.raises(SystemExit, match="--stages"):
        cli.main(["run", "--stages", "ingest,plots"])


def test_ingest_command_exits_2_when_nothing_is_usable(tmp_path: Path, capsys) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    assert cli.main(["ingest", str(empty), "--out", str(tmp_path / "out")]) == 2
    assert "empty.txt" in capsys.readouterr().err


def test_ingest_command_prints_a_summary(seed_corpus_dir: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    assert cli.main(["ingest", str(seed_corpus_dir), "--out", str(out)]) == 0
    summary = capsys.readouterr().out
    assert "281" in summary and "293" in summary
    assert (out / "data" / "papers.parquet").exists()
    assert (out / "data" / "records.parquet").exists()
    # later stages may build on it: it is recorded complete, with its outputs' hashes
    assert pipeline.check_upstream(out, "topics") == []


@pytest.mark.slow
def test_failing_stage_stops_the_run_and_is_not_left_looking_complete(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder"
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "litreview.cli", "run", "--corpus", str(missing),
         "--out", str(out), "--stages", "ingest", "--no-html"],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 1, proc.stderr
    assert "stage 'ingest' failed in 01_ingest.ipynb" in proc.stderr
    assert "no-such-folder" in proc.stderr
    assert (out / "notebooks" / "01_ingest.failed.ipynb").exists()
    assert not (out / "notebooks" / "01_ingest.ipynb").exists()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["stages"]["ingest"]["status"] == "failed"
    assert "contract" not in manifest["stages"]["ingest"]
    # a later stage refuses to run on the failed stage's files, before any kernel starts
    refused = subprocess.run(
        [sys.executable, "-m", "litreview.cli", "run", "--out", str(out), "--stages", "topics"],
        capture_output=True, text=True, timeout=300,
    )
    assert refused.returncode == 2, refused.stderr
    assert "stage 'ingest' failed in its last run" in refused.stderr
    assert not (out / "notebooks" / "02_topics.ipynb").exists()


# --------------------------------------------------------------------------- typed parameters


@pytest.fixture
def captured(monkeypatch) -> dict:
    """Replace the runner: record what `litreview run` would execute."""
    seen: dict = {}

    def fake_run(out, *, parameters, stages, export_html, force=()):
        seen.update(out=out, parameters=parameters, stages=stages, force=list(force))
        return []

    monkeypatch.setattr(pipeline, "run_pipeline", fake_run)
    return seen


def test_p_values_are_typed_by_the_declaration(tmp_path: Path, captured: dict) -> None:
    (tmp_path / "c").mkdir()
    argv = ["run", "--out", str(tmp_path / "o"), "--corpus", str(tmp_path / "c"),
            "-p", "title", "Review: LLMs", "-p", "author", "no", "-p", "formats", "html",
            "-p", "seed", "7", "-p", "fuzzy_threshold", "90", "-p", "keep_title_only", "yes"]
    assert cli.main(argv) == 0
    p = captured["parameters"]
    assert (p["title"], p["author"], p["formats"], p["seed"]) == ("Review: LLMs", "no",
                                                                   ["html"], 7)
    assert p["fuzzy_threshold"] == 90.0 and p["keep_title_only"] is True


@pytest.mark.parametrize(("name", "value", "expected"), [
    ("fuzzy_threshold", "0", "'fuzzy_threshold': '0'"),
    ("fuzzy_threshold", "nan", "not a finite number"),
    ("seed", "abc", "'seed': 'abc' is not allowed"),
    ("min_topic_size", "-5", "'min_topic_size': '-5'"),
    ("formats", "[html", "not a YAML list"),
    ("keep_title_only", "maybe", "true/false"),
])
def test_bad_p_values_exit_2_before_any_kernel(
    tmp_path: Path, captured: dict, capsys, name: str, value: str, expected: str
) -> None:
    assert cli.main(["run", "--out", str(tmp_path / "o"), "-p", name, value]) == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err
    assert captured == {}


def test_relative_corpus_resolves_against_the_current_directory(
    tmp_path: Path, captured: dict, monkeypatch
) -> None:
    (tmp_path / "corpus").mkdir()
    monkeypatch.chdir(tmp_path)
    assert cli.main(["run", "--out", "o", "--corpus", "corpus", "--stages", "ingest"]) == 0
    assert captured["parameters"]["corpus_paths"] == [str(tmp_path / "corpus")]
    assert captured["out"] == tmp_path / "o"
    assert cli.main(["run", "--out", "o", "-p", "corpus_paths", "corpus,x.bib",
                     "--stages", "ingest"]) == 0
    assert captured["parameters"]["corpus_paths"] == [str(tmp_path / "corpus"),
                                                      str(tmp_path / "x.bib")]


def test_binary_params_file_exits_2(tmp_path: Path, captured: dict, capsys) -> None:
    binary = tmp_path / "p.yaml"
    binary.write_bytes(b"\x7fELF\x02\x01\x01\x00\x00\x00")
    assert cli.main(["run", "--out", str(tmp_path / "o"), "--params", str(binary)]) == 2
    err = capsys.readouterr().err
    assert "p.yaml: is not a text file" in err and "Traceback" not in err


def test_params_command_prints_the_declaration(capsys) -> None:
    from litreview import params

    assert cli.main(["params"]) == 0
    text = capsys.readouterr().out
    for p in params.PARAMETERS:
        assert f"  {p.name}: {p.type} = {params.format_default(p)}" in text
    assert cli.main(["params", "--markdown"]) == 0
    assert capsys.readouterr().out == params.markdown_table()


def test_ingest_fuzzy_threshold_is_checked(tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["ingest", str(tmp_path), "--fuzzy-threshold", "150"])
    assert exit_.value.code == 2
    assert "'fuzzy_threshold': '150'" in capsys.readouterr().err


# --------------------------------------------------------------------------- output folder


def test_out_that_is_a_file_exits_2(tmp_path: Path, captured: dict, capsys) -> None:
    target = tmp_path / "file.txt"
    target.write_text("x")
    for out in (target, target / "sub"):
        assert cli.main(["run", "--out", str(out), "--stages", "review"]) == 2
        err = capsys.readouterr().err
        assert "is a file, not a folder" in err and "Traceback" not in err
    assert cli.main(["ingest", str(tmp_path), "--out", str(target)]) == 2


def test_read_only_out_exits_2(tmp_path: Path, captured: dict, capsys, monkeypatch) -> None:
    import tempfile

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)  # what a read-only folder does
    assert cli.main(["run", "--out", str(tmp_path / "o"), "--stages", "review"]) == 2
    err = capsys.readouterr().err
    assert "cannot be written: Permission denied" in err and "Traceback" not in err


def test_out_inside_the_corpus_is_refused(tmp_path: Path, captured: dict, capsys) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for out in (corpus / "outputs", corpus):
        assert cli.main(["run", "--corpus", str(corpus), "--out", str(out)]) == 2
        assert "inside the corpus folder" in capsys.readouterr().err
    assert cli.main(["ingest", str(corpus), "--out", str(corpus / "o")]) == 2
    assert cli.main(["run", "--corpus", str(corpus), "--out", str(tmp_path / "o")]) == 0


def test_unexpected_errors_print_one_line_and_debug_shows_the_traceback(
    tmp_path: Path, capsys, monkeypatch
) -> None:
    def boom(*args, **kwargs):
        raise RuntimeError("something odd")

    monkeypatch.setattr(pipeline, "run_pipeline", boom)
    argv = ["run", "--out", str(tmp_path / "o"), "--stages", "review"]
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "RuntimeError: something odd" in err and "--debug" in err
    with pytest.raises(RuntimeError, match="something odd"):
        cli.main(["--debug", *argv])
    monkeypatch.setenv(cli.DEBUG_ENV, "1")
    with pytest.raises(RuntimeError):
        cli.main(argv)


def test_os_errors_print_the_file_and_reason(tmp_path: Path, capsys, monkeypatch) -> None:
    def full(*args, **kwargs):
        raise OSError(28, "No space left on device", str(tmp_path / "o" / "x"))

    monkeypatch.setattr(pipeline, "run_pipeline", full)
    assert cli.main(["run", "--out", str(tmp_path / "o"), "--stages", "review"]) == 1
    err = capsys.readouterr().err
    assert "No space left on device" in err and "Traceback" not in err


def test_locked_out_exits_2(tmp_path: Path, capsys) -> None:
    out = tmp_path / "o"
    with pipeline.lock_output(out, log=lambda m: None):
        code = subprocess.run(
            [sys.executable, "-m", "litreview.cli", "run", "--out", str(out), "--stages",
             "review"], capture_output=True, text=True, timeout=120)
    assert code.returncode == 2
    assert "in use by another litreview run" in code.stderr and "Traceback" not in code.stderr


def test_rerun_stale_adds_the_stale_stages(tmp_path: Path, captured: dict, capsys) -> None:
    out = tmp_path / "o"
    assert cli.main(["run", "--out", str(out), "--stages", "review", "--rerun-stale"]) == 2
    assert "--corpus" in capsys.readouterr().err
    corpus = tmp_path / "c"
    corpus.mkdir()
    assert cli.main(["run", "--out", str(out), "--stages", "review", "--rerun-stale",
                     "--corpus", str(corpus)]) == 0
    assert captured["stages"] == ["ingest", "topics", "review"]
    assert captured["parameters"]["corpus_paths"] == [str(corpus)]


def test_named_stages_and_force_rerun_regardless(tmp_path: Path, captured: dict) -> None:
    corpus = tmp_path / "c"
    corpus.mkdir()
    base = ["run", "--out", str(tmp_path / "o"), "--corpus", str(corpus)]
    assert cli.main(base) == 0
    assert captured["stages"] == ["ingest", "topics", "review"] and captured["force"] == []
    assert cli.main([*base, "--force"]) == 0
    assert captured["force"] == ["ingest", "topics", "review"]
    assert cli.main(["run", "--out", str(tmp_path / "o"), "--stages", "topics,review"]) == 0
    assert captured["stages"] == captured["force"] == ["topics", "review"]


# --------------------------------------------------------------------------- curation


def test_init_writes_the_template_next_to_the_corpus_and_never_overwrites(
        tmp_path: Path, capsys) -> None:
    import pandas as pd

    from litreview.curation import load_curation

    corpus = tmp_path / "data" / "corpus"
    corpus.mkdir(parents=True)
    out = tmp_path / "outputs"
    (out / "data").mkdir(parents=True)
    pd.DataFrame({"topic": [0, 1], "label": ["Social norms", "Value alignment"],
                  "size": [5, 9], "theme_id": ["t-social-norms", "t-value-alignment"]}
                 ).to_parquet(out / "data" / "topics.parquet")
    assert cli.main(["init", "--corpus", str(corpus), "--out", str(out)]) == 0
    written = tmp_path / "data" / "review.yaml"
    text = written.read_text(encoding="utf-8")
    assert "# exclude:" in text
    assert text.index("t-value-alignment: Value alignment") < text.index(
        "t-social-norms: Social norms")  # largest theme first
    assert load_curation(written).is_empty  # the template asks for nothing until edited
    written.write_text("version: 1\n", encoding="utf-8")
    capsys.readouterr()
    assert cli.main(["init", "--corpus", str(corpus), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{written} already exists" in err and len(err.strip().splitlines()) == 1
    assert written.read_text(encoding="utf-8") == "version: 1\n"
    # --curation FILE; no themes listed without a theme_id column
    other = tmp_path / "elsewhere.yaml"
    assert cli.main(["init", "--curation", str(other), "--out", str(tmp_path / "none")]) == 0
    assert "The themes of the last run" not in other.read_text(encoding="utf-8")


def test_ingest_with_an_unknown_curation_ref_is_one_line_and_writes_nothing(
        tmp_path: Path, capsys) -> None:
    exports = Path(__file__).resolve().parent / "fixtures" / "exports" / "zotero-csl.json"
    review = tmp_path / "review.yaml"
    review.write_text('exclude:\n  - paper: "10.9999/none"\n    reason: x\n', encoding="utf-8")
    out = tmp_path / "out"
    assert cli.main(["ingest", str(exports), "--out", str(out), "--curation", str(review)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"litreview: the curation file has a problem: {review}:2: paper "
                   "'10.9999/none' matches no paper of the corpus")
    assert not (out / "data").exists()
    assert cli.main(["ingest", str(exports), "--out", str(out), "--curation", str(review),
                     "--lenient"]) == 0
    assert "10.9999/none" in capsys.readouterr().err


@pytest.mark.slow
def test_a_stage_stopped_by_the_curation_file_says_so_in_one_line(tmp_path: Path) -> None:
    exports = Path(__file__).resolve().parent / "fixtures" / "exports" / "zotero-csl.json"
    review = tmp_path / "review.yaml"
    review.write_text('exclude:\n  - paper: "10.9999/none"\n    reason: x\n', encoding="utf-8")
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "litreview.cli", "run", "--corpus", str(exports), "--out",
         str(out), "--stages", "ingest", "--no-html", "-p", "curation_file", str(review)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("litreview:")]
    assert lines == [f"litreview: the curation file has a problem: {review}:2: paper "
                     "'10.9999/none' matches no paper of the corpus"]
    assert "Traceback" not in proc.stderr
    assert not (out / "data").exists()


def test_an_unknown_theme_id_stops_before_any_stage(tmp_path: Path, captured: dict,
                                                      capsys) -> None:
    import pandas as pd

    out = tmp_path / "o"
    (out / "data").mkdir(parents=True)
    pd.DataFrame({"topic": [0], "theme_id": ["t-social-norms"]}).to_parquet(
        out / "data" / "topics.parquet")
    review = tmp_path / "review.yaml"
    review.write_text("themes:\n  t-social-norms:\n    name: Norms\n"
                      "  t-socail-norms:\n    name: Typo\n", encoding="utf-8")
    (tmp_path / "c").mkdir()
    argv = ["run", "--out", str(out), "--corpus", str(tmp_path / "c"),
            "-p", "curation_file", str(review)]
    assert cli.main(argv) == 2
    assert not captured, "no stage may run"
    assert f"{review}:4:" in capsys.readouterr().err
    assert cli.main([*argv, "-p", "curation_strict", "false"]) == 0  # the stage warns


def test_the_command_starts_without_pandas() -> None:
    """``litreview run`` starts its kernels right after its own imports: pandas (and the
    stages' libraries) load there, not in the runner before them."""
    code = ("import sys, litreview.cli, litreview.pipeline; "
            "print(sorted(m for m in ('pandas', 'numpy', 'papermill') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=True)
    assert proc.stdout.strip() == "[]"
