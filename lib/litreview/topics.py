"""Stage 02: map the themes of the corpus with BERTopic and write the topic tables.

``run_topics`` is the one path that writes the stage's outputs; the functions it
calls step by step (``build_vectorizer``, ``fit_topic_model``, ``reduce_outliers``,
``update_representation``, ``map_coordinates``, ``stability``, ``hierarchy_table``)
are public so the notebook can show each step. Heavy libraries (bertopic, umap,
hdbscan, torch) are imported inside functions: importing this module is cheap.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import logging
import math
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from litreview import config, embed, io, labels, metrics, two_stage
from litreview.manifest import Timer, record_stage

logger = logging.getLogger(__name__)

#: Below this many papers no clustering is attempted: one theme holds every paper.
MIN_PAPERS_TO_CLUSTER = 15
OUTLIER_LABEL = "Outliers"
OUTLIER_STRATEGIES = ("embeddings", "c-tf-idf", "distributions", "none")
#: Share of a theme's papers a term must appear in to rank among its top terms.
MIN_TERM_SUPPORT = 0.1
#: Leading terms of a theme kept in consensus order: they make its name.
NAME_TERMS = 2
#: The other top terms are chosen from this many times as many candidates …
COHERENCE_POOL = 3
#: … by rank plus this weight × their mean NPMI with the terms already chosen.
COHERENCE_WEIGHT = 2.0
#: Above this many papers, stability refits run on a fixed sample of this size.
STABILITY_MAX_PAPERS = 5000
HIERARCHY_COLUMNS = [
    "parent_id", "parent_name", "topics", "child_left_id", "child_left_name",
    "child_right_id", "child_right_name", "distance",
]


@dataclasses.dataclass(frozen=True)
class TopicParams:
    """Every setting that decides the topic model; ``run_topics`` records them all."""

    seed: int = 42
    min_topic_size: int = 0
    nr_topics: int = 0
    umap_n_neighbors: int = 15
    umap_n_components: int = 5
    hdbscan_selection: str = "leaf"
    outlier_strategy: str = "embeddings"
    outlier_threshold: float = 0.0
    top_n_terms: int = 10


@dataclasses.dataclass
class FitResult:
    """A fitted BERTopic model and its assignments before outlier reduction."""

    model: Any
    topics: list[int]
    probabilities: np.ndarray
    vectorizer: Any
    notes: list[str]
    timings: dict[str, float]
    clustered: bool
    #: Paper × term counts of ``vectorizer`` (None: call ``vectorizer.transform(docs)``).
    doc_term: Any = None


@dataclasses.dataclass
class TopicsResult:
    """What ``run_topics`` wrote, in memory, plus the fitted model for notebook use."""

    doc_topics: pd.DataFrame
    topics: pd.DataFrame
    similarity: pd.DataFrame
    hierarchy: pd.DataFrame
    metrics: dict[str, Any]
    model: Any
    embeddings: np.ndarray
    timings: dict[str, float]


def auto_min_topic_size(n_papers: int) -> int:
    """Return the smallest theme size for a corpus of ``n_papers``: max(3, round(√n / 2)).

    Square-root growth keeps the number of themes readable: about 8 papers per
    theme at 281 papers, 35 at 5,000, 136 at 74,000.
    """
    return max(3, round(math.sqrt(max(n_papers, 0)) / 2))


_POSSESSIVE = re.compile(r"['’]s\b")
_TO_SPACE = str.maketrans({c: " " for c in "-/–—_\n\t"})
_NON_WORD = re.compile(r"[^A-Za-z0-9 ]+")


def topic_text(text: str) -> str:
    """Return the text the term vectorizer reads: ASCII letters, digits and single spaces.

    Hyphens and slashes become spaces (``self-supervised`` → ``self supervised``)
    and possessive ``'s`` is dropped; BERTopic's own clean-up (drop every other
    non-alphanumeric character) then leaves the text unchanged, so terms, NPMI and
    the c-TF-IDF all see the same tokens.
    """
    if "'" in text or "’" in text:
        text = _POSSESSIVE.sub("", text)
    text = _NON_WORD.sub("", text.translate(_TO_SPACE))
    return " ".join(text.split())


def stop_words() -> list[str]:
    """Return the vectorizer's stop words: scikit-learn's English list plus research filler."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return sorted(ENGLISH_STOP_WORDS | labels.RESEARCH_STOP_WORDS)


def build_vectorizer(docs: Sequence[str]) -> Any:
    """Return the CountVectorizer of ``vectorize_papers`` (uni- and bigrams, fixed vocabulary)."""
    return vectorize_papers(docs)[0]


def vectorize_papers(docs: Sequence[str]) -> tuple[Any, Any]:
    """Return a CountVectorizer with a vocabulary chosen over papers, and the papers' counts.

    BERTopic fits its vectorizer on one joined document per theme, where ``min_df``
    and ``max_df`` would count themes, not papers. So the vocabulary is chosen here
    over the papers — a term must occur in at least ``max(2, n/2000)`` papers (bounds
    memory on large corpora) and in at most half of them (too common to tell themes
    apart) — and handed to BERTopic as a fixed vocabulary. The second value is the
    paper × term count matrix, exactly what the returned vectorizer's ``transform(docs)``
    gives, so term support and NPMI need no second pass over the text.
    """
    from sklearn.feature_extraction.text import CountVectorizer

    n = len(docs)
    stop = stop_words()
    small = n < 30
    selector = CountVectorizer(
        stop_words=stop, ngram_range=(1, 2),
        min_df=1 if small else max(2, round(n / 2000)), max_df=1.0 if small else 0.5,
    )
    try:
        doc_term = selector.fit_transform(docs)
        vocabulary = selector.get_feature_names_out().tolist()
    except ValueError:  # every word is a stop word or too rare / too common
        vocabulary = []
    if vocabulary:
        vectorizer = CountVectorizer(stop_words=stop, ngram_range=(1, 2), vocabulary=vocabulary)
        return vectorizer, doc_term
    fallback = CountVectorizer(ngram_range=(1, 1), token_pattern=r"(?u)\b\w+\b")
    try:
        fallback.fit(docs)
    except ValueError as exc:
        raise ValueError("the papers have no words to describe themes with") from exc
    vectorizer = CountVectorizer(ngram_range=(1, 1), token_pattern=r"(?u)\b\w+\b",
                                 vocabulary=fallback.get_feature_names_out().tolist())
    return vectorizer, vectorizer.fit_transform(docs)


@functools.cache
def _model_classes() -> dict[str, type]:
    """Build (once) the subclasses that time UMAP and HDBSCAN and make KeyBERT deterministic."""
    import hdbscan
    import umap
    from bertopic.representation import KeyBERTInspired

    class TimedUMAP(umap.UMAP):
        """UMAP that times its fit and, given ``cache_dir_``, reuses an identical earlier fit."""

        cache_dir_: Path | None = None

        def fit_transform(self, X, y=None, **kwargs):
            start = time.perf_counter()
            try:
                if self.cache_dir_ is None or y is not None:
                    return super().fit_transform(X, y=y, **kwargs)
                path = Path(self.cache_dir_) / f"{reduction_key(X, self.get_params())}.npy"
                cached = _load_reduction(path, (len(X), self.n_components))
                if cached is not None:
                    # Same input and settings give the same bytes (fixed random_state).
                    self.embedding_ = cached
                    return cached
                reduced = super().fit_transform(X, **kwargs)
                with io.atomic_path(path) as tmp, open(tmp, "wb") as fh:
                    np.save(fh, np.asarray(reduced), allow_pickle=False)
                return reduced
            finally:
                self.fit_seconds_ = time.perf_counter() - start

    class TimedHDBSCAN(hdbscan.HDBSCAN):
        def fit(self, X, y=None):
            start = time.perf_counter()
            try:
                return super().fit(X, y=y)
            finally:
                self.fit_seconds_ = time.perf_counter() - start

    class SortedKeyBERTInspired(KeyBERTInspired):
        """KeyBERTInspired that embeds its candidate words in sorted order.

        The original collects them in a set, whose order changes with Python's hash
        seed, so the batches (and the last bits of the similarities) changed per process.
        """

        def _extract_embeddings(self, topic_model, topics, representative_docs,
                                repr_doc_indices, repr_embeddings=None):
            if repr_embeddings is None:
                repr_embeddings = topic_model._extract_embeddings(
                    representative_docs, method="document", verbose=False
                )
            topic_embeddings = [
                np.mean(repr_embeddings[i[0] : i[-1] + 1], axis=0) for i in repr_doc_indices
            ]
            vocab = sorted({word for words in topics.values() for word in words})
            word_embeddings = topic_model._extract_embeddings(vocab, method="document",
                                                              verbose=False)
            from sklearn.metrics.pairwise import cosine_similarity

            return cosine_similarity(topic_embeddings, word_embeddings), vocab

    return {"umap": TimedUMAP, "hdbscan": TimedHDBSCAN, "keybert": SortedKeyBERTInspired}


def make_umap(params: TopicParams, n_papers: int, *, seed: int | None = None,
              n_components: int | None = None, min_dist: float = 0.0,
              cache_dir: Path | None = None) -> Any:
    """Return the UMAP used for clustering (or, with ``n_components=2``, for the map).

    Neighbours and components are capped below the number of papers, and small
    corpora use a random start because the spectral one fails on tiny graphs.
    With ``cache_dir``, a fit on the same vectors with the same settings is read
    back instead of recomputed, so changing only theme size, outlier or label
    settings re-runs in seconds.
    """
    components = n_components or params.umap_n_components
    reducer = _model_classes()["umap"](
        n_neighbors=max(2, min(params.umap_n_neighbors, n_papers - 1)),
        n_components=max(1, min(components, n_papers - 2)),
        min_dist=min_dist,
        metric="cosine",
        random_state=params.seed if seed is None else seed,
        low_memory=True,
        n_jobs=1,  # what a fixed random_state forces anyway; saying so avoids a warning
        init="spectral" if n_papers >= 100 else "random",
    )
    reducer.cache_dir_ = cache_dir
    return reducer


def cached_embedder(model: str | os.PathLike, cache_dir: Path, batch_size: int = 32,
                    known: Mapping[str, np.ndarray] | None = None) -> Any:
    """Return a BERTopic embedder backed by litreview's embedding cache (torch backend).

    BERTopic's representations embed documents and candidate words; through this
    embedder they are read from the disk cache when present, and the model is
    loaded only for texts never seen before. ``known`` maps texts to vectors already
    at hand: KeyBERT's representative documents get the paper's own embedding
    (from its full title and abstract, as clustered) instead of a new one.
    """
    from bertopic.backend import BaseEmbedder

    known = known or {}

    class CachedEmbedder(BaseEmbedder):
        def embed(self, documents: Sequence[str], verbose: bool = False) -> np.ndarray:
            documents = list(documents)
            new = [d for d in documents if d not in known]
            if len(new) == len(documents):
                return self._embed(documents)
            vectors = dict(zip(new, self._embed(new), strict=True)) if new else {}
            return np.stack([known[d] if d in known else vectors[d] for d in documents])

        def _embed(self, texts: list[str]) -> np.ndarray:
            return embed.embed_texts(texts, model=model, cache_dir=cache_dir,
                                     batch_size=batch_size, show_progress=False,
                                     embedding_backend="torch")

    return CachedEmbedder()


def reduction_key(vectors: np.ndarray, settings: Mapping[str, Any]) -> str:
    """Return the cache key of a UMAP fit: SHA-256 of the vectors' bytes and the settings."""
    digest = hashlib.sha256()
    array = np.ascontiguousarray(vectors)
    digest.update(f"{array.dtype.str}{array.shape}".encode())
    digest.update(array.tobytes())
    digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:32]


def _load_reduction(path: Path, shape: tuple[int, int]) -> np.ndarray | None:
    if not path.exists():
        return None
    try:
        cached = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as err:
        logger.warning("ignoring unreadable UMAP cache %s (%s); refitting", path, err)
        return None
    if cached.shape != shape or not np.isfinite(cached).all():
        logger.warning("ignoring UMAP cache %s of shape %s; refitting", path, cached.shape)
        return None
    return cached


def make_hdbscan(params: TopicParams, min_cluster_size: int) -> Any:
    """Return the HDBSCAN that finds the themes in the UMAP space."""
    return _model_classes()["hdbscan"](
        min_cluster_size=min_cluster_size,
        metric="euclidean",
        cluster_selection_method=params.hdbscan_selection,
        prediction_data=True,
    )


def representation_models(params: TopicParams, seed: int) -> dict[str, Any]:
    """Return BERTopic's extra representations: KeyBERT-like terms and MMR-diversified c-TF-IDF.

    The main representation stays c-TF-IDF (distinctive uni- and bigrams, good for names).
    """
    from bertopic.representation import MaximalMarginalRelevance

    n_words = _raw_term_count(params)
    keybert = _model_classes()["keybert"](
        top_n_words=n_words, nr_repr_docs=5, nr_candidate_words=100, random_state=seed
    )
    mmr = MaximalMarginalRelevance(diversity=0.3, top_n_words=n_words)
    return {"KeyBERT": keybert, "MMR": mmr}


def _raw_term_count(params: TopicParams) -> int:
    # Ask for more terms than shown: cleaning drops some.
    return max(3 * params.top_n_terms, 30)


def _new_bertopic(params: TopicParams, embedding_model: Any, vectorizer: Any, **models: Any) -> Any:
    from bertopic import BERTopic
    from bertopic.vectorizers import ClassTfidfTransformer

    return BERTopic(
        embedding_model=embedding_model,
        vectorizer_model=vectorizer,
        ctfidf_model=ClassTfidfTransformer(reduce_frequent_words=True),
        representation_model=None,
        top_n_words=_raw_term_count(params),
        calculate_probabilities=False,
        low_memory=True,
        verbose=False,
        **models,
    )


def fit_topic_model(
    embeddings: np.ndarray,
    docs: Sequence[str],
    params: TopicParams,
    *,
    embedding_model: Any = None,
    reduction_cache: Path | None = None,
) -> FitResult:
    """Fit BERTopic (UMAP → HDBSCAN → c-TF-IDF) on precomputed embeddings.

    ``params.min_topic_size`` must already be resolved (> 0). Fewer than
    ``MIN_PAPERS_TO_CLUSTER`` papers, or HDBSCAN finding fewer than two themes,
    gives one theme holding every paper, with a note saying so.
    """
    docs = list(docs)
    n = len(docs)
    start = time.perf_counter()
    vectorizer, doc_term = vectorize_papers(docs)
    notes: list[str] = []
    timings: dict[str, float] = {"vocabulary": round(time.perf_counter() - start, 3)}
    if n < MIN_PAPERS_TO_CLUSTER:
        note = (f"only {n} paper(s): below {MIN_PAPERS_TO_CLUSTER} no clustering is attempted; "
                "all papers form one theme")
        logger.warning(note)
        single = _single_theme(embeddings, docs, params, embedding_model, vectorizer, [note])
        single.timings, single.doc_term = timings, doc_term
        return single

    model = _new_bertopic(
        params, embedding_model, vectorizer,
        umap_model=make_umap(params, n, cache_dir=reduction_cache),
        hdbscan_model=make_hdbscan(params, params.min_topic_size),
        nr_topics=params.nr_topics or None,
    )
    start = time.perf_counter()
    topics, probabilities = model.fit_transform(docs, embeddings=embeddings)
    total = time.perf_counter() - start
    timings["umap"] = round(model.umap_model.fit_seconds_, 3)
    timings["hdbscan"] = round(model.hdbscan_model.fit_seconds_, 3)
    timings["ctfidf"] = round(total - timings["umap"] - timings["hdbscan"], 3)
    n_themes = len({t for t in topics if t >= 0})
    if n_themes < 2:
        note = (f"HDBSCAN found {n_themes} theme(s) with min_topic_size={params.min_topic_size} "
                f"in {n} papers; all papers form one theme")
        logger.warning(note)
        single = _single_theme(embeddings, docs, params, embedding_model, vectorizer, [note])
        single.timings, single.doc_term = timings, doc_term
        return single
    return FitResult(model, list(map(int, topics)), _probabilities(probabilities, n),
                     vectorizer, notes, timings, clustered=True, doc_term=doc_term)


def _probabilities(probabilities: Any, n: int) -> np.ndarray:
    if probabilities is None:
        return np.ones(n)
    values = np.asarray(probabilities, dtype=float)
    return values.max(axis=1) if values.ndim == 2 else values


def _single_theme(embeddings: np.ndarray, docs: list[str], params: TopicParams,
                  embedding_model: Any, vectorizer: Any, notes: list[str]) -> FitResult:
    from bertopic.cluster import BaseCluster
    from bertopic.dimensionality import BaseDimensionalityReduction

    model = _new_bertopic(params, embedding_model, vectorizer,
                          umap_model=BaseDimensionalityReduction(), hdbscan_model=BaseCluster())
    y = np.zeros(len(docs), dtype=int)
    topics, _ = model.fit_transform(docs, embeddings=embeddings, y=y)
    return FitResult(model, [int(t) for t in topics], np.ones(len(docs)), vectorizer, notes,
                     {}, clustered=False)


def reduce_outliers(
    model: Any, docs: Sequence[str], topics: Sequence[int], embeddings: np.ndarray,
    *, strategy: str = "embeddings", threshold: float = 0.0,
) -> list[int]:
    """Assign outlier papers (-1) to their nearest theme with BERTopic's ``reduce_outliers``.

    ``strategy="embeddings"`` compares each outlier's embedding with the theme
    centroids; a paper whose best similarity is below ``threshold`` stays an outlier.
    ``"none"`` keeps every outlier.
    """
    if strategy not in OUTLIER_STRATEGIES:
        raise ValueError(f"outlier_strategy must be one of {OUTLIER_STRATEGIES}, not {strategy!r}")
    topics = [int(t) for t in topics]
    if strategy == "none" or -1 not in topics:
        return topics
    new = model.reduce_outliers(list(docs), topics, strategy=strategy, embeddings=embeddings,
                                threshold=threshold)
    return [int(t) for t in new]


def update_representation(
    model: Any, docs: Sequence[str], topics: Sequence[int], embeddings: np.ndarray,
    params: TopicParams, vectorizer: Any,
) -> None:
    """Recompute the terms of every theme for the final assignments, with KeyBERT and MMR.

    Also resets the theme embeddings to the centroids of the final members (BERTopic
    would otherwise build them from word embeddings after a reassignment).
    """
    from bertopic.vectorizers import ClassTfidfTransformer

    topics = [int(t) for t in topics]
    changed = topics != [int(t) for t in model.topics_]
    with _quiet_bertopic():
        model.update_topics(
            list(docs),
            topics=topics if changed else None,
            top_n_words=_raw_term_count(params),
            vectorizer_model=vectorizer,
            ctfidf_model=ClassTfidfTransformer(reduce_frequent_words=True),
            representation_model=representation_models(params, params.seed),
        )
    ordered = sorted(set(topics))
    model.topic_embeddings_ = metrics.centroids(embeddings, topics, ordered)


def theme_terms(
    model: Any,
    topic_ids: Sequence[int],
    top_n: int,
    support: Sequence[Mapping[str, float]] | None = None,
    min_support: float = MIN_TERM_SUPPORT,
) -> dict[str, list[list[str]]]:
    """Return the cleaned c-TF-IDF, KeyBERT and MMR terms of each theme, and ``top_terms``.

    ``top_terms`` merge the cleaned c-TF-IDF and KeyBERT rankings by Borda count
    (a term both rank high wins; one only c-TF-IDF likes, often a frequent but
    vague word, sinks), after removing terms shared by most themes. With
    ``support`` (per theme: term -> share of the theme's papers that contain it),
    terms found in fewer than ``min_support`` of the theme's papers go to the end:
    a term from two abstracts names no theme, and it drags NPMI towards -1.
    """
    raw: dict[str, list[list[str]]] = {"ctfidf": [], "keybert": [], "mmr": []}
    aspects = getattr(model, "topic_aspects_", {}) or {}
    for topic in topic_ids:
        raw["ctfidf"].append([w for w, _ in model.get_topic(topic) or [] if w])
        raw["keybert"].append([w for w, _ in aspects.get("KeyBERT", {}).get(topic, []) if w])
        raw["mmr"].append([w for w, _ in aspects.get("MMR", {}).get(topic, []) if w])
    shared = labels.shared_terms([labels.clean_terms(t, max_terms=top_n) for t in raw["ctfidf"]])
    out: dict[str, list[list[str]]] = {"top_terms": []}
    for kind, lists in raw.items():
        out[f"{kind}_terms"] = [labels.clean_terms(t, max_terms=top_n) for t in lists]
    for i, (ctfidf, keybert) in enumerate(zip(raw["ctfidf"], raw["keybert"], strict=True)):
        merged = labels.consensus_terms(
            labels.clean_terms(ctfidf, exclude=shared), labels.clean_terms(keybert, exclude=shared)
        )
        if support is not None:
            share = support[i]
            merged = sorted(merged, key=lambda term: share.get(term, 0.0) < min_support)
        out["top_terms"].append(labels.clean_terms(merged, max_terms=top_n))
    return out


def coherent_terms(
    ranked: Sequence[str], present: Any, vocabulary: Mapping[str, int], top_n: int,
    *, keep: int = NAME_TERMS, weight: float = COHERENCE_WEIGHT,
) -> list[str]:
    """Return ``top_n`` of the ``ranked`` candidate terms, favouring terms that occur together.

    The first ``keep`` terms stay as ranked (they name the theme). Each next term is the
    candidate maximising ``weight`` × its mean NPMI with the terms already chosen minus
    its rank / number of candidates, so a distinctive term that never appears with the
    others (a word from two abstracts) gives way to one the theme's papers use together.
    ``present`` is the binary paper × term matrix (CSC) of ``vocabulary``. On the labeled
    arXiv set (30 candidates, weight 2) this raised the mean NPMI of the top-10 terms from
    0.193 to 0.256 and their diversity from 0.90 to 0.95, with the same theme names.
    """
    ranked = list(dict.fromkeys(ranked))
    if len(ranked) <= keep or top_n <= keep:
        return ranked[:top_n]
    columns = [vocabulary.get(term) for term in ranked]
    known = [i for i, c in enumerate(columns) if c is not None]
    n_docs = max(present.shape[0], 1)
    sub = present[:, [columns[i] for i in known]]
    together = (sub.T @ sub).toarray() / n_docs
    npmi = np.full((len(ranked), len(ranked)), -1.0)
    for a, i in enumerate(known):
        for b, j in enumerate(known):
            npmi[i, j] = metrics.npmi_pair(together[a, a], together[b, b], together[a, b])
    chosen = list(range(keep))
    pool = list(range(keep, len(ranked)))
    while len(chosen) < top_n and pool:
        best = max(pool, key=lambda i: (weight * float(np.mean(npmi[i, chosen]))
                                        - i / len(ranked), -i))
        chosen.append(best)
        pool.remove(best)
    return [ranked[i] for i in chosen]


def term_support(
    doc_term: Any, vocabulary: Mapping[str, int], assignments: np.ndarray,
    topic_ids: Sequence[int], terms: Sequence[Sequence[str]],
) -> list[dict[str, float]]:
    """Return, per theme, the share of its papers containing each of the given terms."""
    present = (doc_term > 0).tocsc()
    out = []
    for topic, topic_terms in zip(topic_ids, terms, strict=True):
        members = np.flatnonzero(assignments == topic)
        shares: dict[str, float] = {}
        for term in topic_terms:
            column = vocabulary.get(term)
            if column is not None and len(members):
                shares[term] = float(present[members, column].sum()) / len(members)
        out.append(shares)
    return out


def map_coordinates(
    embeddings: np.ndarray, seed: int, n_neighbors: int = 15,
    reduction_cache: Path | None = None,
) -> np.ndarray:
    """Return 2-D map coordinates: UMAP (cosine, fixed seed); PCA for tiny corpora."""
    n = len(embeddings)
    if n < MIN_PAPERS_TO_CLUSTER:
        if n < 2:
            return np.zeros((n, 2))
        from sklearn.decomposition import PCA

        coords = PCA(n_components=min(2, n), svd_solver="full").fit_transform(embeddings)
        return np.pad(coords, ((0, 0), (0, 2 - coords.shape[1])))
    reducer = make_umap(TopicParams(seed=seed, umap_n_neighbors=n_neighbors), n,
                        n_components=2, min_dist=0.1, cache_dir=reduction_cache)
    return np.asarray(reducer.fit_transform(embeddings), dtype=float)


def cluster_labels(
    embeddings: np.ndarray, params: TopicParams, seed: int,
    reduction_cache: Path | None = None,
) -> np.ndarray:
    """Return UMAP + HDBSCAN labels for one seed, as in ``fit_topic_model`` (no c-TF-IDF)."""
    reducer = make_umap(params, len(embeddings), seed=seed, cache_dir=reduction_cache)
    reduced = reducer.fit_transform(embeddings)
    return make_hdbscan(params, params.min_topic_size).fit(reduced).labels_.astype(int)


def nearest_centroid(
    embeddings: np.ndarray, labels_: Sequence[int], threshold: float
) -> np.ndarray:
    """Assign each -1 to the theme with the most similar centroid if similarity ≥ threshold."""
    labels_ = np.asarray(labels_).copy()
    themes = sorted(t for t in set(labels_.tolist()) if t >= 0)
    outliers = labels_ < 0
    if not themes or not outliers.any():
        return labels_
    sims = metrics._unit(embeddings[outliers]) @ metrics.centroids(embeddings, labels_, themes).T
    best = sims.argmax(axis=1)
    labels_[outliers] = np.where(sims.max(axis=1) >= threshold, np.asarray(themes)[best], -1)
    return labels_


def stability(
    embeddings: np.ndarray,
    reference: Sequence[int],
    params: TopicParams,
    n_seeds: int,
    max_papers: int = STABILITY_MAX_PAPERS,
    reduction_cache: Path | None = None,
) -> list[float]:
    """Return the ARI between ``reference`` and refits with seeds seed+1 … seed+n_seeds.

    Each refit reruns UMAP and HDBSCAN; with the "embeddings" outlier strategy its
    outliers are assigned to the nearest centroid as in the main run, so the
    comparison is between final assignments. Theme merging (``nr_topics``) is not
    repeated. Above ``max_papers`` papers the refits run on one fixed random sample
    of that many papers (``min_topic_size`` scaled to the sample) and are compared
    with the main run on that sample, which keeps the cost bounded at any corpus size.
    """
    reference = np.asarray(reference)
    if n_seeds > 0 and len(embeddings) > max_papers:
        sample = np.sort(np.random.default_rng(params.seed).choice(
            len(embeddings), size=max_papers, replace=False))
        scaled = max(2, round(params.min_topic_size * max_papers / len(embeddings)))
        params = dataclasses.replace(params, min_topic_size=scaled)
        embeddings, reference = embeddings[sample], reference[sample]
    scores = []
    for k in range(1, n_seeds + 1):
        alt = cluster_labels(embeddings, params, params.seed + k, reduction_cache)
        if params.outlier_strategy != "none":
            alt = nearest_centroid(embeddings, alt, params.outlier_threshold)
        scores.append(round(metrics.adjusted_rand(reference, alt), 6))
    return scores


def hierarchy_table(
    model: Any,
    docs: Sequence[str],
    names: dict[int, str],
    casing: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Return BERTopic's theme tree with snake_case columns and readable names.

    Leaves carry the theme names; a merged node is named from its c-TF-IDF terms
    (also kept as ``parent_terms``). Empty, with the same columns, below two themes.
    """
    themes = [t for t in set(model.topics_) if t >= 0]
    if len(themes) < 2:
        return pd.DataFrame({c: pd.Series(dtype=_hier_dtype(c)) for c in HIERARCHY_COLUMNS})
    saved = model.representation_model
    model.representation_model = None  # merged-node names from c-TF-IDF only: fast, stable
    try:
        with _quiet_bertopic():
            raw = model.hierarchical_topics(list(docs))
    finally:
        model.representation_model = saved
    table = pd.DataFrame({
        "parent_id": raw["Parent_ID"].astype(int),
        "parent_terms": [n.split("_") for n in raw["Parent_Name"]],
        "topics": [[int(t) for t in ts] for ts in raw["Topics"]],
        "child_left_id": raw["Child_Left_ID"].astype(int),
        "child_right_id": raw["Child_Right_ID"].astype(int),
        "distance": raw["Distance"].astype(float),
    })
    n_leaves = len(themes)
    node_names: dict[int, str] = dict(names)
    table = table.sort_values("parent_id").reset_index(drop=True)
    for row in table.itertuples():
        node_names[row.parent_id] = labels.theme_name(
            labels.clean_terms(row.parent_terms), 3, casing=casing
        )

    def name_of(node: int) -> str:
        return node_names.get(node, str(node)) if node >= n_leaves else names.get(node, str(node))

    table["parent_name"] = [node_names[p] for p in table["parent_id"]]
    table["child_left_name"] = [name_of(c) for c in table["child_left_id"]]
    table["child_right_name"] = [name_of(c) for c in table["child_right_id"]]
    table = table.sort_values("parent_id", ascending=False).reset_index(drop=True)  # root first
    return table[[*HIERARCHY_COLUMNS, "parent_terms"]]


def _hier_dtype(column: str) -> str:
    if column.endswith("_id"):
        return "int64"
    return "float64" if column == "distance" else "object"


@contextlib.contextmanager
def _quiet_bertopic() -> Iterator[None]:
    """Silence BERTopic's expected warnings and its unconditional progress bar."""
    import bertopic._bertopic as bertopic_module

    bertopic_logger = logging.getLogger("BERTopic")
    level, progress = bertopic_logger.level, bertopic_module.tqdm
    bertopic_logger.setLevel(logging.ERROR)
    # hierarchical_topics shows a tqdm bar whatever `verbose` says.
    bertopic_module.tqdm = functools.partial(progress, disable=True)
    try:
        yield
    finally:
        bertopic_logger.setLevel(level)
        bertopic_module.tqdm = progress


def save_model(model: Any, folder: Path, embedding_model_path: Path) -> None:
    """Save the model as safetensors (no pickle), replacing ``folder`` only once complete."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        model.save(tmp, serialization="safetensors", save_ctfidf=True,
                   save_embedding_model=str(embedding_model_path))
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run_topics(
    out_dir: str | os.PathLike,
    *,
    embedding_model: str = embed.DEFAULT_MODEL,
    seed: int = 42,
    min_topic_size: int = 0,
    nr_topics: int = 0,
    umap_n_neighbors: int = 15,
    umap_n_components: int = 5,
    outlier_strategy: str = "embeddings",
    outlier_threshold: float = 0.0,
    stability_seeds: int = 3,
    top_n_terms: int = 10,
    batch_size: int = 32,
    hdbscan_selection: str = "leaf",
    show_progress: bool = True,
    embedding_backend: str = "auto",
    two_stage_sample_size: int = two_stage.SAMPLE_SIZE,
) -> TopicsResult:
    """Fit the topic model on ``DIR/data/papers.parquet`` and write the stage's outputs.

    ``min_topic_size=0`` picks it from the corpus size (``auto_min_topic_size``);
    ``nr_topics=0`` merges no themes. Writes doc_topics, topics, topic_similarity,
    topic_hierarchy (parquet), topic_metrics.json, the model under ``DIR/models/bertopic``
    and the embedding cache under ``DIR/models/embeddings``; records the stage in
    the manifest with timings per step. ``embedding_backend`` picks how papers are
    embedded ("auto": torch below 2,000 papers, onnx-int8 below 10,000, two-stage from
    there on; see ``embed.resolve_backend``); the backend actually used is recorded in
    topic_metrics.json and the manifest, with the two-stage map's fit when it ran.
    ``two_stage_sample_size`` papers are embedded with the model on the two-stage path.
    """
    if outlier_strategy not in OUTLIER_STRATEGIES:
        raise ValueError(f"outlier_strategy must be one of {OUTLIER_STRATEGIES}")
    if hdbscan_selection not in ("eom", "leaf"):
        raise ValueError("hdbscan_selection must be 'eom' or 'leaf'")
    if two_stage_sample_size < 1:
        raise ValueError(f"two_stage_sample_size must be at least 1, not {two_stage_sample_size}")
    timer = Timer()
    papers_path = config.data_dir(out_dir) / "papers.parquet"
    with timer("load"):
        papers = io.load_table(out_dir, "papers")
        texts = embed.paper_texts(papers)
        docs = [topic_text(t) for t in texts]
        paper_ids = papers["paper_id"].astype(str).tolist()
    n = len(papers)
    if n == 0:
        raise ValueError(f"{papers_path} has no papers")
    model_path = embed.resolve_model(embedding_model)
    backend = embed.resolve_backend(embedding_backend, len(set(texts)), model_path)
    embedding_cache = config.models_dir(out_dir) / "embeddings"
    two_stage_report: two_stage.TwoStageReport | None = None
    with timer("embedding"):
        if backend == "two-stage":
            embeddings, two_stage_report = two_stage.embed_two_stage(
                texts, model=model_path, cache_dir=embedding_cache, seed=seed,
                sample_size=two_stage_sample_size, batch_size=batch_size,
                show_progress=show_progress,
            )
        else:
            embeddings = embed.embed_texts(
                texts, model=model_path, cache_dir=embedding_cache,
                batch_size=batch_size, show_progress=show_progress, embedding_backend=backend,
            )
    with timer("imports"):
        _model_classes()  # bertopic, umap (numba), hdbscan: seconds that belong to no step
    # KeyBERT and MMR embed candidate words through the same cache, so a warm run loads
    # no model at all; representative documents reuse the papers' own vectors.
    paper_vectors: dict[str, np.ndarray] = {}
    for doc, vector in zip(docs, embeddings, strict=True):
        paper_vectors.setdefault(doc, vector)
    word_embedder = cached_embedder(model_path, embedding_cache, batch_size, paper_vectors)
    reduction_cache = config.models_dir(out_dir) / "umap"
    params = TopicParams(
        seed=seed, min_topic_size=min_topic_size or auto_min_topic_size(n), nr_topics=nr_topics,
        umap_n_neighbors=umap_n_neighbors, umap_n_components=umap_n_components,
        hdbscan_selection=hdbscan_selection, outlier_strategy=outlier_strategy,
        outlier_threshold=outlier_threshold, top_n_terms=top_n_terms,
    )

    fit = fit_topic_model(embeddings, docs, params, embedding_model=word_embedder,
                          reduction_cache=reduction_cache)
    timer.timings.update(fit.timings)
    model, notes = fit.model, list(fit.notes)
    if two_stage_report is not None and two_stage_report.n_sampled < two_stage_report.n_texts:
        fit_quality = two_stage_report.held_out_cosine
        notes.append(
            f"two-stage embedding: {two_stage_report.n_sampled:,} of "
            f"{two_stage_report.n_texts:,} papers embedded with the model "
            f"({two_stage_report.sample_backend}), the others mapped into its space from their "
            "TF-IDF features"
            + ("" if fit_quality is None else f" (held-out cosine {fit_quality:.2f})"))
    before = list(fit.topics)
    with timer("outlier_reduction"):
        after = reduce_outliers(model, docs, before, embeddings, strategy=outlier_strategy,
                                threshold=outlier_threshold) if fit.clustered else list(before)
    with timer("representation"):
        update_representation(model, docs, after, embeddings, params, fit.vectorizer)
        theme_ids = sorted({t for t in after if t >= 0}, key=lambda t: (-after.count(t), t))
        candidates = theme_terms(model, theme_ids, top_n_terms * 3)
        doc_term = fit.doc_term if fit.doc_term is not None else fit.vectorizer.transform(docs)
        # Which paper contains which term: support, coherence and NPMI all read this.
        present = (doc_term > 0).tocsc().astype(np.float64)
        support = term_support(present, fit.vectorizer.vocabulary_, np.asarray(after),
                               theme_ids, candidates["top_terms"])
        terms = theme_terms(model, theme_ids, top_n_terms, support)
        pools = theme_terms(model, theme_ids, COHERENCE_POOL * top_n_terms, support)["top_terms"]
        terms["top_terms"] = [coherent_terms(pool, present, fit.vectorizer.vocabulary_,
                                             top_n_terms) for pool in pools]
        casing = labels.learn_casing(texts)
        names = dict(zip(theme_ids, labels.unique_theme_names(terms["top_terms"], casing=casing),
                         strict=True))
        if not fit.clustered:
            names = {t: labels.FALLBACK_NAME for t in theme_ids}
        model.set_topic_labels({t: names.get(t, OUTLIER_LABEL) for t in sorted(set(after))})
    with timer("map_2d"):
        coords = map_coordinates(embeddings, seed, umap_n_neighbors, reduction_cache)

    with timer("metrics"):
        labels_after = np.asarray(after)
        centre = metrics.centrality(embeddings, labels_after)
        npmi = metrics.npmi_coherence(terms["top_terms"], present, fit.vectorizer.vocabulary_)
        theme_rows = []
        for topic, topic_terms, score in zip(theme_ids, terms["top_terms"], npmi, strict=True):
            members = np.flatnonzero(labels_after == topic)
            nearest = members[np.argsort(-centre[members], kind="stable")[:5]]
            theme_rows.append({
                "topic": topic, "label": names[topic], "size": len(members),
                "share": len(members) / n, "top_terms": topic_terms,
                "display_terms": [labels.format_term(term, casing=casing) for term in topic_terms],
                "representative_paper_ids": [paper_ids[i] for i in nearest],
                "npmi": score, "density": metrics.density(embeddings[members]),
                "representative_titles": papers["title"].iloc[nearest].astype(str).tolist(),
            })
        topics_df = pd.DataFrame(theme_rows)
        for kind in ("keybert", "ctfidf", "mmr"):
            topics_df[f"{kind}_terms"] = terms[f"{kind}_terms"]
        topic_centroids = metrics.centroids(embeddings, labels_after, theme_ids)
        sim = topic_centroids @ topic_centroids.T
        similarity = pd.DataFrame([
            {"topic_a": a, "topic_b": b, "similarity": float(np.clip(sim[i, j], -1, 1))}
            for i, a in enumerate(theme_ids) for j, b in enumerate(theme_ids)
        ], columns=["topic_a", "topic_b", "similarity"])
        silhouette = metrics.silhouette(embeddings, labels_after, seed=seed)

    with timer("stability"):
        stability_ari: list[float] = []
        if fit.clustered and stability_seeds > 0:
            stability_ari = stability(embeddings, after, params, stability_seeds,
                                      reduction_cache=reduction_cache)
        elif stability_seeds > 0:
            notes.append("stability not measured: the corpus was not clustered")

    with timer("hierarchy"):
        hierarchy = hierarchy_table(model, docs, names, casing)

    n_out_before = sum(t < 0 for t in before)
    n_out_after = sum(t < 0 for t in after)
    doc_topics = pd.DataFrame({
        "paper_id": paper_ids,
        "topic": np.asarray(after, dtype="int64"),
        "topic_label": [names.get(t, OUTLIER_LABEL) for t in after],
        # HDBSCAN's membership strength; 0 for papers it left out (reassigned or not).
        "probability": np.where(np.asarray(before) >= 0, fit.probabilities, 0.0).astype(float),
        "x": coords[:, 0].astype(float),
        "y": coords[:, 1].astype(float),
        "topic_before_reduction": np.asarray(before, dtype="int64"),
        "centrality": centre.astype(float),
    })
    if fit.clustered and n_out_after / n > 0.10:
        notes.append(f"{n_out_after / n:.0%} of papers remain outliers after reduction")
    summary = {
        "n_papers": n,
        "n_themes": len(theme_ids),
        "outlier_share_before": n_out_before / n,
        "outlier_share_after": n_out_after / n,
        "n_reassigned": sum(b < 0 <= a for b, a in zip(before, after, strict=True)),
        "n_outliers_remaining": n_out_after,
        "npmi_mean": _mean(npmi),
        "npmi_per_theme": {str(t): _none_if_nan(s) for t, s in zip(theme_ids, npmi, strict=True)},
        "diversity": _none_if_nan(metrics.topic_diversity(terms["top_terms"], top_n_terms)),
        "silhouette": _none_if_nan(silhouette),
        "stability_ari": stability_ari,
        "stability_ari_mean": _mean(stability_ari),
        "stability_seeds": stability_seeds,
        "seed": seed,
        "min_topic_size_used": params.min_topic_size,
        "embedding_model": embedding_model,
        "embedding_model_identity": embed.model_identity(model_path),
        "embedding_backend": backend,
        "two_stage": dataclasses.asdict(two_stage_report) if two_stage_report else None,
        "hdbscan_selection": hdbscan_selection,
        "notes": notes,
    }
    for note in notes:
        logger.info(note)

    with timer("save"):
        io.save_table(doc_topics, out_dir, "doc_topics")
        io.save_table(topics_df, out_dir, "topics")
        io.save_table(similarity, out_dir, "topic_similarity")
        io.save_table(hierarchy, out_dir, "topic_hierarchy")
        io.write_json(config.data_dir(out_dir) / "topic_metrics.json", summary)
        save_model(model, config.models_dir(out_dir) / "bertopic", model_path)
    record_stage(
        out_dir, "topics",
        parameters={**dataclasses.asdict(params), "requested_min_topic_size": min_topic_size,
                    "embedding_model": embedding_model, "stability_seeds": stability_seeds,
                    "batch_size": batch_size, "embedding_backend": backend,
                    "requested_embedding_backend": embedding_backend,
                    "two_stage_sample_size": two_stage_sample_size},
        inputs=[papers_path],
        timings=timer.timings,
        extra={"n_themes": len(theme_ids), "notes": notes},
    )
    return TopicsResult(doc_topics, topics_df, similarity, hierarchy, summary, model,
                        embeddings, dict(timer.timings))


def _mean(values: Sequence[float]) -> float | None:
    finite = [v for v in values if v is not None and not math.isnan(v)]
    return float(np.mean(finite)) if finite else None


def _none_if_nan(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else float(value)
