"""The 2-D map of a large corpus: UMAP on a fixed sample, the rest placed by neighbours."""

from __future__ import annotations

import numpy as np
import pytest

from litreview import background
from litreview.topics import layout


def _clusters(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(3, 16)) * 4
    return centres[np.arange(n) % 3] + rng.normal(size=(n, 16))


def test_neighbour_positions_weighted_mean_of_nearest():
    reference = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    xy = np.array([[10.0, 0.0], [0.0, 10.0], [-10.0, 0.0]])
    queries = np.array([[1.0, 0.01], [1.0, 1.0]])
    got = layout.neighbour_positions(queries, reference, xy, k=2, block_rows=1)
    # second query: equally similar to rows 0 and 1, the far row 2 is not a neighbour
    np.testing.assert_allclose(got[1], [5.0, 5.0])
    assert got[0][0] > 9.0 and 0 < got[0][1] < 1.0


def test_neighbour_positions_blocks_do_not_change_the_result():
    data = _clusters(90)
    xy = np.random.default_rng(1).normal(size=(30, 2))
    whole = layout.neighbour_positions(data[30:], data[:30], xy, k=5, block_rows=1000)
    blocked = layout.neighbour_positions(data[30:], data[:30], xy, k=5, block_rows=7)
    # float32 products may differ in the last bits between block shapes; reruns with the
    # same shapes are byte-identical (test_large_corpus_fits_the_sample_and_places_the_rest)
    np.testing.assert_allclose(whole, blocked, rtol=1e-5, atol=1e-6)


def test_neighbour_positions_k_at_least_reference_size():
    reference = np.eye(3)
    xy = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 3.0]])
    got = layout.neighbour_positions(np.ones((1, 3)), reference, xy, k=10)
    np.testing.assert_allclose(got[0], [1.0, 1.0])


def test_map_sample_is_the_tree_sample():
    from litreview.topics import fit

    assert layout.MAP_MAX_FIT_PAPERS == fit.TREE_MAX_PAPERS
    rows = layout.map_sample(100, 20, 7)
    expected = np.sort(np.random.default_rng(7).choice(100, size=20, replace=False))
    assert rows.tolist() == expected.tolist()


@pytest.fixture()
def fake_umap(monkeypatch):
    """A UMAP stand-in that records what it was fitted on (the map's logic, not UMAP's)."""
    fitted: list[int] = []

    class Fake:
        def fit_transform(self, x):
            fitted.append(len(x))
            return np.asarray(x)[:, :2] * 1.0

    monkeypatch.setattr(layout, "make_umap", lambda n, **kw: Fake())
    return fitted


def test_large_corpus_fits_the_sample_and_places_the_rest(fake_umap):
    data = _clusters(60)
    coords = layout.map_coordinates(data, 3, max_fit_papers=20)
    assert fake_umap == [20]
    sample = layout.map_sample(60, 20, 3)
    np.testing.assert_array_equal(coords[sample], data[sample][:, :2])
    rest = np.setdiff1d(np.arange(60), sample)
    expected = layout.neighbour_positions(data[rest], data[sample], data[sample][:, :2])
    np.testing.assert_array_equal(coords[rest], expected)
    # a paper lands among the sample papers of its own cluster
    labels = np.arange(60) % 3
    for row in rest:
        same = sample[labels[sample] == labels[row]]
        other = sample[labels[sample] != labels[row]]
        d_same = np.linalg.norm(coords[same] - coords[row], axis=1).mean()
        d_other = np.linalg.norm(coords[other] - coords[row], axis=1).mean()
        assert d_same < d_other
    again = layout.map_coordinates(data, 3, max_fit_papers=20)
    assert coords.tobytes() == again.tobytes()


def test_corpus_at_the_threshold_fits_every_paper(fake_umap):
    data = _clusters(20)
    coords = layout.map_coordinates(data, 3, max_fit_papers=20)
    assert fake_umap == [20]
    np.testing.assert_array_equal(coords, data[:, :2])


def test_background_map_gives_the_same_coordinates(tmp_path):
    """A large corpus's map is computed in another process (start_map / finish_map):
    the same bytes as map_coordinates here (threshold lowered to reach that path)."""
    data = _clusters(90).astype(np.float32)
    job = layout.start_map(data, 5, 10, tmp_path / "umap", max_fit_papers=40, min_papers=50)
    assert job is not None or background.usable_cpus() < 2
    here = layout.map_coordinates(data, 5, 10, None, 40)
    if job is not None:
        got = layout.finish_map(job)
        assert not job.call.folder.exists()
        assert got.tobytes() == here.tobytes()
        assert list((tmp_path / "umap").glob("*.npy"))  # the child used the cache folder


def test_background_map_not_started_below_the_threshold(tmp_path):
    assert layout.start_map(_clusters(30), 5, 10, tmp_path, min_papers=31) is None


def test_background_map_that_fails_is_computed_here(tmp_path, monkeypatch, fake_umap):
    data = _clusters(60)
    monkeypatch.setattr(background, "_WORKER", "import sys; sys.exit(3)")
    job = layout.start_map(data, 3, 10, None, max_fit_papers=20, min_papers=0)
    if job is None:
        pytest.skip("one CPU: no background map")
    coords = layout.finish_map(job)
    assert fake_umap == [20]  # worked out here after the child failed
    np.testing.assert_array_equal(coords, layout.map_coordinates(data, 3, max_fit_papers=20))
    assert not job.call.folder.exists()
