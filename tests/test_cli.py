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
