"""The living review, end to end (issue 12's scenario) on the seed corpus.

Starting from the shared seed run: rename two themes, merge two, exclude five papers in
``review.yaml``; then add 20 papers and run ``--update``; then refit with another seed.
Names, merges and exclusions must hold, theme ids must stay, and the report must say what
changed and what is new.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from litreview import config

pytestmark = pytest.mark.slow

EXTRA = Path(__file__).parents[1] / "fixtures" / "living" / "extra-papers.jsonl"
SMOKE_PARAMS = Path(__file__).with_name("smoke.yaml")
RENAMES = ("Curated theme one", "Curated theme two")


def _run(out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "litreview.cli", "run", "--out", str(out),
         "--params", str(SMOKE_PARAMS), "-p", "formats", "html,md", *args],
        capture_output=True, text=True, timeout=1200,
    )
    assert proc.returncode == 0, f"litreview run failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


def _table(out: Path, name: str) -> pd.DataFrame:
    return pd.read_parquet(out / "data" / f"{name}.parquet")


@pytest.fixture(scope="module")
def living(review_run: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The first run (shared), the curation written against it, the update and the refit."""
    work = tmp_path_factory.mktemp("living")
    first = review_run
    topics = _table(first, "topics").sort_values(["size", "theme_id"], ascending=[False, True])
    ids = list(topics["theme_id"])
    renamed, (merged_from, merged_into) = ids[:2], (ids[-1], ids[-2])
    papers = _table(first, "papers").merge(
        _table(first, "doc_topics")[["paper_id", "theme_id"]], on="paper_id")
    placed = papers[papers["theme_id"].isin(ids[2:-2])]  # the seed listings carry no DOI
    excluded = list(placed.sort_values("paper_id").groupby("theme_id").head(2)["paper_id"][:5])
    assert len(excluded) == 5
    curation = work / "review.yaml"
    curation.write_text(
        "version: 1\nthemes:\n"
        + "".join(f"  {theme_id}:\n    name: {name}\n"
                  for theme_id, name in zip(renamed, RENAMES, strict=True))
        + f"  {merged_from}:\n    merge_into: {merged_into}\n"
        + "exclude:\n"
        + "".join(f"  - paper: \"{ref}\"\n    reason: out of scope\n" for ref in excluded),
        encoding="utf-8",
    )
    updated = work / "outputs"
    shutil.copytree(first, updated)
    corpus = ["--corpus", str(config.DEFAULT_CORPUS_DIR), str(EXTRA)]
    _run(updated, *corpus, "-p", "curation_file", str(curation), "--update")
    snapshot = {name: _table(updated, name) for name in ("papers", "doc_topics", "topics")}
    snapshot["html"] = (updated / "report" / "review.html").read_text(encoding="utf-8")
    snapshot["changes"] = json.loads((updated / "data" / "map_changes.json").read_text())
    refit = work / "refit"
    shutil.copytree(updated, refit)
    _run(refit, *corpus, "-p", "curation_file", str(curation), "-p", "seed", "7", "--force")
    return {
        "first_labels": dict(zip(topics["theme_id"], topics["label"], strict=True)),
        "first_ids": ids, "renamed": renamed, "merged": (merged_from, merged_into),
        "excluded": excluded, "update": snapshot, "refit": refit,
    }


def _check_curation_holds(living: dict, topics: pd.DataFrame, papers: pd.DataFrame,
                          doc_topics: pd.DataFrame) -> None:
    by_id = topics.set_index("theme_id")["label"]
    for theme_id, name in zip(living["renamed"], RENAMES, strict=True):
        assert by_id.get(theme_id) == name
    merged_from, merged_into = living["merged"]
    assert merged_from not in set(topics["theme_id"]) and merged_into in set(topics["theme_id"])
    assert not set(living["excluded"]) & set(papers["paper_id"])
    assert set(doc_topics["paper_id"]) == set(papers["paper_id"])


def test_update_keeps_curation_ids_and_reports_what_is_new(living: dict) -> None:
    run = living["update"]
    _check_curation_holds(living, run["topics"], run["papers"], run["doc_topics"])
    kept_ids = set(living["first_ids"]) - {living["merged"][0]}
    assert kept_ids == set(run["topics"]["theme_id"]), "an update refits nothing"
    new = run["doc_topics"][run["doc_topics"]["is_new"]]
    extra_ids = {json.loads(line)["id"] for line in EXTRA.read_text().splitlines()}
    new_arxiv = set(run["papers"].set_index("paper_id").loc[new["paper_id"], "arxiv_id"])
    assert {a.split("v")[0] for a in new_arxiv} == extra_ids
    assert run["changes"]["mode"] == "update" and run["changes"]["n_new"] == 20
    assert "What's new since" in run["html"] or "What’s new since" in run["html"]
    untouched = set(living["first_ids"][2:]) - set(living["merged"])
    labels = run["topics"].set_index("theme_id")["label"]
    steady = [t for t in untouched if labels.get(t) == living["first_labels"][t]]
    assert len(steady) >= len(untouched) - 1, "a few new papers do not rename a section"
    placed_new = new[new["topic"] >= 0]
    assert len(placed_new) >= 10, "most of the 18 on-topic extra papers find a theme"


def test_refit_with_another_seed_keeps_names_merges_exclusions_and_ids(living: dict) -> None:
    refit = living["refit"]
    topics = _table(refit, "topics")
    _check_curation_holds(living, topics, _table(refit, "papers"), _table(refit, "doc_topics"))
    kept = set(living["first_ids"]) - {living["merged"][0]}
    assert len(kept & set(topics["theme_id"])) >= len(kept) - 1, "theme ids stay across a refit"
    changes = _table(refit, "theme_changes")
    assert set(changes["change"]) <= {"kept", "renamed", "split", "merged", "new", "gone"}
    html = (refit / "report" / "review.html").read_text(encoding="utf-8")
    for name in RENAMES:
        assert name in html
    assert "out of scope" in html, "the report lists the exclusions with their reason"
