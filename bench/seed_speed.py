"""Wall time of ``litreview run`` on the bundled corpus, cold and warm, per stage and step.

Cold: a fresh output folder (no embedding cache). Warm: the same folder again, so
the embedding cache is present. Step timings come from ``DIR/manifest.json``
(``stages.<stage>.timings_s`` and ``notebook_seconds``) and per-cell durations from
the executed notebooks (papermill's ``metadata.papermill.duration``).
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from common import WORK_DIR, append_results, machine_info, machine_line, markdown_table
from procmon import run_monitored

#: Known floor on this kind of machine (s): embedding, UMAP's numba compile, bertopic import.
FLOOR_S = {"embedding": 14.0, "umap_numba_compile": 8.0, "bertopic_import": 5.0}
STAGES = ("ingest", "topics", "review")


def stage_rows(manifest: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Return one row per stage and step from a manifest: notebook seconds, step seconds.

    ``other`` is the stage's notebook time not covered by its recorded steps (kernel
    start, imports, cells without a timer).
    """
    rows: list[dict[str, Any]] = []
    stages = manifest.get("stages", {})
    for stage in [s for s in STAGES if s in stages] + [s for s in stages if s not in STAGES]:
        record = stages[stage]
        nb = record.get("notebook_seconds")
        steps = record.get("timings_s", {}) or {}
        rows.append({"stage": stage, "step": "(notebook total)", "seconds": nb,
                     "status": record.get("status")})
        for step, seconds in steps.items():
            rows.append({"stage": stage, "step": step, "seconds": seconds})
        if nb is not None:
            rows.append({"stage": stage, "step": "other (kernel, imports, untimed cells)",
                         "seconds": round(nb - sum(steps.values()), 3)})
    return rows


def cell_rows(notebook: Path, top: int = 6) -> list[dict[str, Any]]:
    """Return the slowest cells of an executed notebook: first source line and seconds."""
    if not notebook.exists():
        return []
    cells = json.loads(notebook.read_text(encoding="utf-8")).get("cells", [])
    rows = []
    for i, cell in enumerate(cells):
        duration = cell.get("metadata", {}).get("papermill", {}).get("duration")
        if cell.get("cell_type") != "code" or duration is None:
            continue
        source = "".join(cell.get("source", [])).strip().splitlines()
        first = next((ln for ln in source if ln.strip() and not ln.startswith("#")), "")
        rows.append({"notebook": notebook.stem, "cell": i, "code": first[:60].replace("|", "/"),
                     "seconds": round(float(duration), 2)})
    return sorted(rows, key=lambda r: -r["seconds"])[:top]


def format_run(label: str, wall: float, manifest: Mapping[str, Any],
               notebooks_dir: Path | None = None) -> str:
    """Return the Markdown of one run: wall time, stage/step table, slowest cells."""
    parts = [f"**{label}**: `litreview run` wall time {wall:.1f} s", "",
             markdown_table(stage_rows(manifest), ["stage", "step", "seconds"])]
    if notebooks_dir is not None:
        cells = [r for nb in sorted(notebooks_dir.glob("0*.ipynb")) for r in cell_rows(nb)]
        if cells:
            parts += ["Slowest cells:", "", markdown_table(cells)]
    return "\n".join(parts)


def targets(cold: float, warm: float | None) -> list[str]:
    """Return PASS/FAIL lines for cold ≤ 1.5 × floor and warm ≤ 0.5 × cold."""
    floor = sum(FLOOR_S.values())
    lines = [f"{'PASS' if cold <= 1.5 * floor else 'FAIL'} cold {cold:.1f} s ≤ 1.5 × floor "
             f"({floor:.0f} s: {', '.join(f'{k} {v:.0f}' for k, v in FLOOR_S.items())}) "
             f"= {1.5 * floor:.1f} s"]
    if warm is not None:
        lines.append(f"{'PASS' if warm <= 0.5 * cold else 'FAIL'} warm {warm:.1f} s ≤ 0.5 × cold "
                     f"= {0.5 * cold:.1f} s")
    return lines


def run_seed(*, warm: bool = True, overrides: Mapping[str, Any] | None = None,
             append: bool = True, out_dir: Path = WORK_DIR / "seed") -> dict[str, Any]:
    """Time ``litreview run`` on data/corpus/ cold, then warm; print and record."""
    shutil.rmtree(out_dir, ignore_errors=True)
    cmd = [sys.executable, "-m", "litreview.cli", "run", "--out", str(out_dir)]
    for key, value in (overrides or {}).items():
        cmd += ["-p", key, yaml.safe_dump(value, default_flow_style=True).strip()]
    runs: dict[str, Any] = {}
    sections = []
    for label in ("cold", "warm") if warm else ("cold",):
        print(f"[seed] {label} run ...", flush=True)
        stats = run_monitored(cmd, log_path=out_dir.parent / f"seed-{label}.log")
        path = out_dir / "manifest.json"
        manifest = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        runs[label] = {"wall_s": round(stats.seconds, 2), "peak_rss_mb": stats.peak_rss_mb,
                       "returncode": stats.returncode, "stages": manifest.get("stages", {})}
        failed = stats.returncode != 0
        title = f"{label.capitalize()} run" + (" — FAILED" if failed else "")
        sections.append(format_run(title, stats.seconds, manifest, out_dir / "notebooks"))
        if failed:
            error = [ln for ln in stats.output_tail.splitlines() if "failed" in ln]
            sections.append(f"`litreview run` exited {stats.returncode}: "
                            f"{error[-1] if error else stats.output_tail[-300:]}")
            print(stats.output_tail, file=sys.stderr)
            break
    complete = all(r["returncode"] == 0 for r in runs.values())
    verdict = (targets(runs["cold"]["wall_s"], runs.get("warm", {}).get("wall_s")) if complete
               else ["targets not checked: a stage failed"])
    info = machine_info()
    md = "\n\n".join([f"Seed corpus `data/corpus/`. Machine: {machine_line(info)}.", *sections,
                      "\n".join(f"- {line}" for line in verdict),
                      "- note: numba's on-disk cache of umap (in site-packages) is not cleared, "
                      "so `cold` means no litreview caches, not a fresh install."])
    print(md)
    record = {"kind": "seed", "runs": runs, "targets": verdict, "floor_s": FLOOR_S,
              "machine": info}
    append_results("Seed corpus speed", md, record, append=append)
    return record
