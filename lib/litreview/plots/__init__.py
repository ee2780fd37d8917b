"""Figures, one module per stage; every function returns a matplotlib or plotly Figure.

Nothing here saves files: :func:`litreview.io.save_figure` does that.
"""

from __future__ import annotations

from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure

#: Steps adjustText may take to push labels apart (a few hundred suffice for a few dozen).
LABEL_ITERATIONS = 300


def figure_and_axes(ax: Axes | None, size: tuple[float, float]) -> tuple[Figure, Axes]:
    """Return ``ax`` and its figure, or a new constrained-layout figure of ``size`` inches.

    New figures are made without pyplot, so they hold no global state and a notebook
    shows each exactly once (the returned figure, not pyplot's copy).
    """
    if ax is not None:
        return ax.get_figure(), ax
    fig = Figure(figsize=size, layout="constrained")
    return fig, fig.subplots()


def place_labels(ax: Axes, x: Any, y: Any, labels: Any, **text_kw: Any) -> list[Any]:
    """Write ``labels`` at ``(x, y)`` and move them apart so that none overprints another.

    Uses adjustText (a maintained force-directed label placer) instead of hand-rolled
    nudging; a thin leader line joins a moved label to its point. Returns the Text artists.
    """
    from adjustText import adjust_text

    fig = ax.get_figure()
    if not hasattr(fig.canvas, "get_renderer"):
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        FigureCanvasAgg(fig)
    xs, ys = [float(v) for v in x], [float(v) for v in y]
    # adjustText cannot push apart labels that start on the same spot (no direction to
    # push in): start the second, third, … copy a little lower, deterministically.
    span = (max(ys) - min(ys)) if ys else 0.0
    seen: dict[tuple[float, float], int] = {}
    for i, point in enumerate(zip(xs, ys, strict=True)):
        key = (round(point[0], 9), round(point[1], 9))
        seen[key] = seen.get(key, -1) + 1
        ys[i] -= seen[key] * 0.03 * (span or 1.0)
    texts = [ax.text(xi, yi, str(label), **text_kw)
             for xi, yi, label in zip(xs, ys, labels, strict=True)]
    if len(texts) > 1:
        fig.draw_without_rendering()  # settle the layout first: adjustText works in pixels
        # a fixed number of steps, not adjustText's default of "as many as fit in 1 s":
        # the same figure on every machine and load (and no second spent when the labels
        # cannot all be separated)
        adjust_text(texts, ax=ax, expand=(1.15, 1.35), ensure_inside_axes=True,
                    iter_lim=LABEL_ITERATIONS,
                    arrowprops={"arrowstyle": "-", "color": "#888888", "lw": 0.6})
    return texts


def overlapping_labels(fig: Figure, texts: list[Any]) -> list[tuple[str, str]]:
    """Pairs of labels whose drawn boxes intersect (for tests and checks)."""
    if not hasattr(fig.canvas, "get_renderer"):
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        FigureCanvasAgg(fig)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in texts]
    return [(a, b) for i, (a, box_a) in enumerate(boxes) for b, box_b in boxes[i + 1:]
            if box_a.overlaps(box_b)]
