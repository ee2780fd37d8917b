"""The Method section lists the curation applied and how the map changed since last run."""

from __future__ import annotations

import pandas as pd

from litreview import io, report, review
from litreview.review import living

from .conftest import make_output_dir

CURATION = {
    "file": "/data/review.yaml",
    "applied": [
        {"kind": "merge", "id": "t-old", "value": "t-main", "line": 3, "paper_ids": ["p1", "p2"]},
        {"kind": "move", "id": "t-main", "value": "p003", "line": 7, "paper_ids": ["p003"]},
        {"kind": "move", "id": "t-main", "value": "p004", "line": 9, "paper_ids": ["p004"]},
        {"kind": "rename", "id": "t-main", "value": "Main <b>theme</b>", "line": 5,
         "paper_ids": []},
        {"kind": "pin", "id": "t-main", "value": "p005", "line": 11, "paper_ids": ["p005"]},
    ],
    "skipped": ["/data/review.yaml:14: theme 't-nope' is not a theme of this map"],
}
CHANGES = pd.DataFrame({
    "theme_id": ["t-main", "t-fresh", "t-same", ""],
    "label": ["Main auto", "Fresh", "Same", ""],
    "previous_theme_id": ["t-main", "", "t-same", "t-lost"],
    "previous_label": ["Main before", "", "Same", "Lost"],
    "change": ["renamed", "new", "kept", "gone"],
    "shared_papers": [10, 0, 5, 0],
    "similarity": [0.8, float("nan"), 1.0, 0.0],
})


def test_curation_lines_say_what_was_done_and_skipped():
    topics = pd.DataFrame({"theme_id": ["t-main"], "label": ["Main <b>theme</b>"],
                           "auto_label": ["Main auto"]})
    old = CHANGES.assign(theme_id=["t-main", "t-old", "t-same", ""],
                         label=["Main auto", "Old one", "Same", ""])
    assert living.curation_lines(CURATION, topics, None, old) == [
        "merged “Old one” (t-old) into “Main <b>theme</b>” (t-main): 2 papers (line 3)",
        "renamed “Main auto” (t-main) to “Main <b>theme</b>” (line 5)",
        "moved 2 papers to another theme (lines 7, 9)",
        "pinned 1 paper as representative (line 11)",
        "skipped /data/review.yaml:14: theme 't-nope' is not a theme of this map",
    ]
    assert living.curation_lines(None) == []
    assert living.curation_lines({"file": None, "applied": [], "skipped": []}) == []


def test_change_rows_leave_out_kept_themes_and_first_runs():
    rows = living.change_rows(CHANGES)
    assert [(r["theme_id"], r["change"], r["previous"]) for r in rows] == [
        ("t-main", "renamed", "Main before (t-main)"), ("t-fresh", "new", ""),
        ("", "gone", "Lost (t-lost)")]
    assert living.n_kept(CHANGES) == 1
    first = CHANGES.assign(change="", previous_theme_id="")
    assert living.change_rows(first) == [] and living.n_kept(first) == 0
    assert living.change_rows(None) == []


def test_the_report_method_section_lists_curation_and_changes(tmp_path):
    root = make_output_dir(tmp_path, with_figures=False)
    io.write_json(root / "data" / "curation.json", CURATION)
    io.save_table(CHANGES, root, "theme_changes")
    built = review.build_review(root)
    assert built.methods.curated[0].startswith("merged “t-old” (t-old)")
    assert len(built.methods.map_changes) == 3 and built.methods.n_kept == 1
    html = report.render_html(built, root)
    method = html[html.index('id="methods"'):]
    assert "How the map changed since the previous run" in method
    assert "Main &lt;b&gt;theme&lt;/b&gt;" in method and "<b>theme</b>" not in method
    assert "/data/review.yaml:14: theme" in method
    md = report.render_markdown(built, root)
    assert "### Curation" in md and "moved 2 papers to another theme (lines 7, 9)" in md
    assert "| Fresh | t-fresh | new |  | 0 |" in md
    assert str(root / "data" / "curation.json") in built.methods.inputs


def test_without_the_files_the_method_section_says_nothing_of_them(tmp_path):
    root = make_output_dir(tmp_path, with_figures=False)
    built = review.build_review(root)
    assert built.methods.curated == [] and built.methods.map_changes == []
    html = report.render_html(built, root)
    assert "How the map changed" not in html and 'id="curation"' not in html
