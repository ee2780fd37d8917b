"""Figures of the ingest stage: abstract lengths and how the source files overlap."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from litreview.plots import figure_and_axes


def plot_abstract_lengths(papers: pd.DataFrame, ax: Axes | None = None) -> Figure:
    """Plot a histogram of abstract lengths in words, with the median marked."""
    fig, ax = figure_and_axes(ax, (7, 4))
    abstracts = papers["abstract"].dropna().astype(str)
    words = abstracts.str.split().str.len().to_numpy()
    if len(words):
        ax.hist(words, bins=min(40, max(5, len(words) // 5)), color="#4C72B0", edgecolor="white")
        median = float(np.median(words))
        ax.axvline(median, color="#C44E52", linestyle="--", label=f"median {median:.0f} words")
        ax.legend(frameon=False)
    else:
        ax.text(0.5, 0.5, "no abstracts", ha="center", va="center", transform=ax.transAxes)
    missing = len(papers) - len(words)
    title = f"Abstract length ({len(words)} papers"
    ax.set_title(title + (f", {missing} without abstract)" if missing else ")"))
    ax.set_xlabel("words in abstract")
    ax.set_ylabel("papers")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    return fig


def plot_source_overlap(records: pd.DataFrame, ax: Axes | None = None) -> Figure:
    """Plot a heatmap of papers per source file (diagonal) and papers shared by two files.

    Rejected records and those of papers excluded at screening are left out; every paper a
    file contributes counts once per file.
    """
    usable = records[records["status"].isin(("kept", "duplicate"))]
    files = list(dict.fromkeys(usable["source_file"]))
    papers_of = {f: set(usable.loc[usable["source_file"] == f, "paper_id"]) for f in files}
    n = len(files)
    size = 2.5 + 0.7 * max(n, 1)
    fig, ax = figure_and_axes(ax, (size + 1.5, size))
    if n == 0:
        ax.text(0.5, 0.5, "no usable records", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    shared = np.array([[len(papers_of[a] & papers_of[b]) for b in files] for a in files])
    image = ax.imshow(shared, cmap="Blues", vmin=0)
    threshold = shared.max() / 2 if shared.max() else 1
    for i in range(n):
        for j in range(n):
            ax.text(
                j,
                i,
                str(shared[i, j]),
                ha="center",
                va="center",
                fontsize=9,
                color="white" if shared[i, j] > threshold else "black",
            )
    labels = [f if len(f) <= 28 else f[:12] + "…" + f[-14:] for f in files]
    ax.set_xticks(range(n), labels, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(n), labels, fontsize=8)
    ax.set_title("Papers per file (diagonal) and shared between files")
    fig.colorbar(image, ax=ax, shrink=0.8, label="papers")
    return fig
