"""Figures of stage 02 (topics). Each function returns a Figure and saves nothing."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from litreview.labels import format_term
from litreview.plots import figure_and_axes, place_labels

OUTLIER_COLOUR = "#c8c8c8"
#: Above this many papers the interactive map shows a fixed random sample.
INTERACTIVE_MAX_POINTS = 20_000
#: The similarity heatmap grows with the number of themes up to this size (inches).
HEATMAP_MAX_INCHES = 22.0


def _theme_colours(topic_ids: list[int]) -> dict[int, Any]:
    import matplotlib as mpl

    # Grey is reserved for papers in no theme, so the palettes skip their greys.
    if len(topic_ids) <= 9:
        palette = [c for i, c in enumerate(mpl.colormaps["tab10"].colors) if i != 7]
    else:
        palette = [c for i, c in enumerate(mpl.colormaps["tab20"].colors) if i not in (14, 15)]
    return {t: palette[i % len(palette)] for i, t in enumerate(sorted(topic_ids))}


def _hex(colour: Any) -> str:
    import matplotlib.colors as mcolors

    return mcolors.to_hex(colour)


def _labels_by_topic(topics: pd.DataFrame) -> dict[int, str]:
    return dict(zip(topics["topic"].astype(int), topics["label"].astype(str), strict=True))


def plot_document_map(doc_topics: pd.DataFrame, topics: pd.DataFrame, ax: Any = None) -> Any:
    """Scatter the papers on the 2-D map, coloured by theme, outliers grey, names at centroids.

    Marker size shrinks with the number of papers and the points are rasterized,
    so the figure stays light and legible from 300 to 70,000 papers.
    """
    fig, ax = figure_and_axes(ax, (9, 7))
    names = _labels_by_topic(topics)
    colours = _theme_colours(list(names))
    n = len(doc_topics)
    size = float(np.clip(3000 / max(n, 1), 1.0, 30.0))
    outliers = doc_topics[doc_topics["topic"] < 0]
    if len(outliers):
        ax.scatter(outliers["x"], outliers["y"], s=size, c=OUTLIER_COLOUR, linewidths=0,
                   rasterized=True, label="Unplaced")
    for topic, name in names.items():
        members = doc_topics[doc_topics["topic"] == topic]
        ax.scatter(members["x"], members["y"], s=size, color=colours[topic], linewidths=0,
                   alpha=0.8, rasterized=True, label=name)
    # writeup: labels that never overprint (adjustText) and a legend in the same palette
    placed = [(t, doc_topics.loc[doc_topics["topic"] == t]) for t in names]
    placed = [(t, m) for t, m in placed if len(m)]
    ax.margins(0.12)  # room for the labels of themes at the edge of the map
    ax.set_title(f"Map of {n:,} papers by theme")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("map dimension 1 (UMAP)")
    ax.set_ylabel("map dimension 2 (UMAP)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False,
              markerscale=max(2.0, 8 / size), title="Theme", title_fontsize=8)
    place_labels(ax, [m["x"].median() for _, m in placed], [m["y"].median() for _, m in placed],
                 [names[t] for t, _ in placed], ha="center", va="center", fontsize=8,
                 weight="bold", bbox={"boxstyle": "round,pad=0.2", "fc": "white",
                                      "alpha": 0.75, "lw": 0})
    return fig


def plot_document_map_interactive(
    doc_topics: pd.DataFrame, topics: pd.DataFrame, papers: pd.DataFrame, *, seed: int = 0
) -> Any:
    """Return a plotly map of the papers with the title and theme on hover.

    Above ``INTERACTIVE_MAX_POINTS`` papers a fixed random sample is drawn (said in the title).
    """
    import plotly.graph_objects as go

    data = doc_topics.merge(papers[["paper_id", "title"]], on="paper_id", how="left")
    n = len(data)
    if n > INTERACTIVE_MAX_POINTS:
        data = data.sample(INTERACTIVE_MAX_POINTS, random_state=seed)
    names = _labels_by_topic(topics)
    colours = _theme_colours(list(names))  # writeup: the static map's palette
    fig = go.Figure()
    for topic in [-1, *names]:
        members = data[data["topic"] == topic]
        if members.empty:
            continue
        name = names.get(topic, "Unplaced")
        fig.add_trace(go.Scattergl(
            x=members["x"], y=members["y"], mode="markers", name=name,
            marker={"size": 5 if n < 5000 else 3,
                    "color": OUTLIER_COLOUR if topic < 0 else _hex(colours[topic])},
            customdata=np.stack([members["title"].fillna("").astype(str),
                                 members["paper_id"].astype(str)], axis=1),
            hovertemplate="%{customdata[0]}<br><i>" + name + "</i> (%{customdata[1]})"
                          "<extra></extra>",
        ))
    shown = f" (sample of {len(data):,})" if len(data) < n else ""
    fig.update_layout(
        title=f"Map of {n:,} papers by theme{shown}", template="plotly_white",
        xaxis={"showticklabels": False, "title": ""}, yaxis={"showticklabels": False, "title": ""},
        legend={"itemsizing": "constant"}, height=700,
    )
    return fig


def plot_theme_sizes(topics: pd.DataFrame, ax: Any = None) -> Any:
    """Draw one horizontal bar per theme (largest on top) with its number of papers."""
    ordered = topics.sort_values("size", ascending=True)
    fig, ax = figure_and_axes(ax, (8, max(2.5, 0.4 * len(ordered) + 1)))
    colours = _theme_colours(ordered["topic"].astype(int).tolist())
    bars = ax.barh(ordered["label"], ordered["size"],
                   color=[colours[int(t)] for t in ordered["topic"]])
    ax.bar_label(bars, padding=3, fontsize=8)
    ax.set_xlabel("papers")
    ax.set_title("Papers per theme")
    ax.margins(x=0.1)
    return fig


def plot_top_terms(
    topics: pd.DataFrame, n_terms: int = 8, *, columns: int = 3, max_themes: int = 30
) -> Any:
    """Draw small multiples: per theme, bars for its top terms (longest bar = best term).

    At most ``max_themes`` panels, for the largest themes: past that the grid is too
    tall to read (every theme's terms are in ``topics.parquet`` and the report).
    """
    from matplotlib.figure import Figure

    shown_topics = topics
    if len(topics) > max_themes:
        shown_topics = topics.sort_values("size", ascending=False, kind="stable").head(max_themes)
    n = len(shown_topics)
    cols = max(1, min(columns, n))
    rows = max(1, int(np.ceil(n / cols)))
    fig = Figure(figsize=(4.2 * cols, 0.28 * n_terms * rows + 1.2 * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False)
    colours = _theme_colours(topics["topic"].astype(int).tolist())
    for ax, row in zip(axes.flat, shown_topics.itertuples(), strict=False):
        shown = getattr(row, "display_terms", None)
        terms = list(shown) if shown is not None else [format_term(t) for t in row.top_terms]
        terms = terms[:n_terms]
        # Terms are ranked, not scored: bar length shows rank.
        ax.barh(terms[::-1], np.arange(1, len(terms) + 1), color=colours[int(row.topic)])
        ax.set_title(f"{row.label} ({row.size})", fontsize=9)
        ax.set_xticks([])
        ax.tick_params(axis="y", labelsize=8)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    if n < len(topics):
        fig.suptitle(f"Top terms of the {n} largest themes (of {len(topics)})")
    else:
        fig.suptitle("Top terms per theme")
    return fig


def plot_similarity_heatmap(similarity: pd.DataFrame, topics: pd.DataFrame, ax: Any = None) -> Any:
    """Draw the cosine similarity between theme centroids as a labelled heatmap."""
    order = topics["topic"].astype(int).tolist()
    names = _labels_by_topic(topics)
    matrix = (similarity.pivot(index="topic_a", columns="topic_b", values="similarity")
              .reindex(index=order, columns=order))
    # Past ~45 themes the figure stops growing and the names get smaller instead.
    size = min(HEATMAP_MAX_INCHES, max(4.0, 0.45 * len(order) + 2.5))
    fontsize = max(4.0, min(8.0, 8.0 * 45 / max(len(order), 1)))
    fig, ax = figure_and_axes(ax, (size + 1.5, size))
    image = ax.imshow(matrix.to_numpy(), cmap="viridis", vmin=float(np.nanmin(matrix.to_numpy())),
                      vmax=1.0)
    ax.set_xticks(range(len(order)), [names[t] for t in order], rotation=60, ha="right",
                  fontsize=fontsize)
    ax.set_yticks(range(len(order)), [names[t] for t in order], fontsize=fontsize)
    ax.set_title("Similarity between themes (cosine of centroids)")
    fig.colorbar(image, ax=ax, shrink=0.8, label="cosine similarity")
    return fig


def linkage_from_hierarchy(hierarchy: pd.DataFrame) -> np.ndarray:
    """Rebuild the scipy linkage matrix from the ``topic_hierarchy`` table.

    Node ids follow scipy: leaves 0..n-1 are the themes, merge i creates node n + i.
    """
    rows = hierarchy.sort_values("parent_id")
    return np.array([
        [r.child_left_id, r.child_right_id, r.distance, len(r.topics)] for r in rows.itertuples()
    ], dtype=float)


def plot_hierarchy(
    hierarchy: pd.DataFrame | np.ndarray, topics: pd.DataFrame, ax: Any = None
) -> Any:
    """Draw the theme tree as a dendrogram with theme names on the leaves.

    Takes the ``topic_hierarchy`` table (or a scipy linkage matrix). With fewer
    than two themes there is no tree, and the axes say so.
    """
    from scipy.cluster.hierarchy import dendrogram

    names = _labels_by_topic(topics)
    linkage = hierarchy if isinstance(hierarchy, np.ndarray) else linkage_from_hierarchy(hierarchy)
    fig, ax = figure_and_axes(ax, (9, max(3.0, 0.4 * len(names) + 1)))
    ax.set_title("Theme hierarchy")
    if len(linkage) == 0:
        ax.text(0.5, 0.5, "fewer than two themes: no hierarchy", ha="center", va="center",
                transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    # scipy wants monotonic distances; BERTopic nudges ties, so enforce it.
    linkage = linkage.copy()
    linkage[:, 2] = np.maximum.accumulate(linkage[:, 2])
    n_leaves = len(linkage) + 1
    dendrogram(linkage, orientation="left", ax=ax, color_threshold=0,
               above_threshold_color="#555555",
               labels=[names.get(i, str(i)) for i in range(n_leaves)], leaf_font_size=8)
    ax.set_xlabel("distance (Ward on theme centres)")
    return fig
