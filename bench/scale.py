"""The whole review on the 74k arXiv set: wall time and peak memory per stage.

Each stage runs as ``litreview run --stages <stage>`` in turn (the same notebooks as
a full run), monitored for wall time and the peak summed RSS of its process tree
(the CLI, papermill and the notebook kernel). Targets: ≤ 10 min end to end and
≤ 6 GB peak on 2 cores.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from common import (
    SCALE_FILE,
    WORK_DIR,
    append_results,
    cli_value,
    data_file,
    load_jsonl_gz,
    machine_info,
    machine_line,
    markdown_table,
    write_jsonl_gz,
)
from procmon import run_monitored
from seed_speed import stage_rows

from litreview import params

STAGES = ("ingest", "topics", "review")
TARGET_S = 600.0
TARGET_RSS_MB = 6 * 1024.0


def run_scale(shared: Path, *, limit: int | None = None,
              overrides: Mapping[str, Any] | None = None, append: bool = True) -> dict[str, Any]:
    """Run ingest → topics → review on the 74k set (or a sample); print and record."""
    source = data_file(shared, SCALE_FILE)
    if limit is not None:
        source = write_jsonl_gz(load_jsonl_gz(source, limit=limit),
                                WORK_DIR / "inputs" / f"scale-n{limit}.jsonl.gz")
    out_dir = WORK_DIR / f"scale-{'full' if limit is None else f'n{limit}'}"
    shutil.rmtree(out_dir, ignore_errors=True)
    rows: list[dict[str, Any]] = []
    for stage in STAGES:
        cmd = [sys.executable, "-m", "litreview.cli", "run", "--out", str(out_dir),
               "--stages", stage]
        if stage == "ingest":
            cmd += ["--corpus", str(source)]
        for key, value in (overrides or {}).items():
            if key in params.for_stage(stage):  # each stage's command takes only its own
                cmd += ["-p", key, cli_value(value)]
        print(f"[scale] {stage} ...", flush=True)
        stats = run_monitored(cmd, log_path=WORK_DIR / f"scale-{stage}.log")
        rows.append({"stage": stage, "wall_s": round(stats.seconds, 1),
                     "peak_rss_mb": stats.peak_rss_mb, "max_process_rss_mb": stats.max_child_rss_mb,
                     "status": "ok" if stats.returncode == 0 else f"exit {stats.returncode}"})
        if stats.returncode != 0:
            print(stats.output_tail, file=sys.stderr)
            break
    manifest_path = out_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    total = sum(r["wall_s"] for r in rows)
    peak = max((r["peak_rss_mb"] or 0.0) for r in rows)
    n_papers = manifest.get("stages", {}).get("ingest", {}).get("counts", {}).get("papers")
    rows.append({"stage": "end to end", "wall_s": round(total, 1), "peak_rss_mb": peak})
    verdict = [
        f"{'PASS' if total <= TARGET_S else 'FAIL'} end to end {total:.0f} s ≤ {TARGET_S:.0f} s",
        f"{'PASS' if peak <= TARGET_RSS_MB else 'FAIL'} peak RSS {peak:,.0f} MB ≤ "
        f"{TARGET_RSS_MB:,.0f} MB",
        "theme quality of the fast path is checked on the labeled set: the `quality` "
        "benchmark's row 'litreview, two-stage embedding' against litreview on full MiniLM "
        "vectors (≥ 0.9 × its NMI)",
    ]
    info = machine_info()
    md = "\n".join([
        f"Input `{source.name}` ({n_papers} papers after ingest), parameters "
        f"{dict(overrides or {}) or 'notebook defaults'}. Machine: {machine_line(info)}.", "",
        markdown_table(rows, ["stage", "wall_s", "peak_rss_mb", "max_process_rss_mb", "status"],
                       {"wall_s": "wall s", "peak_rss_mb": "peak RSS MB (tree)",
                        "max_process_rss_mb": "largest process MB"}),
        "Steps from the manifest:", "",
        markdown_table(stage_rows(manifest), ["stage", "step", "seconds"]) if manifest else "",
        *(f"- {line}" for line in verdict),
    ])
    print(md)
    record = {"kind": "scale", "limit": limit, "n_papers": n_papers, "rows": rows,
              "targets": verdict, "manifest_stages": manifest.get("stages", {}), "machine": info}
    append_results(f"Scale ({source.name})", md, record, append=append)
    return record
