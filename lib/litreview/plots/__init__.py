"""Figures, one module per stage; every function returns a matplotlib or plotly Figure.

Nothing here saves files: :func:`litreview.io.save_figure` does that.
"""

from __future__ import annotations

from matplotlib.axes import Axes
from matplotlib.figure import Figure


def figure_and_axes(ax: Axes | None, size: tuple[float, float]) -> tuple[Figure, Axes]:
    """Return ``ax`` and its figure, or a new constrained-layout figure of ``size`` inches.

    New figures are made without pyplot, so they hold no global state and a notebook
    shows each exactly once (the returned figure, not pyplot's copy).
    """
    if ax is not None:
        return ax.get_figure(), ax
    fig = Figure(figsize=size, layout="constrained")
    return fig, fig.subplots()
