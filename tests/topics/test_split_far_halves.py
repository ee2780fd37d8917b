"""A theme made of two far-apart groups is split; a small stray group is not glued to a theme."""

import numpy as np
from sklearn.metrics import adjusted_rand_score

from litreview import topics
from litreview.topics import fit

DIM = 32


def group(direction: int, size: int, rng: np.random.Generator, spread: float = 0.2,
          base: np.ndarray | None = None) -> np.ndarray:
    """``size`` unit vectors around axis ``direction`` (plus ``base``, a shared component)."""
    centre = np.eye(DIM)[direction] + (0 if base is None else base)
    points = centre + spread * rng.normal(size=(size, DIM)) / np.sqrt(DIM)
    return points / np.linalg.norm(points, axis=1, keepdims=True)


def themes_of(*sizes: int) -> np.ndarray:
    return np.repeat(np.arange(len(sizes)), sizes)


def test_a_theme_of_two_far_groups_becomes_two_themes():
    rng = np.random.default_rng(0)
    # Three one-line themes, and a fourth the tree glued from two far-apart lines.
    vectors = np.vstack([group(0, 12, rng), group(1, 12, rng), group(2, 12, rng),
                         group(3, 10, rng), group(4, 10, rng)])
    themes = themes_of(12, 12, 12, 20)
    strands = themes.copy()
    out, out_strands, notes = fit.split_far_halves(vectors, themes, strands, min_size=8,
                                                   max_themes=12)
    assert len(np.unique(out)) == 5
    # Each line is one theme of its own, and no line is cut.
    for lo, size in ((0, 12), (12, 12), (24, 12), (36, 10), (46, 10)):
        assert len(np.unique(out[lo:lo + size])) == 1
    assert out[36] != out[46]
    assert (out_strands >= 0).all()
    assert notes and "split in two" in notes[0]


def test_two_lines_stay_together_when_no_theme_is_left_to_split_into():
    rng = np.random.default_rng(0)
    vectors = np.vstack([group(0, 12, rng), group(1, 12, rng), group(2, 12, rng),
                         group(3, 10, rng), group(4, 10, rng)])
    themes = themes_of(12, 12, 12, 20)
    out, out_strands, notes = fit.split_far_halves(vectors, themes, themes.copy(),
                                                   min_size=8, max_themes=4)
    # Both halves are big enough to be themes, so neither is a stray group: nothing moves.
    assert adjusted_rand_score(themes, out) == 1.0
    assert (out_strands >= 0).all() and notes == []


def test_a_homogeneous_theme_is_left_alone():
    rng = np.random.default_rng(1)
    vectors = np.vstack([group(0, 15, rng), group(1, 15, rng), group(2, 15, rng),
                         group(3, 15, rng)])
    themes = themes_of(15, 15, 15, 15)
    out, strands, notes = fit.split_far_halves(vectors, themes, themes.copy(), min_size=8,
                                               max_themes=12)
    assert adjusted_rand_score(themes, out) == 1.0 and (strands >= 0).all() and notes == []


def loose_group(direction: int, size: int, rng: np.random.Generator, low: float,
                high: float, base: np.ndarray) -> np.ndarray:
    """A group whose papers range from tight (spread ``low``) to loose (``high``)."""
    centre = np.eye(DIM)[direction] + base
    scale = np.linspace(low, high, size)[:, None]
    points = centre + scale * rng.normal(size=(size, DIM)) / np.sqrt(DIM)
    return points / np.linalg.norm(points, axis=1, keepdims=True)


def test_a_stray_group_is_not_glued_to_a_theme():
    rng = np.random.default_rng(4)
    shared = 0.9 * np.eye(DIM)[DIM - 1]  # every line shares a component: themes are close
    lines = [loose_group(d, 14, rng, 0.2, 1.5, shared) for d in range(4)]
    strays = loose_group(10, 4, rng, 1.2, 1.6, shared)  # a small loose group far from all
    vectors = np.vstack([*lines, strays])
    themes = themes_of(14, 14, 14, 18)  # the tree glued the strays to the fourth line
    strands = themes.copy()
    out, out_strands, notes = fit.split_far_halves(vectors, themes, strands, min_size=8,
                                                   max_themes=12)
    assert (out_strands[-4:] < 0).all() and (out_strands[:-4] >= 0).all()
    assert len(np.unique(out)) == 4 and "detached" in notes[0]

    before = topics.place_papers(vectors, themes, strands, min_topic_size=8)
    after = topics.place_papers(vectors, out, out_strands, min_topic_size=8)
    # Without the rule the strays are members of the fourth theme (their own mass pulls
    # its centre towards them); detached, they are compared with the line's own centre
    # and fit no theme, while the line stays whole.
    assert (before.topics[-4:] == before.topics[42]).sum() >= 3 and before.topics[42] >= 0
    assert (after.topics[-4:] == -1).all()
    assert len(np.unique(after.topics[42:56][after.topics[42:56] >= 0])) == 1
    assert after.summary["n_detached"] == 4


def test_fit_levels_splits_far_halves_deterministically_and_order_free():
    rng = np.random.default_rng(3)
    vectors = np.vstack([group(d, 12, rng) for d in range(6)])
    params = topics.resolve_params(len(vectors))
    first = topics.fit_levels(vectors, params)
    again = topics.fit_levels(vectors.copy(), params)
    assert np.array_equal(first.themes, again.themes)
    assert np.array_equal(first.strands, again.strands)
    # Every line is whole in one theme, whatever the cut chose.
    for d in range(6):
        assert len(np.unique(first.themes[12 * d:12 * d + 12])) == 1


def test_split_trees_on_the_tree_sample_only(monkeypatch):
    """With the main tree's sample given, each theme's split tree is built on its members
    in the sample (never on more), the other members join the nearer half, and two clear
    far-apart lines still come out as two themes, as with every member."""
    rng = np.random.default_rng(0)
    vectors = np.vstack([group(0, 12, rng), group(1, 12, rng), group(2, 12, rng),
                         group(3, 10, rng), group(4, 10, rng)])
    themes = themes_of(12, 12, 12, 20)
    sample = np.arange(0, len(vectors), 2)  # every other paper
    sizes = []
    real = fit.ward_tree

    def spy(points):
        sizes.append(len(points))
        return real(points)

    monkeypatch.setattr(fit, "ward_tree", spy)
    full, full_strands, _ = fit.split_far_halves(vectors, themes, themes.copy(), min_size=4,
                                                 max_themes=12)
    assert sizes == [12, 12, 12, 20]
    sizes.clear()
    out, out_strands, notes = fit.split_far_halves(vectors, themes, themes.copy(), min_size=4,
                                                   max_themes=12, tree_papers=sample)
    assert sizes == [6, 6, 6, 10]
    assert adjusted_rand_score(full, out) == 1.0 and len(np.unique(out)) == 5
    assert np.array_equal(full_strands >= 0, out_strands >= 0)
    assert notes and "split in two" in notes[0]
