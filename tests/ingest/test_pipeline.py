"""The stage as a whole: accounting, outputs, manifest, summary tables and plots."""

from __future__ import annotations

import pandas as pd

from litreview import config, manifest
from litreview.ingest import (
    compute_duplicate_table,
    compute_rejects_table,
    compute_source_counts,
    format_summary,
    ingest_paths,
    run_ingest,
)
from litreview.plots.ingest import plot_abstract_lengths, plot_source_overlap

from .conftest import EXPORTS, SEED_80, SEED_213, SEED_DIR, abstract_text


def _assert_accounting(result):
    records = result.records
    counts = compute_source_counts(result)
    assert (counts.records == counts.kept + counts.duplicate + counts.rejected).all()
    for name, group in records.groupby("source_file"):
        assert len(group) == counts.set_index("source_file").at[name, "records"]
    assert set(records.status) <= {"kept", "duplicate", "rejected"}
    kept = records[records.status == "kept"]
    assert sorted(kept.paper_id) == sorted(result.papers.paper_id)  # one kept record per paper
    assert records.loc[records.status == "rejected", "paper_id"].isna().all()
    assert records.loc[records.status == "kept", "reason"].isna().all()
    assert set(records.loc[records.status != "rejected", "paper_id"]) == set(result.papers.paper_id)
    assert result.papers.n_records.sum() == (records.status != "rejected").sum()


def test_accounting_invariant_on_every_fixture(write):
    messy = write("messy.txt", f"A Title\nB Title\n{abstract_text()}\n")
    result = ingest_paths([SEED_DIR, EXPORTS, messy])
    _assert_accounting(result)
    assert compute_source_counts(result).records.sum() == len(result.records) == 293 + 110 + 2


def test_run_ingest_writes_tables_and_manifest(tmp_path):
    out = tmp_path / "out"
    result = run_ingest([SEED_DIR], out, fuzzy_threshold=95.0)
    papers = pd.read_parquet(config.data_dir(out) / "papers.parquet")
    records = pd.read_parquet(config.data_dir(out) / "records.parquet")
    assert len(papers) == 281 and len(records) == 293
    assert {
        "paper_id",
        "title",
        "abstract",
        "year",
        "authors",
        "doi",
        "arxiv_id",
        "urls",
        "code_urls",
        "sources",
    } <= set(papers.columns)
    assert {"source_file", "line", "source_id", "status", "paper_id", "reason"} <= set(
        records.columns
    )
    assert str(papers.year.dtype) == "Int64"
    assert list(papers.sources[0]) == [f"{SEED_213.name}:3"]
    stage = manifest.read_manifest(out)["stages"]["ingest"]
    assert stage["parameters"]["fuzzy_threshold"] == 95.0
    assert set(stage["inputs"]) == {str(SEED_213), str(SEED_80)}
    assert stage["inputs"][str(SEED_213)] == manifest.sha256_file(SEED_213)
    assert set(stage["timings_s"]) == {"read_parse", "clean", "dedup", "screening", "write"}
    assert stage["counts"]["duplicate"] == 12
    assert list(result.papers.paper_id) == list(papers.paper_id)


def test_summary_and_tables(write):
    titles_only = write("t.txt", "Only A Title\n")
    result = ingest_paths([SEED_DIR, titles_only])
    text = format_summary(result)
    assert SEED_213.name in text and "293" not in text.split("total")[0].split("\n")[0]
    total_line = next(line for line in text.splitlines() if line.startswith("total"))
    assert total_line.split()[1:] == ["294", "281", "12", "1", "0"]  # ... excluded
    assert (
        "1 record had no abstract; pass --keep-title-only (keep_title_only=True) to keep them"
    ) in text
    dups = compute_duplicate_table(result)
    assert len(dups) == 12
    assert dups.record.str.startswith(SEED_80.name).all()
    assert (dups.reason == "same normalized title").all()
    assert dups.paper_sources.str.contains(SEED_213.name).all()
    rejects = compute_rejects_table(result)
    assert rejects.to_dict("records") == [
        {"file": "t.txt", "line": 1, "reason": "no abstract", "excerpt": "Only A Title"}
    ]


def test_plots_return_figures_for_one_and_many_files(write):
    result = ingest_paths([SEED_DIR])
    fig = plot_abstract_lengths(result.papers)
    assert fig.axes[0].get_xlabel() == "words in abstract"
    overlap = plot_source_overlap(result.records)
    texts = [t.get_text() for t in overlap.axes[0].texts]
    assert texts == ["213", "12", "12", "80"]
    paths = [write(f"f{i}.txt", f"Paper {i}\n{abstract_text(str(i))}\n") for i in range(10)]
    many = plot_source_overlap(ingest_paths(paths).records)
    assert len(many.axes[0].texts) == 100
    import matplotlib.pyplot as plt

    _, ax = plt.subplots()
    assert plot_abstract_lengths(result.papers, ax=ax) is ax.get_figure()
    plt.close("all")
