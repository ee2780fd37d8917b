"""The ``litreview`` command: run the whole review, or ingest files alone."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from litreview import __version__, config

INPUT_FORMATS = ("auto", "hfpapers", "bibtex", "ris", "csv", "jsonl", "medline", "wos", "openalex", "csljson")  # noqa: E501


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``litreview`` command."""
    parser = argparse.ArgumentParser(
        prog="litreview",
        description="Literature-review workbook: ingest -> topics -> thematic review.",
    )
    parser.add_argument("--version", action="version", version=f"litreview {__version__}")
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
                     help="one notebook parameter (VALUE read as YAML: 12, true, [a, b])")
    run.add_argument("--out", type=Path, default=config.DEFAULT_OUT_DIR, metavar="DIR",
                     help="output directory (default outputs/)")
    run.add_argument("--stages", default=",".join(config.STAGES),
                     help="comma-separated subset of ingest,topics,review (default all)")
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
    ingest.add_argument("--fuzzy-threshold", type=float, default=92.0,
                        help="rapidfuzz title similarity (0-100) above which titles merge")
    ingest.add_argument("--keep-title-only", action="store_true",
                        help="keep records that have a title but no abstract")

    params = sub.add_parser("params", help="list every notebook parameter with its default")
    params.add_argument("--stages", default=",".join(config.STAGES))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``litreview`` console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "run":
            return _run(args)
        if args.command == "ingest":
            return _ingest(args)
        return _params(args)
    except KeyboardInterrupt:
        print("litreview: interrupted", file=sys.stderr)
        return 130


def _parse_stages(text: str) -> list[str]:
    stages = [s.strip() for s in text.split(",") if s.strip()]
    unknown = [s for s in stages if s not in config.STAGES]
    if unknown or not stages:
        raise SystemExit(
            f"litreview: --stages takes a comma-separated subset of {','.join(config.STAGES)}"
        )
    return stages


def _run(args: argparse.Namespace) -> int:
    from litreview.pipeline import (
        ParameterError,
        StageFailed,
        load_parameter_files,
        run_pipeline,
    )

    stages = _parse_stages(args.stages)
    try:
        parameters: dict[str, Any] = load_parameter_files(args.params)
    except (OSError, yaml.YAMLError, ParameterError) as err:
        print(f"litreview: cannot read --params: {err}", file=sys.stderr)
        return 2
    for key, value in args.parameter:
        parameters[key] = yaml.safe_load(value)
    if args.corpus:
        parameters["corpus_paths"] = [str(Path(p).resolve()) for p in args.corpus]
    elif "ingest" in stages and "corpus_paths" not in parameters:
        parameters["corpus_paths"] = [str(config.DEFAULT_CORPUS_DIR)]
    if args.keep_title_only:
        parameters["keep_title_only"] = True
    parameters.pop("out_dir", None)
    try:
        run_pipeline(args.out, parameters=parameters, stages=stages,
                     export_html=not args.no_html)
    except ParameterError as err:
        print(f"litreview: {err}", file=sys.stderr)
        return 2
    except StageFailed as err:
        print(f"litreview: {err}", file=sys.stderr)
        return 1
    print(f"[litreview] outputs in {Path(args.out).resolve()}")
    return 0


def _ingest(args: argparse.Namespace) -> int:
    from litreview.ingest import IngestError, format_summary, run_ingest

    try:
        result = run_ingest(
            args.paths,
            args.out,
            input_format=args.input_format,
            fuzzy_threshold=args.fuzzy_threshold,
            keep_title_only=args.keep_title_only,
        )
    except IngestError as err:
        print(f"litreview ingest: {err}", file=sys.stderr)
        return 2
    for message in result.messages:
        print(f"warning: {message}", file=sys.stderr)
    print(format_summary(result))
    return 0


def _params(args: argparse.Namespace) -> int:
    from litreview.pipeline import notebook_parameters

    for stage in _parse_stages(args.stages):
        print(f"{stage} ({config.STAGE_NOTEBOOKS[stage]}):")
        for name, spec in notebook_parameters(stage).items():
            help_text = f"  # {spec['help']}" if spec.get("help") else ""
            print(f"  {name}: {spec['inferred_type_name']} = {spec['default']}{help_text}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
