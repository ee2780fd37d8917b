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
    from litreview.report import pdf, render

    timer = manifest.Timer()
    pdf_path = config.report_dir(out_dir) / f"{render.REPORT_NAME}.pdf"
    if "pdf" in formats:  # the writer loads WeasyPrint while the review is composed
        pdf.prepare_pdf(pdf_path)
    try:
        return _write_review(out_dir, timer, pdf_path, title=title, author=author,
                             n_representative=n_representative,
                             n_key_sentences=n_key_sentences, formats=formats,
                             citation_style=citation_style)
    except BaseException:
        if "pdf" in formats:
            pdf.cancel_pdf(pdf_path.parent)
        raise


def _write_review(out_dir: str | os.PathLike, timer: manifest.Timer, pdf_path: Path, *,
                  title: str, author: str, n_representative: int, n_key_sentences: int,
                  formats: Sequence[str], citation_style: str) -> tuple[Review, list[Path]]:
    from litreview import export, report
    from litreview.plots.review import (
        plot_key_terms,
        plot_strategic_diagram,
        plot_themes_over_time,
        plot_themes_over_time_interactive,
    )
    from litreview.plots.screening import plot_screening_flow

    with timer("load"):
        inputs = _load_inputs(out_dir)
    with timer("write-up"):
        review = _compose(inputs, n_representative=n_representative,
                          n_key_sentences=n_key_sentences, title=title, author=author)
    with timer("references"):
        review.references = format_cited(review.references, inputs.papers, citation_style)
        review.citation_style = citation_style
    with timer("figures"):
        written = _figure_once(
            out_dir, "review_strategic_diagram", (review.cross.strategic,),
            lambda: io.save_figure(plot_strategic_diagram(review.cross.strategic), out_dir,
                                   "review_strategic_diagram"))
        names = {t.topic: f"{t.name} ({t.size})" for t in review.themes}
        written += _figure_once(
            out_dir, "review_key_terms", (review.cross.term_weights, names),
            lambda: io.save_figure(plot_key_terms(review.cross.term_weights, names), out_dir,
                                   "review_key_terms"))
        trends = review.trends
        written += _figure_once(
            out_dir, TRENDS_FIGURE,
            (bool(trends and trends.shown),
             *((trends.counts, trends.growth) if trends and trends.shown else ())),
            lambda: _save_trend_figures(review, out_dir, plot_themes_over_time,
                                        plot_themes_over_time_interactive))
        if not review.screening.empty:
            written += _figure_once(
                out_dir, SCREENING_FIGURE, (review.screening,),
                lambda: io.save_figure(plot_screening_flow(review.screening), out_dir,
                                       SCREENING_FIGURE))
    if "html" in formats:  # HTML first
        with timer("html"):
            written += report.write_report(review, out_dir, formats=("html",))
    if "pdf" in formats:  # handed to the writer now: it overlaps with the rest
        from litreview.report import pdf

        with timer("pdf"):  # the print HTML and the start (in the runner: the rest is
            # ``background_s.pdf`` of the stage's record)
            pdf.start_pdf(report.render_print_html(review, out_dir), pdf_path)
    for fmt in [f for f in formats if f not in ("html", "pdf")]:
        with timer(fmt):
            written += report.write_report(review, out_dir, formats=(fmt,))
    if "pdf" in formats:
        written.append(pdf_path)  # written once the writer is done
    with timer("export"):
        written += export.run_export(out_dir, keys=review.keys)
    if "pdf" in formats and os.environ.get(pdf.DEFER_ENV) != "1":  # else the runner waits
        with timer("pdf"):  # adds to the start's time
            pdf.wait_pdf(pdf_path.parent)
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


#: The code a review figure's bytes depend on besides its data (hashed into its key).
_FIGURE_CODE = ("plots/__init__.py", "plots/review.py", "io.py")
_FIGURE_PACKAGES = ("matplotlib", "adjustText", "plotly", "numpy", "pandas")


def _figure_once(out_dir: str | os.PathLike, name: str, data: tuple[Any, ...],
                 draw: Any) -> list[Path]:
    """Draw and save a figure with ``draw()``, unless the files it would write are already
    there from the same data and code (the edit loop: a changed title redraws nothing).

    The key (a SHA-256 of the data, the plotting code and the package versions) and the
    SHA-256 of each file written are kept in ``DIR/figures/.<name>.key`` (hidden: no stage
    product). Files changed or missing since, or data that cannot be hashed, redraw.
    """
    import json

    folder = config.figures_dir(out_dir)
    record_path = folder / f".{name}.key"
    key = _figure_key(data)
    if key is not None and record_path.exists():
        try:
            record = json.loads(record_path.read_text(encoding="utf-8"))
            if record.get("key") == key and all(
                    (folder / rel).is_file() and manifest.sha256_file(folder / rel) == digest
                    for rel, digest in record["files"].items()):
                return [folder / rel for rel in record["files"]]
        except (OSError, ValueError, KeyError, AttributeError, TypeError):
            pass
    record_path.unlink(missing_ok=True)
    written = draw()
    if key is not None:
        files = {Path(p).name: manifest.sha256_file(p) for p in written}
        io.write_text(record_path, json.dumps({"key": key, "files": files}, sort_keys=True))
    return written


def _figure_key(data: tuple[Any, ...]) -> str | None:
    """SHA-256 of a figure's data (exact values), its code and the package versions;
    None when some value cannot be hashed exactly (the figure is then always drawn)."""
    import hashlib
    import json

    digest = hashlib.sha256()
    for rel in _FIGURE_CODE:
        digest.update((config.PACKAGE_DIR / rel).read_bytes())
    digest.update(json.dumps(manifest.package_versions(_FIGURE_PACKAGES)).encode())
    try:
        for item in data:
            if isinstance(item, pd.DataFrame):
                digest.update(json.dumps([list(map(str, item.columns)),
                                          list(map(str, item.dtypes))]).encode())
                digest.update(pd.util.hash_pandas_object(item, index=True).to_numpy().tobytes())
            else:
                digest.update(json.dumps(item, sort_keys=True, default=_no_default).encode())
            digest.update(b"\0")
    except TypeError:
        return None
    return digest.hexdigest()


def _no_default(value: Any) -> Any:
    raise TypeError(f"not hashed: {type(value).__name__}")


def _save_trend_figures(review: Review, out_dir: str | os.PathLike, static: Any,
                        interactive: Any) -> list[Path]:
    """Themes over time as PNG + SVG and as interactive HTML, when dates carry it; stale
    copies from an earlier run are removed when they do not."""
    folder = config.figures_dir(out_dir)
    trends = review.trends
    if trends is None or not trends.shown:
        for suffix in (".png", ".svg", ".html"):
            (folder / f"{TRENDS_FIGURE}{suffix}").unlink(missing_ok=True)
        return []
    fig = static(trends.counts, trends.growth)
    written = io.save_figure(fig, out_dir, TRENDS_FIGURE)  # made without pyplot: no close
    # written here rather than by io.save_figure: a fixed div id keeps the bytes identical
    html = interactive(trends.counts, trends.growth).to_html(
        include_plotlyjs=True, full_html=True, div_id=TRENDS_FIGURE.replace("_", "-"))
    written.append(io.write_text(folder / f"{TRENDS_FIGURE}.html", html))
    return written
