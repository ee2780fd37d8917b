"""Run stage 03: compose the review, draw its figures, write the report files and record
the stage in the manifest.

This is the one review module that imports :mod:`litreview.report` (inside
:func:`write_review`); the report imports only :mod:`litreview.review.model`, so the
dependency runs one way.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from litreview import config, io, manifest
from litreview.review.compose import _compose
from litreview.review.helpers import _as_list
from litreview.review.inputs import _load_inputs, input_paths
from litreview.review.model import Reference, Review

#: Name of the themes-over-time figures (PNG, SVG and interactive HTML).
TRENDS_FIGURE = "review_themes_over_time"
#: Name of the screening flow figure of the report (with placed / unplaced; the ingest
#: stage's ``screening_flow`` figure stops at the included papers).
SCREENING_FIGURE = "review_screening_flow"

# --------------------------------------------------------------------------- running


def run_review(
    out_dir: str | os.PathLike,
    *,
    title: str = "Thematic review",
    author: str = "",
    n_representative: int = 5,
    n_key_sentences: int = 3,
    formats: Sequence[str] = ("html", "pdf", "md"),
    citation_style: str = "apa",
) -> list[Path]:
    """Build the review, save its figure, write the report files and record the stage.

    Returns the paths written: the strategic diagram figures, then the report files.
    """
    return write_review(out_dir, title=title, author=author, n_representative=n_representative,
                        n_key_sentences=n_key_sentences, formats=formats,
                        citation_style=citation_style)[1]


def write_review(
    out_dir: str | os.PathLike,
    *,
    title: str = "Thematic review",
    author: str = "",
    n_representative: int = 5,
    n_key_sentences: int = 3,
    formats: Sequence[str] = ("html", "pdf", "md"),
    citation_style: str = "apa",
) -> tuple[Review, list[Path]]:
    """:func:`run_review`, also returning the composed :class:`Review` (for the notebook).

    ``citation_style`` (``apa``, ``ieee``, ``chicago-author-date`` or a ``.csl`` path)
    formats the references of papers that have authors and a year.
    """
    from litreview import export, report
    from litreview.plots.review import (
        plot_key_terms,
        plot_strategic_diagram,
        plot_themes_over_time,
        plot_themes_over_time_interactive,
    )
    from litreview.plots.screening import plot_screening_flow

    timer = manifest.Timer()
    with timer("load"):
        inputs = _load_inputs(out_dir)
    with timer("write-up"):
        review = _compose(inputs, n_representative=n_representative,
                          n_key_sentences=n_key_sentences, title=title, author=author)
    with timer("references"):
        review.references = format_cited(review.references, inputs.papers, citation_style)
        review.citation_style = citation_style
    with timer("figures"):
        import matplotlib.pyplot as plt

        fig = plot_strategic_diagram(review.cross.strategic)
        written = io.save_figure(fig, out_dir, "review_strategic_diagram")
        plt.close(fig)
        fig = plot_key_terms(review.cross.term_weights,
                             {t.topic: f"{t.name} ({t.size})" for t in review.themes})
        written += io.save_figure(fig, out_dir, "review_key_terms")
        plt.close(fig)
        if not review.screening.empty:
            fig = plot_screening_flow(review.screening)
            written += io.save_figure(fig, out_dir, SCREENING_FIGURE)
            plt.close(fig)
        written += _save_trend_figures(review, out_dir, plot_themes_over_time,
                                       plot_themes_over_time_interactive)
    for fmt in sorted(formats, key=lambda f: {"html": 0, "pdf": 2}.get(f, 1)):  # HTML first
        with timer(fmt):
            written += report.write_report(review, out_dir, formats=(fmt,))
    with timer("export"):
        written += export.run_export(out_dir, keys=review.keys)
    manifest.record_stage(
        out_dir,
        "review",
        parameters={
            "title": title, "author": author, "n_representative": n_representative,
            "n_key_sentences": n_key_sentences, "formats": list(formats),
            "citation_style": citation_style,
        },
        inputs=input_paths(out_dir),
        timings=timer.timings,
        extra={
            "n_themes": len(review.themes),
            "n_references": len(review.references),
            "n_key_sentences": sum(len(t.key_sentences) for t in review.themes),
            "n_formatted_references": sum(1 for r in review.references if r.formatted),
            "themes_over_time": bool(review.trends and review.trends.shown),
        },
    )
    return review, written


def format_cited(
    references: list[Reference], papers: pd.DataFrame, style: str = "apa"
) -> list[Reference]:
    """Format, once, the references of the cited papers that have authors and a year.

    :func:`litreview.report.citations.format_references` costs tens of milliseconds a
    paper, so only the cited papers go through it, in one call; the others (the seed
    corpus has no authors) keep title, year and source as before.
    """
    from litreview.report.citations import format_references

    def citable(pid: str) -> bool:
        authors, year = papers.at[pid, "authors"], papers.at[pid, "year"]
        return year is not None and not pd.isna(year) and len(_as_list(authors)) > 0

    wanted = [r.paper_id for r in references
              if r.paper_id in papers.index and "authors" in papers.columns and citable(r.paper_id)]
    if not wanted:
        return references
    formatted = dict(zip(wanted, format_references(papers.loc[wanted], style), strict=True))
    return [replace(r, formatted=formatted.get(r.paper_id, "")) for r in references]


def _save_trend_figures(review: Review, out_dir: str | os.PathLike, static: Any,
                        interactive: Any) -> list[Path]:
    """Themes over time as PNG + SVG and as interactive HTML, when dates carry it; stale
    copies from an earlier run are removed when they do not."""
    import matplotlib.pyplot as plt

    folder = config.figures_dir(out_dir)
    trends = review.trends
    if trends is None or not trends.shown:
        for suffix in (".png", ".svg", ".html"):
            (folder / f"{TRENDS_FIGURE}{suffix}").unlink(missing_ok=True)
        return []
    fig = static(trends.counts, trends.growth)
    written = io.save_figure(fig, out_dir, TRENDS_FIGURE)
    plt.close(fig)
    # written here rather than by io.save_figure: a fixed div id keeps the bytes identical
    html = interactive(trends.counts, trends.growth).to_html(
        include_plotlyjs=True, full_html=True, div_id=TRENDS_FIGURE.replace("_", "-"))
    written.append(io.write_text(folder / f"{TRENDS_FIGURE}.html", html))
    return written
