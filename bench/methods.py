"""Theme assignments compared by the quality benchmark, and how each is scored.

Every method returns an :class:`Assignment` (one label per paper, -1 for outliers,
top terms per theme, wall time); :func:`score` measures it against the true labels
with the same NPMI/diversity functions as ``litreview.metrics``, over one shared
term reference so that every method's terms are judged on the same documents.
"""

from __future__ import annotations

import ast
import inspect
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

SEED = 42
TOP_N = 10


@dataclass
class Assignment:
    """One method's theme per paper (-1 = outlier) and its top terms per theme."""

    method: str
    labels: np.ndarray
    terms: list[list[str]]
    seconds: float
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


def topic_docs(texts: Sequence[str]) -> list[str]:
    """Return the texts every term-based method reads (litreview's ``topic_text`` clean-up)."""
    from litreview.topics import topic_text

    return [topic_text(t) for t in texts]


# --------------------------------------------------------------------------- scoring


def score(assign: Assignment, truth: np.ndarray, docs: Sequence[str]) -> dict[str, Any]:
    """Return NMI, ARI, V-measure, themes, outlier share, NPMI, diversity and time."""
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.metrics import (
        adjusted_rand_score,
        normalized_mutual_info_score,
        v_measure_score,
    )

    from litreview import metrics

    pred = np.asarray(assign.labels)
    # Hyphen compounds ("text-to-image") as the vectorizer's tokens see them.
    terms = [[t.lower().replace("-", " ") for t in ts[:TOP_N]] for ts in assign.terms]
    vocab = sorted({t for ts in terms for t in ts})
    npmi = float("nan")
    if vocab:
        longest = max(len(t.split()) for t in vocab)
        vec = CountVectorizer(vocabulary=vocab, ngram_range=(1, longest), binary=True)
        doc_term = vec.transform(docs)
        scores = metrics.npmi_coherence(terms, doc_term, vec.vocabulary_)
        finite = [s for s in scores if s == s]
        npmi = float(np.mean(finite)) if finite else float("nan")
    return {
        "method": assign.method,
        "nmi": float(normalized_mutual_info_score(truth, pred)),
        "ari": float(adjusted_rand_score(truth, pred)),
        "v_measure": float(v_measure_score(truth, pred)),
        "themes": len({int(t) for t in pred if t >= 0}),
        "outliers": float(np.mean(pred < 0)),
        "npmi": npmi,
        "diversity": float(metrics.topic_diversity(terms, TOP_N)) if terms else float("nan"),
        "seconds": round(assign.seconds, 2),
        "notes": "; ".join(assign.notes),
    }


def ctfidf_terms(docs: Sequence[str], labels: np.ndarray, top_n: int = TOP_N) -> list[list[str]]:
    """Return BERTopic-style c-TF-IDF top terms per label ≥ 0 (English stop words)."""
    from bertopic.vectorizers import ClassTfidfTransformer
    from sklearn.feature_extraction.text import CountVectorizer

    themes = sorted({int(t) for t in labels if t >= 0})
    joined = [" ".join(d for d, t in zip(docs, labels, strict=True) if t == k) for k in themes]
    vec = CountVectorizer(stop_words="english")
    counts = vec.fit_transform(joined)
    weights = ClassTfidfTransformer().fit_transform(counts).toarray()
    words = vec.get_feature_names_out()
    return [[str(words[j]) for j in np.argsort(-row)[:top_n]] for row in weights]


# --------------------------------------------------------------------------- litreview


def notebook_topic_parameters() -> dict[str, Any]:
    """Return the topics notebook's parameter defaults that ``run_topics`` accepts."""
    from litreview import topics
    from litreview.pipeline import notebook_parameters

    accepted = set(inspect.signature(topics.run_topics).parameters) - {"out_dir"}
    params: dict[str, Any] = {}
    for name, spec in notebook_parameters("topics").items():
        if name in accepted:
            params[name] = ast.literal_eval(spec["default"])
    return params


def litreview_run_topics(out_dir: Path, overrides: Mapping[str, Any] | None = None
                         ) -> tuple[Assignment, Any]:
    """Run ``litreview.topics.run_topics`` as notebook 02 does; return its assignment and result.

    The assignment is in ``papers.parquet`` order (``run_topics`` works in canonical
    order), so it lines up with the benchmark's labels.
    """
    from litreview import io, topics

    params = {**notebook_topic_parameters(), **dict(overrides or {}), "show_progress": False,
              "figures": False}
    start = time.perf_counter()
    result = topics.run_topics(out_dir, **params)
    seconds = time.perf_counter() - start
    ordered = result.topics.sort_values("topic")
    terms = [list(t) for t in ordered["top_terms"]]
    ids = io.load_table(out_dir, "papers")["paper_id"].astype(str)
    by_id = result.doc_topics.set_index("paper_id")
    labels = by_id.loc[ids, "topic"].to_numpy()
    extra = {"timings": dict(result.timings), "params": params,
             "litreview_npmi_mean": result.metrics.get("npmi_mean"),
             "unplaced_share": result.metrics.get("outlier_share_after"),
             "stability_ari_mean": result.metrics.get("stability_ari_mean"),
             "strand_labels": by_id.loc[ids, "strand"].to_numpy(),
             "strand_terms": [list(t) for t in result.strands.sort_values("strand")["top_terms"]]}
    notes = list(result.metrics.get("notes", []))
    return Assignment("litreview themes", labels, terms, seconds, notes, extra), result


def litreview_assign(embeddings: np.ndarray, texts: Sequence[str],
                     overrides: Mapping[str, Any] | None = None,
                     titles: Sequence[str] | None = None) -> list[Assignment]:
    """Assign themes and strands with litreview's own steps on given embeddings (no files).

    The same ``fit_levels`` → ``place_papers`` → ``find_terms`` chain as ``run_topics``
    with the notebook defaults, in the given paper order (the tree is built in canonical
    order by ``run_topics``; here the caller's order is kept); terms without the KeyBERT
    pass, which needs the model. The tree reads ``fit.hybrid_vectors`` (``titles``
    counted twice when given). Returns the theme and the strand assignment.
    """
    from litreview import topics

    nb = {**notebook_topic_parameters(), **dict(overrides or {})}
    docs = topic_docs(texts)
    start = time.perf_counter()
    params = topics.resolve_params(
        len(docs), seed=nb.get("seed", SEED), min_topic_size=nb.get("min_topic_size", 0),
        nr_topics=nb.get("nr_topics", 0), min_strand_size=nb.get("min_strand_size", 3),
        outlier_threshold=nb.get("outlier_threshold", 0.0), top_n_terms=TOP_N)
    titles = list(titles) if titles is not None else [""] * len(docs)
    levels = topics.fit_levels(topics.hybrid_vectors(embeddings, docs, titles), params)
    placed = topics.place_papers(embeddings, levels.themes, levels.strands,
                                 min_topic_size=params.min_topic_size,
                                 min_strand_size=params.min_strand_size,
                                 threshold=params.outlier_threshold)
    seconds = time.perf_counter() - start
    terms = topics.find_terms(docs, list(texts), embeddings, placed.topics, placed.strands,
                              params, embedding_model=None, with_keybert=False)
    extra = {"min_topic_size": params.min_topic_size, "placement": placed.summary}
    return [
        Assignment("litreview themes (steps)", placed.topics, terms.themes["top_terms"],
                   seconds, list(levels.notes), extra),
        Assignment("litreview strands (steps)", placed.strands, terms.strands, seconds, [],
                   extra),
    ]


# --------------------------------------------------------------------------- baselines


def bertopic_default(embeddings: np.ndarray, docs: Sequence[str], *, reduce: bool = True
                     ) -> list[Assignment]:
    """Fit BERTopic with its defaults (UMAP 15/5/seed 42, HDBSCAN 10, English stop words).

    Returns the raw assignment and, with ``reduce``, the one after
    ``reduce_outliers(strategy="embeddings")`` (terms of the raw fit: BERTopic does not
    update them unless ``update_topics`` is called).
    """
    from bertopic import BERTopic
    from hdbscan import HDBSCAN
    from sklearn.feature_extraction.text import CountVectorizer
    from umap import UMAP

    start = time.perf_counter()
    model = BERTopic(
        umap_model=UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine",
                        random_state=SEED),
        hdbscan_model=HDBSCAN(min_cluster_size=10, metric="euclidean",
                              cluster_selection_method="eom", prediction_data=True),
        vectorizer_model=CountVectorizer(stop_words="english"),
    )
    topics, _ = model.fit_transform(list(docs), embeddings=embeddings)
    fit_s = time.perf_counter() - start
    themes = sorted({t for t in topics if t >= 0})
    terms = [[w for w, _ in (model.get_topic(t) or [])][:TOP_N] for t in themes]
    out = [Assignment("BERTopic defaults", np.asarray(topics), terms, fit_s)]
    if reduce and -1 in topics:
        start = time.perf_counter()
        reduced = model.reduce_outliers(list(docs), topics, strategy="embeddings",
                                        embeddings=embeddings)
        out.append(Assignment("BERTopic + reduce_outliers", np.asarray(reduced), terms,
                              fit_s + time.perf_counter() - start))
    return out


def ward(embeddings: np.ndarray, docs: Sequence[str], k: int) -> Assignment:
    """Cut Ward's tree of the unit embeddings at the true k (scipy); terms by c-TF-IDF."""
    from scipy.cluster.hierarchy import cut_tree

    from litreview import metrics, topics

    start = time.perf_counter()
    labels = cut_tree(topics.ward_tree(metrics._unit(embeddings)), n_clusters=k).ravel()
    seconds = time.perf_counter() - start
    return Assignment(f"Ward (true k={k})", labels, ctfidf_terms(docs, labels), seconds)


def kmeans(embeddings: np.ndarray, docs: Sequence[str], k: int) -> Assignment:
    """Cluster the embeddings with k-means at the true k; terms by c-TF-IDF."""
    from sklearn.cluster import KMeans

    start = time.perf_counter()
    labels = KMeans(n_clusters=k, n_init=10, random_state=SEED).fit_predict(embeddings)
    seconds = time.perf_counter() - start
    return Assignment(f"k-means (true k={k})", labels, ctfidf_terms(docs, labels), seconds)


def nmf(docs: Sequence[str], k: int) -> Assignment:
    """Factorise tf-idf (English stop words) with NMF at the true k; theme = largest weight."""
    from sklearn.decomposition import NMF
    from sklearn.feature_extraction.text import TfidfVectorizer

    start = time.perf_counter()
    vec = TfidfVectorizer(stop_words="english", min_df=2, max_df=0.95)
    x = vec.fit_transform(docs)
    model = NMF(n_components=k, init="nndsvda", random_state=SEED, max_iter=400)
    weights = model.fit_transform(x)
    seconds = time.perf_counter() - start
    words = vec.get_feature_names_out()
    terms = [[str(words[j]) for j in np.argsort(-row)[:TOP_N]] for row in model.components_]
    return Assignment(f"NMF tf-idf (true k={k})", weights.argmax(axis=1), terms, seconds)


def lda(docs: Sequence[str], k: int) -> Assignment:
    """Fit scikit-learn LDA on word counts at the true k; theme = most probable topic."""
    from sklearn.decomposition import LatentDirichletAllocation
    from sklearn.feature_extraction.text import CountVectorizer

    start = time.perf_counter()
    vec = CountVectorizer(stop_words="english", min_df=2, max_df=0.95)
    x = vec.fit_transform(docs)
    model = LatentDirichletAllocation(n_components=k, learning_method="online",
                                      random_state=SEED, n_jobs=1)
    theta = model.fit_transform(x)
    seconds = time.perf_counter() - start
    words = vec.get_feature_names_out()
    terms = [[str(words[j]) for j in np.argsort(-row)[:TOP_N]] for row in model.components_]
    return Assignment(f"LDA (true k={k})", theta.argmax(axis=1), terms, seconds)
