"""Map curation applied in the topics stage (``topics.curate``), on small hand-made maps."""

from __future__ import annotations

import dataclasses
import json
import textwrap
import warnings

import numpy as np
import pandas as pd
import pytest

from litreview import curation
from litreview.topics import curate, identity
from litreview.topics.describe import Tables
from litreview.topics.naming import Names
from litreview.topics.place import CORE, PERIPHERAL, UNPLACED, Placement

# Theme 0 "Alpha" (strands 0, 1), theme 1 "Beta" (strand 2), theme 2 "Gamma" (strand 3),
# and one unplaced paper.
GROUPS = [("a", 10, 0, [0] * 5 + [1] * 5), ("b", 8, 1, [2] * 8), ("c", 6, 2, [3] * 6),
          ("u", 1, -1, [-1])]
THEMES = {0: "Alpha", 1: "Beta", 2: "Gamma"}
STRANDS = {0: "One", 1: "Two", 2: "Three", 3: "Four"}


def small_map() -> tuple[pd.DataFrame, Placement, Names, np.ndarray]:
    rows, topics, strands = [], [], []
    for prefix, n, theme, theme_strands in GROUPS:
        for i in range(n):
            rows.append({"paper_id": f"{prefix}{i:03d}", "title": f"Paper {prefix}{i}",
                         "doi": "10.1000/moved.one" if (prefix, i) == ("u", 0) else None,
                         "arxiv_id": "2401.01234" if (prefix, i) == ("c", 1) else None})
            topics.append(theme)
            strands.append(theme_strands[i])
    papers = pd.DataFrame(rows)
    topics_a, strands_a = np.asarray(topics), np.asarray(strands)
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(5, 12))
    emb = centres[np.where(strands_a >= 0, strands_a, 4)] + 0.1 * rng.normal(size=(25, 12))
    membership = np.where(topics_a < 0, UNPLACED, CORE).astype(object)
    membership[3] = PERIPHERAL
    placement = Placement(topics_a, strands_a, membership.astype(str), np.full(25, 0.8),
                          topics_a.copy(), {0: 0, 1: 0, 2: 1, 3: 2},
                          {"n_core": 23, "n_peripheral": 1, "n_unplaced": 1})
    return papers, placement, Names(dict(THEMES), dict(STRANDS)), emb


def load(tmp_path, text: str, strict: bool = True) -> curation.Curation:
    path = tmp_path / "review.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return curation.load_curation(path, strict=strict)


def apply(tmp_path, text: str, *, strict: bool = True, previous=None):
    papers, placement, names, emb = small_map()
    edits = load(tmp_path, text, strict=strict)
    return curate.identify_and_curate(papers, placement, names, previous, edits,
                                      embeddings=emb, strict=strict), papers


def tables_for(cmap: curate.CuratedMap, papers: pd.DataFrame) -> Tables:
    """What ``build_tables`` would give for the curated map (the columns curation reads)."""
    p, titles = cmap.placement, dict(zip(papers["paper_id"], papers["title"], strict=True))
    ids = papers["paper_id"].to_numpy()
    topics = pd.DataFrame([{"topic": t, "label": cmap.names.themes[t],
                            "size": int((p.topics == t).sum()),
                            "representative_paper_ids": list(ids[p.topics == t][:3]),
                            "representative_titles": [titles[i] for i in ids[p.topics == t][:3]]}
                           for t in sorted(set(p.topics.tolist()) - {-1})])
    strands = pd.DataFrame([{"strand": s, "topic": p.strand_theme[s],
                             "label": cmap.names.strands[s],
                             "representative_paper_ids": list(ids[p.strands == s][:2]),
                             "representative_titles": [titles[i] for i in ids[p.strands == s][:2]]}
                            for s in sorted(set(p.strands.tolist()) - {-1})])
    docs = pd.DataFrame({"paper_id": ids, "topic": p.topics, "strand": p.strands,
                         "topic_label": [cmap.names.themes.get(int(t), "Unplaced")
                                         for t in p.topics]})
    return Tables(docs, topics, strands, pd.DataFrame(), pd.DataFrame(), [], 0.0, 0.0)


def test_merge_rename_and_strand_rename(tmp_path):
    cmap, papers = apply(tmp_path, """\
        themes:
          t-gamma:
            merge_into: t-alpha
          t-alpha:
            name: Alpha and Gamma
        strands:
          s-three:
            name: Beta core
        """)
    p = cmap.placement
    assert cmap.membership_changed
    assert cmap.theme_ids == {0: "t-alpha", 1: "t-beta"}
    alpha = papers["paper_id"].str[0].isin(["a", "c"]).to_numpy()
    assert (p.topics[alpha] == 0).all() and (p.topics[papers["paper_id"] == "b000"] == 1).all()
    assert cmap.names.themes == {0: "Alpha and Gamma", 1: "Beta"}
    assert cmap.curated_themes == {"t-alpha"} and cmap.curated_strands == {"s-three"}
    # Gamma's strand now belongs to Alpha; strands renumbered by theme then size
    assert {cmap.strand_ids[s]: cmap.theme_ids[t] for s, t in p.strand_theme.items()} == {
        "s-one": "t-alpha", "s-two": "t-alpha", "s-four": "t-alpha", "s-three": "t-beta"}
    assert cmap.names.strands[next(s for s, i in cmap.strand_ids.items() if i == "s-three")] \
        == "Beta core"
    assert [(a["kind"], a["id"], a["value"]) for a in cmap.report["applied"]] == [
        ("merge", "t-gamma", "t-alpha"), ("rename", "t-alpha", "Alpha and Gamma"),
        ("strand-rename", "s-three", "Beta core")]
    assert cmap.report["applied"][0]["paper_ids"] == [f"c{i:03d}" for i in range(6)]
    assert cmap.report["applied"][0]["line"] == 2
    assert p.summary["n_core"] == 23
    table = cmap.before_after().set_index("theme_id")
    assert table.loc["t-gamma", "theme_id_after"] == "t-alpha"
    assert table.loc["t-gamma", "size_after"] == 16
    assert table.loc["t-alpha", "label_after"] == "Alpha and Gamma"


def test_merge_chains_end_in_the_last_theme(tmp_path):
    cmap, _ = apply(tmp_path, """\
        themes:
          t-gamma: {merge_into: t-beta}
          t-beta: {merge_into: t-alpha}
        """)
    assert list(cmap.theme_ids.values()) == ["t-alpha"]
    assert (cmap.placement.topics[:24] == 0).all()


def test_moved_papers_are_core_members_of_their_new_theme(tmp_path):
    cmap, papers = apply(tmp_path, """\
        papers:
          a003:
            theme: t-beta
          "10.1000/MOVED.ONE":
            theme: t-gamma
        """)
    p, pos = cmap.placement, {pid: i for i, pid in enumerate(papers["paper_id"])}
    beta = {v: k for k, v in cmap.theme_ids.items()}
    assert p.topics[pos["a003"]] == beta["t-beta"]
    assert p.membership[pos["a003"]] == CORE       # was peripheral
    assert p.strand_theme[int(p.strands[pos["a003"]])] == beta["t-beta"]
    assert p.topics[pos["u000"]] == beta["t-gamma"] and p.membership[pos["u000"]] == CORE
    assert cmap.flags == {"a003": "moved", "u000": "moved"}
    assert p.summary["n_unplaced"] == 0 and p.summary["n_peripheral"] == 0
    docs = curate.finish_tables(tables_for(cmap, papers), cmap, papers).doc_topics
    assert docs.set_index("paper_id").loc["u000", "theme_id"] == "t-gamma"
    assert docs.set_index("paper_id").loc["u000", "auto_theme_id"] == ""
    assert docs.set_index("paper_id").loc["a003", "auto_theme_id"] == "t-alpha"
    assert docs.set_index("paper_id").loc["a003", "curated"] == "moved"


def test_pinned_papers_come_first_among_representatives(tmp_path):
    cmap, papers = apply(tmp_path, """\
        papers:
          b006:
            representative: true
          "arXiv:2401.01234v2":
            representative: true
        """)
    assert not cmap.membership_changed
    tables = curate.finish_tables(tables_for(cmap, papers), cmap, papers)
    topics = tables.topics.set_index("theme_id")
    assert topics.loc["t-beta", "representative_paper_ids"] == ["b006", "b000", "b001"]
    assert topics.loc["t-beta", "representative_titles"][0] == "Paper b6"
    assert topics.loc["t-gamma", "representative_paper_ids"][0] == "c001"
    strands = tables.strands.set_index("strand_id")
    assert strands.loc["s-three", "representative_paper_ids"] == ["b006", "b000"]
    docs = tables.doc_topics.set_index("paper_id")
    assert docs.loc["b006", "curated"] == "pinned" and docs.loc["b000", "curated"] == ""
    assert list(topics["label_source"]) == ["auto"] * 3
    assert set(topics["change"]) == {""} and not docs["is_new"].any()


@pytest.mark.parametrize("entry, line, why", [
    ("themes:\n  t-nope:\n    name: X\n", 2, "theme 't-nope' is not a theme of this map"),
    ("themes:\n  t-beta:\n    merge_into: t-nope\n", 2, "'t-nope' (merge_into)"),
    ("strands:\n  s-nope:\n    name: X\n", 2, "strand 's-nope' is not a strand"),
    ("papers:\n  \"10.9999/none\":\n    theme: t-beta\n", 2, "matches no paper of the corpus"),
    ("papers:\n  b001:\n    theme: t-nope\n", 2, "theme 't-nope' (for paper 'b001')"),
    ("papers:\n  u000:\n    representative: true\n", 2, "is in no theme"),
    ("themes:\n  t-beta:\n    name: Same\n  t-gamma:\n    name: same\n", 4,
     "curated names must differ"),
    ("themes:\n  t-beta:\n    name: Kept\n    merge_into: t-alpha\n", 2, "is not used"),
])
def test_entries_that_match_nothing_stop_a_strict_run_with_file_and_line(tmp_path, entry,
                                                                         line, why):
    with pytest.raises(curation.CurationError) as caught:
        apply(tmp_path, "version: 1\n" + entry)
    message = str(caught.value)
    assert "\n" not in message
    assert f"{tmp_path / 'review.yaml'}:{line + 1}: " in message and why in message


def test_a_lenient_run_warns_and_applies_the_valid_entries(tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cmap, _ = apply(tmp_path, """\
            themes:
              t-nope:
                name: Lost
              t-beta:
                name: Better beta
            papers:
              "10.9999/none":
                theme: t-beta
            """, strict=False)
    assert cmap.names.themes[1] == "Better beta"
    where = str(tmp_path / "review.yaml")
    assert cmap.report["skipped"] == [
        f"{where}:2: theme 't-nope' is not a theme of this map (see data/topics.parquet)",
        f"{where}:7: paper '10.9999/none' matches no paper of the corpus"]
    texts = [str(w.message) for w in caught if issubclass(w.category, curate.CurationWarning)]
    assert len(texts) == 2 and f"{where}:7:" in texts[1]


def test_automatic_names_step_aside_for_curated_ones(tmp_path):
    cmap, papers = apply(tmp_path, "themes:\n  t-beta:\n    name: Alpha\n")
    assert cmap.names.themes == {0: "Alpha (2)", 1: "Alpha", 2: "Gamma"}
    topics = curate.finish_tables(tables_for(cmap, papers), cmap, papers).topics
    assert list(topics["label_source"]) == ["auto", "curated", "auto"]
    assert list(topics["auto_label"]) == ["Alpha", "Beta", "Gamma"]


def test_curation_survives_a_refit_that_renumbers_the_themes(tmp_path):
    text = """\
        themes:
          t-gamma:
            merge_into: t-beta
          t-beta:
            name: Beta and Gamma
        papers:
          a001:
            theme: t-beta
        """
    first, papers = apply(tmp_path, text)
    tables = curate.finish_tables(tables_for(first, papers), first, papers)
    previous = identity.previous_from_tables(tables.topics, tables.doc_topics, tables.strands)
    assert set(previous.themes) == {"t-alpha", "t-beta", "t-gamma"}   # the automatic map
    # the refit numbers the themes the other way round and labels Alpha differently
    papers, placement, names, emb = small_map()
    swap = {0: 2, 1: 1, 2: 0, -1: -1}
    placement.topics = np.asarray([swap[int(t)] for t in placement.topics])
    placement.strand_theme = {s: swap[t] for s, t in placement.strand_theme.items()}
    names = Names({2: "Alpha reworded", 1: "Beta", 0: "Gamma"}, dict(STRANDS))
    second = curate.identify_and_curate(papers, placement, names, previous,
                                        load(tmp_path, text), embeddings=emb)
    # same papers, reworded automatic label: the section keeps its name (keep_previous_labels)
    assert second.identity.change == {"t-alpha": "kept", "t-beta": "kept",
                                      "t-gamma": "kept"}
    again = curate.finish_tables(tables_for(second, papers), second, papers)
    first_docs = tables.doc_topics.set_index("paper_id")["theme_id"]
    assert again.doc_topics.set_index("paper_id")["theme_id"].equals(first_docs)
    topics = again.topics.set_index("theme_id")
    assert topics.loc["t-beta", "label"] == "Beta and Gamma"
    assert topics.loc["t-beta", "label_source"] == "curated"
    assert topics.loc["t-beta", "size"] == 15
    assert topics.loc["t-alpha", "label"] == "Alpha"


def test_the_curation_report_is_written(tmp_path):
    cmap, _ = apply(tmp_path, "themes:\n  t-beta:\n    name: B\n")
    curate.write_outputs(tmp_path, cmap)
    data = json.loads((tmp_path / "data" / "curation.json").read_text())
    assert data == {"file": str(tmp_path / "review.yaml"), "skipped": [], "applied": [
        {"kind": "rename", "id": "t-beta", "value": "B", "line": 2, "paper_ids": []}]}
    changes = pd.read_parquet(tmp_path / "data" / "theme_changes.parquet")
    assert list(changes.columns) == identity.CHANGE_COLUMNS
    assert list(changes["theme_id"]) == ["t-alpha", "t-beta", "t-gamma"]


def test_no_curation_file_changes_nothing(tmp_path):
    papers, placement, names, emb = small_map()
    cmap = curate.identify_and_curate(papers, placement, names, None,
                                      curation.load_curation(None), embeddings=emb)
    assert cmap.placement is placement and not cmap.membership_changed
    assert cmap.names.themes == THEMES and cmap.report == {"file": None, "applied": [],
                                                           "skipped": []}


@pytest.mark.slow
def test_run_topics_keeps_ids_names_and_merges_across_a_refit(synthetic_run, tmp_path):
    import shutil

    from litreview.topics import run_topics

    out_dir, _, _ = synthetic_run
    work = tmp_path / "out"
    shutil.copytree(out_dir, work)
    first = pd.read_parquet(work / "data" / "topics.parquet")
    first_docs = pd.read_parquet(work / "data" / "doc_topics.parquet")
    ids = first["theme_id"].tolist()
    assert len(ids) >= 3 and set(first["change"]) == {""}
    review_yaml = tmp_path / "review.yaml"
    review_yaml.write_text(f"themes:\n  {ids[0]}:\n    name: Stars and galaxies\n"
                           f"  {ids[-1]}:\n    merge_into: {ids[1]}\n", encoding="utf-8")
    second = run_topics(work, seed=7, stability_seeds=0, show_progress=False, figures=False,
                        curation_file=review_yaml)
    topics = second.topics.set_index("theme_id")
    assert sorted(topics.index) == sorted(ids[:-1])
    assert topics.loc[ids[0], "label"] == "Stars and galaxies"
    assert topics.loc[ids[0], "label_source"] == "curated"
    sizes = first.set_index("theme_id")["size"]
    assert topics.loc[ids[1], "size"] == sizes[ids[1]] + sizes[ids[-1]]
    assert set(topics["change"]) == {"kept"}
    docs = second.doc_topics.set_index("paper_id")
    before = first_docs.set_index("paper_id")["theme_id"].replace(ids[-1], ids[1])
    assert docs["theme_id"].equals(before.loc[docs.index])
    assert (docs["auto_theme_id"] == first_docs.set_index("paper_id")["theme_id"]
            .loc[docs.index]).all()
    report = json.loads((work / "data" / "curation.json").read_text())
    assert [a["kind"] for a in report["applied"]] == ["merge", "rename"]
    # the same curation again: the merged-away theme is found again by its papers
    third = run_topics(work, seed=7, stability_seeds=0, show_progress=False, figures=False,
                       curation_file=review_yaml)
    assert third.topics["theme_id"].tolist() == second.topics["theme_id"].tolist()
    assert third.topics["label"].tolist() == second.topics["label"].tolist()
    # an unknown id stops a strict run before it writes anything
    written = (work / "data" / "topics.parquet").read_bytes()
    review_yaml.write_text("themes:\n  t-not-a-theme:\n    name: X\n", encoding="utf-8")
    with pytest.raises(curation.CurationError, match=r"review\.yaml:2: theme 't-not-a-theme'"):
        run_topics(work, seed=7, stability_seeds=0, show_progress=False, figures=False,
                   curation_file=review_yaml)
    assert (work / "data" / "topics.parquet").read_bytes() == written


def test_a_theme_emptied_by_moves_is_gone_and_its_name_is_reported(tmp_path):
    moves = "".join(f"  c{i:03d}:\n    theme: t-beta\n" for i in range(6))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cmap, papers = apply(tmp_path, "themes:\n  t-gamma:\n    name: Kept?\npapers:\n" + moves)
    assert sorted(cmap.theme_ids.values()) == ["t-alpha", "t-beta"]
    assert cmap.report["skipped"] == [f"{tmp_path / 'review.yaml'}:2: 't-gamma' has no papers "
                                      "left after the moves; its name 'Kept?' is not used"]
    assert any("no papers left" in str(w.message) for w in caught)
    tables = curate.finish_tables(tables_for(cmap, papers), cmap, papers)
    assert set(tables.strands["theme_id"]) == {"t-alpha", "t-beta"}
    assert tables.strands["strand_id"].tolist() == ["s-three", "s-one", "s-two"]  # by size


def test_a_renamed_theme_renames_its_other_papers_strands(tmp_path):
    papers, placement, names, emb = small_map()
    names.strands.update({0: "Alpha: other papers (1)", 1: "Alpha: other papers (2)"})
    edits = load(tmp_path, "themes:\n  t-alpha:\n    name: Foundations\n")
    cmap = curate.identify_and_curate(papers, placement, names, None, edits, embeddings=emb)
    assert sorted(cmap.names.strands[s] for s in (0, 1)) == [
        "Foundations: other papers (1)", "Foundations: other papers (2)"]
    assert cmap.names.strands[2] == "Three"  # another theme's strand is left alone


def _refit_with_reworded_labels(previous, tmp_path, text: str = ""):
    """The same map again, its automatic labels reworded ("Alpha" -> "Alpha reworded")."""
    papers, placement, _, emb = small_map()
    names = Names({0: "Alpha reworded", 1: "Beta", 2: "Gamma"},
                  {**STRANDS, 0: "One reworded"})
    cmap = curate.identify_and_curate(papers, placement, names, previous,
                                      load(tmp_path, text), embeddings=emb)
    return curate.finish_tables(tables_for(cmap, papers), cmap, papers)


def test_previous_automatic_labels_are_kept_only_under_the_same_naming_recipe(tmp_path):
    from litreview.topics.naming import naming_fingerprint

    first, papers = apply(tmp_path, "")
    tables = curate.finish_tables(tables_for(first, papers), first, papers)
    assert set(tables.topics["label_recipe"]) == {naming_fingerprint()}
    previous = identity.previous_from_tables(tables.topics, tables.doc_topics, tables.strands)
    assert previous.label_recipe == naming_fingerprint()

    same = _refit_with_reworded_labels(previous, tmp_path).topics.set_index("theme_id")
    assert same.loc["t-alpha", "label"] == "Alpha"  # same recipe: the steady name stays

    # labels written by another recipe, or by a version that did not record one: relabel
    for old in (dataclasses.replace(previous, label_recipe="phrases-1:0123456789ab"),
                identity.previous_from_tables(tables.topics.drop(columns="label_recipe"),
                                              tables.doc_topics, tables.strands)):
        again = _refit_with_reworded_labels(old, tmp_path)
        topics = again.topics.set_index("theme_id")
        assert topics.loc["t-alpha", "label"] == "Alpha reworded"
        assert topics.loc["t-alpha", "change"] == "renamed"  # the id stays
        strands = again.strands.set_index("strand")
        assert strands.loc[0, "label"] == "One reworded"
        # a researcher's name still wins over the new automatic one
        curated = _refit_with_reworded_labels(old, tmp_path,
                                              "themes:\n  t-alpha:\n    name: Mine\n")
        assert curated.topics.set_index("theme_id").loc["t-alpha", "label"] == "Mine"


def test_the_naming_fingerprint_follows_the_naming_settings(monkeypatch):
    from litreview import labels
    from litreview.topics import naming

    before = naming.naming_fingerprint()
    assert before.startswith(naming.RECIPE_VERSION + ":")
    monkeypatch.setattr(labels, "THEME_COVERAGE", labels.THEME_COVERAGE + 0.05)
    assert naming.naming_fingerprint() != before
    monkeypatch.undo()
    monkeypatch.setattr(labels, "FILLER_WORDS", labels.FILLER_WORDS | {"zebra"})
    assert naming.naming_fingerprint() != before
    monkeypatch.undo()
    assert naming.naming_fingerprint() == before
