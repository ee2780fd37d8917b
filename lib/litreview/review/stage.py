"""Run stage 03: compose the review, draw its figures, write the report files and record
the stage in the manifest.

This is the one review module that imports :mod:`litreview.report` (inside
:func:`write_review`); the report imports only :mod:`litreview.review.model`, so the
dependency runs one way.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from litreview import io, manifest
from litreview.review.compose import _compose
from litreview.review.inputs import _load_inputs, input_paths
from litreview.review.model import Review

# --------------------------------------------------------------------------- running


def run_review(
    out_dir: str | os.PathLike,
    *,
    title: str = "Thematic review",
    author: str = "",
    n_representative: int = 5,
    n_key_sentences: int = 3,
    formats: Sequence[str] = ("html", "pdf", "md"),
) -> list[Path]:
    """Build the review, save its figure, write the report files and record the stage.

    Returns the paths written: the strategic diagram figures, then the report files.
    """
    return write_review(out_dir, title=title, author=author, n_representative=n_representative,
                        n_key_sentences=n_key_sentences, formats=formats)[1]


def write_review(
    out_dir: str | os.PathLike,
    *,
    title: str = "Thematic review",
    author: str = "",
    n_representative: int = 5,
    n_key_sentences: int = 3,
    formats: Sequence[str] = ("html", "pdf", "md"),
) -> tuple[Review, list[Path]]:
    """:func:`run_review`, also returning the composed :class:`Review` (for the notebook)."""
    from litreview import export, report
    from litreview.plots.review import plot_key_terms, plot_strategic_diagram

    timer = manifest.Timer()
    with timer("load"):
        inputs = _load_inputs(out_dir)
    with timer("write-up"):
        review = _compose(inputs, n_representative=n_representative,
                          n_key_sentences=n_key_sentences, title=title, author=author)
    with timer("figures"):
        import matplotlib.pyplot as plt

        fig = plot_strategic_diagram(review.cross.strategic)
        written = io.save_figure(fig, out_dir, "review_strategic_diagram")
        plt.close(fig)
        fig = plot_key_terms(review.cross.term_weights,
                             {t.topic: f"{t.name} ({t.size})" for t in review.themes})
        written += io.save_figure(fig, out_dir, "review_key_terms")
        plt.close(fig)
    for fmt in formats:
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
        },
        inputs=input_paths(out_dir),
        timings=timer.timings,
        extra={
            "n_themes": len(review.themes),
            "n_references": len(review.references),
            "n_key_sentences": sum(len(t.key_sentences) for t in review.themes),
        },
    )
    return review, written
