"""Step 6 of stage 02: write the tables, metrics, model and figures under the output folder."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from litreview import config, io
from litreview.topics.describe import Tables, save_model

logger = logging.getLogger(__name__)

#: Figure file stems the stage writes under ``DIR/figures/`` (map also as .html).
FIGURES = ("topics_map", "topics_sizes", "topics_terms", "topics_similarity", "topics_hierarchy")


def write_tables(out_dir: str | os.PathLike, tables: Tables, metrics: dict[str, Any]) -> None:
    """Write the five tables of the stage and ``topic_metrics.json``."""
    io.save_table(tables.doc_topics, out_dir, "doc_topics")
    io.save_table(tables.topics, out_dir, "topics")
    io.save_table(tables.strands, out_dir, "strands")
    io.save_table(tables.similarity, out_dir, "topic_similarity")
    io.save_table(tables.hierarchy, out_dir, "topic_hierarchy")
    io.write_json(config.data_dir(out_dir) / "topic_metrics.json", metrics)


def write_model(out_dir: str | os.PathLike, model: Any, embedding_model_path: Path) -> None:
    """Save the BERTopic model (safetensors) under ``DIR/models/bertopic``."""
    save_model(model, config.models_dir(out_dir) / "bertopic", embedding_model_path)


#: Figures drawn in a forked child while this process draws the others
#: (:func:`write_figures`): the two that take about half of the drawing time between them.
CHILD_FIGURES = ("topics_terms", "topics_hierarchy")
#: From this many papers no child is forked: the kernel holds gigabytes, and the figures
#: are a sliver of the stage's time.
FIGURES_FORK_MAX_PAPERS = 20_000
#: Seconds to wait for the figures' child before drawing its figures here instead.
FIGURES_CHILD_TIMEOUT_S = 300.0


def figure_makers(tables: Tables, papers: pd.DataFrame) -> dict[str, Callable[[], Any]]:
    """Return, by file stem, a function drawing each of the stage's figures; the map comes
    twice (matplotlib, plotly: ``topics_map_interactive``)."""
    from litreview.plots import topics as topic_plots

    return {
        "topics_map": lambda: topic_plots.plot_document_map(tables.doc_topics, tables.topics),
        "topics_map_interactive": lambda: topic_plots.plot_document_map_interactive(
            tables.doc_topics, tables.topics, papers),
        "topics_sizes": lambda: topic_plots.plot_theme_sizes(tables.topics),
        "topics_terms": lambda: topic_plots.plot_top_terms(tables.topics),
        "topics_similarity": lambda: topic_plots.plot_similarity_heatmap(tables.similarity,
                                                                         tables.topics),
        "topics_hierarchy": lambda: topic_plots.plot_hierarchy(tables.hierarchy, tables.topics),
    }


def make_figures(tables: Tables, papers: pd.DataFrame) -> dict[str, Any]:
    """Return the stage's figures by file stem; the map comes twice (matplotlib, plotly)."""
    return {name: make() for name, make in figure_makers(tables, papers).items()}


def write_figures(out_dir: str | os.PathLike, tables: Tables, papers: pd.DataFrame
                  ) -> dict[str, Any]:
    """Write every figure of the stage under ``DIR/figures/`` and return them by stem,
    each ready to display from the file it was saved as (``io.shown_figure``).

    :data:`CHILD_FIGURES` are drawn in a forked child meanwhile (below
    :data:`FIGURES_FORK_MAX_PAPERS` papers, with a second CPU); should it fail, they are
    drawn here. The files are the same bytes either way. A figure drawn by the child is
    drawn again here only if its figure object is asked for (``io.SavedFigure``).
    """
    from litreview import background

    makers = figure_makers(tables, papers)
    child = None
    if len(papers) < FIGURES_FORK_MAX_PAPERS:
        child = background.fork_call(_save_figures, out_dir, {n: makers[n] for n in CHILD_FIGURES})
    here = [name for name in makers if child is None or name not in CHILD_FIGURES]
    shown = _save_figures(out_dir, {name: makers[name] for name in here}, keep=True)
    if child is not None:
        try:
            saved = child.result(FIGURES_CHILD_TIMEOUT_S)
        except background.BackgroundFailed as err:
            logger.warning("%s; drawing those figures here", err)
            shown.update(_save_figures(out_dir, {n: makers[n] for n in CHILD_FIGURES},
                                       keep=True))
        else:
            for name, paths in saved.items():
                shown[name] = io.SavedFigure(None, next(p for p in paths if p.suffix == ".png"),
                                             make=makers[name])
    return {name: shown[name] for name in makers}


def _save_figures(out_dir: str | os.PathLike, makers: dict[str, Callable[[], Any]], *,
                  keep: bool = False) -> dict[str, Any]:
    """Draw and save each figure; return, by stem, what to show (``keep``) or its paths."""
    import matplotlib.pyplot as plt

    done: dict[str, Any] = {}
    for name, make in makers.items():
        fig = make()
        paths = io.save_figure(fig, out_dir, name.removesuffix("_interactive"))
        if not name.endswith("_interactive"):
            plt.close(fig)
        done[name] = io.shown_figure(fig, paths) if keep else paths
    return done
