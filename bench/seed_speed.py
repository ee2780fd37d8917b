"""``litreview run`` on the bundled corpus beside a plain BERTopic script, per stage and step.

Each round runs, interleaved: the plain BERTopic script (``bench/plain_bertopic.py``);
litreview cold (a fresh output folder, no caches); warm (the same command again: every
stage's contract holds, so every stage is skipped); edit-only (a review parameter
changed: only the review re-runs). Medians over the rounds and the ratio cold ÷ plain
go to RESULTS.md. Step timings come from ``DIR/manifest.json``
(``stages.<stage>.timings_s`` and ``notebook_seconds``) and per-cell durations from
the executed notebooks (papermill's ``metadata.papermill.duration``).
"""

from __future__ import annotations

import json
import re
import resource
import shutil
import statistics
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from common import (
    BENCH_DIR,
    REPO_ROOT,
    WORK_DIR,
    Doc,
    append_results,
    cli_value,
    machine_info,
    machine_line,
    markdown_table,
    write_jsonl_gz,
)
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
        for step, seconds in (record.get("background_s") or {}).items():
            rows.append({"stage": stage, "step": f"background: {step}", "seconds": seconds})
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


#: The variants of one round, in run order (``edit`` and ``warm`` reuse ``cold``'s folder).
VARIANTS = ("plain", "cold", "warm", "edit")
VARIANT_TEXT = {
    "plain": "plain BERTopic script (bench/plain_bertopic.py)",
    "cold": "litreview run, empty output folder",
    "warm": "litreview run again, nothing changed",
    "edit": "litreview run, review parameter `title` changed",
}
TARGET_COLD_S = 40.0
TARGET_EDIT_S = 10.0
_SKIPPED = re.compile(r"^\[litreview\] (\w+): up to date\b", re.M)
_RAN = re.compile(r"^\[litreview\] (\w+): running \S+ \((.*)\) \.\.\.$", re.M)


def prepare_inputs(work: Path, limit: int | None = None) -> tuple[list[str], Path]:
    """Ingest data/corpus/ once (untimed) and write its papers as JSON lines for the plain
    script; with ``limit``, a fixed random sample that litreview reads too.

    Returns litreview's ``--corpus`` arguments and the JSON-lines file of the same papers.
    """
    import pandas as pd

    prep = work / "seed-prep"
    shutil.rmtree(prep, ignore_errors=True)
    corpus = REPO_ROOT / "data" / "corpus"
    proc = subprocess.run([sys.executable, "-m", "litreview.cli", "ingest", str(corpus),
                           "--out", str(prep)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"ingest of {corpus} failed:\n{proc.stderr[-2000:]}")
    papers = pd.read_parquet(prep / "data" / "papers.parquet")
    if limit is not None and limit < len(papers):
        papers = papers.sample(n=limit, random_state=0).sort_index()
    docs = [Doc(str(r.paper_id), str(r.title or ""), str(r.abstract or ""), None)
            for r in papers.itertuples()]
    name = "seed-papers.jsonl.gz" if limit is None else f"seed-papers-n{limit}.jsonl.gz"
    papers_file = write_jsonl_gz(docs, work / "inputs" / name)
    return ([str(corpus)] if limit is None else [str(papers_file)]), papers_file


def litreview_command(out_dir: Path, corpus: Sequence[str],
                      overrides: Mapping[str, Any] | None = None,
                      extra: Sequence[str] = ()) -> list[str]:
    """The ``litreview run`` command line of one timed run."""
    cmd = [sys.executable, "-m", "litreview.cli", "run", "--out", str(out_dir),
           "--corpus", *corpus]
    for key, value in (overrides or {}).items():
        cmd += ["-p", key, cli_value(value)]
    return [*cmd, *extra]


def timed(cmd: Sequence[str], log_path: Path, out_dir: Path | None = None) -> dict[str, Any]:
    """Run ``cmd`` monitored; wall and CPU seconds (its whole tree), peak RSS, what
    litreview skipped and re-ran (from its terminal log).

    With ``out_dir`` (litreview's output folder): ``report_s``, the seconds until
    ``report/review.html`` was rewritten (the report a user reads: edit -> updated
    report), and the CPU of the background PDF writer, which outlives the kernel that
    started it and so escapes ``getrusage`` (its own count, from the manifest).
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    watch = out_dir / "report" / "review.html" if out_dir is not None else None
    stats = run_monitored(cmd, log_path=log_path, watch=watch)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    text = log_path.read_text(encoding="utf-8", errors="replace")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    ran = [m[0] for m in _RAN.findall(text)]
    if out_dir is not None and "review" in ran:
        cpu += background_cpu(out_dir / "manifest.json")
    return {"wall_s": round(stats.seconds, 2), "cpu_s": round(cpu, 2),
            "report_s": round(stats.watched_s, 2) if stats.watched_s is not None else None,
            "peak_rss_mb": stats.peak_rss_mb, "returncode": stats.returncode,
            "skipped": _SKIPPED.findall(text), "ran": ran,
            "why": {m[0]: m[1] for m in _RAN.findall(text)}, "log": str(log_path),
            "tail": stats.output_tail[-1500:] if stats.returncode else ""}


def background_cpu(manifest_path: Path) -> float:
    """CPU seconds of the review stage's background PDF writer, from the manifest (0 if none)."""
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return 0.0
    record = manifest.get("stages", {}).get("review", {})
    return float((record.get("background_s") or {}).get("pdf_cpu", 0.0))


def round_order(index: int, variants: Sequence[str]) -> list[str]:
    """The variants of round ``index``: litreview's in dependency order, the plain script
    first in even rounds and last in odd ones (so neither always runs on a cold page cache)."""
    own = [v for v in variants if v != "plain"]
    if "plain" not in variants:
        return own
    return ["plain", *own] if index % 2 == 0 else [*own, "plain"]


def summarize(runs: Mapping[str, Sequence[Mapping[str, Any]]]) -> list[dict[str, Any]]:
    """One row per variant: medians of wall, CPU and peak RSS over its successful runs."""
    rows = []
    for variant in [v for v in VARIANTS if v in runs]:
        ok = [r for r in runs[variant] if r["returncode"] == 0]

        def median(key: str, ok: list = ok) -> float | None:
            values = [r[key] for r in ok if r.get(key) is not None]
            return round(statistics.median(values), 2) if values else None

        rows.append({"variant": variant, "what": VARIANT_TEXT[variant], "runs": len(ok),
                     "wall_s": median("wall_s"), "report_s": median("report_s"),
                     "cpu_s": median("cpu_s"),
                     "peak_rss_mb": median("peak_rss_mb"),
                     "skipped": ", ".join(ok[-1]["skipped"]) if ok and variant != "plain"
                     else ""})
    return rows


def verdict(rows: Sequence[Mapping[str, Any]],
            runs: Mapping[str, Sequence[Mapping[str, Any]]]) -> list[str]:
    """PASS/FAIL lines: cold ≤ 40 s, cold ÷ plain ≤ 1.0, edit ≤ 10 s re-running review only."""
    by = {r["variant"]: r for r in rows}
    lines = []
    cold = by.get("cold", {}).get("wall_s")
    plain = by.get("plain", {}).get("wall_s")
    if cold is not None:
        lines.append(f"{'PASS' if cold <= TARGET_COLD_S else 'FAIL'} cold median {cold:.1f} s "
                     f"≤ {TARGET_COLD_S:.0f} s")
    if cold is not None and plain:
        ratio = cold / plain
        lines.append(f"{'PASS' if ratio <= 1.0 else 'FAIL'} cold ÷ plain BERTopic = "
                     f"{cold:.1f} / {plain:.1f} = {ratio:.2f} ≤ 1.0")
    edit = by.get("edit", {}).get("wall_s")
    if edit is not None:
        only_review = all(r["ran"] == ["review"] for r in runs["edit"] if r["returncode"] == 0)
        ran = ", only review re-ran" if only_review else ", but not only review ran"
        report = by["edit"].get("report_s")
        if report is not None:  # the HTML is written first; the PDF follows in the background
            lines.append(f"{'PASS' if report <= TARGET_EDIT_S and only_review else 'FAIL'} "
                         f"edit -> updated HTML report: median {report:.1f} s ≤ "
                         f"{TARGET_EDIT_S:.0f} s{ran}")
        lines.append(f"{'PASS' if edit <= TARGET_EDIT_S and only_review else 'FAIL'} edit "
                     f"whole run (PDF included) median {edit:.1f} s ≤ {TARGET_EDIT_S:.0f} s"
                     f"{ran}")
    warm = runs.get("warm", [])
    if warm:
        none_ran = all(not r["ran"] for r in warm if r["returncode"] == 0)
        lines.append(f"{'PASS' if none_ran else 'FAIL'} warm: "
                     f"{'every stage skipped' if none_ran else 'some stage re-ran'}")
    return lines


def run_seed(*, warm: bool = True, runs: int = 3, limit: int | None = None, plain: bool = True,
             overrides: Mapping[str, Any] | None = None, append: bool = True,
             work: Path = WORK_DIR) -> dict[str, Any]:
    """Time litreview cold, warm and edit-only beside the plain BERTopic script, ``runs``
    interleaved rounds; print medians and the ratio, and append them to RESULTS.md."""
    if runs < 1:
        raise ValueError("--runs must be at least 1")
    work.mkdir(parents=True, exist_ok=True)
    corpus, papers_file = prepare_inputs(work, limit)
    variants = [v for v in VARIANTS if (plain or v != "plain")
                and (warm or v in ("plain", "cold"))]
    out_dir, plain_dir = work / "seed", work / "seed-plain"
    results: dict[str, list[dict[str, Any]]] = {v: [] for v in variants}
    failed = None
    for index in range(runs):
        for variant in round_order(index, variants):
            if variant == "plain":
                shutil.rmtree(plain_dir, ignore_errors=True)
                cmd = [sys.executable, str(BENCH_DIR / "plain_bertopic.py"), str(papers_file),
                       str(plain_dir)]
            else:
                if variant == "cold":
                    shutil.rmtree(out_dir, ignore_errors=True)
                extra = ["-p", "title", f"Seed review, edit {index + 1}"] \
                    if variant == "edit" else []
                cmd = litreview_command(out_dir, corpus, overrides, extra)
            print(f"[seed] round {index + 1}/{runs}: {variant} ...", flush=True)
            result = timed(cmd, work / f"seed-{variant}-{index + 1}.log",
                           None if variant == "plain" else out_dir)
            results[variant].append(result)
            print(f"[seed]   {result['wall_s']:.1f} s wall, {result['cpu_s']:.1f} s CPU"
                  f"{'' if not result['skipped'] else ', skipped ' + ', '.join(result['skipped'])}"
                  f"{'' if result['returncode'] == 0 else ' — FAILED'}", flush=True)
            if result["returncode"] != 0:
                failed = (variant, result)
                print(result["tail"], file=sys.stderr)
                break
        if failed:
            break
    rows = summarize(results)
    lines = verdict(rows, results) if not failed else [
        f"targets not checked: the {failed[0]} run failed (log {failed[1]['log']})"]
    path = out_dir / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    command = " ".join(["python bench/run_bench.py seed", f"--runs {runs}",
                        *([f"--limit {limit}"] if limit is not None else []),
                        *(["--cold-only"] if not warm else []),
                        *(["--no-plain"] if not plain else []),
                        *(f"-p {k} {v}" for k, v in (overrides or {}).items())])
    info = machine_info()
    sample = (f"a fixed sample of {limit} papers of `data/corpus/`" if limit is not None
              else "seed corpus `data/corpus/`")
    md = "\n\n".join([
        f"Input: {sample}; {runs} interleaved round(s) of {', '.join(variants)}; whole "
        f"processes, medians. Command: `{command}`. Machine: {machine_line(info)}.",
        markdown_table(rows, ["variant", "what", "runs", "wall_s", "report_s", "cpu_s",
                              "peak_rss_mb",
                              "skipped"],
                       {"wall_s": "wall s", "report_s": "HTML report written at s",
                        "cpu_s": "CPU s", "peak_rss_mb": "peak RSS MB",
                        "skipped": "stages skipped"}),
        "\n".join(f"- {line}" for line in lines),
        format_run("Last edit-only run" if results.get("edit") else "Last cold run",
                   (results.get("edit") or results.get("cold") or [{"wall_s": 0.0}])[-1]["wall_s"],
                   manifest),
        "- note: numba's on-disk cache of umap (in site-packages) is not cleared, so `cold` "
        "means no litreview caches, not a fresh install; the plain script's input (the "
        "ingested papers as JSON lines) is prepared once, untimed.",
    ])
    print(md)
    record = {"kind": "seed", "command": command, "failed": bool(failed), "limit": limit,
              "rounds": runs, "runs": results, "rows": rows, "targets": lines, "machine": info}
    append_results("Seed corpus: litreview beside plain BERTopic", md, record, append=append)
    return record
