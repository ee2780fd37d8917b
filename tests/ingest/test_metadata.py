"""Bibliographic metadata through ingest: typed columns, every format, identifier dedup."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from litreview import config
from litreview.ingest import ingest_paths, run_ingest
from litreview.ingest.metadata import arxiv_year_month, parse_month

from .conftest import EXPORTS, SEED_DIR, abstract_text

META = ["authors", "year", "month", "venue", "doi", "pmid", "keywords", "cited_by", "document_type"]


@pytest.mark.parametrize(
    ("value", "month"),
    [
        ("2018 Oct", 10),
        ("2021-03-04", 3),
        ("2021/11", 11),
        ("MAR 16", 3),
        ("sept", 9),
        (7, 7),
        ("13", None),
        ("2021", None),
        ("Spring 2020", None),
        (None, None),
    ],
)
def test_parse_month(value, month):
    assert parse_month(value) == month


def test_arxiv_id_dates():
    assert arxiv_year_month("2301.01234") == (2023, 1)
    assert arxiv_year_month("0704.0001") == (2007, 4)
    assert arxiv_year_month("hep-th/9901001") == (1999, 1)
    assert arxiv_year_month("cs/0112017") == (2001, 12)
    assert arxiv_year_month("2313.01234") == (None, None)
    assert arxiv_year_month(None) == (None, None)


def test_papers_parquet_carries_typed_metadata(tmp_path):
    out = tmp_path / "out"
    run_ingest([EXPORTS], out)
    papers = pd.read_parquet(config.data_dir(out) / "papers.parquet")
    assert set(META) <= set(papers.columns)
    for column in ("year", "month", "cited_by"):
        assert str(papers[column].dtype) == "Int64"
    assert all(isinstance(a, list | tuple) or hasattr(a, "tolist") for a in papers.authors)
    by_format = {
        "pubmed-medline.txt": ("pmid", "keywords", "month"),
        "wos-savedrecs.txt": ("cited_by", "document_type"),
        "openalex-sample.csv": ("cited_by", "month", "venue"),
        "zotero-csl.json": ("pmid", "keywords", "month"),
        "scopus-export.csv": ("cited_by", "keywords", "document_type"),
        "wos-export.bib": ("keywords", "month", "document_type"),
        "ieee-example.ris": ("keywords", "month"),
    }
    first_source = papers.sources.map(lambda s: s[0].rsplit(":", 1)[0])
    for name, columns in by_format.items():
        rows = papers[first_source == name]
        assert len(rows), name
        for column in columns:
            values = rows[column]
            filled = values.map(len) > 0 if column == "keywords" else values.notna()
            assert filled.any(), (name, column)
    assert papers.authors.map(len).gt(0).mean() > 0.95


def test_seed_listings_keep_working_without_metadata():
    papers = ingest_paths([SEED_DIR]).papers
    assert len(papers) == 281
    assert papers.authors.map(len).eq(0).all() and papers.keywords.map(len).eq(0).all()
    assert papers.month.isna().all() and papers.cited_by.isna().all()


def test_arxiv_jsonl_dated_by_its_id(write):
    rows = [
        {
            "id": "2301.01234",
            "title": "A",
            "abstract": abstract_text(),
            "update_date": "2024-05-01",
        },
        {"id": "hep-th/9901001", "title": "B", "abstract": abstract_text("b")},
        {"id": "x", "title": "C", "abstract": abstract_text("c"), "year": 2019, "categories": "cs"},
    ]
    path = write("arxiv.jsonl", "\n".join(json.dumps(r) for r in rows))
    papers = ingest_paths([path]).papers.set_index("title")
    assert (papers.at["A", "year"], papers.at["A", "month"]) == (2023, 1)
    assert (papers.at["B", "year"], papers.at["B", "month"]) == (1999, 1)
    assert papers.at["C", "year"] == 2019 and pd.isna(papers.at["C", "month"])
    assert list(papers.at["C", "keywords"]) == ["cs"]


def _medline(pmid: str, title: str, *, doi: str | None = None, extra: str = "") -> str:
    lines = [f"PMID- {pmid}", f"TI  - {title}", f"AB  - {abstract_text()}"]
    if doi:
        lines.append(f"LID - {doi} [doi]")
    return "\n".join(lines) + "\n" + extra + "EDAT- 2020/01/01\nSO  - J. 2020.\n"


def test_dedup_by_pmid_and_richer_record_wins(write):
    poor = write("a.txt", _medline("123", "Completely different wording", extra="DP  - 2019\n"))
    rich_line = {
        "type": "article-journal",
        "title": "Another title entirely",
        "abstract": abstract_text(),
        "PMID": "123",
        "DOI": "10.1000/xyz",
        "author": [{"family": "Doe", "given": "Jane"}],
        "issued": {"date-parts": [[2021, 6]]},
        "container-title": "Journal of Tests",
        "keyword": "alpha, beta",
    }
    rich = write("b.json", json.dumps([rich_line], indent=2))
    result = ingest_paths([poor, rich])
    assert len(result.papers) == 1
    assert list(result.records.status) == ["kept", "duplicate"]
    assert result.records.iloc[1]["match"] == "same PMID"
    paper = result.papers.iloc[0]
    assert paper["title"] == "Completely different wording"  # the first record names it
    # The richer record's date wins over the first record's (2019).
    assert (paper["doi"], paper["year"], paper["month"]) == ("10.1000/xyz", 2021, 6)
    assert list(paper["authors"]) == ["Doe, Jane"] and paper["venue"] == "Journal of Tests"
    assert list(paper["keywords"]) == ["alpha", "beta"]


def test_conflicting_pmids_are_not_merged_by_title(write):
    a = _medline("1", "The same title")
    b = _medline("2", "The same title")
    result = ingest_paths([write("a.txt", a + "\n" + b)])
    assert len(result.papers) == 2


def test_bibtex_ris_csv_carry_new_fields():
    bib = ingest_paths([EXPORTS / "wos-export.bib"]).papers.iloc[0]
    assert bib["month"] == 3 and bib["document_type"] == "Article"
    assert bib["keywords"][0] == "Multiple criteria analysis"
    scopus = ingest_paths([EXPORTS / "scopus-export.bib"]).papers.iloc[0]
    assert scopus["cited_by"] == 0  # "note = {cited By 0}"
    csv = ingest_paths([EXPORTS / "scopus-export.csv"]).papers.iloc[0]
    assert csv["cited_by"] == 13169 and csv["document_type"] == "Review"
    ris = ingest_paths([EXPORTS / "ieee-example.ris"]).papers.iloc[0]
    assert ris["keywords"][0] == "Exascale computing"
