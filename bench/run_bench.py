"""Run litreview's benchmarks: ``python bench/run_bench.py quality seed [--limit N]``.

Subcommands (one or more, run in order):

* ``quality``    theme quality on the labeled arXiv set against four baselines;
* ``seed``       ``litreview run`` on data/corpus/ cold, warm (nothing changed) and edit-only
                 (a review parameter changed) beside bench/plain_bertopic.py, interleaved;
* ``scale``      the whole pipeline on the 74k arXiv set: time and peak RSS per stage;
* ``outline``    the seed corpus's themes and strands against a survey author's outline
                 (``tests/fixtures/outline/``), beside k-means and Ward;
* ``embeddings`` throughput and quality of the faster embedding candidates.

Each prints its tables and appends them to bench/RESULTS.md and bench/results.json
(``--no-append`` leaves both untouched). Exit status 2 when a data file is missing.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from common import DEFAULT_SHARED, MissingDataError, ensure_work_dir, offline_env, set_threads

COMMANDS = ("quality", "seed", "scale", "embeddings", "outline")


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the benchmark runner."""
    from embedding_candidates import CANDIDATES, REFERENCE

    parser = argparse.ArgumentParser(
        prog="run_bench.py", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("commands", nargs="+", choices=COMMANDS, metavar="COMMAND",
                        help=f"one or more of {', '.join(COMMANDS)}")
    parser.add_argument("--limit", type=int, default=None, metavar="N",
                        help="use a fixed random sample of N documents (smoke runs)")
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED, metavar="PATH",
                        help="folder holding bench/arxiv-cs/ (default ../shared beside the repo)")
    parser.add_argument("--no-append", dest="append", action="store_false",
                        help="print only; do not touch RESULTS.md / results.json")
    parser.add_argument("--threads", type=int, default=None,
                        help="cap torch/ONNX/BLAS threads (default: the library's choice)")
    parser.add_argument("--embedding", default=REFERENCE, choices=sorted(CANDIDATES),
                        help="embedding candidate for `quality` (default the library path)")
    parser.add_argument("--candidates", nargs="+", default=None, choices=sorted(CANDIDATES),
                        metavar="NAME", help=f"for `embeddings`: subset of {', '.join(CANDIDATES)}")
    parser.add_argument("--no-litreview-assign", dest="litreview_assign", action="store_false",
                        help="for `embeddings`: skip litreview's own assignment per candidate")
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[],
                        metavar=("KEY", "VALUE"),
                        help="notebook parameter override (VALUE read as YAML), e.g. "
                             "-p stability_seeds 0; passed to run_topics / `litreview run`")
    parser.add_argument("--cold-only", action="store_true",
                        help="for `seed`: only the cold runs (no warm or edit-only runs)")
    parser.add_argument("--runs", type=int, default=3, metavar="N",
                        help="for `seed`: interleaved rounds of every variant (default 3; "
                             "medians are reported)")
    parser.add_argument("--no-plain", dest="plain", action="store_false",
                        help="for `seed`: leave out the plain BERTopic script")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the requested benchmarks; return the exit status."""
    args = build_parser().parse_args(argv)
    offline_env()
    set_threads(args.threads)
    ensure_work_dir()
    overrides: dict[str, Any] = {k: yaml.safe_load(v) for k, v in args.parameter}
    status = 0
    try:
        for command in dict.fromkeys(args.commands):
            if command == "quality":
                from quality import run_quality

                run_quality(args.shared, limit=args.limit, embedding=args.embedding,
                            threads=args.threads, overrides=overrides, append=args.append)
            elif command == "embeddings":
                from embedding_candidates import run_candidates

                run_candidates(args.shared, limit=args.limit, names=args.candidates,
                               threads=args.threads, litreview_assign=args.litreview_assign,
                               overrides=overrides, append=args.append)
            elif command == "seed":
                from seed_speed import run_seed

                record = run_seed(warm=not args.cold_only, runs=args.runs, limit=args.limit,
                                  plain=args.plain, overrides=overrides, append=args.append)
                status = 1 if record["failed"] else status
            elif command == "outline":
                from outline import run_outline

                run_outline(append=args.append, overrides=overrides)
            elif command == "scale":
                from scale import run_scale

                run_scale(args.shared, limit=args.limit, overrides=overrides,
                          append=args.append)
    except MissingDataError as err:
        print(f"run_bench.py: {err}", file=sys.stderr)
        return 2
    return status


if __name__ == "__main__":
    raise SystemExit(main())
