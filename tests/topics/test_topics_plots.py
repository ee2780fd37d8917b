import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from litreview.plots import topics as plots


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def tables():
    """Small hand-made stage-02 tables: 3 themes, 10 papers, 2 outliers."""
    topics = pd.DataFrame({
        "topic": [0, 1, 2], "label": ["Galaxies & dark matter", "Sourdough baking", "RL agents"],
        "size": [4, 3, 1], "top_terms": [["galaxy", "dark matter"], ["sourdough", "baking"],
                                         ["rl", "agents", "reward"]],
    })
    doc_topics = pd.DataFrame({
        "paper_id": [f"p{i}" for i in range(10)],
        "topic": [0, 0, 0, 0, 1, 1, 1, 2, -1, -1],
        "x": np.arange(10.0), "y": np.arange(10.0)[::-1],
    })
    sim = np.array([[1, 0.2, 0.5], [0.2, 1, 0.1], [0.5, 0.1, 1]])
    similarity = pd.DataFrame([{"topic_a": a, "topic_b": b, "similarity": sim[a, b]}
                               for a in range(3) for b in range(3)])
    hierarchy = pd.DataFrame({
        "parent_id": [4, 3], "topics": [[0, 1, 2], [0, 2]], "child_left_id": [1, 0],
        "child_right_id": [3, 2], "distance": [0.9, 0.4],
    })
    papers = pd.DataFrame({"paper_id": doc_topics["paper_id"],
                           "title": [f"Title {i}" for i in range(10)]})
    return doc_topics, topics, similarity, hierarchy, papers


def test_theme_sizes_one_bar_per_theme_largest_on_top(tables):
    _, topics, *_ = tables
    ax = plots.plot_theme_sizes(topics).axes[0]
    assert len(ax.patches) == 3
    assert [t.get_text() for t in ax.get_yticklabels()] == topics["label"][::-1].tolist()
    assert ax.get_xlabel() == "papers"


def test_top_terms_small_multiples(tables):
    _, topics, *_ = tables
    fig = plots.plot_top_terms(topics, n_terms=2, columns=2)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 3
    assert [len(ax.patches) for ax in visible] == [2, 2, 2]
    assert visible[2].get_title() == "RL agents (1)"
    assert [t.get_text() for t in visible[2].get_yticklabels()] == ["agents", "RL"]


def test_top_terms_shows_only_the_largest_themes_past_the_cap(tables):
    _, topics, *_ = tables
    fig = plots.plot_top_terms(topics, n_terms=2, columns=2, max_themes=2)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    largest = topics.sort_values("size", ascending=False, kind="stable").head(2)
    assert [ax.get_title() for ax in visible] == [f"{r.label} ({r.size})"
                                                  for r in largest.itertuples()]
    assert fig.get_suptitle() == "Top terms of the 2 largest themes (of 3)"


def test_document_map_has_outliers_and_a_label_per_theme(tables):
    doc_topics, topics, *_ = tables
    ax = plots.plot_document_map(doc_topics, topics).axes[0]
    assert len(ax.collections) == 4  # outliers + 3 themes
    assert sum(c.get_offsets().shape[0] for c in ax.collections) == 10
    assert all(c.get_rasterized() for c in ax.collections)
    assert {t.get_text() for t in ax.texts} == set(topics["label"])


def test_interactive_map_traces_and_sampling(tables, monkeypatch):
    doc_topics, topics, _, _, papers = tables
    fig = plots.plot_document_map_interactive(doc_topics, topics, papers)
    assert [t.name for t in fig.data] == ["Unplaced", *topics["label"]]
    assert "Title" in fig.data[1].customdata[0][0]
    monkeypatch.setattr(plots, "INTERACTIVE_MAX_POINTS", 5)
    fig = plots.plot_document_map_interactive(doc_topics, topics, papers)
    assert sum(len(t.x) for t in fig.data) == 5
    assert "sample of 5" in fig.layout.title.text


def test_similarity_heatmap_labels(tables):
    _, topics, similarity, *_ = tables
    ax = plots.plot_similarity_heatmap(similarity, topics).axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == topics["label"].tolist()
    assert ax.images[0].get_array().shape == (3, 3)


def test_hierarchy_dendrogram_leaves_are_theme_names(tables):
    _, topics, _, hierarchy, _ = tables
    linkage = plots.linkage_from_hierarchy(hierarchy)
    assert linkage.tolist() == [[0, 2, 0.4, 2], [1, 3, 0.9, 3]]
    ax = plots.plot_hierarchy(hierarchy, topics).axes[0]
    assert {t.get_text() for t in ax.get_yticklabels()} == set(topics["label"])
    empty = plots.plot_hierarchy(hierarchy.iloc[0:0], topics.head(1)).axes[0]
    assert "no hierarchy" in empty.texts[0].get_text()


@pytest.mark.slow
def test_figures_from_a_real_run(synthetic_run):
    _, papers, result = synthetic_run
    figures = [
        plots.plot_document_map(result.doc_topics, result.topics),
        plots.plot_theme_sizes(result.topics),
        plots.plot_top_terms(result.topics),
        plots.plot_similarity_heatmap(result.similarity, result.topics),
        plots.plot_hierarchy(result.hierarchy, result.topics),
    ]
    assert len(figures[1].axes[0].patches) == len(result.topics)
    fig = plots.plot_document_map_interactive(result.doc_topics, result.topics, papers)
    assert sum(len(t.x) for t in fig.data) == len(papers)


def test_interactive_map_file_is_the_same_bytes_every_time(tables, tmp_path):
    """plotly names its div with a random UUID unless told; the saved map names it itself."""
    from litreview import io

    doc_topics, topics, _, _, papers = tables
    saved = []
    for run in ("a", "b"):
        fig = plots.plot_document_map_interactive(doc_topics, topics, papers)
        (path,) = io.save_figure(fig, tmp_path / run, "topics_map")
        saved.append(path.read_bytes())
    assert saved[0] == saved[1]
    assert b'id="topics-map"' in saved[0]


def test_figures_drawn_in_a_forked_child_are_the_same_bytes(synthetic_run, tmp_path,
                                                             monkeypatch):
    """``write_figures`` draws ``CHILD_FIGURES`` in a forked child: same files as drawn
    here, the same stems shown, and a failed child's figures are drawn here instead."""
    import hashlib

    from litreview import background, io
    from litreview.topics import describe, write

    _out_dir, papers, result = synthetic_run
    tables = describe.Tables(result.doc_topics, result.topics, result.strands,
                             result.similarity, result.hierarchy, [], 0.0, 0.0)

    def digests(folder):
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted((folder / "figures").iterdir()) if not p.name.startswith(".")}

    forked = write.write_figures(tmp_path / "forked", tables, papers)
    monkeypatch.setattr(background, "fork_call", lambda *a, **k: None)
    alone = write.write_figures(tmp_path / "alone", tables, papers)
    assert list(forked) == list(alone) == list(write.figure_makers(tables, papers))
    assert digests(tmp_path / "forked") == digests(tmp_path / "alone")
    assert all(isinstance(forked[name], io.SavedFigure) for name in write.CHILD_FIGURES)

    class Failed:
        def result(self, timeout):
            raise background.BackgroundFailed("the child died")

    monkeypatch.setattr(background, "fork_call", lambda *a, **k: Failed())
    again = write.write_figures(tmp_path / "failed", tables, papers)
    assert digests(tmp_path / "failed") == digests(tmp_path / "alone")
    assert list(again) == list(alone)
