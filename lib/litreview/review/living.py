"""What the Method section says about curation and about how the map changed.

Reads only what the topics stage wrote: ``data/curation.json`` (the curation applied and
skipped) and ``data/theme_changes.parquet`` (each theme against the previous run), with
the labels of ``topics.parquet`` / ``strands.parquet``. Both files are optional (outputs
of earlier versions lack them): then there is nothing to say.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from litreview import config, io

CURATION_FILE = "curation.json"
CHANGES_TABLE = "theme_changes"


def load(out_dir: str | os.PathLike) -> tuple[dict[str, Any] | None, pd.DataFrame | None]:
    """Return ``(curation.json, theme_changes)`` under ``out_dir``; None for a missing one."""
    folder = config.data_dir(out_dir)
    report = io.read_json(folder / CURATION_FILE) if (folder / CURATION_FILE).is_file() else None
    path = folder / f"{CHANGES_TABLE}.parquet"
    changes = pd.read_parquet(path) if path.is_file() else None
    return report, changes


def _labels(frame: pd.DataFrame | None, key: str, column: str) -> dict[str, str]:
    if frame is None or key not in frame or column not in frame:
        return {}
    return {str(k): str(v) for k, v in zip(frame[key], frame[column], strict=True) if str(k)}


def curation_lines(report: Mapping[str, Any] | None, topics: pd.DataFrame | None = None,
                   strands: pd.DataFrame | None = None,
                   changes: pd.DataFrame | None = None) -> list[str]:
    """One plain sentence per thing the curation file changed, then one per skipped entry.

    E.g. ``renamed “Bias” (t-bias) to “Social bias” (line 4)``, ``merged “A” (t-a) into
    “B” (t-b): 12 papers (line 7)``, ``moved 3 papers to another theme (lines 9, 11, 13)``,
    ``pinned 1 paper as a representative (line 15)``, ``skipped review.yaml:18: …``.
    """
    if not report:
        return []
    auto = {**_labels(changes, "theme_id", "label"), **_labels(topics, "theme_id", "auto_label")}
    final = _labels(topics, "theme_id", "label")
    strand_auto = _labels(strands, "strand_id", "auto_label")
    lines: list[str] = []
    applied: Sequence[Mapping[str, Any]] = report.get("applied") or []
    for entry in applied:
        kind, ident, value, line = entry["kind"], entry["id"], entry["value"], entry["line"]
        if kind == "rename":
            lines.append(f"renamed “{auto.get(ident, ident)}” ({ident}) to “{value}” (line {line})")
        elif kind == "strand-rename":
            lines.append(f"renamed the strand “{strand_auto.get(ident, ident)}” ({ident}) "
                         f"to “{value}” (line {line})")
        elif kind == "merge":
            n = len(entry.get("paper_ids") or [])
            lines.append(f"merged “{auto.get(ident, ident)}” ({ident}) into "
                         f"“{final.get(value, auto.get(value, value))}” ({value}): "
                         f"{n} paper{'s' if n != 1 else ''} (line {line})")
    for kind, text in (("move", "moved {n} paper{s} to another theme"),
                       ("pin", "pinned {n} paper{s} as representative")):
        entries = [e for e in applied if e["kind"] == kind]
        if entries:
            n = len(entries)
            where = ", ".join(str(e["line"]) for e in entries)
            lines.append(text.format(n=n, s="s" if n != 1 else "")
                         + f" (line{'s' if n != 1 else ''} {where})")
    lines += [f"skipped {problem}" for problem in report.get("skipped") or []]
    return lines


def change_rows(changes: pd.DataFrame | None, topics: pd.DataFrame | None = None
                ) -> list[dict[str, Any]]:
    """Rows of the "How the map changed" table: every theme that was not simply kept.

    Empty without a previous run. Each row: ``theme`` (its name now, curated or not),
    ``theme_id``, ``change``, ``previous`` (the previous label and id), ``shared_papers``.
    Call :func:`n_kept` for the themes left out.
    """
    if changes is None or not len(changes) or not (changes["change"] != "").any():
        return []
    final = _labels(topics, "theme_id", "label")
    rows = []
    for row in changes.itertuples(index=False):
        if row.change == "kept":
            continue
        previous = (f"{row.previous_label} ({row.previous_theme_id})" if row.previous_theme_id
                    else "")
        rows.append({"theme": final.get(row.theme_id, row.label) if row.theme_id else "",
                     "theme_id": row.theme_id, "change": row.change, "previous": previous,
                     "shared_papers": int(row.shared_papers)})
    return rows


def n_kept(changes: pd.DataFrame | None) -> int:
    """Themes that kept their id and automatic label since the previous run."""
    return 0 if changes is None or not len(changes) else int((changes["change"] == "kept").sum())
