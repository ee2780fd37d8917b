import math

import numpy as np
import pytest

from litreview import metrics

DOCS = [["a", "b"], ["a", "b"], ["c"], ["d"]]


def test_npmi_perfect_pair_is_one_and_disjoint_pair_is_minus_one():
    doc_term, vocab = metrics.binary_doc_term(DOCS)
    assert metrics.npmi_coherence([["a", "b"]], doc_term, vocab) == [pytest.approx(1.0)]
    assert metrics.npmi_coherence([["a", "c"]], doc_term, vocab) == [-1.0]


def test_npmi_independent_pair_is_zero_and_theme_is_mean_of_pairs():
    doc_term, vocab = metrics.binary_doc_term([["a", "b"], ["a"], ["b"], []])
    assert metrics.npmi_coherence([["a", "b"]], doc_term, vocab)[0] == pytest.approx(0.0)
    doc_term, vocab = metrics.binary_doc_term(DOCS)
    # pairs: (a,b)=1, (a,c)=-1, (b,c)=-1
    assert metrics.npmi_coherence([["a", "b", "c"]], doc_term, vocab)[0] == pytest.approx(-1 / 3)


def test_npmi_known_value_and_unknown_terms():
    # P(a)=3/4, P(b)=2/4, P(a,b)=2/4 -> log((1/2)/(3/8)) / -log(1/2)
    doc_term, vocab = metrics.binary_doc_term([["a", "b"], ["a", "b"], ["a"], ["c"]])
    expected = math.log((1 / 2) / (3 / 8)) / -math.log(1 / 2)
    assert metrics.npmi_coherence([["a", "b"]], doc_term, vocab)[0] == pytest.approx(expected)
    assert metrics.npmi_coherence([["a", "zzz"]], doc_term, vocab) == [-1.0]
    assert math.isnan(metrics.npmi_coherence([["a"]], doc_term, vocab)[0])


def test_topic_diversity():
    assert metrics.topic_diversity([["a", "b"], ["c", "d"]]) == 1.0
    assert metrics.topic_diversity([["a", "b"], ["a", "c"]]) == 0.75
    assert metrics.topic_diversity([["a", "b", "c"], ["a", "x", "y"]], top_k=2) == 0.75


def test_silhouette_ignores_outliers_and_needs_two_themes():
    emb = np.array([[1, 0], [0.99, 0.1], [0, 1], [0.1, 0.99], [0.7, 0.7]], dtype=float)
    good = metrics.silhouette(emb, [0, 0, 1, 1, -1])
    assert good > 0.8
    assert metrics.silhouette(emb, [0, 1, 0, 1, -1]) < 0
    assert math.isnan(metrics.silhouette(emb, [0, 0, 0, 0, -1]))


def test_adjusted_rand_is_label_permutation_invariant():
    assert metrics.adjusted_rand([0, 0, 1, 1], [1, 1, 0, 0]) == 1.0
    assert metrics.adjusted_rand([0, 0, 1, 1], [0, 1, 0, 1]) < 0


def test_density_and_centrality():
    emb = np.array([[1, 0], [0, 1], [1, 0], [-1, 0]], dtype=float)
    assert metrics.density(emb[:2]) == pytest.approx(0.0)
    assert metrics.density(emb[[0, 2]]) == pytest.approx(1.0)
    # mean over the 3 pairs of rows 0, 1, 2: (0 + 1 + 0) / 3
    assert metrics.density(emb[:3]) == pytest.approx(1 / 3)
    assert math.isnan(metrics.density(emb[:1]))
    cent = metrics.centrality(emb, [0, 0, 1, -1])
    assert cent[:2] == pytest.approx([math.sqrt(0.5)] * 2)
    assert cent[2] == pytest.approx(1.0)
    assert math.isnan(cent[3])


def test_umap_reduction_is_cached_with_a_checksum(monkeypatch, tmp_path, caplog):
    import numpy as np
    import umap

    from litreview import topics

    calls = []

    def fake_fit_transform(self, X, y=None, **kwargs):
        calls.append(self.random_state)
        return np.full((len(X), self.n_components), float(self.random_state))

    monkeypatch.setattr(umap.UMAP, "fit_transform", fake_fit_transform)
    vectors = np.random.default_rng(0).normal(size=(30, 8)).astype(np.float32)

    def reduce(seed, data=vectors):
        reducer = topics.make_umap(len(data), seed=seed, cache_dir=tmp_path)
        return reducer.fit_transform(data)

    first = reduce(3)
    (path,) = tmp_path.glob("*.npy")
    assert path.with_suffix(".json").exists()  # the checksum record
    again = reduce(3)
    assert calls == [3] and np.array_equal(first, again)
    reduce(4)  # another seed is another fit
    reduce(3, vectors + 1.0)  # other vectors too
    assert calls == [3, 4, 3]
    # same-shape corruption: a valid array of the right shape with other values
    with open(path, "wb") as fh:
        np.save(fh, np.zeros_like(first))
    with pytest.warns(topics.UMAPCacheWarning, match="checksum mismatch"):
        assert np.array_equal(reduce(3), first)
    assert calls == [3, 4, 3, 3]
    assert np.array_equal(reduce(3), first) and calls == [3, 4, 3, 3]  # rebuilt, then reused
    for p in tmp_path.glob("*.npy"):
        p.write_bytes(b"not an array")
    with pytest.warns(topics.UMAPCacheWarning):
        reduce(3)
    assert "UMAP cache" in caplog.text


def test_nearest_themes_names_the_closest_centroid_of_every_paper():
    import numpy as np

    from litreview.topics.describe import nearest_themes

    centroids = np.asarray([[1.0, 0.0], [0.0, 1.0]])
    papers = np.asarray([[2.0, 0.1], [0.2, 3.0], [1.0, 1.1]])
    topics, sims = nearest_themes(papers, centroids, [7, 3])
    assert topics.tolist() == [7, 3, 3]
    assert np.all((sims > 0.7) & (sims <= 1.0))
    empty_topics, empty_sims = nearest_themes(papers, np.zeros((0, 2)), [])
    assert empty_topics.tolist() == [-1, -1, -1] and np.isnan(empty_sims).all()


def test_nearest_other_theme_leaves_out_the_papers_own_theme():
    import numpy as np

    from litreview.topics.describe import nearest_themes

    centroids = np.asarray([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])
    papers = np.asarray([[1.0, 0.1], [0.1, 1.0], [0.0, -1.0]])
    own = np.asarray([7, 3, -1])
    topics, sims = nearest_themes(papers, centroids, [7, 3, 5], besides=own)
    assert topics.tolist()[:2] == [5, 5]  # not its own theme, the next nearest
    assert sims[0] == pytest.approx(float(centroids[2] @ papers[0]) / np.linalg.norm(papers[0]))
    assert topics[2] == nearest_themes(papers[2:], centroids, [7, 3, 5])[0][0]  # unplaced
    single, _ = nearest_themes(papers, centroids[:1], [7], besides=own)
    assert single.tolist() == [-1, -1, -1]
