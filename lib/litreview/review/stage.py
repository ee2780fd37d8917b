"""Run stage 03: compose the review, draw its figures, write the report files and record
the stage in the manifest.

This is the one review module that imports :mod:`litreview.report` (inside
:func:`write_review`); the report imports only :mod:`litreview.review.model`, so the
dependency runs one way.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from litreview import background, config, io, manifest
from litreview.review.compose import FigureData, _compose, figure_data
from litreview.review.helpers import _as_list
from litreview.review.inputs import _Inputs, _load_inputs, input_paths
from litreview.review.model import Reference, Review

logger = logging.getLogger(__name__)

#: Name of the themes-over-time figures (PNG, SVG and interactive HTML).
TRENDS_FIGURE = "review_themes_over_time"
#: Name of the screening flow figure of the report (with placed / unplaced; the ingest
#: stage's ``screening_flow`` figure stops at the included papers).
SCREENING_FIGURE = "review_screening_flow"
#: From this many papers the exports (``export.run_export``) are written by a separate
#: process while the review is composed (below it, after the report files).
EXPORT_BACKGROUND_MIN_PAPERS = 20_000
#: From this many papers the PDF writer is started before the HTML report is written.
PDF_FIRST_MIN_PAPERS = 20_000

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
    with timer("load"):
        inputs = _load_inputs(out_dir)
    exporting = _start_export(out_dir, len(inputs.papers))
    try:
        return _write_loaded(out_dir, timer, pdf_path, inputs, exporting, title=title,
                             author=author, n_representative=n_representative,
                             n_key_sentences=n_key_sentences, formats=formats,
                             citation_style=citation_style)
    except BaseException:
        background.cancel_call(exporting)
        raise


def _write_loaded(out_dir: str | os.PathLike, timer: manifest.Timer, pdf_path: Path,
                  inputs: _Inputs, exporting: background.Call | None, *, title: str, author: str,
                  n_representative: int, n_key_sentences: int, formats: Sequence[str],
                  citation_style: str) -> tuple[Review, list[Path]]:
    from litreview import export, report

    with timer("figures"):  # their data; drawn beside the write-up when a second core is free
        figure_job = _FigureJob(out_dir, figure_data(inputs), len(inputs.papers))
    try:
        with timer("write-up"):
            review = _compose(inputs, n_representative=n_representative,
                              n_key_sentences=n_key_sentences, title=title, author=author,
                              figures=figure_job.data)
        with timer("references"):
            review.references = format_cited(review.references, inputs.papers, citation_style)
            review.citation_style = citation_style
    except BaseException:
        figure_job.cancel()
        raise
    with timer("figures"):  # adds to the time above: waiting for the child, or drawing here
        written = figure_job.result()
    # HTML first (the edit loop waits for it), except on a large corpus: there the PDF
    # writer, the stage's longest step, is handed its page first
    pdf_first = len(inputs.papers) >= PDF_FIRST_MIN_PAPERS
    if "html" in formats and not pdf_first:
        with timer("html"):
            written += report.write_report(review, out_dir, formats=("html",))
    if "pdf" in formats:  # handed to the writer now: it overlaps with the rest
        from litreview.report import pdf

        with timer("pdf"):  # the print HTML and the start (in the runner: the rest is
            # ``background_s.pdf`` of the stage's record)
            pdf.start_pdf(report.render_print_html(review, out_dir), pdf_path)
    if "html" in formats and pdf_first:
        with timer("html"):
            written += report.write_report(review, out_dir, formats=("html",))
    for fmt in [f for f in formats if f not in ("html", "pdf")]:
        with timer(fmt):
            written += report.write_report(review, out_dir, formats=(fmt,))
    if "pdf" in formats:
        written.append(pdf_path)  # written once the writer is done
    with timer("export"):  # collected from the background process, if one was started
        written += (_finish_export(exporting, out_dir, review.keys) if exporting is not None
                    else export.run_export(out_dir, keys=review.keys))
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


def _start_export(out_dir: str | os.PathLike, n_papers: int) -> background.Call | None:
    """Start the exports (:func:`_export_with_keys`) in a fresh Python process on a large
    corpus (from :data:`EXPORT_BACKGROUND_MIN_PAPERS` papers), so that they are written on
    the second core while the review is composed; None (nothing started) below that, or
    on one CPU."""
    if n_papers < EXPORT_BACKGROUND_MIN_PAPERS:
        return None
    # nicer than the stage: the write-up's forked half comes first while both run
    return background.start_call(f"{__name__}:_export_with_keys",
                                 os.fspath(Path(out_dir).resolve()), nice=True)


def _finish_export(call: background.Call, out_dir: str | os.PathLike,
                   keys: dict[str, str]) -> list[Path]:
    """The paths the background exports wrote; should they have failed, they are written
    here."""
    from litreview import export

    try:
        return [Path(out_dir) / rel for rel in background.finish_call(call)]
    except background.BackgroundFailed as err:
        logger.warning("%s; writing the exports here", err)
    return export.run_export(out_dir, keys=keys)


def _export_with_keys(out_dir: str) -> list[str]:
    """``export.run_export`` with the review's citation keys, worked out as the review
    does (:func:`~litreview.review.citations.assign_citation_keys` of the same ``papers``
    table): the same files, the same bytes. Returns the paths written, relative."""
    from litreview import export
    from litreview.review.citations import assign_citation_keys

    papers = io.load_table(out_dir, "papers")
    papers["paper_id"] = papers["paper_id"].astype(str)
    written = export.run_export(out_dir, keys=assign_citation_keys(papers))
    return [os.fspath(Path(p).relative_to(out_dir)) for p in written]


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


#: Below this many papers the review's figures are drawn in a forked child while the
#: write-up is composed (:class:`_FigureJob`); a large corpus's kernel, gigabytes, is not
#: forked (its figures are a sliver of its write-up's time).
FIGURES_FORK_MAX_PAPERS = 20_000
#: Seconds to wait for the figures' child before drawing them here instead.
FIGURES_CHILD_TIMEOUT_S = 300.0
#: The figures the child draws; this process draws the others once the write-up is
#: composed (the key terms' small multiples take as long as the rest together).
CHILD_FIGURES = ("review_key_terms", "review_themes_over_time")


def _figure_inputs(data: FigureData) -> list[tuple[str, tuple[Any, ...]]]:
    """Each review figure's name and the data its key is made from, in drawing order."""
    trends = data.trends
    wanted = [("review_strategic_diagram", (data.strategic,)),
              ("review_key_terms", (data.term_weights, data.theme_names)),
              (TRENDS_FIGURE, (bool(trends and trends.shown),
                               *((trends.counts, trends.growth)
                                 if trends and trends.shown else ())))]
    if not data.screening.empty:
        wanted.append((SCREENING_FIGURE, (data.screening,)))
    return wanted


def _draw_figures(out_dir: str | os.PathLike, data: FigureData,
                  only: Sequence[str] | None = None) -> list[Path]:
    """Draw and save the review's figures (``only`` those named; each only when its data
    or code changed: :func:`_figure_once`); return the paths, in a fixed order."""
    return [path for paths in _draw_named(out_dir, data, only).values() for path in paths]


def _draw_named(out_dir: str | os.PathLike, data: FigureData,
                only: Sequence[str] | None = None) -> dict[str, list[Path]]:
    from litreview.plots.review import (
        plot_key_terms,
        plot_strategic_diagram,
        plot_themes_over_time,
        plot_themes_over_time_interactive,
    )
    from litreview.plots.screening import plot_screening_flow

    draw = {
        "review_strategic_diagram": lambda: io.save_figure(
            plot_strategic_diagram(data.strategic), out_dir, "review_strategic_diagram"),
        "review_key_terms": lambda: io.save_figure(
            plot_key_terms(data.term_weights, data.theme_names), out_dir, "review_key_terms"),
        TRENDS_FIGURE: lambda: _save_trend_figures(
            data.trends, out_dir, plot_themes_over_time, plot_themes_over_time_interactive),
        SCREENING_FIGURE: lambda: io.save_figure(
            plot_screening_flow(data.screening), out_dir, SCREENING_FIGURE),
    }
    return {name: _figure_once(out_dir, name, values, draw[name])
            for name, values in _figure_inputs(data) if only is None or name in only}


def _draw_in_child(out_dir: str, data: FigureData) -> dict[str, list[str]]:
    """The forked child's work: draw :data:`CHILD_FIGURES`; their paths, as strings."""
    return {name: [os.fspath(p) for p in paths]
            for name, paths in _draw_named(out_dir, data, CHILD_FIGURES).items()}


class _FigureJob:
    """The review's figures, drawn in a forked child (``background.fork_call``) while this
    process composes the write-up; their data (:class:`FigureData`) is worked out first,
    and the write-up reuses it. The child inherits everything loaded (matplotlib
    included), so it starts at once; the files are the same bytes as drawn here. Without
    ``fork``, on one CPU, from :data:`FIGURES_FORK_MAX_PAPERS` papers, or when every
    figure is up to date (the edit loop), :meth:`result` draws here. Should the child fail
    or hang, it is stopped and the figures are drawn here.
    """

    def __init__(self, out_dir: str | os.PathLike, data: FigureData, n_papers: int) -> None:
        from litreview import background

        self.out_dir, self.data = out_dir, data
        self._call: Any = None
        if n_papers < FIGURES_FORK_MAX_PAPERS and not self._up_to_date():
            self._call = background.fork_call(_draw_in_child, os.fspath(out_dir), data)

    def _up_to_date(self) -> bool:
        """Whether every figure's files are there from the same data (nothing to draw)."""
        folder = config.figures_dir(self.out_dir)
        return all(_figure_record(folder, name, _figure_key(values)) is not None
                   for name, values in _figure_inputs(self.data))

    def result(self) -> list[Path]:
        """The paths of the figures, in :func:`_figure_inputs` order: :data:`CHILD_FIGURES`
        from the child (or drawn here if it failed), the others drawn here now."""
        from litreview import background

        if self._call is None:
            return _draw_figures(self.out_dir, self.data)
        names = [name for name, _ in _figure_inputs(self.data)]
        try:
            drawn = _draw_named(self.out_dir, self.data,
                                [n for n in names if n not in CHILD_FIGURES])
        except BaseException:
            self.cancel()
            raise
        try:
            drawn.update({name: [Path(p) for p in paths] for name, paths in
                          self._call.result(FIGURES_CHILD_TIMEOUT_S).items()})
        except background.BackgroundFailed as err:
            logger.warning("the figures' child failed (%s); drawing them here", err)
            drawn.update(_draw_named(self.out_dir, self.data, CHILD_FIGURES))
        finally:
            self._call = None
        return [path for name in names for path in drawn.get(name, [])]

    def cancel(self) -> None:
        """Stop the child (if it still runs)."""
        if self._call is not None:
            self._call.cancel()
            self._call = None


def _figure_record(folder: Path, name: str, key: str | None) -> list[Path] | None:
    """The files a figure's record lists when they are there from data of ``key``."""
    import json

    record_path = folder / f".{name}.key"
    if key is None or not record_path.exists():
        return None
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
        if record.get("key") == key and all(
                (folder / rel).is_file() and manifest.sha256_file(folder / rel) == digest
                for rel, digest in record["files"].items()):
            return [folder / rel for rel in record["files"]]
    except (OSError, ValueError, KeyError, AttributeError, TypeError):
        pass
    return None


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
    kept = _figure_record(folder, name, key)
    if kept is not None:
        return kept
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


def _save_trend_figures(trends: Any, out_dir: str | os.PathLike, static: Any,
                        interactive: Any) -> list[Path]:
    """Themes over time as PNG + SVG and as interactive HTML, when dates carry it; stale
    copies from an earlier run are removed when they do not."""
    folder = config.figures_dir(out_dir)
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
