"""Quality measures of a topic model: coherence, diversity, separation, stability.

Pure functions of arrays and term lists, so each can be checked on tiny inputs.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence

import numpy as np
from scipy import sparse


def binary_doc_term(
    documents: Sequence[Sequence[str]], vocabulary: Mapping[str, int] | None = None
) -> tuple[sparse.csr_matrix, dict[str, int]]:
    """Return a documents × terms 0/1 matrix and its vocabulary from tokenised documents."""
    vocab = dict(vocabulary) if vocabulary is not None else {}
    rows, cols = [], []
    for i, tokens in enumerate(documents):
        for token in set(tokens):
            if token not in vocab:
                if vocabulary is not None:
                    continue
                vocab[token] = len(vocab)
            rows.append(i)
            cols.append(vocab[token])
    matrix = sparse.csr_matrix(
        (np.ones(len(rows), dtype=np.int32), (rows, cols)), shape=(len(documents), len(vocab))
    )
    return matrix, vocab


def npmi_coherence(
    topic_terms: Sequence[Sequence[str]],
    doc_term: sparse.spmatrix,
    vocabulary: Mapping[str, int],
    *,
    eps: float = 1e-12,
) -> list[float]:
    """Return the NPMI coherence of each theme's terms over the corpus documents.

    With P over documents (P(w) = share of documents containing w, P(wi, wj) =
    share containing both), NPMI(wi, wj) = log(P(wi, wj) / (P(wi) P(wj))) / -log P(wi, wj).
    A pair that never co-occurs (or a term missing from the vocabulary) scores -1;
    a pair present in every document scores 1; ``eps`` only keeps the denominator
    away from zero. A theme scores the mean over its term pairs (NaN with < 2 terms).
    ``doc_term`` must be tokenised like the topic terms (same vectorizer, so bigrams count).
    """
    present = sparse.csc_matrix(doc_term, dtype=np.float64)
    present.data[:] = 1.0
    n_docs = present.shape[0]
    scores: list[float] = []
    for terms in topic_terms:
        terms = list(dict.fromkeys(terms))
        if len(terms) < 2 or n_docs == 0:
            scores.append(float("nan"))
            continue
        columns = [vocabulary.get(t) for t in terms]
        pair_scores = []
        for a, b in itertools.combinations(columns, 2):
            if a is None or b is None:
                pair_scores.append(-1.0)
                continue
            p_a = present[:, a].sum() / n_docs
            p_b = present[:, b].sum() / n_docs
            p_ab = present[:, a].multiply(present[:, b]).sum() / n_docs
            pair_scores.append(npmi_pair(p_a, p_b, p_ab, eps))
        scores.append(float(np.mean(pair_scores)))
    return scores


def npmi_pair(p_a: float, p_b: float, p_ab: float, eps: float = 1e-12) -> float:
    """Return the NPMI of two terms from their document shares and joint share (-1 … 1)."""
    if p_ab <= 0:
        return -1.0
    if p_ab >= 1.0:
        return 1.0
    return float(math.log(p_ab / (p_a * p_b)) / max(-math.log(p_ab), eps))


def topic_diversity(topic_terms: Sequence[Sequence[str]], top_k: int = 10) -> float:
    """Return the share of unique terms among all themes' top-k terms (1 = no overlap)."""
    tops = [list(terms)[:top_k] for terms in topic_terms]
    total = sum(len(t) for t in tops)
    if total == 0:
        return float("nan")
    return len({term for terms in tops for term in terms}) / total


def silhouette(
    embeddings: np.ndarray, labels: Sequence[int], *, max_samples: int = 10_000, seed: int = 0
) -> float:
    """Return the cosine silhouette of the themes (outliers, label -1, left out).

    NaN when fewer than two themes remain. Above ``max_samples`` papers a fixed
    random sample is scored, since the score is quadratic in the number of papers.
    """
    from sklearn.metrics import silhouette_score

    labels = np.asarray(labels)
    mask = labels >= 0
    n_labels = len(np.unique(labels[mask]))
    if n_labels < 2 or n_labels >= mask.sum():
        return float("nan")
    sample = max_samples if mask.sum() > max_samples else None
    return float(
        silhouette_score(
            embeddings[mask], labels[mask], metric="cosine", sample_size=sample, random_state=seed
        )
    )


def adjusted_rand(labels_a: Sequence[int], labels_b: Sequence[int]) -> float:
    """Return the adjusted Rand index of two assignments of the same papers."""
    from sklearn.metrics import adjusted_rand_score

    return float(adjusted_rand_score(np.asarray(labels_a), np.asarray(labels_b)))


def centroids(embeddings: np.ndarray, labels: Sequence[int], topics: Sequence[int]) -> np.ndarray:
    """Return the unit-length mean embedding of each topic in ``topics`` (rows in that order)."""
    labels = np.asarray(labels)
    out = np.zeros((len(topics), embeddings.shape[1]), dtype=np.float64)
    for i, topic in enumerate(topics):
        members = embeddings[labels == topic]
        if len(members):
            out[i] = members.mean(axis=0)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.where(norms == 0, 1.0, norms)


def centrality(embeddings: np.ndarray, labels: Sequence[int]) -> np.ndarray:
    """Return each paper's cosine similarity to its theme's centroid (NaN for outliers)."""
    labels = np.asarray(labels)
    unit = _unit(embeddings)
    out = np.full(len(labels), np.nan)
    topics = sorted(t for t in set(labels.tolist()) if t >= 0)
    for topic, centre in zip(topics, centroids(unit, labels, topics), strict=True):
        mask = labels == topic
        out[mask] = unit[mask] @ centre
    return out


def density(embeddings: np.ndarray) -> float:
    """Return the mean pairwise cosine similarity of a set of embeddings (NaN below 2).

    Uses sum_{i != j} u_i·u_j = |sum_i u_i|² - n for unit vectors u, so it is linear in n.
    """
    n = len(embeddings)
    if n < 2:
        return float("nan")
    unit = _unit(embeddings)
    total = unit.sum(axis=0)
    return float((total @ total - n) / (n * (n - 1)))


def _unit(embeddings: np.ndarray) -> np.ndarray:
    matrix = np.asarray(embeddings, dtype=np.float64)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1.0, norms)
