import json
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from litreview import io, topics
from litreview.manifest import read_manifest

pytestmark = pytest.mark.slow

CONTRACT = {
    "doc_topics": ["paper_id", "topic", "topic_label", "probability", "x", "y",
                   "topic_before_reduction", "centrality", "strand", "strand_label",
                   "membership", "similarity"],
    "topics": ["topic", "label", "size", "share", "top_terms", "display_terms",
               "representative_paper_ids",
               "npmi", "density", "n_strands"],
    "strands": ["strand", "topic", "label", "size", "top_terms", "representative_paper_ids"],
    "topic_similarity": ["topic_a", "topic_b", "similarity"],
    "topic_hierarchy": topics.HIERARCHY_COLUMNS,
}
METRIC_KEYS = {
    "n_papers", "n_themes", "outlier_share_before", "outlier_share_after", "n_reassigned",
    "n_outliers_remaining", "npmi_mean", "npmi_per_theme", "diversity", "silhouette",
    "stability_ari", "stability_ari_mean", "stability_seeds", "seed", "min_topic_size_used",
    "embedding_model", "notes", "n_strands", "membership", "placement", "strand_silhouette",
}


def test_auto_min_topic_size_rule():
    assert topics.auto_min_topic_size(10) == 3
    assert topics.auto_min_topic_size(281) == 8
    assert topics.auto_min_topic_size(5000) == 35


def test_topic_text_matches_bertopic_cleaning():
    assert topics.topic_text("Self-supervised LLM's\nrewards/RL (v2)!") == (
        "Self supervised LLM rewards RL v2")
    assert topics.topic_text("It’s Bob's a\r\tb – c—d_e  é") == "It Bob a b c d e"


def test_coherent_terms_keep_the_name_and_prefer_terms_that_occur_together():
    from scipy import sparse

    vocabulary = {t: i for i, t in enumerate(["alpha", "beta", "rare", "gamma", "delta"])}
    # 6 papers: alpha, beta, gamma and delta appear together; "rare" only in a paper of its own.
    rows = [[1, 1, 0, 1, 1]] * 4 + [[1, 0, 0, 1, 0], [0, 0, 1, 0, 0]]
    present = sparse.csc_matrix(np.asarray(rows, dtype=float))
    ranked = ["alpha", "beta", "rare", "gamma", "delta"]
    assert topics.coherent_terms(ranked, present, vocabulary, 4) == [
        "alpha", "beta", "gamma", "delta"]
    assert topics.coherent_terms(ranked, present, vocabulary, 4, weight=0.0) == ranked[:4]
    assert topics.coherent_terms(["beta", "unknown", "alpha"], present, vocabulary, 3) == [
        "beta", "unknown", "alpha"]
    assert topics.coherent_terms(["x", "y", "gamma"], present, vocabulary, 2) == ["x", "y"]


@given(st.text())
def test_topic_text_leaves_single_spaced_ascii_words(text):
    cleaned = topics.topic_text(text)
    assert re.fullmatch(r"(?:[A-Za-z0-9]+(?: [A-Za-z0-9]+)*)?", cleaned)
    assert topics.topic_text(cleaned) == cleaned


@pytest.mark.parametrize("n_papers", [8, 120])
def test_paper_counts_match_what_the_vectorizer_would_count(n_papers, make_papers):
    docs = [topics.topic_text(t) for t in make_papers(per_theme=30)["abstract"][:n_papers]]
    vectorizer, doc_term = topics.vectorize_papers(docs)
    again = vectorizer.transform(docs)
    assert doc_term.shape == again.shape and (doc_term != again).nnz == 0
    assert topics.build_vectorizer(docs).vocabulary == vectorizer.vocabulary


def test_run_writes_every_contract_file(synthetic_run):
    out_dir, papers, _ = synthetic_run
    for name, columns in CONTRACT.items():
        table = io.load_table(out_dir, name)
        assert set(columns) <= set(table.columns), name
    doc_topics = io.load_table(out_dir, "doc_topics")
    # one row per paper, in canonical order (by paper_id), whatever the input order
    assert doc_topics["paper_id"].tolist() == sorted(papers["paper_id"])
    assert doc_topics["topic"].dtype == np.int64
    metrics = io.read_json(out_dir / "data" / "topic_metrics.json")
    assert set(metrics) >= METRIC_KEYS
    assert (out_dir / "models" / "bertopic" / "topics.json").exists()
    assert (out_dir / "models" / "bertopic" / "ctfidf.safetensors").exists()
    assert not list((out_dir / "models" / "bertopic").glob("*.pkl"))
    backend = metrics["embedding_backend"]  # torch's cache at the root, the others in a folder
    assert (out_dir / "models" / "embeddings" / ("" if backend == "torch" else backend)
            / "index.json").exists()
    stage = read_manifest(out_dir)["stages"]["topics"]
    assert {"embedding", "tree", "placement", "terms", "naming", "map_2d", "describe",
            "stability", "save", "figures"} <= set(stage["timings_s"])
    for name in ("topics_map.png", "topics_map.svg", "topics_map.html", "topics_sizes.png",
                 "topics_terms.png", "topics_similarity.png", "topics_hierarchy.png"):
        assert (out_dir / "figures" / name).exists(), name


def test_synthetic_themes_are_recovered(synthetic_run):
    _, papers, result = synthetic_run
    from sklearn.metrics import adjusted_rand_score

    truth = papers.set_index("paper_id").loc[result.doc_topics["paper_id"], "theme"].to_numpy()
    assert result.metrics["n_themes"] >= 4
    assert adjusted_rand_score(truth, result.doc_topics["topic"]) > 0.8
    # every theme is (nearly) pure: one synthetic theme makes up ≥ 90 % of it
    purity = pd.crosstab(result.doc_topics["topic"].to_numpy(), truth).pipe(
        lambda t: t.max(axis=1) / t.sum(axis=1))
    assert (purity >= 0.9).all()
    assert result.metrics["outlier_share_after"] <= 0.10


def test_topic_tables_are_consistent(synthetic_run):
    _, _papers, result = synthetic_run
    doc_topics, themes = result.doc_topics, result.topics
    assert themes["size"].is_monotonic_decreasing
    assert themes["size"].sum() == (doc_topics["topic"] >= 0).sum()
    assert themes["label"].is_unique
    assert themes["top_terms"].map(len).min() >= 3
    for row in themes.itertuples():
        assert len(row.representative_paper_ids) == min(5, row.n_core or row.size)
        members = set(doc_topics.loc[doc_topics["topic"] == row.topic, "paper_id"])
        assert set(row.representative_paper_ids) <= members
        assert -1 <= row.npmi <= 1 and 0 < row.density <= 1
    k = len(themes)
    sim = result.similarity
    assert len(sim) == k * k
    diag = sim[sim["topic_a"] == sim["topic_b"]]["similarity"]
    assert np.allclose(diag, 1.0)
    assert len(result.hierarchy) == k - 1
    assert sorted(result.hierarchy.iloc[0]["topics"]) == sorted(themes["topic"])
    labelled = doc_topics[doc_topics["topic"] >= 0]
    assert labelled["centrality"].between(-1, 1).all()
    assert doc_topics.loc[doc_topics["topic"] < 0, "centrality"].isna().all()
    names = dict(zip(themes["topic"], themes["label"], strict=True))
    assert (labelled["topic_label"] == labelled["topic"].map(names)).all()


def test_same_input_gives_identical_assignments_in_another_process(synthetic_run, tmp_path):
    out_dir, _papers, _ = synthetic_run
    other = tmp_path / "again"
    (other / "data").mkdir(parents=True)
    (other / "data" / "papers.parquet").write_bytes(
        (out_dir / "data" / "papers.parquet").read_bytes())
    code = ("import sys; from litreview.topics import run_topics; "
            "run_topics(sys.argv[1], stability_seeds=1, show_progress=False)")
    subprocess.run([sys.executable, "-c", code, str(other)], check=True, timeout=1200,
                   capture_output=True)
    for name in ("doc_topics", "topics", "strands", "topic_similarity", "topic_hierarchy"):
        path = f"data/{name}.parquet"
        assert (out_dir / path).read_bytes() == (other / path).read_bytes(), name
    first = io.load_table(out_dir, "doc_topics")
    second = io.load_table(other, "doc_topics")
    for column in ["topic", "topic_before_reduction", "x", "y", "probability", "strand",
                   "similarity"]:
        assert first[column].to_numpy().tobytes() == second[column].to_numpy().tobytes(), column
    assert first["topic_label"].tolist() == second["topic_label"].tolist()
    assert (io.load_table(out_dir, "topics")["top_terms"].map(list).tolist()
            == io.load_table(other, "topics")["top_terms"].map(list).tolist())
    first_metrics = io.read_json(out_dir / "data" / "topic_metrics.json")
    second_metrics = io.read_json(other / "data" / "topic_metrics.json")
    assert json.dumps(first_metrics["stability_ari"]) == json.dumps(second_metrics["stability_ari"])


@pytest.mark.parametrize("n_papers", [1, 3, 10, 25])
def test_tiny_corpora_degrade_to_few_themes_with_a_note(n_papers, make_papers, put_papers,
                                                        tmp_path, st_model):
    papers = make_papers(per_theme=7).head(n_papers)
    put_papers(tmp_path, papers)
    result = topics.run_topics(tmp_path, stability_seeds=1, show_progress=False)
    assert len(result.doc_topics) == n_papers
    assert result.doc_topics["x"].notna().all()
    if n_papers < topics.MIN_PAPERS_TO_CLUSTER:
        assert result.metrics["n_themes"] == 1
        assert result.topics["label"].tolist() == ["All papers"]
        assert any("no clustering" in note for note in result.metrics["notes"])
        assert list(result.hierarchy.columns) == topics.HIERARCHY_COLUMNS
        assert result.hierarchy.empty
    else:
        assert result.metrics["n_themes"] >= 1
        assert result.metrics["n_themes"] >= 2 or result.metrics["notes"]
    assert (tmp_path / "models" / "bertopic" / "topics.json").exists()
