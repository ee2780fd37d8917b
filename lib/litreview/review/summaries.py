"""Tables the 03 notebook shows about a composed review: outline, coverage, a section of
the Markdown and the files written."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from litreview.review.model import Review

# --------------------------------------------------------------------------- summaries


def compute_outline(review: Review) -> pd.DataFrame:
    """The review's table of contents: one row per strand (theme, strand, papers, resources,
    findings, open issues), themes largest first."""
    rows = [
        {"theme": t.name, "theme_papers": t.size, "strand": s.label, "papers": s.size,
         "resources": len(s.resources), "findings": len(s.findings),
         "open_issues": len(s.open_issues)}
        for t in review.themes for s in t.strands
    ]
    return pd.DataFrame(rows, columns=["theme", "theme_papers", "strand", "papers", "resources",
                                       "findings", "open_issues"])


def compute_coverage(review: Review) -> pd.DataFrame:
    """Per theme: papers, papers cited in its section, and how each is cited (by a
    contribution sentence or, when none stands alone, by its title)."""
    rows = []
    for t in review.themes:
        contributions = [c for s in t.strands for c in s.contributions]
        by_title = sum(c.sentence.role == "title" for c in contributions)
        rows.append({"theme": t.name, "papers": t.size, "cited": len(t.cited_ids()),
                     "coverage": len(t.cited_ids()) / max(t.size, 1),
                     "by_sentence": len(contributions) - by_title, "by_title": by_title})
    frame = pd.DataFrame(rows, columns=["theme", "papers", "cited", "coverage", "by_sentence",
                                        "by_title"])
    if len(frame):
        total = frame[["papers", "cited", "by_sentence", "by_title"]].sum()
        frame.loc[len(frame)] = {"theme": "All themes", **total.to_dict(),
                                 "coverage": total["cited"] / max(total["papers"], 1)}
    return frame


def section_markdown(markdown: str, heading: str) -> str:
    """The part of a rendered ``review.md`` under ``### heading``, up to the next theme."""
    start = markdown.find(f"### {heading}\n")
    if start < 0:
        return ""
    end = markdown.find("\n### ", start + 4)
    stop = markdown.find("\n## ", start + 4)
    ends = [e for e in (end, stop) if e >= 0]
    return markdown[start:min(ends) if ends else len(markdown)].strip()


def outputs_table(paths: Iterable[Path]) -> pd.DataFrame:
    """The files the stage wrote, with their size in kB."""
    paths = [Path(p) for p in paths]
    return pd.DataFrame({
        "file": [f"{p.parent.name}/{p.name}" for p in paths],
        "kB": [round(p.stat().st_size / 1024, 1) if p.exists() else None for p in paths],
    })
