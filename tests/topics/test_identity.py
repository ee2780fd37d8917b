"""Stable theme and strand ids (``topics.identity``): slugs, Hungarian matching, changes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from litreview.topics import identity
from litreview.topics.fit import TopicParams, fit_levels
from litreview.topics.naming import name_levels
from litreview.topics.place import place_papers


def ids(prefix: str, n: int, start: int = 0) -> list[str]:
    return [f"{prefix}{i:03d}" for i in range(start, start + n)]


def previous_map(groups: dict[str, list[str]], labels: dict[str, str] | None = None,
                 extra: list[str] = ()) -> identity.PreviousMap:
    """A previous map with the given themes (no strands)."""
    papers = frozenset(p for g in groups.values() for p in g) | frozenset(extra)
    return identity.PreviousMap(papers, {k: frozenset(v) for k, v in groups.items()},
                                dict(labels or {k: k for k in groups}), {}, {}, {},
                                frozenset(groups))


def current(groups: list[list[str]]) -> tuple[list[str], np.ndarray]:
    papers = [p for g in groups for p in g]
    topics = np.asarray([k for k, g in enumerate(groups) for _ in g])
    return papers, topics


def test_slug_is_ascii_short_and_ids_are_deduplicated_in_order():
    assert identity.slug("Café au lait: the best drinks ever") == "cafe-au-lait-the"
    assert identity.slug("LLM-based Agents & RAG") == "llm-based-agents-rag"
    assert identity.derive_ids(["Bias", "bias", "BIAS!", "…"], "t-") == [
        "t-bias", "t-bias-2", "t-bias-3", "t-theme"]
    taken = {"s-norms", "s-norms-2"}
    assert identity.fresh_id("s-", "Norms", taken) == "s-norms-3"
    assert "s-norms-3" in taken


def test_first_run_ids_come_from_labels_and_say_no_change():
    papers, topics = current([ids("a", 5), ids("b", 4), ids("c", 3)])
    got = identity.assign_ids(papers, topics, topics, {0: "Social norms", 1: "Bias",
                                                       2: "Social norms"},
                              {0: "Culture", 1: "Culture", 2: "Survey"})
    assert got.theme_ids == {0: "t-social-norms", 1: "t-bias", 2: "t-social-norms-2"}
    assert got.strand_ids == {0: "s-culture", 1: "s-culture-2", 2: "s-survey"}
    assert not got.has_previous
    assert set(got.changes["change"]) == {""}
    assert list(got.changes.columns) == identity.CHANGE_COLUMNS


def test_hungarian_pairing_beats_the_greedy_one():
    # A overlaps X most, but giving X to B and Y to A matches more papers in all.
    x, y = ids("x", 10), ids("y", 10)
    prev = previous_map({"t-x": x, "t-y": y})
    a = x[:6] + y[:5]          # J(A,X) = 6/15 = 0.40, J(A,Y) = 5/16 = 0.31
    b = x[6:]                  # J(B,X) = 4/10 = 0.40
    papers, topics = current([a, b])
    got = identity.assign_ids(papers, topics, np.full(len(papers), -1), {0: "A", 1: "B"}, {},
                              prev)
    # greedy gives X to A and leaves B new (0.40 in all); Hungarian: A-Y + B-X (0.71)
    assert got.theme_ids == {0: "t-y", 1: "t-x"}


def test_split_merge_new_and_gone_are_reported():
    p, q, r, s, g = ids("p", 20), ids("q", 10), ids("r", 10), ids("s", 8), ids("g", 6)
    prev = previous_map({"t-p": p, "t-q": q, "t-r": r, "t-s": s, "t-g": g},
                        labels={"t-p": "P", "t-q": "Q", "t-r": "R", "t-s": "S", "t-g": "G"})
    # P splits 12/8, Q and R merge, S is kept under another label, G's papers are gone,
    # and a theme of fresh papers is new (its slug is an old id: it must not take it).
    papers, topics = current([p[:12], p[12:], q + r, s, ids("n", 7)])
    labels = {0: "P", 1: "P side", 2: "Q", 3: "S renamed", 4: "G"}
    got = identity.assign_ids(papers, topics, np.full(len(papers), -1), labels, {}, prev)
    table = got.changes.set_index(["theme_id", "previous_theme_id"])["change"]
    assert got.theme_ids[0] == "t-p" and table[("t-p", "t-p")] == "split"
    assert got.theme_ids[1] == "t-p-side" and table[("t-p-side", "t-p")] == "split"
    assert got.theme_ids[2] in {"t-q", "t-r"}
    other = ({"t-q", "t-r"} - {got.theme_ids[2]}).pop()
    assert table[(got.theme_ids[2], got.theme_ids[2])] == "merged"
    assert table[(got.theme_ids[2], other)] == "merged"      # the absorbed one's own row
    assert got.theme_ids[3] == "t-s" and table[("t-s", "t-s")] == "renamed"
    assert got.theme_ids[4] == "t-g-2" and table[("t-g-2", "")] == "new"
    assert table[("", "t-g")] == "gone"
    assert got.change == {"t-p": "split", "t-p-side": "split", got.theme_ids[2]: "merged",
                          "t-s": "renamed", "t-g-2": "new"}
    assert int(got.changes.loc[got.changes["theme_id"] == "t-s", "shared_papers"].iloc[0]) == 8


def test_a_theme_that_lost_most_of_its_papers_keeps_its_id():
    # Only 5 of 40 papers remain (Jaccard 0.125): the left-over pairing still keeps the id.
    old = ids("o", 40)
    prev = previous_map({"t-old": old, "t-b": ids("b", 10)})
    papers, topics = current([old[:5] + ids("z", 1), ids("b", 10)])
    got = identity.assign_ids(papers, topics, np.full(len(papers), -1), {0: "Old", 1: "B"}, {},
                              prev)
    assert got.theme_ids == {0: "t-old", 1: "t-b"}


def test_centroids_pair_themes_whose_papers_do_not_overlap():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(2, 8))
    papers, topics = current([ids("u", 6), ids("v", 6)])
    emb = centres[topics] + 0.01 * rng.normal(size=(12, 8))
    prev = previous_map({"t-first": ids("f", 6), "t-second": ids("s", 6)})
    got = identity.assign_ids(papers, topics, np.full(12, -1), {0: "U", 1: "V"}, {}, prev,
                              embeddings=emb,
                              previous_centroids={"t-second": centres[0], "t-first": centres[1]})
    assert got.theme_ids == {0: "t-second", 1: "t-first"}
    assert (got.changes["similarity"].iloc[:2] > 0.99).all()
    without = identity.assign_ids(papers, topics, np.full(12, -1), {0: "U", 1: "V"}, {}, prev)
    assert without.theme_ids == {0: "t-u", 1: "t-v"}


def tables_of(papers: list[str], topics: np.ndarray, strands: np.ndarray,
              got: identity.Identity | None, labels: dict[int, str],
              strand_labels: dict[int, str]) -> tuple[pd.DataFrame, ...]:
    topics_df = pd.DataFrame({"topic": sorted(labels),
                              "label": [labels[t] for t in sorted(labels)]})
    strands_df = pd.DataFrame({"strand": sorted(strand_labels),
                               "label": [strand_labels[s] for s in sorted(strand_labels)]})
    docs = pd.DataFrame({"paper_id": papers, "topic": topics, "strand": strands})
    if got is not None:
        topics_df["theme_id"] = [got.theme_ids[t] for t in topics_df["topic"]]
        strands_df["strand_id"] = [got.strand_ids[s] for s in strands_df["strand"]]
    return topics_df, docs, strands_df


def test_tables_of_older_versions_get_their_ids_from_their_labels():
    papers, topics = current([ids("a", 6), ids("b", 5)])
    strands = np.asarray([0] * 3 + [1] * 3 + [2] * 5)
    topics_df, docs, strands_df = tables_of(papers, topics, strands, None, {0: "Alpha", 1: "Beta"},
                                            {0: "One", 1: "Two", 2: "Three"})
    prev = identity.previous_from_tables(topics_df, docs, strands_df)
    assert set(prev.themes) == {"t-alpha", "t-beta"}
    assert prev.strand_theme == {"s-one": "t-alpha", "s-two": "t-alpha", "s-three": "t-beta"}
    # the next run, with relabelled numbers, keeps them
    order = np.arange(len(papers))[::-1]
    got = identity.assign_ids([papers[i] for i in order], 1 - topics[order], 2 - strands[order],
                              {0: "Beta now", 1: "Alpha"}, {0: "3", 1: "2", 2: "1"}, prev)
    assert got.theme_ids == {0: "t-beta", 1: "t-alpha"}
    assert got.strand_ids == {0: "s-three", 1: "s-two", 2: "s-one"}
    assert got.change == {"t-beta": "renamed", "t-alpha": "kept"}


def test_the_automatic_map_is_compared_so_a_curated_merge_is_found_again():
    # Last run: A was merged into B by the curation file; doc_topics says so in theme_id,
    # and keeps the automatic theme in auto_theme_id.
    a, b = ids("a", 6), ids("b", 9)
    papers, topics = current([b, a])
    topics_df = pd.DataFrame({"topic": [0], "label": ["B"], "theme_id": ["t-b"],
                              "auto_label": ["B"]})
    docs = pd.DataFrame({"paper_id": papers, "topic": 0, "theme_id": "t-b",
                         "auto_theme_id": ["t-b"] * 9 + ["t-a"] * 6})
    changes = pd.DataFrame({"theme_id": ["t-b", "t-a", "t-b"], "label": ["B", "A", "B"]})
    prev = identity.previous_from_tables(topics_df, docs, None, changes)
    assert set(prev.themes) == {"t-a", "t-b"}
    assert prev.labels == {"t-a": "A", "t-b": "B"}
    got = identity.assign_ids(papers, topics, np.full(15, -1), {0: "B", 1: "A again"}, {}, prev)
    assert got.theme_ids == {0: "t-b", 1: "t-a"}
    assert got.change == {"t-b": "kept", "t-a": "renamed"}


def test_read_previous_needs_the_tables(tmp_path):
    assert identity.read_previous(tmp_path) is None
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "topics.parquet").write_bytes(b"not parquet")
    (tmp_path / "data" / "doc_topics.parquet").write_bytes(b"not parquet")
    assert identity.read_previous(tmp_path) is None


def fitted_ids(papers: pd.DataFrame, emb: np.ndarray, seed: int,
               previous: identity.PreviousMap | None) -> tuple[identity.Identity, np.ndarray,
                                                               np.ndarray]:
    params = TopicParams(seed=seed, min_topic_size=8)
    levels = fit_levels(emb, params)
    placed = place_papers(emb, levels.themes, levels.strands, min_topic_size=8)
    names = name_levels(papers, placed.topics, placed.strands)
    got = identity.assign_ids(papers["paper_id"].tolist(), placed.topics, placed.strands,
                              names.themes, names.strands, previous, embeddings=emb)
    return got, placed.topics, placed.strands


@pytest.fixture(scope="module")
def blob_corpus(make_papers) -> tuple[pd.DataFrame, np.ndarray]:
    """The synthetic four-theme corpus with embeddings drawn around one centre per theme."""
    papers = make_papers(per_theme=20).sort_values("paper_id").reset_index(drop=True)
    rng = np.random.default_rng(3)
    centres = rng.normal(size=(4, 24))
    sub = rng.normal(size=(4, 2, 24)) * 0.35
    theme = pd.factorize(papers["theme"], sort=True)[0]
    half = np.arange(len(papers)) % 2
    emb = centres[theme] + sub[theme, half] + 0.25 * rng.normal(size=(len(papers), 24))
    return papers, emb


def test_ids_are_stable_across_a_refit_with_another_seed_and_a_shuffled_corpus(blob_corpus):
    papers, emb = blob_corpus
    first, topics, strands = fitted_ids(papers, emb, 42, None)
    by_paper = {p: first.theme_ids[int(t)] for p, t in zip(papers["paper_id"], topics,
                                                            strict=True) if t >= 0}
    strand_by_paper = {p: first.strand_ids[int(s)] for p, s in zip(papers["paper_id"], strands,
                                                                   strict=True) if s >= 0}
    docs = pd.DataFrame({"paper_id": papers["paper_id"], "topic": topics, "strand": strands,
                         "theme_id": [by_paper.get(p, "") for p in papers["paper_id"]],
                         "strand_id": [strand_by_paper.get(p, "") for p in papers["paper_id"]]})
    topics_df = pd.DataFrame({"topic": sorted(first.theme_ids),
                              "label": [first.theme_labels[first.theme_ids[t]]
                                        for t in sorted(first.theme_ids)],
                              "theme_id": [first.theme_ids[t] for t in sorted(first.theme_ids)]})
    strands_df = pd.DataFrame({"strand": sorted(first.strand_ids),
                               "label": [first.strand_labels[first.strand_ids[s]]
                                         for s in sorted(first.strand_ids)],
                               "strand_id": [first.strand_ids[s]
                                             for s in sorted(first.strand_ids)]})
    prev = identity.previous_from_tables(topics_df, docs, strands_df)
    order = np.random.default_rng(5).permutation(len(papers))
    second, topics2, strands2 = fitted_ids(papers.iloc[order].reset_index(drop=True),
                                           emb[order], 7, prev)
    again = {p: second.theme_ids[int(t)] for p, t in zip(papers["paper_id"].iloc[order],
                                                         topics2, strict=True) if t >= 0}
    assert len(set(by_paper.values())) >= 3
    assert len(set(strand_by_paper.values())) > len(set(by_paper.values()))
    assert again == by_paper
    strands_again = {p: second.strand_ids[int(s)] for p, s in
                     zip(papers["paper_id"].iloc[order], strands2, strict=True) if s >= 0}
    assert strands_again == strand_by_paper
    assert set(second.change.values()) == {"kept"}
