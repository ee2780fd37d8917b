"""Step 6 of stage 02: write the tables, metrics, model and figures under the output folder."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from litreview import config, io
from litreview.topics.describe import Tables, save_model

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


def make_figures(tables: Tables, papers: pd.DataFrame) -> dict[str, Any]:
    """Return the stage's figures by file stem; the map comes twice (matplotlib, plotly)."""
    from litreview.plots import topics as topic_plots

    return {
        "topics_map": topic_plots.plot_document_map(tables.doc_topics, tables.topics),
        "topics_map_interactive": topic_plots.plot_document_map_interactive(
            tables.doc_topics, tables.topics, papers),
        "topics_sizes": topic_plots.plot_theme_sizes(tables.topics),
        "topics_terms": topic_plots.plot_top_terms(tables.topics),
        "topics_similarity": topic_plots.plot_similarity_heatmap(tables.similarity, tables.topics),
        "topics_hierarchy": topic_plots.plot_hierarchy(tables.hierarchy, tables.topics),
    }


def write_figures(out_dir: str | os.PathLike, tables: Tables, papers: pd.DataFrame
                  ) -> dict[str, Any]:
    """Write every figure of the stage under ``DIR/figures/`` and return them by stem,
    each ready to display from the file it was saved as (``io.shown_figure``)."""
    import matplotlib.pyplot as plt

    figures = make_figures(tables, papers)
    shown: dict[str, Any] = {}
    for name, fig in figures.items():
        paths = io.save_figure(fig, out_dir, name.removesuffix("_interactive"))
        if not name.endswith("_interactive"):
            plt.close(fig)
        shown[name] = io.shown_figure(fig, paths)
    return shown
