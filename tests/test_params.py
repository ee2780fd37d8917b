"""The parameter declaration (litreview.params): typing, checking, and its three mirrors.

The notebooks' ``parameters`` cells and README's table must say what the declaration
says; the tests compare them generically, so a parameter added or changed needs an edit
of ``params.py`` (and ``litreview params --markdown`` for README) only.
"""

from __future__ import annotations

import ast
import math
import os
from pathlib import Path

import nbformat
import pytest

from litreview import config, params
from litreview.params import ParameterError

DECL = params.by_name()


def _parameters_cell(stage: str) -> dict[str, tuple[str, object]]:
    """name -> (annotation, default) from the notebook's cell tagged ``parameters``."""
    notebook = nbformat.read(config.NOTEBOOKS_DIR / config.STAGE_NOTEBOOKS[stage], as_version=4)
    cells = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1, f"{stage}: expected one cell tagged parameters"
    found: dict[str, tuple[str, object]] = {}
    for node in ast.parse(cells[0].source).body:
        assert isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name), (
            f"{stage}: parameters cell holds only `name: type = default` lines"
        )
        found[node.target.id] = (ast.unparse(node.annotation), ast.literal_eval(node.value))
    return found


@pytest.mark.parametrize("stage", config.STAGES)
def test_notebook_cells_declare_exactly_the_declared_parameters(stage: str) -> None:
    cell = _parameters_cell(stage)
    declared = params.for_stage(stage)
    assert list(cell) == list(declared), f"{stage}: names or order differ"
    for name, (annotation, default) in cell.items():
        assert annotation == declared[name].type, f"{stage}.{name}: type"
        assert default == declared[name].default, f"{stage}.{name}: default"
        assert type(default) is type(declared[name].default), f"{stage}.{name}: default type"


def test_every_declared_default_passes_its_own_check() -> None:
    for p in params.PARAMETERS:
        assert params.parse(p, p.default) == p.default, p.name
        assert p.stage in (*config.STAGES, params.EVERY_STAGE)
    assert len(DECL) == len(params.PARAMETERS), "parameter names are unique across stages"


def test_readme_parameter_table_is_the_declaration() -> None:
    readme = (config.PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    table = params.markdown_table()
    assert table in readme, "README's table differs: paste `litreview params --markdown`"
    rows = [line for line in readme.splitlines() if line.startswith(("| 0", "| all "))]
    assert len(rows) == sum(p.settable for p in params.PARAMETERS)


def test_choices_match_what_the_library_accepts() -> None:
    from litreview import embed, ingest

    assert DECL["input_format"].choices == tuple(ingest.INPUT_FORMATS)
    assert set(DECL["embedding_backend"].choices) == set(embed.EMBEDDING_BACKENDS)
    assert set(DECL["long_text"].choices) <= set(embed.LONG_TEXT_MODES)


@pytest.mark.parametrize(("name", "text", "expected"), [
    ("title", "Review: LLMs", "Review: LLMs"),
    ("title", "no", "no"),
    ("title", "@home", "@home"),
    ("title", "[not a list]", "[not a list]"),
    ("author", "", ""),
    ("formats", "html", ["html"]),
    ("formats", "html, md", ["html", "md"]),
    ("formats", "[html, pdf]", ["html", "pdf"]),
    ("keep_title_only", "yes", True),
    ("keep_title_only", "False", False),
    ("seed", "7", 7),
    ("seed", 7, 7),
    ("fuzzy_threshold", "100", 100.0),
    ("fuzzy_threshold", 90, 90.0),
    ("fuzzy_threshold", "0.5", 0.5),
    ("min_topic_size", "0", 0),
    ("min_topic_size", "2", 2),
    ("outlier_threshold", "1", 1.0),
])
def test_values_are_typed_by_the_declaration(name: str, text: object, expected: object) -> None:
    value = params.parse(DECL[name], text)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(("name", "text", "allowed"), [
    ("fuzzy_threshold", "0", "> 0 and <= 100"),
    ("fuzzy_threshold", "150", "> 0 and <= 100"),
    ("fuzzy_threshold", "nan", "not a finite number"),
    ("fuzzy_threshold", "inf", "not a finite number"),
    ("fuzzy_threshold", "abc", "not a number"),
    ("fuzzy_threshold", True, "not a number"),
    ("seed", "abc", "an integer"),
    ("seed", "1.5", "an integer"),
    ("seed", "-1", ">= 0"),
    ("seed", True, "an integer"),
    ("min_topic_size", "-5", "0 (picked from the corpus size) or an integer >= 2"),
    ("min_topic_size", "1", "or an integer >= 2"),
    ("keep_title_only", "1", "true/false"),
    ("keep_title_only", "maybe", "true/false"),
    ("formats", "h", "unknown 'h'"),
    ("formats", "html,,md", "empty item"),
    ("formats", "[html, [md]]", "list of plain values"),
    ("formats", "[html", "not a YAML list"),
    ("input_format", "word", "one of auto"),
    ("long_text", "Windows", "truncate, windows"),
    ("title", 3, "expected text"),
    ("two_stage_sample_size", "0", ">= 1"),
    ("outlier_threshold", "1.5", "<= 1"),
])
def test_bad_values_name_the_parameter_the_value_and_what_is_allowed(
    name: str, text: object, allowed: str
) -> None:
    with pytest.raises(ParameterError) as err:
        params.parse(DECL[name], text)
    message = str(err.value)
    assert f"parameter {name!r}" in message
    assert (text if isinstance(text, str) else repr(text)) in message
    assert allowed in message


def test_unknown_and_runner_set_names_are_refused() -> None:
    with pytest.raises(ParameterError, match=r"unknown parameter.*sed.*seed"):
        params.lookup("sed", ["topics"])
    with pytest.raises(ParameterError, match="belongs to stage ingest"):
        params.lookup("fuzzy_threshold", ["topics", "review"])
    with pytest.raises(ParameterError, match="set by the runner"):
        params.lookup("out_dir")


def test_relative_paths_resolve_against_the_current_directory(tmp_path: Path) -> None:
    (tmp_path / "model").mkdir()
    parsed = params.parse_assignments(
        {"corpus_paths": "a.bib,sub/b.ris", "embedding_model": "model"}, cwd=tmp_path)
    assert parsed["corpus_paths"] == [str(tmp_path / "a.bib"), str(tmp_path / "sub" / "b.ris")]
    assert parsed["embedding_model"] == str(tmp_path / "model")
    kept = params.parse_assignments({"embedding_model": "all-MiniLM-L6-v2"}, cwd=tmp_path)
    assert kept["embedding_model"] == "all-MiniLM-L6-v2"
    absolute = params.parse_assignments({"corpus_paths": [os.sep + "x"]}, cwd=tmp_path)
    assert absolute["corpus_paths"] == [os.sep + "x"]


def test_parameter_files_are_typed_like_the_command_line(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text('title: no\nseed: 7\nformats: [html, md]\nkeep_title_only: yes\n'
                    'fuzzy_threshold: 90\nauthor: "Ann: B"\n', encoding="utf-8")
    parsed = params.parse_assignments(params.read_file(path))
    assert parsed == {"title": "no", "seed": 7, "formats": ["html", "md"],
                      "keep_title_only": True, "fuzzy_threshold": 90.0, "author": "Ann: B"}
    assert math.isclose(parsed["fuzzy_threshold"], 90.0)


@pytest.mark.parametrize(("content", "message"), [
    (b"\x89PNG\r\n\x1a\n\x00\x00binary", "not a text file"),
    (b"title: \xff\xfe caf\xe9", "not UTF-8 text"),
    (b"title: [unclosed", "not valid YAML"),
    (b"- a\n- b\n", "flat mapping"),
    (b"title:\n  nested: 1\n", "nested value"),
])
def test_bad_parameter_files_are_refused_with_their_name(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(content)
    with pytest.raises(ParameterError, match=message) as err:
        params.read_file(path)
    assert str(path) in str(err.value)


def test_missing_parameter_file_and_folder_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="cannot be read"):
        params.read_file(tmp_path / "nope.yaml")
    with pytest.raises(ParameterError, match="is a folder"):
        params.read_file(tmp_path)
    (tmp_path / "empty.yaml").write_text("")
    assert params.read_file(tmp_path / "empty.yaml") == {}
