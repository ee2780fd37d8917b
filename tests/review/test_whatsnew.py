"""The report's "What's new since <date>" section, on the hand-made review fixture."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from litreview import io, review
from litreview.report import render_html, render_markdown
from litreview.review.whatsnew import compute_whats_new

from .conftest import make_output_dir

NEW_PLACED = ("p000", "p010", "p011")  # one in theme 0, two in theme 1
NEW_CANDIDATE = "p027"  # the first outlier: fits no theme
SINCE = "2026-11-03"


def _mark_new(root: Path, new: tuple[str, ...], candidates: tuple[str, ...] = (),
              changes: dict | None = None) -> None:
    doc = io.load_table(root, "doc_topics")
    doc["is_new"] = doc["paper_id"].isin([*new, *candidates])
    doc["candidate_new_theme"] = doc["paper_id"].isin(candidates)
    io.save_table(doc, root, "doc_topics")
    path = root / "data" / "topic_metrics.json"
    metrics = io.read_json(path)
    metrics["map_changes"] = changes or {
        "mode": "update", "previous_date": SINCE, "n_new": len(new) + len(candidates),
        "n_new_placed": len(new), "n_new_unplaced": len(candidates)}
    io.write_json(path, metrics)


@pytest.fixture(scope="module")
def updated(tmp_path_factory) -> tuple[Path, review.Review]:
    root = make_output_dir(tmp_path_factory.mktemp("whatsnew"), with_figures=False)
    assert NEW_CANDIDATE in set(io.load_table(root, "doc_topics").query("topic < 0")["paper_id"])
    _mark_new(root, NEW_PLACED, (NEW_CANDIDATE,))
    return root, review.build_review(root)


def test_new_papers_are_listed_under_their_theme_in_the_review_order(updated):
    root, built = updated
    wn = built.whats_new
    assert wn is not None and wn.since == SINCE and wn.n_new == 4
    doc = io.load_table(root, "doc_topics").set_index("paper_id")
    listed = {p.paper_id: group.topic for group in wn.themes for p in group.papers}
    assert listed == {pid: int(doc.loc[pid, "topic"]) for pid in NEW_PLACED}
    order = [t.topic for t in built.themes]
    assert [g.topic for g in wn.themes] == [t for t in order if t in set(listed.values())]
    assert [p.paper_id for p in wn.candidates] == [NEW_CANDIDATE]
    assert wn.line == f"4 papers are new since {SINCE}."


def test_each_new_paper_is_quoted_verbatim_and_cited(updated):
    root, built = updated
    papers = io.load_table(root, "papers").set_index("paper_id")
    for paper in [p for g in built.whats_new.themes for p in g.papers] + built.whats_new.candidates:
        text = paper.sentence.text
        source = review.normalise_whitespace(
            f"{papers.loc[paper.paper_id, 'title']} {papers.loc[paper.paper_id, 'abstract']}")
        assert text and text in source
        assert paper.key == built.keys[paper.paper_id]
        assert paper.key in {r.key for r in built.references}
    assert {s.paper_id for s in built.whats_new.sentences()} <= {
        s.paper_id for s in built.citations()}


def test_section_and_first_page_line_in_the_report(updated):
    root, built = updated
    md = render_markdown(built, root)
    assert f"## What’s new since {SINCE}" in md
    assert md.index("4 papers are new since") < md.index("## What’s new") < md.index("## Themes")
    candidates = md.split("### Candidates for a new theme", 1)[1].split("## Themes", 1)[0]
    cand = built.whats_new.candidates[0]
    assert f"[{cand.key}]" in candidates
    html = render_html(built, root)
    assert 'id="whats-new"' in html and 'href="#whats-new"' in html
    section = html.split('id="whats-new"', 1)[1].split('id="themes"', 1)[0]
    for group in built.whats_new.themes:
        assert f'href="#{group.anchor}"' in section
    assert "<script>" not in section


def test_no_section_when_nothing_is_new(tmp_path):
    root = make_output_dir(tmp_path, with_figures=False)
    _mark_new(root, (), changes={"mode": "first", "previous_date": None, "n_new": 0,
                                 "n_new_placed": 0, "n_new_unplaced": 0})
    built = review.build_review(root)
    assert built.whats_new is None
    assert "What’s new" not in render_markdown(built, root)
    assert 'id="whats-new"' not in render_html(built, root)


def test_older_outputs_without_the_columns_have_no_section(built_review):
    assert built_review.whats_new is None


def test_compute_on_a_small_table_orders_by_similarity_and_skips_unknown_papers():
    from litreview.review.model import Sentence

    papers = pd.DataFrame({"paper_id": ["a", "b", "c"], "title": ["A t", "B t", "C t"],
                           "year": [2020, None, 2021]}).set_index("paper_id", drop=False)
    doc = pd.DataFrame({"paper_id": ["a", "b", "c", "ghost"], "topic": [0, 0, 1, 0],
                        "similarity": [0.5, 0.9, 0.7, 0.99], "is_new": [True, True, False, True]})
    wn = compute_whats_new(doc, papers, theme_order=[1, 0], names={0: "Zero", 1: "One"},
                           keys={"a": "A20", "b": "Bnd", "c": "C21"},
                           contribution=lambda pid: Sentence(f"{pid} says", pid, pid),
                           changes={"previous_date": "2026-01-02", "mode": "refit"})
    assert wn is not None and wn.n_new == 2 and wn.mode == "refit"
    assert [(g.topic, [p.paper_id for p in g.papers]) for g in wn.themes] == [(0, ["b", "a"])]
    assert wn.candidates == [] and wn.line == "2 papers are new since 2026-01-02."
