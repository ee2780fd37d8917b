"""Two levels (themes → strands) and honest membership: contract, rules, order, determinism."""

import json
import random
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from litreview import io, topics

REPO = Path(__file__).resolve().parents[2]


def clustered_vectors(per_group: int = 30, groups: int = 4, dim: int = 24, seed: int = 0):
    """Unit vectors in ``groups`` tight groups around orthogonal directions, shuffled."""
    rng = np.random.default_rng(seed)
    centres = np.eye(dim)[:groups]
    points = np.concatenate([c + 0.25 * rng.normal(size=(per_group, dim)) / np.sqrt(dim)
                             for c in centres])
    truth = np.repeat(np.arange(groups), per_group)
    return points / np.linalg.norm(points, axis=1, keepdims=True), truth


def fit_and_place(vectors, **kw):
    params = topics.resolve_params(len(vectors), **kw)
    levels = topics.fit_levels(vectors, params)
    placed = topics.place_papers(vectors, levels.themes, levels.strands,
                                 min_topic_size=params.min_topic_size,
                                 min_strand_size=params.min_strand_size,
                                 threshold=params.outlier_threshold)
    return levels, placed


def test_a_far_paper_stays_unplaced_and_close_papers_are_placed():
    vectors, truth = clustered_vectors()
    far = np.zeros((1, vectors.shape[1]))
    far[0, -1] = 1.0  # orthogonal to every group
    _, placed = fit_and_place(np.vstack([vectors, far]))
    assert placed.topics[-1] == -1 and placed.strands[-1] == -1
    assert placed.membership[-1] == topics.UNPLACED
    # the cut-off came from the corpus: between the far paper and the members
    cut = placed.summary["similarity_cutoff"]
    assert placed.similarity[-1] < cut < np.median(placed.similarity[:-1])
    assert placed.summary["n_unplaced"] == (placed.topics < 0).sum() <= 0.1 * len(placed.topics)
    from sklearn.metrics import adjusted_rand_score

    assert adjusted_rand_score(truth, placed.topics[:-1]) > 0.9


def test_a_fixed_threshold_replaces_the_corpus_cutoff():
    vectors, _ = clustered_vectors()
    _, placed = fit_and_place(vectors, outlier_threshold=0.999)
    assert placed.summary["similarity_cutoff"] == 0.999
    assert (placed.topics == -1).mean() > 0.9
    assert set(placed.membership[placed.topics == -1]) == {topics.UNPLACED}


def test_peripheral_papers_are_the_least_similar_placed_ones():
    vectors, _ = clustered_vectors(seed=3)
    _, placed = fit_and_place(vectors)
    core = placed.similarity[placed.membership == topics.CORE]
    peripheral = placed.similarity[placed.membership == topics.PERIPHERAL]
    assert len(peripheral) and len(core)
    assert peripheral.max() < core.min()
    assert peripheral.max() < placed.summary["peripheral_below"] <= core.min()


def test_strands_nest_inside_themes_and_small_ones_are_dissolved():
    vectors, _ = clustered_vectors(per_group=40, seed=5)
    _, placed = fit_and_place(vectors, min_strand_size=6)
    for strand in set(placed.strands.tolist()) - {-1}:
        owners = set(placed.topics[placed.strands == strand].tolist())
        assert owners == {placed.strand_theme[strand]}
        assert (placed.strands == strand).sum() >= 6 or len(
            {s for s, t in placed.strand_theme.items() if t == placed.strand_theme[strand]}) == 1
    assert ((placed.strands >= 0) == (placed.topics >= 0)).all()


def test_themes_do_not_depend_on_the_seed_or_the_order_of_the_vectors():
    vectors, _ = clustered_vectors(seed=7)
    _, first = fit_and_place(vectors, seed=1)
    _, second = fit_and_place(vectors, seed=2)
    assert np.array_equal(first.topics, second.topics)
    assert np.array_equal(first.strands, second.strands)
    assert topics.stability(vectors, first.topics, topics.TopicParams(), 2) == [1.0, 1.0]


def test_theme_count_grows_slowly_with_the_corpus():
    assert topics.theme_count_bounds(281) == (6, 12)
    low, high = topics.theme_count_bounds(7811)
    assert 8 <= low < high <= 24
    assert topics.theme_count_bounds(74_000)[1] <= 30
    assert topics.theme_count_bounds(6) == (2, 2)


def test_subsample_stability_refits_90_percent_of_a_fixed_sample(monkeypatch):
    import importlib

    describe = importlib.import_module("litreview.topics.describe")
    seen = []
    real = describe.fit_levels

    def spy(embeddings, params):
        seen.append((len(embeddings), params.min_topic_size))
        return real(embeddings, params)

    monkeypatch.setattr(describe, "fit_levels", spy)
    vectors, truth = clustered_vectors(per_group=15)
    params = topics.TopicParams(seed=7, min_topic_size=10)
    scores = topics.subsample_stability(vectors, truth, params, 2, max_papers=20)
    assert seen == [(18, 3), (18, 3)] and len(scores) == 2  # 10 x 20/60 x 0.9
    seen.clear()
    again = topics.subsample_stability(vectors, truth, params, 1)
    assert seen == [(54, 9)] and again == topics.subsample_stability(vectors, truth, params, 1)
    assert again[0] > 0.9  # four clear groups survive losing 10 % of the papers


def test_stability_at_scale_refits_bounded_seeded_samples(monkeypatch):
    """Above the tree's sample size the seeded refits are at most ``max_seeds``, each on
    its own seeded sample of ``max_papers`` papers (theme size scaled); below it nothing is
    refit and every seed scores 1.0, as before."""
    import importlib

    describe = importlib.import_module("litreview.topics.describe")
    seen = []
    real = describe.fit_levels

    def spy(embeddings, params):
        seen.append((len(embeddings), params.min_topic_size, params.seed))
        return real(embeddings, params)

    monkeypatch.setattr(describe, "fit_levels", spy)
    vectors, truth = clustered_vectors(per_group=15)  # 60 papers, four groups
    params = topics.TopicParams(seed=7, min_topic_size=10)
    assert topics.stability(vectors, truth, params, 3) == [1.0, 1.0, 1.0] and seen == []
    scores = topics.stability(vectors, truth, params, 3, max_papers=40, max_seeds=2,
                              tree_max_papers=50)
    assert seen == [(40, 7, 8), (40, 7, 9)] and len(scores) == 2  # 10 x 40/60
    assert scores == topics.stability(vectors, truth, params, 3, max_papers=40, max_seeds=2,
                                      tree_max_papers=50)
    assert min(scores) > 0.9  # four clear groups: any 40 of the papers give them again
    seen.clear()
    assert len(topics.stability(vectors, truth, params, 1, max_papers=40,
                                tree_max_papers=50)) == 1 and len(seen) == 1


@pytest.mark.slow
def test_two_level_contract(synthetic_run):
    out_dir, _papers, result = synthetic_run
    doc_topics = io.load_table(out_dir, "doc_topics")
    themes = io.load_table(out_dir, "topics")
    strands = io.load_table(out_dir, "strands")
    assert {"strand", "strand_label", "membership", "similarity"} <= set(doc_topics.columns)
    assert set(doc_topics["membership"]) <= {"core", "peripheral", "unplaced"}
    unplaced = doc_topics["membership"] == "unplaced"
    assert (unplaced == (doc_topics["topic"] == -1)).all()
    assert (doc_topics.loc[unplaced, "strand"] == -1).all()
    assert doc_topics["similarity"].between(-1, 1).all()
    assert list(strands.columns[:6]) == ["strand", "topic", "label", "size", "top_terms",
                                         "representative_paper_ids"]
    counts = doc_topics[doc_topics["strand"] >= 0].groupby("strand")["topic"].agg(["first",
                                                                                   "size"])
    assert counts["first"].tolist() == strands["topic"].tolist()
    assert counts["size"].tolist() == strands["size"].tolist()
    assert (themes.set_index("topic")["n_strands"]
            == strands.groupby("topic").size().reindex(themes["topic"])).all()
    names = dict(zip(themes["topic"], themes["label"], strict=True))
    # A strand's label differs from its theme's; only a theme's one strand may carry the
    # theme's name (``naming.only_strand_label``: it is the whole theme, and its own
    # phrase would name fewer of its papers).
    n_strands = strands.groupby("topic").size()
    assert all(label != names[t] or n_strands[t] == 1
               for t, label in zip(strands["topic"], strands["label"], strict=True))
    membership = dict(zip(doc_topics["paper_id"], doc_topics["membership"], strict=True))
    for table in (themes, strands):  # representatives: core papers only, up to 5
        for reps, size, n_core in zip(table["representative_paper_ids"], table["size"],
                                      table["n_core"], strict=True):
            assert len(reps) == (min(5, n_core) if n_core else min(5, size))
            assert all(membership[p] == "core" for p in reps) or not n_core
    metrics = result.metrics
    assert metrics["placement"]["n_reassigned"] == metrics["n_reassigned"]
    assert metrics["membership"]["unplaced"] == unplaced.sum()
    assert metrics["placement"]["similarity_cutoff"] < doc_topics.loc[~unplaced,
                                                                      "similarity"].min() + 1e-9


def _ingest_seed(n: int) -> pd.DataFrame:
    """The first ``n`` papers (by id) of the bundled seed corpus, as ingest reads them."""
    import tempfile

    from litreview.ingest import run_ingest

    with tempfile.TemporaryDirectory() as tmp:
        papers = run_ingest([REPO / "data" / "corpus"], Path(tmp)).papers
    return papers.sort_values("paper_id").head(n).reset_index(drop=True)


def _write_jsonl(folder: Path, papers: pd.DataFrame, order: list[int], names: list[str]) -> None:
    folder.mkdir(parents=True)
    half = len(order) // 2
    for name, part in zip(names, (order[:half], order[half:]), strict=True):
        with open(folder / name, "w", encoding="utf-8") as fh:
            for i in part:
                row = papers.iloc[i]
                fh.write(json.dumps({"id": f"seed-{row['paper_id']}", "title": row["title"],
                                     "abstract": row["abstract"]}) + "\n")


@pytest.mark.slow
def test_record_and_file_order_do_not_change_the_themes(tmp_path, st_model):
    """Shuffle the seed corpus's records and swap its files: the tables are byte-identical."""
    from litreview.ingest import run_ingest

    papers = _ingest_seed(90)
    order = list(range(len(papers)))
    _write_jsonl(tmp_path / "in-a", papers, order, ["a.jsonl", "b.jsonl"])
    shuffled = order[:]
    random.Random(1).shuffle(shuffled)
    _write_jsonl(tmp_path / "in-b", papers, shuffled, ["b.jsonl", "a.jsonl"])
    outs = []
    for tag in ("a", "b"):
        out = tmp_path / f"out-{tag}"
        run_ingest([tmp_path / f"in-{tag}"], out, input_format="jsonl")
        if tag == "b":  # same texts: reuse the first run's caches (embeddings, map)
            shutil.copytree(tmp_path / "out-a" / "models", out / "models")
        topics.run_topics(out, stability_seeds=1, show_progress=False, figures=False)
        outs.append(out)
    first, second = (io.load_table(o, "papers") for o in outs)
    assert first["paper_id"].tolist() != second["paper_id"].tolist()  # the input order differs
    for name in ("doc_topics", "topics", "strands", "topic_similarity", "topic_hierarchy"):
        path = f"data/{name}.parquet"
        assert (outs[0] / path).read_bytes() == (outs[1] / path).read_bytes(), name


def test_sentence_windows_read_every_sentence_once_with_the_title():
    from litreview import embed

    def count(text):
        return len(text.split())  # one "word piece" per word

    title = "A title about things."
    sentences = [f"Sentence {i} has exactly six words." for i in range(12)]
    text = " ".join([title, *sentences])
    assert embed.sentence_windows("Short text. Fits.", count, 50) == ["Short text. Fits."]
    windows = embed.sentence_windows(text, count, 20)
    assert len(windows) > 1
    assert all(w.startswith(title + " ") and count(w) <= 20 for w in windows)
    rest = [w[len(title) + 1:] for w in windows]
    assert " ".join(rest) == " ".join(sentences)  # each sentence once, in order
    long_sentence = "Word " + " ".join(["word"] * 39) + "."
    pieces = embed.sentence_windows(f"{title} {long_sentence}", count, 20)
    assert all(count(p) <= 20 for p in pieces)
    assert all(p.startswith(title) for p in pieces)
    assert sum(count(p) - count(title) for p in pieces) == 40


def test_the_tree_reads_the_leading_principal_components_only():
    vectors, _ = clustered_vectors(per_group=60, groups=4, dim=160, seed=3)
    projected = topics.tree_space(vectors)
    assert projected.shape == (240, topics.fit.TREE_DIMENSIONS)
    # Row order changes nothing but the order of the rows.
    order = np.random.default_rng(0).permutation(len(vectors))
    assert np.allclose(np.abs(topics.tree_space(vectors[order])), np.abs(projected[order]))
    small = vectors[:50]  # fewer papers than components: nothing to project
    assert np.array_equal(topics.tree_space(small), small)


def test_refining_moves_a_paper_to_the_theme_it_is_closest_to():
    vectors, truth = clustered_vectors(per_group=20, groups=3, seed=4)
    wrong = truth.copy()
    wrong[0] = 1  # a paper of group 0 cut into group 1
    assert np.array_equal(topics.fit.refine_themes(vectors, wrong, 10), truth)
    assert np.array_equal(topics.fit.refine_themes(vectors, truth, 10), truth)


def _theme_with_two_lines(seed: int = 0):
    """One theme (id 0) of two research lines (directions 1 and 2 about a shared axis 0)
    plus a second theme (id 1); a third direction (3) runs across both themes."""
    rng = np.random.default_rng(seed)
    dim = 16
    rows, line, style = [], [], []
    for i in range(40):
        v = np.zeros(dim)
        v[0] = 1.0
        v[1 + i % 2] = 0.6  # the theme's own research line
        v[3] = 0.25 if i < 20 else -0.25  # a direction shared with the other theme
        rows.append(v + 0.03 * rng.normal(size=dim))
        line.append(i % 2)
        style.append(int(i < 20))
    for _ in range(20):
        v = np.zeros(dim)
        v[5] = 1.0
        v[3] = 0.25
        rows.append(v + 0.03 * rng.normal(size=dim))
    unit = np.asarray(rows) / np.linalg.norm(rows, axis=1, keepdims=True)
    themes = np.asarray([0] * 40 + [1] * 20)
    return unit, themes, np.asarray(line), np.asarray(style)


def test_strands_are_regrouped_by_what_sets_papers_apart_inside_their_theme():
    from litreview.topics import fit

    unit, themes, line, style = _theme_with_two_lines()
    # as the corpus tree's finer cut may give them: theme 0 split along the shared direction
    given = np.concatenate([style, np.full(20, 5)])
    given[3] = -1  # detached by split_far_halves: stays detached
    out = fit.regroup_strands(unit, themes, given, np.arange(len(unit)))
    theme0 = np.flatnonzero((themes == 0) & (given >= 0))
    assert out[3] == -1
    assert len(np.unique(out[theme0])) == 2  # as many strands as it had
    # each new strand is one research line, not one side of the shared direction
    for s in np.unique(out[theme0]):
        assert len(np.unique(line[theme0][out[theme0] == s])) == 1
    assert (out[themes == 1] == out[themes == 1][0]).all()  # a one-strand theme keeps one
    assert set(out[theme0]).isdisjoint(out[themes == 1])
    again = fit.regroup_strands(unit, themes, given, np.arange(len(unit)))
    assert (again == out).all()


def test_papers_outside_the_tree_sample_join_the_nearest_regrouped_strand():
    from litreview.topics import fit

    unit, themes, line, style = _theme_with_two_lines(seed=1)
    given = np.concatenate([style, np.full(20, 5)])
    sample = np.flatnonzero(np.arange(len(unit)) % 4 != 0)  # every fourth paper left out
    out = fit.regroup_strands(unit, themes, given, sample)
    theme0 = np.flatnonzero(themes == 0)
    for s in np.unique(out[theme0]):
        assert len(np.unique(line[theme0][out[theme0] == s])) == 1


def test_stability_in_the_background_gives_the_same_scores(monkeypatch):
    """Above STABILITY_BACKGROUND_MIN_PAPERS (lowered here) the refits run in another
    process (start_stability_step / stability_step): the same scores as here."""
    from types import SimpleNamespace

    from litreview import background

    vectors, truth = clustered_vectors(per_group=15)
    params = topics.TopicParams(seed=7, min_topic_size=10)
    levels = SimpleNamespace(clustered=True)
    state = SimpleNamespace(updating=False)
    here = topics.stability_step(levels, state, vectors, truth, params, 2, vectors)
    assert topics.start_stability_step(levels, state, vectors, truth, params, 2) is None
    monkeypatch.setattr(topics, "STABILITY_BACKGROUND_MIN_PAPERS", 10)
    job = topics.start_stability_step(levels, state, vectors, truth, params, 2, vectors)
    assert job is not None or background.usable_cpus() < 2
    assert topics.stability_step(levels, state, vectors, truth, params, 2, vectors, job) == here
    assert len(here[1]) == 2
    # no refit on an update (or without seeds): nothing started, nothing scored
    assert topics.start_stability_step(levels, SimpleNamespace(updating=True), vectors, truth,
                                       params, 2, vectors) is None
    assert topics.stability_step(levels, state, vectors, truth, params, 0) == ([], [])


def test_a_tree_without_a_clear_step_says_the_number_of_themes_is_a_choice():
    from litreview.topics.fit import CLEAR_STEP

    grouped, _ = clustered_vectors(per_group=20, groups=8, dim=32, seed=3)
    levels, _ = fit_and_place(grouped, seed=1)
    assert levels.count_cut == 8 and levels.count_step >= CLEAR_STEP
    assert not any("no clear number of themes" in note for note in levels.notes)

    rng = np.random.default_rng(10)  # its strongest step is at 5 of 5–10 themes
    flat = rng.normal(size=(160, 32))
    flat /= np.linalg.norm(flat, axis=1, keepdims=True)
    levels, _ = fit_and_place(flat, seed=1)
    assert levels.count_step is not None and levels.count_step < CLEAR_STEP
    # no clear count: the finest outline the bounds allow (a merge is cheaper than a split)
    assert len(np.unique(levels.themes)) == topics.theme_count_bounds(160)[1] > levels.count_cut
    assert any("no clear number of themes" in note and "nr_topics" in note
               for note in levels.notes)

    fixed, _ = fit_and_place(flat, seed=1, nr_topics=6)  # the researcher chose: no note
    assert fixed.count_step is None and fixed.count_cut is None
    assert not any("no clear number of themes" in note for note in fixed.notes)


def test_a_clear_step_must_hold_on_trees_of_subsamples(monkeypatch):
    """A step made by the order of two near-tied merges (a perturbation as small as bf16
    vectors reverses it) is no clear number of themes; one made by real sections is."""
    from litreview.topics import fit

    grouped, _ = clustered_vectors(per_group=20, groups=8, dim=32, seed=3)
    space = fit.tree_space(grouped / np.linalg.norm(grouped, axis=1, keepdims=True))
    real = fit.subsample_step(space, 8)
    assert real >= fit.CLEAR_STEP and real == fit.subsample_step(space, 8)  # fixed draws
    levels, _ = fit_and_place(grouped, seed=1)
    assert levels.count_clear and levels.count_support == pytest.approx(real)
    assert len(np.unique(levels.themes)) == 8
    assert fit_and_place(grouped, seed=2)[0].count_support == levels.count_support  # seed-free

    monkeypatch.setattr(fit, "subsample_step", lambda space, k: 1.02)  # a fragile step
    fragile, _ = fit_and_place(grouped, seed=1)
    assert fragile.count_step >= fit.CLEAR_STEP and fragile.count_clear is False
    assert len(np.unique(fragile.themes)) == topics.theme_count_bounds(160)[1]
    note = next(n for n in fragile.notes if "no clear number of themes" in n)
    assert "1.02× on average on trees of 90% of the papers" in note
