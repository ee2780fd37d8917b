"""Figures of the review stage."""

from __future__ import annotations

import textwrap
from typing import Any

import numpy as np
import pandas as pd

_QUADRANT_CORNERS = {
    # quadrant: (x, y, ha, va) in axes coordinates
    "motor": (0.98, 0.98, "right", "top"),
    "niche": (0.02, 0.98, "left", "top"),
    "emerging": (0.02, 0.02, "left", "bottom"),
    "basic": (0.98, 0.02, "right", "bottom"),
}
_QUADRANT_LABELS = {
    "motor": "Motor themes",
    "niche": "Niche themes",
    "emerging": "Emerging or\ndeclining themes",
    "basic": "Basic and\ntransversal themes",
}
_QUADRANT_COLOURS = {
    "motor": "#3b6ea5", "niche": "#6a9a58", "emerging": "#b8863b", "basic": "#9a5a7a",
}


def plot_strategic_diagram(strategic: pd.DataFrame, ax: Any = None) -> Any:
    """Draw themes on centrality × density: bubbles sized by papers, median lines.

    ``strategic`` is :attr:`litreview.review.CrossTheme.strategic` (columns
    ``name, size, centrality, density, quadrant``). Returns the Figure.
    """
    from litreview.plots import figure_and_axes, place_labels

    fig, ax = figure_and_axes(ax, (7.5, 6.0))
    ax.set_xlabel("Centrality (links to other themes)")
    ax.set_ylabel("Density (internal cohesion)")
    ax.set_title("Strategic diagram", loc="left", fontsize=11)
    for spine in ("top", "right"):
        ax.spines[spine].set_visible(False)
    if strategic.empty:
        ax.text(0.5, 0.5, "No themes", ha="center", va="center", transform=ax.transAxes)
        return fig

    x = strategic["centrality"].to_numpy(float)
    y = strategic["density"].to_numpy(float)
    sizes = strategic["size"].to_numpy(float)
    area = 80 + 1400 * np.sqrt(sizes / max(sizes.max(), 1))
    colours = [_QUADRANT_COLOURS.get(q, "#777777") for q in strategic["quadrant"]]
    ax.scatter(x, y, s=area, c=colours, alpha=0.35, edgecolors=colours, linewidths=1.2)
    ax.axvline(float(np.median(x)), color="#999999", linestyle="--", linewidth=0.8)
    ax.axhline(float(np.median(y)), color="#999999", linestyle="--", linewidth=0.8)
    _pad_limits(ax, x, y)
    place_labels(ax, x, y, [textwrap.fill(str(name), 22) for name in strategic["name"]],
                 ha="center", va="center", fontsize=8, color="#222222",
                 bbox={"boxstyle": "round,pad=0.15", "fc": "white", "alpha": 0.7, "lw": 0})
    for quadrant, (qx, qy, ha, va) in _QUADRANT_CORNERS.items():
        ax.text(qx, qy, _QUADRANT_LABELS[quadrant], transform=ax.transAxes, ha=ha, va=va,
                fontsize=9, style="italic", color=_QUADRANT_COLOURS[quadrant], alpha=0.9)
    return fig


def _pad_limits(ax: Any, x: np.ndarray, y: np.ndarray) -> None:
    """Leave room around the bubbles and for the quadrant names in the corners."""
    for values, setter in ((x, ax.set_xlim), (y, ax.set_ylim)):
        low, high = float(values.min()), float(values.max())
        span = high - low or max(abs(high), 1.0)
        setter(low - 0.3 * span, high + 0.3 * span)


def plot_key_terms(
    weights: pd.DataFrame, names: dict[int, str], n_terms: int = 8, *, columns: int = 3,
    max_themes: int = 30,
) -> Any:
    """Small multiples: per theme, each key term's share of the theme's papers (bars) and of
    the whole corpus (grey ticks), on a labelled percentage axis.

    ``weights`` is :attr:`litreview.review.CrossTheme.term_weights`; ``names`` maps topic
    to panel title, in the order to draw (at most ``max_themes`` panels).
    """
    from matplotlib.figure import Figure

    topics = [t for t in names if t in set(weights.get("topic", pd.Series(dtype=int)))]
    topics = topics[:max_themes]
    n = max(len(topics), 1)
    cols = max(1, min(columns, n))
    rows = int(np.ceil(n / cols))
    fig = Figure(figsize=(4.4 * cols, 0.26 * n_terms * rows + 1.3 * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False)
    top = float(weights["theme_share"].max()) if len(weights) else 0.1
    limit = min(100.0, 10 * np.ceil(100 * top / 10) + 5)
    for ax, topic in zip(axes.flat, topics, strict=False):
        frame = weights[weights["topic"] == topic].sort_values("rank").head(n_terms)[::-1]
        ax.barh(frame["term"], 100 * frame["theme_share"], color="#3b6ea5", height=0.7)
        ax.scatter(100 * frame["corpus_share"], frame["term"], marker="|", s=120,
                   color="#444444", zorder=3, label="all papers")
        ax.set_xlim(0, limit)
        ax.set_title(textwrap.shorten(names[topic], 48), fontsize=9, loc="left")
        ax.tick_params(axis="both", labelsize=7.5)
        ax.set_xlabel("% of the theme's papers using the term", fontsize=7.5)
        for spine in ("top", "right"):
            ax.spines[spine].set_visible(False)
    for ax in list(axes.flat)[len(topics):]:
        ax.set_visible(False)
    if not topics:
        axes.flat[0].text(0.5, 0.5, "No themes", ha="center", va="center")
    fig.suptitle("Key terms per theme: share of the theme's papers (bars) and of all papers "
                 "(ticks) whose title or abstract uses each term", fontsize=10)
    return fig


#: Themes drawn one by one in the themes-over-time figures; the rest are summed.
TRENDS_MAX_THEMES = 12
_TREND_MARKS = {"growing": "↑", "fading": "↓", "stable": ""}


def _trend_series(counts: pd.DataFrame, growth: pd.DataFrame,
                  max_themes: int) -> tuple[list[str], list[str], list[np.ndarray]]:
    """Period labels, series labels and papers per period, largest themes first."""
    periods = (counts.drop_duplicates("period_index").sort_values("period_index")["period"]
               .astype(str).tolist())
    table = counts.pivot_table(index="topic", columns="period_index", values="papers",
                               aggfunc="sum", fill_value=0).sort_index()
    totals = table.sum(axis=1)
    order = sorted(table.index, key=lambda t: (-int(totals[t]), int(t)))
    info = growth.set_index("topic") if len(growth) else pd.DataFrame()
    labels, values = [], []
    for topic in order[:max_themes]:
        name = str(info.loc[topic, "name"]) if topic in info.index else f"Theme {topic}"
        mark = _TREND_MARKS.get(str(info.loc[topic, "trend"]), "") if topic in info.index else ""
        labels.append(textwrap.shorten(name, 40) + (f" {mark}" if mark else ""))
        values.append(table.loc[topic].to_numpy(float))
    rest = order[max_themes:]
    if rest:
        labels.append(f"{len(rest)} other themes")
        values.append(table.loc[rest].sum(axis=0).to_numpy(float))
    return periods, labels, values


def plot_themes_over_time(
    counts: pd.DataFrame, growth: pd.DataFrame, *, max_themes: int = TRENDS_MAX_THEMES,
    ax: Any = None,
) -> Any:
    """Stacked bars: papers per theme per period (growing themes ↑, fading ↓ in the legend).

    ``counts`` and ``growth`` are :attr:`litreview.review.ThemeTrends.counts` and
    ``.growth``. Returns the Figure.
    """
    from litreview.plots import figure_and_axes

    fig, ax = figure_and_axes(ax, (9.0, 5.0))
    ax.set_title("Papers per theme over time (↑ growing, ↓ fading)", loc="left", fontsize=11)
    for spine in ("top", "right"):
        ax.spines[spine].set_visible(False)
    if counts.empty:
        ax.text(0.5, 0.5, "No dated papers", ha="center", va="center", transform=ax.transAxes)
        return fig
    periods, labels, values = _trend_series(counts, growth, max_themes)
    import matplotlib as mpl

    colours = mpl.colormaps["tab20"].colors
    x = np.arange(len(periods))
    bottom = np.zeros(len(periods))
    for i, (label, series) in enumerate(zip(labels, values, strict=True)):
        colour = "#bbbbbb" if label.endswith("other themes") else colours[i % len(colours)]
        ax.bar(x, series, bottom=bottom, width=0.85, color=colour, label=label, linewidth=0)
        bottom += series
    step = max(1, int(np.ceil(len(periods) / 16)))
    ax.set_xticks(x[::step], [periods[i] for i in range(0, len(periods), step)],
                  rotation=45 if len(periods) > 8 else 0, ha="right" if len(periods) > 8
                  else "center", fontsize=8)
    ax.set_xlim(-0.6, len(periods) - 0.4)
    ax.set_ylabel("Papers")
    ax.legend(fontsize=7.5, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


def plot_themes_over_time_interactive(
    counts: pd.DataFrame, growth: pd.DataFrame, *, max_themes: int = TRENDS_MAX_THEMES,
) -> Any:
    """The same stacked bars as :func:`plot_themes_over_time`, as a plotly Figure (hover
    shows theme, period and papers)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    if not counts.empty:
        periods, labels, values = _trend_series(counts, growth, max_themes)
        for label, series in zip(labels, values, strict=True):
            fig.add_trace(go.Bar(x=periods, y=series.astype(int).tolist(), name=label,
                                 hovertemplate="%{x}: %{y} papers<extra>%{fullData.name}</extra>"))
    fig.update_layout(barmode="stack", template="plotly_white",
                      title="Papers per theme over time (↑ growing, ↓ fading)",
                      xaxis_title="Period", yaxis_title="Papers", xaxis_type="category")
    return fig
