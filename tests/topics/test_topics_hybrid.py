"""The tree's hybrid vectors: unit embedding plus a weighted lexical (TF-IDF/SVD) part."""

import numpy as np

from litreview import topics


def corpus(n_per: int = 12):
    """Two method lines sharing title terms, embedded identically (the embedding cannot tell)."""
    rng = np.random.default_rng(0)
    docs, titles = [], []
    for i in range(n_per):
        titles.append(f"Activation steering of language models {i}")
        docs.append(f"we steer activations in the residual stream variant{i % 3} experiments")
    for i in range(n_per):
        titles.append(f"Equivariant graph networks for molecules {i}")
        docs.append(f"symmetry group equivariant message passing variant{i % 3} experiments")
    base = rng.normal(size=(1, 16))
    emb = base + 0.01 * rng.normal(size=(2 * n_per, 16))
    return emb, docs, titles


def test_shared_title_terms_bring_papers_together():
    emb, docs, titles = corpus()
    plain = topics.hybrid_vectors(emb, docs, titles, weight=0.0)
    mixed = topics.hybrid_vectors(emb, docs, titles, weight=0.3)
    assert plain.shape == emb.shape
    assert mixed.shape[0] == len(docs) and mixed.shape[1] > emb.shape[1]
    np.testing.assert_allclose(np.linalg.norm(mixed, axis=1), 1.0)
    def gap(vectors):
        sims = vectors @ vectors.T
        return min(sims[:12, :12].mean(), sims[12:, 12:].mean()) - sims[:12, 12:].mean()

    assert abs(gap(plain)) < 0.01  # the embedding cannot tell the lines apart
    assert gap(mixed) > 0.03  # the lexical part separates them
    levels = topics.fit_levels(mixed, topics.resolve_params(len(docs), nr_topics=2))
    assert len(set(levels.themes[:12])) == 1 and len(set(levels.themes[12:])) == 1
    assert levels.themes[0] != levels.themes[12]


def test_hybrid_vectors_are_deterministic():
    emb, docs, titles = corpus()
    first = topics.hybrid_vectors(emb, docs, titles, weight=0.3)
    second = topics.hybrid_vectors(emb.copy(), list(docs), list(titles), weight=0.3)
    assert first.tobytes() == second.tobytes()


def test_tiny_or_empty_vocabulary_keeps_the_embeddings():
    emb, docs, titles = corpus(3)  # below the clustering minimum
    assert topics.hybrid_vectors(emb, docs, titles, weight=0.3) is emb
    emb, docs, titles = corpus()
    assert topics.hybrid_vectors(emb, docs, titles) is emb  # off by default: the plain tree
    stop = ["the and of"] * len(emb)
    np.testing.assert_allclose(topics.hybrid_vectors(emb, stop, stop, weight=0.3),
                               emb / np.linalg.norm(emb, axis=1, keepdims=True))
