"""The ``litreview`` command: run the whole review, or ingest files alone.

Every failure the user can cause ends in one line on stderr and exit status 2 (bad
arguments, parameters, output folder, a refused stage) or 1 (a stage failed, or an
unexpected error); a traceback only with ``--debug`` or ``LITREVIEW_DEBUG=1``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from litreview import __version__, config, io, params
from litreview.curation import default_path as default_curation_path
from litreview.curation import load_curation

INPUT_FORMATS = params.INPUT_FORMATS
#: Environment variable that makes unexpected errors show their traceback.
DEBUG_ENV = "LITREVIEW_DEBUG"


class UsageError(Exception):
    """A mistake in the command's arguments: printed as one line, exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``litreview`` command."""
    parser = argparse.ArgumentParser(
        prog="litreview",
        description="Literature-review workbook: ingest -> topics -> thematic review.",
    )
    parser.add_argument("--version", action="version", version=f"litreview {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help=f"show the traceback of an unexpected error (or set {DEBUG_ENV}=1)")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser(
        "run",
        help="execute the notebooks with papermill into DIR (default outputs/)",
        description="Execute notebooks 01 ingest, 02 topics, 03 review in order with papermill.",
    )
    run.add_argument("--corpus", nargs="+", metavar="PATH",
                     help=f"files or folders to review (default {config.DEFAULT_CORPUS_DIR})")
    run.add_argument("--params", action="append", default=[], metavar="FILE.yaml",
                     help="flat YAML of notebook parameters; repeatable, later files win")
    run.add_argument("-p", "--parameter", nargs=2, action="append", default=[],
                     metavar=("KEY", "VALUE"),
                     help="one notebook parameter, typed by its declaration "
                          "(`litreview params`): -p seed 7, -p formats html,md")
    run.add_argument("--out", type=Path, default=config.DEFAULT_OUT_DIR, metavar="DIR",
                     help="output directory (default outputs/)")
    run.add_argument("--stages", default=None,
                     help="comma-separated subset of ingest,topics,review (default all); "
                          "stages named here re-run even when up to date")
    run.add_argument("--force", action="store_true",
                     help="re-run every stage of the run, even those whose inputs, "
                          "parameters and outputs are unchanged (by default they are skipped)")
    run.add_argument("--rerun-stale", action="store_true",
                     help="also run the earlier stages whose files are missing, failed or stale")
    run.add_argument("--update", action="store_true",
                     help="place new papers onto the last full fit's map instead of "
                          "refitting (parameter update); without a map, a full fit")
    run.add_argument("--keep-title-only", action="store_true",
                     help="keep records that have a title but no abstract")
    run.add_argument("--no-html", action="store_true",
                     help="skip the no-input HTML copy of each executed notebook")

    ingest = sub.add_parser(
        "ingest",
        help="parse, clean and deduplicate listings (no notebook); print a summary",
        description="Run the ingest step alone and write DIR/data/{papers,records}.parquet.",
    )
    ingest.add_argument("paths", nargs="+", metavar="PATH", help="files or folders")
    ingest.add_argument("--out", type=Path, default=config.DEFAULT_OUT_DIR, metavar="DIR")
    ingest.add_argument("--format", dest="input_format", default="auto", choices=INPUT_FORMATS)
    ingest.add_argument("--fuzzy-threshold", type=_declared("fuzzy_threshold"), default=92.0,
                        help="rapidfuzz title similarity (0-100] above which titles merge")
    ingest.add_argument("--keep-title-only", action="store_true",
                        help="keep records that have a title but no abstract")
    ingest.add_argument("--curation", type=Path, default=None, metavar="FILE",
                        help="screen with this curation file's exclude / include_only "
                             "(default: none)")
    ingest.add_argument("--lenient", action="store_true",
                        help="skip curation entries that match nothing, with a warning "
                             "(default: stop)")

    init = sub.add_parser(
        "init",
        help="write a commented curation file (review.yaml) to edit",
        description="Write the commented curation template next to the corpus (or to "
                    "--curation FILE), listing the themes of the last run in --out. "
                    "An existing file is never overwritten.",
    )
    init.add_argument("--corpus", nargs="+", metavar="PATH",
                      help=f"the corpus the file curates (default {config.DEFAULT_CORPUS_DIR})")
    init.add_argument("--curation", type=Path, default=None, metavar="FILE",
                      help="where to write it (default: review.yaml next to the corpus)")
    init.add_argument("--out", type=Path, default=config.DEFAULT_OUT_DIR, metavar="DIR",
                      help="the run whose themes to list (default outputs/)")

    listing = sub.add_parser("params", help="list every notebook parameter with its default")
    listing.add_argument("--stages", default=",".join(config.STAGES))
    listing.add_argument("--markdown", action="store_true",
                         help="print README's parameter table instead")
    return parser


def _declared(name: str) -> Any:
    """An argparse ``type`` that parses and checks a value as parameter ``name`` declares."""
    param = params.by_name()[name]

    def parse(text: str) -> Any:
        try:
            return params.parse(param, text)
        except params.ParameterError as err:
            raise argparse.ArgumentTypeError(str(err)) from None

    parse.__name__ = name
    return parse


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``litreview`` console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    debug = args.debug or os.environ.get(DEBUG_ENV, "") not in ("", "0")
    from litreview.curation import CurationError
    from litreview.pipeline import (
        CurationStopped,
        OutputLocked,
        ParameterError,
        StageFailed,
        StaleStage,
    )

    try:
        if args.command == "run":
            return _run(args)
        if args.command == "ingest":
            return _ingest(args)
        if args.command == "init":
            return _init(args)
        return _params(args)
    except KeyboardInterrupt:
        print("litreview: interrupted", file=sys.stderr)
        return 130
    except CurationError as err:
        print(f"litreview: {one_line(err)}", file=sys.stderr)
        return 2
    except (UsageError, ParameterError, StaleStage, OutputLocked, CurationStopped) as err:
        print(f"litreview: {err}", file=sys.stderr)
        return 2
    except StageFailed as err:
        print(f"litreview: {err}", file=sys.stderr)
        return 1
    except OSError as err:
        if debug:
            raise
        print(f"litreview: {_os_error(err)}", file=sys.stderr)
        return 1
    except Exception as err:
        if debug:
            raise
        print(f"litreview: unexpected error: {type(err).__name__}: {err} "
              f"(run with --debug or {DEBUG_ENV}=1 for the traceback)", file=sys.stderr)
        return 1


def one_line(err: Exception) -> str:
    """A multi-line message (the curation file's problems) joined into one line."""
    head, *lines = str(err).splitlines() or [""]
    return f"{head} {'; '.join(line.strip() for line in lines)}".strip()


def _os_error(err: OSError) -> str:
    where = f"{err.filename}: " if err.filename else ""
    return f"{where}{err.strerror or err}"


def _parse_stages(text: str) -> list[str]:
    stages = [s.strip() for s in text.split(",") if s.strip()]
    unknown = [s for s in stages if s not in config.STAGES]
    if unknown or not stages:
        raise SystemExit(
            f"litreview: --stages takes a comma-separated subset of {','.join(config.STAGES)}"
        )
    return stages


def check_out_dir(out: Path, corpus: Sequence[str | os.PathLike] = ()) -> Path:
    """Return ``out`` made absolute after checking it can hold a run's outputs.

    Refused with :class:`UsageError`: a file (or a path under one), a folder that cannot
    be created or written, and a folder inside (or equal to) a corpus folder, whose
    outputs the next ingest would read back as papers.
    """
    out = Path(os.path.abspath(out.expanduser()))
    for parent in [out, *out.parents]:
        if parent.exists():
            if not parent.is_dir():
                raise UsageError(f"--out {out}: {parent} is a file, not a folder")
            break
    for item in corpus:
        folder = Path(os.path.abspath(Path(item).expanduser()))
        real_folder, real_out = folder.resolve(), out.resolve()
        if folder.is_dir() and (real_out == real_folder or real_folder in real_out.parents):
            raise UsageError(
                f"--out {out} is inside the corpus folder {folder}: the next ingest would "
                "read the outputs as papers; choose an --out outside it"
            )
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".litreview-write-test.", dir=out)
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise UsageError(f"--out {out} cannot be written: {err.strerror or err}") from None
    return out


def _run(args: argparse.Namespace) -> int:
    from litreview.pipeline import run_pipeline, stale_stages

    named = _parse_stages(args.stages) if args.stages is not None else []
    stages = named or list(config.STAGES)
    if args.rerun_stale:
        extra = stale_stages(Path(os.path.abspath(args.out)), stages)
        if extra:
            print(f"[litreview] also running the stale or missing stage(s): {', '.join(extra)}")
            stages = [s for s in config.STAGES if s in {*stages, *extra}]
    raw: dict[str, Any] = params.read_files(args.params)
    for key, value in args.parameter:
        raw[key] = value
    if args.corpus:
        raw["corpus_paths"] = list(args.corpus)
    if args.keep_title_only:
        raw["keep_title_only"] = True
    if args.update:
        if "topics" not in stages:
            raise UsageError("--update changes the topics stage: include topics in --stages")
        raw["update"] = True
    parameters = params.parse_assignments(raw, stages)  # relative paths: against the cwd
    if "ingest" in stages and "corpus_paths" not in parameters:
        if args.rerun_stale and named and "ingest" not in named:
            raise UsageError("ingest must be re-run: say what to read with --corpus")
        parameters["corpus_paths"] = [str(config.DEFAULT_CORPUS_DIR)]
    if "curation_file" not in parameters:
        corpus = parameters.get("corpus_paths") or [str(config.DEFAULT_CORPUS_DIR)]
        parameters["curation_file"] = str(default_curation_path(corpus))
    # Pre-flight: a curation file that is not YAML or asks for what cannot be (unknown keys,
    # malformed ids) stops the run here, before any stage writes (CurationError).
    curation = load_curation(parameters["curation_file"],
                             strict=parameters.get("curation_strict", True))
    for problem in curation.problems:
        print(f"[litreview] warning: curation entry skipped: {problem}", file=sys.stderr)
    out = check_out_dir(args.out, parameters.get("corpus_paths", ()))
    if "topics" in stages and parameters.get("curation_strict", True):
        _check_theme_ids_before_running(curation, out)
    force = stages if args.force else named
    run_pipeline(out, parameters=parameters, stages=stages, export_html=not args.no_html,
                 force=force)
    print(f"[litreview] outputs in {out}")
    return 0


def _check_theme_ids_before_running(curation: Any, out: Path) -> None:
    """Stop (CurationError) on theme ids the curation names that the previous map never had.

    Checked before any stage runs, so a typo'd id stops a strict run before ingest rewrites
    its tables; a lenient run is warned by the topics stage, which also checks the ids
    against the map it fits when there is no previous map.
    """
    from litreview.curation import check_theme_ids, settle

    data = config.data_dir(out)
    if curation.is_empty or not (data / "topics.parquet").exists():
        return
    import pandas as pd

    known: set[str] = set()
    for name, columns in (("topics", ("theme_id",)), ("doc_topics", ("theme_id", "auto_theme_id")),
                          ("theme_changes", ("theme_id", "previous_theme_id"))):
        path = data / f"{name}.parquet"
        if not path.exists():
            continue
        table = pd.read_parquet(path)
        for column in columns:
            if column in table.columns:
                known.update(str(v) for v in table[column].dropna() if str(v))
    if known:  # else a map from before theme ids: the topics stage derives them
        settle(check_theme_ids(curation, known), strict=True)


def _ingest(args: argparse.Namespace) -> int:
    from litreview.ingest import IngestError, format_summary, run_ingest
    from litreview.pipeline import lock_output, record_complete

    out = check_out_dir(args.out, args.paths)
    try:
        with lock_output(out):
            result = run_ingest(
                args.paths,
                out,
                input_format=args.input_format,
                fuzzy_threshold=args.fuzzy_threshold,
                keep_title_only=args.keep_title_only,
                curation_file=args.curation,
                curation_strict=not args.lenient,
            )
            record_complete(out, "ingest", {})  # later stages may build on it
    except IngestError as err:
        print(f"litreview ingest: {err}", file=sys.stderr)
        return 2
    for message in result.messages:
        print(f"warning: {message}", file=sys.stderr)
    print(format_summary(result))
    return 0


def _init(args: argparse.Namespace) -> int:
    from litreview.curation import template

    corpus = args.corpus or [str(config.DEFAULT_CORPUS_DIR)]
    target = args.curation or default_curation_path(corpus)
    if target.exists():
        raise UsageError(f"{target} already exists; it is left as it is (edit it, or "
                         "remove it to start from the template)")
    io.write_text(target, template(current_themes(args.out)))
    print(f"[litreview] wrote {target}: edit it, then `litreview run` honours it")
    return 0


def current_themes(out: str | os.PathLike) -> list[tuple[str, str]]:
    """``(theme_id, label)`` of the themes in ``DIR/data/topics.parquet``, largest first;
    none when the file is missing or has no ``theme_id`` column (an older run)."""
    path = config.data_dir(out) / "topics.parquet"
    if not path.is_file():
        return []
    import pandas as pd

    topics = pd.read_parquet(path)
    if "theme_id" not in topics.columns:
        return []
    label = "label" if "label" in topics.columns else "theme_id"
    topics = topics[topics["theme_id"].astype(str) != ""]
    if "size" in topics.columns:
        topics = topics.sort_values(["size", "theme_id"], ascending=[False, True])
    return [(str(t), str(n)) for t, n in zip(topics["theme_id"], topics[label], strict=True)]


def _params(args: argparse.Namespace) -> int:
    if args.markdown:
        print(params.markdown_table(), end="")
        return 0
    print(params.listing(_parse_stages(args.stages)), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
