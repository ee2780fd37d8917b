"""Every stage parameter, declared once: stage, name, type, default, what is allowed, help.

The command line parses and validates ``-p NAME VALUE`` and ``--params FILE`` from this
declaration (typed values, not free YAML: ``-p title no`` is the string ``"no"``);
``litreview params`` prints it; tests check it against the notebooks' ``parameters``
cells and README's table. Bottom layer: imports nothing from litreview and nothing heavy.

Values from the command line and from parameter files go through the same parser: a
``--params`` file is read with YAML's BaseLoader, so every scalar arrives as the text
the user wrote and is typed here, never guessed by YAML (``title: no`` is ``"no"``).
The parsing is written here rather than left to a schema library because it is small,
the messages must name the parameter, the value and what is allowed, and the rules
(comma lists, yes/no only for bools) are this tool's own.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

#: Stage each notebook belongs to, in run order (mirrors ``config.STAGES``).
STAGE_NUMBERS = {"ingest": "01", "topics": "02", "review": "03"}
#: Pseudo-stage of parameters every notebook declares (``out_dir``).
EVERY_STAGE = "*"

_TRUE = ("true", "yes")
_FALSE = ("false", "no")
_INT = re.compile(r"[+-]?\d+")


class ParameterError(ValueError):
    """A parameter name or value that the declaration does not allow."""


@dataclass(frozen=True)
class Param:
    """One notebook parameter.

    ``type`` is the annotation its notebook cell uses: ``str``, ``int``, ``float``,
    ``bool`` or ``list`` (a list of strings). ``choices`` limit a ``str`` (or each item of
    a ``list``); ``minimum``/``maximum`` bound numbers (``exclusive_minimum`` makes the
    lower bound open); ``refused`` are single values outside what is allowed even within
    the bounds. ``path`` marks values that are paths (``"always"``) or may be
    (``"if-exists"``): the command line makes relative ones absolute against the current
    directory. ``settable`` is False for parameters the runner sets itself (``out_dir``).
    """

    stage: str
    name: str
    type: str
    default: Any
    help: str
    choices: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    refused: tuple[Any, ...] = ()
    allowed_text: str | None = None
    path: str | None = None
    settable: bool = True

    def allowed(self) -> str:
        """Say in words what values are allowed."""
        if self.allowed_text:
            return self.allowed_text
        if self.type == "bool":
            return "true/false (or yes/no)"
        if self.choices:
            options = ", ".join(self.choices)
            return (f"a comma-separated list of {options}" if self.type == "list"
                    else f"one of {options}")
        if self.type in ("int", "float"):
            kind = "an integer" if self.type == "int" else "a number"
            low = None
            if self.minimum is not None:
                low = f"{'>' if self.exclusive_minimum else '>='} {_num(self.minimum)}"
            high = f"<= {_num(self.maximum)}" if self.maximum is not None else None
            bounds = " and ".join(b for b in (low, high) if b)
            return f"{kind} {bounds}" if bounds else kind
        if self.type == "list":
            return "a comma-separated list (or a YAML list)"
        return "any text"


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


INPUT_FORMATS = (
    "auto", "hfpapers", "bibtex", "ris", "csv", "jsonl", "medline", "wos", "openalex", "csljson",
)
EMBEDDING_BACKENDS = ("torch", "torch-bf16", "onnx-int8", "two-stage", "auto")
LONG_TEXT_MODES = ("truncate", "windows")
REPORT_FORMATS = ("html", "pdf", "md")
#: CSL styles shipped in ``litreview/report/csl/`` (mirrors ``report.citations.STYLES``).
CITATION_STYLES = ("apa", "ieee", "chicago-author-date")

#: The declaration. Defaults are the notebooks' (paths relative to ``notebooks/``).
PARAMETERS: tuple[Param, ...] = (
    Param("ingest", "corpus_paths", "list", ["../data/corpus"],
          "files or folders to read (`--corpus`); relative paths are read from the "
          "current directory", path="always",
          allowed_text="a comma-separated list of paths (or a YAML list)"),
    Param("ingest", "input_format", "str", "auto",
          "how to read the inputs; auto detects each file's format", choices=INPUT_FORMATS),
    Param("ingest", "fuzzy_threshold", "float", 92.0,
          "title similarity (0–100) above which two records are one paper",
          minimum=0, maximum=100, exclusive_minimum=True),
    Param("ingest", "keep_title_only", "bool", False,
          "keep records with a title but no abstract"),
    Param("topics", "embedding_model", "str", "all-MiniLM-L6-v2",
          "packaged model, or a local sentence-transformers folder", path="if-exists"),
    Param("topics", "embedding_backend", "str", "auto",
          "`torch` (fp32), `torch-bf16` (the same model, bfloat16 matrix products; for CPUs "
          "with AMX or AVX-512 BF16), `onnx-int8` (the model exported to ONNX and "
          "quantized), `two-stage` (the model embeds a sample, every other paper is mapped "
          "into its space from its TF-IDF) or `auto` (below 10,000 papers torch-bf16 where "
          "the CPU has bf16 instructions, else torch below 2,000 papers and onnx-int8 "
          "above; two-stage from 10,000)", choices=EMBEDDING_BACKENDS),
    Param("topics", "two_stage_sample_size", "int", 1000,
          "papers the two-stage path embeds with the model", minimum=1),
    Param("topics", "long_text", "str", "truncate",
          "texts longer than the model reads (256 word pieces): `truncate` (read the start) or "
          "`windows` (sentence windows with the title, averaged; about 2x the embedding time)",
          choices=LONG_TEXT_MODES),
    Param("topics", "seed", "int", 42,
          "seed for the 2-D map, the stability subsamples and the two-stage sample",
          minimum=0, maximum=2**32 - 1),
    Param("topics", "min_topic_size", "int", 0,
          "smallest theme; 0 picks it from the corpus size", minimum=0, refused=(1,),
          allowed_text="0 (picked from the corpus size) or an integer >= 2"),
    Param("topics", "nr_topics", "int", 0,
          "number of themes; 0 chooses it from the theme tree", minimum=0),
    Param("topics", "min_strand_size", "int", 3,
          "smallest research line (strand) inside a theme", minimum=1),
    Param("topics", "refit_from_previous", "bool", True,
          "with a previous map in the output folder (and nr_topics 0), the themes start "
          "from it (new papers at their nearest, then k-means rounds), so added papers do "
          "not reshuffle the outline you curated; false fits afresh from the tree (after "
          "changing the embedding model, say)"),
    Param("topics", "outlier_threshold", "float", 0.0,
          "minimum similarity to a theme's centre to be placed; 0 takes the cut-off from "
          "the corpus", minimum=0, maximum=1),
    Param("topics", "umap_n_neighbors", "int", 15,
          "neighbourhood size of the 2-D map: smaller keeps more local structure", minimum=2),
    Param("topics", "stability_seeds", "int", 3,
          "refits with other seeds and on random 90 % subsamples, compared by adjusted Rand "
          "index", minimum=0),
    Param("topics", "top_n_terms", "int", 10, "key terms per theme", minimum=1),
    Param("topics", "batch_size", "int", 32, "embedding batch size", minimum=1),
    Param("topics", "update", "bool", False,
          "place papers new since the last full fit onto its map (`--update`) instead of "
          "refitting; papers that fit no theme become candidates for a new theme"),
    Param("review", "title", "str", "A thematic review of the corpus", "report title"),
    Param("review", "author", "str", "", "author line (empty: none)"),
    Param("review", "n_representative", "int", 5, "representative papers per theme",
          minimum=1),
    Param("review", "n_key_sentences", "int", 3, "key sentences quoted per theme",
          minimum=1),
    Param("review", "formats", "list", ["html", "pdf", "md"], "report formats",
          choices=REPORT_FORMATS),
    Param("review", "citation_style", "str", "apa",
          "CSL style of the references (papers with authors and a year)",
          choices=CITATION_STYLES),
    Param(EVERY_STAGE, "curation_file", "str", "../data/review.yaml",
          "your curation file (renames, merges, moves, exclusions; see README); a missing "
          "file is no curation; `litreview run` looks next to the corpus", path="always",
          allowed_text="a path to a YAML file"),
    Param(EVERY_STAGE, "curation_strict", "bool", True,
          "stop on a curation entry that matches nothing (false: warn and go on with the "
          "valid entries)"),
    Param(EVERY_STAGE, "out_dir", "str", "../outputs",
          "every stage reads and writes under this folder (set by `--out`)",
          path="always", settable=False),
)


def by_name() -> dict[str, Param]:
    """Every declared parameter by name."""
    return {p.name: p for p in PARAMETERS}


def for_stage(stage: str) -> dict[str, Param]:
    """The parameters the notebook of ``stage`` declares, in declaration order."""
    return {p.name: p for p in PARAMETERS if p.stage in (stage, EVERY_STAGE)}


def defaults(stage: str) -> dict[str, Any]:
    """The notebook defaults of ``stage``'s parameters."""
    return {name: _copy(p.default) for name, p in for_stage(stage).items()}


def _copy(value: Any) -> Any:
    return list(value) if isinstance(value, list) else value


def lookup(name: str, stages: Sequence[str] | None = None) -> Param:
    """Return the parameter ``name``; refuse names no notebook of ``stages`` declares."""
    stages = list(stages) if stages is not None else list(STAGE_NUMBERS)
    known = {n: p for stage in stages for n, p in for_stage(stage).items() if p.settable}
    if name in known:
        return known[name]
    everywhere = by_name()
    if name in everywhere and not everywhere[name].settable:
        raise ParameterError(f"parameter {name!r} is set by the runner (use --out), "
                             "not with -p or --params")
    listing = "; ".join(
        f"{stage}: {', '.join(sorted(n for n, p in for_stage(stage).items() if p.settable))}"
        for stage in stages
    )
    where = (f" (it belongs to stage {everywhere[name].stage}, which this run leaves out)"
             if name in everywhere else "")
    raise ParameterError(
        f"unknown parameter(s) {name} for stages {', '.join(stages)}{where}. "
        f"Known parameters — {listing}"
    )


def parse(param: Param, value: Any) -> Any:
    """Turn ``value`` (text from ``-p``/a file, or an already typed value) into a checked value.

    Raises :class:`ParameterError` naming the parameter, the value and what is allowed.
    """
    typed = _typed(param, value)
    _check(param, typed, value)
    return typed


def _fail(param: Param, value: Any, why: str = "") -> ParameterError:
    shown = value if isinstance(value, str) else repr(value)
    return ParameterError(
        f"parameter {param.name!r}: {shown!r} is not allowed{': ' + why if why else ''}; "
        f"allowed: {param.allowed()}"
    )


def _typed(param: Param, value: Any) -> Any:
    kind = param.type
    if kind == "str":
        if isinstance(value, str):
            return value
        raise _fail(param, value, "expected text")
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
            return value.strip().lower() in _TRUE
        raise _fail(param, value)
    if kind == "int":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and _INT.fullmatch(value.strip()):
            return int(value.strip())
        raise _fail(param, value, "not an integer")
    if kind == "float":
        if isinstance(value, bool):
            raise _fail(param, value, "not a number")
        if isinstance(value, int | float):
            number = float(value)
        elif isinstance(value, str):
            try:
                number = float(value.strip())
            except ValueError:
                raise _fail(param, value, "not a number") from None
        else:
            raise _fail(param, value, "not a number")
        if not math.isfinite(number):
            raise _fail(param, value, "not a finite number")
        return number
    if kind == "list":
        return _typed_list(param, value)
    raise AssertionError(f"undeclared type {kind!r} of {param.name}")  # pragma: no cover


def _typed_list(param: Param, value: Any) -> list[str]:
    original = value
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = yaml.load(text, Loader=yaml.BaseLoader)  # BaseLoader: str/list/dict only
            except yaml.YAMLError as err:
                raise _fail(param, text, f"not a YAML list ({_one_line(err)})") from None
        else:
            value = [part.strip() for part in text.split(",")]
    if isinstance(value, tuple):
        value = list(value)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(param, original, "expected a list of plain values")
    items = [v.strip() for v in value]
    if not items or any(not v for v in items):
        raise _fail(param, original, "empty item")
    return items


def _check(param: Param, typed: Any, original: Any) -> None:
    if param.choices:
        items = typed if param.type == "list" else [typed]
        bad = [v for v in items if v not in param.choices]
        if bad:
            raise _fail(param, original, f"unknown {', '.join(map(repr, bad))}")
    if param.type in ("int", "float"):
        low, high = param.minimum, param.maximum
        too_low = low is not None and (typed <= low if param.exclusive_minimum else typed < low)
        if too_low or (high is not None and typed > high) or typed in param.refused:
            raise _fail(param, original, "out of range")


def resolve_paths(param: Param, value: Any, cwd: str | os.PathLike | None = None) -> Any:
    """Make relative paths in ``value`` absolute against ``cwd`` (default: the current one).

    ``path="if-exists"`` values (a model name or a folder) change only when such a path
    exists.
    """
    if param.path is None:
        return value
    base = Path(cwd) if cwd is not None else Path.cwd()

    def one(text: str) -> str:
        path = Path(text).expanduser()
        candidate = path if path.is_absolute() else base / path
        if param.path == "if-exists" and not candidate.exists():
            return text
        return os.path.abspath(candidate)

    return [one(v) for v in value] if isinstance(value, list) else one(value)


def parse_assignments(
    assignments: Mapping[str, Any], stages: Sequence[str] | None = None,
    *, cwd: str | os.PathLike | None = None,
) -> dict[str, Any]:
    """Check names and values of a flat mapping; return typed values, paths made absolute."""
    parsed: dict[str, Any] = {}
    for name, value in assignments.items():
        param = lookup(str(name), stages)
        parsed[param.name] = resolve_paths(param, parse(param, value), cwd)
    return parsed


def read_file(path: str | os.PathLike) -> dict[str, Any]:
    """Read one flat ``--params`` YAML file into untyped values (text or lists of text).

    Raises :class:`ParameterError` for a file that cannot be read, is not UTF-8 text, is
    not YAML, or is not a flat mapping of names to values.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise ParameterError(f"{path}: is a folder, not a parameter file") from None
    except OSError as err:
        raise ParameterError(f"{path}: cannot be read ({err.strerror or err})") from None
    if b"\x00" in data:
        raise ParameterError(f"{path}: is not a text file (it contains NUL bytes)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ParameterError(f"{path}: is not UTF-8 text (byte {err.start})") from None
    try:
        content = yaml.load(text, Loader=yaml.BaseLoader)  # BaseLoader: str/list/dict only
    except yaml.YAMLError as err:
        raise ParameterError(f"{path}: is not valid YAML: {_one_line(err)}") from None
    if content is None or content == "":
        return {}
    if not isinstance(content, dict):
        raise ParameterError(f"{path}: expected a flat mapping of parameter: value")
    for name, value in content.items():
        if isinstance(value, dict) or (
            isinstance(value, list) and not all(isinstance(v, str) for v in value)
        ):
            raise ParameterError(
                f"{path}: parameter {name!r} has a nested value; expected a flat mapping "
                "of parameter: value (lists of plain values are fine)"
            )
    return content


def read_files(paths: Iterable[str | os.PathLike]) -> dict[str, Any]:
    """Merge ``--params`` files (untyped); later files win."""
    merged: dict[str, Any] = {}
    for path in paths:
        merged.update(read_file(path))
    return merged


def _one_line(err: Exception) -> str:
    return " ".join(str(err).split())


def format_default(param: Param) -> str:
    """The default as a user would type it (``[html, pdf, md]``, ``false``, ``""``)."""
    value = param.default
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(value) + "]"
    if value == "":
        return '""'
    return str(value)


def markdown_table() -> str:
    """README's parameter table, generated from the declaration (settable parameters)."""
    lines = ["| stage | parameter | type | default | allowed | meaning |",
             "|---|---|---|---|---|---|"]
    for p in PARAMETERS:
        if not p.settable:
            continue
        stage = STAGE_NUMBERS.get(p.stage, "all")
        lines.append(f"| {stage} | `{p.name}` | {p.type} | "
                     f"`{format_default(p)}` | {p.allowed()} | {p.help} |")
    return "\n".join(lines) + "\n"


def listing(stages: Sequence[str]) -> str:
    """The text ``litreview params`` prints: per stage, each parameter with type, default, help."""
    out: list[str] = []
    for stage in stages:
        out.append(f"{stage} ({STAGE_NUMBERS[stage]}):")
        for p in for_stage(stage).values():
            out.append(f"  {p.name}: {p.type} = {format_default(p)}")
            out.append(f"      {p.help}; allowed: {p.allowed()}")
    return "\n".join(out) + "\n"
