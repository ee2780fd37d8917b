"""The map snapshot and the incremental update (``topics.update``).

Most tests use synthetic vectors (four tight blobs on the unit sphere) and the stage's
own fit and placement, so no embedding model is needed; one slow test runs the stage.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from litreview import io
from litreview.topics import update as up
from litreview.topics.fit import TopicParams, fit_levels
from litreview.topics.place import UNPLACED, place_papers

DIM, PER_BLOB = 24, 30


def blobs(n_per: int = PER_BLOB, seed: int = 0, spread: float = 0.25) -> np.ndarray:
    """Four blobs around the first four axes, unit length."""
    rng = np.random.default_rng(seed)
    rows = []
    for axis in range(4):
        centre = np.zeros(DIM)
        centre[axis] = 1.0
        rows.append(centre + spread * rng.standard_normal((n_per, DIM)) / np.sqrt(DIM))
    vectors = np.vstack(rows)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def far_vector() -> np.ndarray:
    """A paper unlike any blob: along an axis no blob uses."""
    v = np.zeros(DIM)
    v[DIM - 1] = 1.0
    return v


PARAMS = TopicParams(min_topic_size=5, min_strand_size=3)


def full_fit(vectors: np.ndarray, ids: list[str]):
    """Fit and place like the stage; return placement and the snapshot of the fit."""
    levels = fit_levels(vectors, PARAMS)
    placement = place_papers(vectors, levels.themes, levels.strands, min_topic_size=5,
                             min_strand_size=3)
    theme_ids = sorted(set(placement.topics.tolist()) - {-1})
    strand_ids = sorted(set(placement.strands.tolist()) - {-1})
    topics = pd.DataFrame({"topic": theme_ids, "label": [f"theme {t}" for t in theme_ids]})
    strands = pd.DataFrame({"strand": strand_ids,
                            "topic": [placement.strand_theme[s] for s in strand_ids],
                            "label": [f"strand {s}" for s in strand_ids]})
    doc = pd.DataFrame({"paper_id": ids, "topic": placement.topics,
                        "strand": placement.strands, "membership": placement.membership,
                        "similarity": placement.similarity,
                        "x": np.arange(len(ids), dtype=float), "y": np.zeros(len(ids))})
    fingerprint = up.fit_fingerprint(ids, vectors, PARAMS)
    snapshot = up.make_snapshot(vectors, placement, doc, topics, strands,
                                fingerprint=fingerprint, fit_date="2026-11-03",
                                n_themes_bounds=levels.n_themes_bounds)
    return levels, placement, snapshot, doc


@pytest.fixture(scope="module")
def fitted():
    # Loose enough that placement moves and dissolves papers: the tree's centres then
    # differ from the final members' and the tests below can tell them apart.
    vectors = blobs(spread=0.9)
    ids = [f"p{i:03d}" for i in range(len(vectors))]
    return vectors, ids, *full_fit(vectors, ids)


def test_new_papers_are_placed_by_the_full_fits_rule_and_cut_off(fitted):
    vectors, _, _, placement, snapshot, _ = fitted
    assert snapshot.meta["similarity_cutoff"] == pytest.approx(
        placement.summary["similarity_cutoff"])
    assert placement.summary["n_reassigned"] > 0 and (placement.topics == -1).any()
    # Re-placing the fitted papers as if new reproduces the fit's themes and membership:
    # the centroids and cut-offs stored are the ones the placement used.
    again = up.place_new(vectors, snapshot)
    np.testing.assert_array_equal(again.topics, placement.topics)
    np.testing.assert_array_equal(again.membership.astype(str), placement.membership)
    np.testing.assert_allclose(again.similarity, placement.similarity, atol=1e-9)


def test_a_far_paper_stays_unplaced_and_a_near_one_joins_its_blob(fitted):
    vectors, _, _, placement, snapshot, _ = fitted
    near = vectors[5] + 0.01 * far_vector()
    landed = up.place_new(np.vstack([near, far_vector()]), snapshot)
    assert landed.topics[0] == placement.topics[5] and landed.strands[0] >= 0
    assert landed.topics[1] == -1 and landed.strands[1] == -1
    assert landed.membership[1] == UNPLACED
    assert landed.similarity[1] < snapshot.meta["similarity_cutoff"]


def test_strict_fixed_cut_off_is_reused_not_recomputed(fitted):
    vectors, _, _, _, snapshot, _ = fitted
    strict = up.Snapshot(snapshot.themes, snapshot.strands, snapshot.papers,
                         {**snapshot.meta, "similarity_cutoff": 0.9999})
    assert (up.place_new(vectors[:10], strict).topics == -1).all()


def test_update_keeps_every_earlier_paper_where_it_was(fitted):
    vectors, ids, _, placement, snapshot, _ = fitted
    grown = np.vstack([vectors, vectors[40] * 0.99 + 0.01 * far_vector(), far_vector()])
    grown_ids = [*ids, "new-near", "new-far"]
    levels, placed, is_new = up.place_on_snapshot(grown_ids, grown, snapshot)
    assert is_new.tolist() == [False] * len(ids) + [True, True]
    # Same partition of the earlier papers (numbers follow size, as in a full fit).
    pairs = set(zip(placement.topics.tolist(), placed.topics[: len(ids)].tolist(), strict=True))
    assert len(pairs) == len({t for t, _ in pairs})
    np.testing.assert_array_equal(placed.membership[: len(ids)], placement.membership)
    theme_of_40 = placed.topics[40]
    assert placed.topics[-2] == theme_of_40 and placed.topics[-1] == -1
    sizes = [int((placed.topics == t).sum()) for t in sorted(set(placed.topics.tolist()) - {-1})]
    assert sizes == sorted(sizes, reverse=True)
    assert all(placed.strand_theme[int(s)] == int(t)
               for s, t in zip(placed.strands, placed.topics, strict=True) if t >= 0)
    assert placed.summary["n_new"] == 2 and placed.summary["n_new_placed"] == 1
    assert "2 new papers" in levels.notes[0]


def test_update_positions_keep_earlier_papers_and_put_new_ones_near_their_neighbours(fitted):
    vectors, ids, _, _, snapshot, _ = fitted
    grown = np.vstack([vectors, vectors[3]])
    coords = up.update_coordinates([*ids, "copy-of-3"], grown, snapshot, k=1)
    np.testing.assert_array_equal(coords[: len(ids), 0], np.arange(len(ids), dtype=float))
    np.testing.assert_allclose(coords[-1], [3.0, 0.0])


def _files(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.iterdir())}


def test_snapshot_is_replaced_only_when_the_fit_changes(fitted, tmp_path):
    vectors, ids, _, _, snapshot, _ = fitted
    assert up.record_fit(tmp_path, snapshot) is None
    first = _files(up.snapshot_dir(tmp_path))
    assert up.record_fit(tmp_path, snapshot) is None  # same fit: nothing to compare with
    assert _files(up.snapshot_dir(tmp_path)) == first
    assert not up.snapshot_dir(tmp_path, up.PREVIOUS).exists()

    grown = np.vstack([vectors, far_vector()])
    *_, second, _ = full_fit(grown, [*ids, "new"])
    baseline = up.record_fit(tmp_path, second)
    assert baseline is not None and baseline.fingerprint == snapshot.fingerprint
    assert _files(up.snapshot_dir(tmp_path, up.PREVIOUS)) == first
    again = up.record_fit(tmp_path, second)  # re-run of the new fit: same baseline
    assert again is not None and again.fingerprint == snapshot.fingerprint
    assert up.load_snapshot(tmp_path).fingerprint == second.fingerprint


def test_a_corrupt_snapshot_is_reported_and_not_used(fitted, tmp_path):
    *_, snapshot, _ = fitted
    up.record_fit(tmp_path, snapshot)
    path = up.snapshot_dir(tmp_path) / "themes.parquet"
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.warns(up.SnapshotWarning, match="checksum"):
        assert up.load_snapshot(tmp_path) is None


def test_update_without_a_snapshot_falls_back_to_a_full_fit(fitted, tmp_path):
    vectors, ids, *_ = fitted
    with pytest.warns(up.SnapshotWarning, match="fitting the map from scratch"):
        state = up.begin(tmp_path, ids, vectors, PARAMS, update=True)
    assert state.mode == "first" and not state.updating and state.placement is None
    assert any("from scratch" in note for note in state.notes)


class _Tables:
    def __init__(self, doc, topics, strands):
        self.doc_topics, self.topics, self.strands = doc, topics, strands


def _tables(placement, doc):
    theme_ids = sorted(set(placement.topics.tolist()) - {-1})
    strand_ids = sorted(set(placement.strands.tolist()) - {-1})
    return _Tables(doc.copy(), pd.DataFrame({"topic": theme_ids, "label": "t"}),
                   pd.DataFrame({"strand": strand_ids, "label": "s",
                                 "topic": [placement.strand_theme[s] for s in strand_ids]}))


def test_is_new_flags_and_map_changes_across_first_fit_update_and_refit(fitted, tmp_path):
    vectors, ids, levels, placement, _, doc = fitted
    state = up.begin(tmp_path, ids, vectors, PARAMS)
    tables = _tables(placement, doc)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        changes = up.finish(tmp_path, state, vectors, placement, tables, {}, levels=levels)
    assert changes == {"mode": "first", "previous_date": None, "n_new": 0, "n_new_placed": 0,
                       "n_new_unplaced": 0}
    assert not tables.doc_topics["is_new"].any()
    assert not tables.doc_topics["candidate_new_theme"].any()
    assert up.load_snapshot(tmp_path) is not None

    grown = np.vstack([vectors, vectors[70], far_vector()])
    grown_ids = [*ids, "new-a", "new-far"]
    state = up.begin(tmp_path, grown_ids, grown, PARAMS, update=True)
    assert state.updating
    date = up.load_snapshot(tmp_path).fit_date
    new_doc = pd.DataFrame({"paper_id": grown_ids, "topic": state.placement.topics})
    tables = _Tables(new_doc, None, None)
    summary: dict = {"notes": []}
    changes = up.finish(tmp_path, state, grown, state.placement, tables, summary)
    assert changes == {"mode": "update", "previous_date": date, "n_new": 2,
                       "n_new_placed": 1, "n_new_unplaced": 1}
    assert io.read_json(tmp_path / "data" / "map_changes.json") == changes
    assert summary["map_changes"] == changes and summary["notes"]
    flags = tables.doc_topics.set_index("paper_id")
    assert flags["is_new"].sum() == 2 and flags.loc["new-far", "candidate_new_theme"]
    assert not flags.loc["new-a", "candidate_new_theme"]

    # A full refit of the grown corpus compares with the earlier map: same papers new.
    levels2, placement2, _, doc2 = full_fit(grown, grown_ids)
    for _ in range(2):  # and a re-run of that refit says the same (idempotent)
        state = up.begin(tmp_path, grown_ids, grown, PARAMS)
        assert state.mode == "refit"
        tables = _tables(placement2, doc2)
        changes = up.finish(tmp_path, state, grown, placement2, tables, {}, levels=levels2)
        assert changes["mode"] == "refit" and changes["previous_date"] == date
        assert changes["n_new"] == 2
        assert tables.doc_topics.loc[tables.doc_topics["is_new"], "paper_id"].tolist() == [
            "new-a", "new-far"]
        assert not tables.doc_topics["candidate_new_theme"].any()


def test_snapshot_keeps_id_columns_when_present(fitted, tmp_path):
    vectors, ids, levels, placement, _, doc = fitted
    tables = _tables(placement, doc)
    tables.doc_topics["theme_id"] = [f"t-{t}" if t >= 0 else "" for t in doc["topic"]]
    tables.topics["theme_id"] = [f"t-{t}" for t in tables.topics["topic"]]
    state = up.begin(tmp_path, ids, vectors, PARAMS)
    up.finish(tmp_path, state, vectors, placement, tables, {}, levels=levels)
    snap = up.load_snapshot(tmp_path)
    assert "theme_id" in snap.papers.columns and "theme_id" in snap.themes.columns
    assert "strand_id" not in snap.papers.columns
    meta = json.loads((up.snapshot_dir(tmp_path) / "snapshot.json").read_text())
    assert set(meta["sha256"]) == set(up.SNAPSHOT_FILES)


@pytest.mark.slow
def test_stage_update_places_new_papers_without_refitting(tmp_path, st_model, make_papers,
                                                          put_papers):
    from litreview.topics import run_topics

    write_papers = put_papers
    papers = make_papers(per_theme=20)
    write_papers(tmp_path, papers.iloc[:64])
    run_topics(tmp_path, stability_seeds=0, show_progress=False, figures=False)
    before = io.load_table(tmp_path, "doc_topics").set_index("paper_id")
    far = pd.DataFrame([{"paper_id": "zzz-far", "title": "Medieval tax law in Flanders",
                         "abstract": "We examine tax courts and legal charters of medieval "
                                     "Flemish towns and their archives.", "theme": "law"}])
    write_papers(tmp_path, pd.concat([papers, far], ignore_index=True))
    result = run_topics(tmp_path, stability_seeds=0, show_progress=False, figures=False,
                        update=True)
    doc = result.doc_topics.set_index("paper_id")
    changes = io.read_json(tmp_path / "data" / "map_changes.json")
    assert changes["mode"] == "update" and changes["n_new"] == len(papers) - 64 + 1
    assert doc.loc["zzz-far", "candidate_new_theme"] and doc.loc["zzz-far", "topic"] == -1
    old = before.index
    assert not doc.loc[old, "is_new"].any()
    assert (doc.loc[old, "membership"] == before["membership"]).all()
    pairs = set(zip(before["topic"], doc.loc[old, "topic"], strict=True))
    assert len(pairs) == len({a for a, _ in pairs})  # the earlier partition is kept
    np.testing.assert_array_equal(doc.loc[old, "x"], before["x"])
    first = (tmp_path / "data" / "doc_topics.parquet").read_bytes()
    run_topics(tmp_path, stability_seeds=0, show_progress=False, figures=False, update=True)
    assert (tmp_path / "data" / "doc_topics.parquet").read_bytes() == first


def test_cli_update_flag_sets_the_parameter_and_needs_the_topics_stage(tmp_path, capsys):
    from litreview import cli, params

    assert cli.build_parser().parse_args(["run", "--update"]).update is True
    assert params.by_name()["update"].stage == "topics"
    assert params.by_name()["update"].default is False
    code = cli.main(["run", "--update", "--stages", "review", "--out", str(tmp_path / "o")])
    assert code == 2
    assert "--update changes the topics stage" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
