"""Every parser on the seed listings and on real exports, with exact counts."""

from __future__ import annotations

import csv
import gzip
import io
import json
import re

import pytest

from litreview.ingest import ingest_paths
from litreview.ingest.reading import detect_format

from .conftest import EXPORTS, FULL_EXPORTS, SEED_80, SEED_213, SEED_DIR, abstract_text


def test_seed_listings_give_exact_counts():
    result = ingest_paths([SEED_DIR])
    counts = result.records.groupby("source_file")["status"].value_counts().unstack(fill_value=0)
    assert len(result.records[result.records.source_file == SEED_213.name]) == 213
    assert len(result.records[result.records.source_file == SEED_80.name]) == 80
    assert len(result.records) == 293
    assert len(result.papers) == 281
    assert (result.records.status == "duplicate").sum() == 12
    assert counts.loc[SEED_80.name, "duplicate"] == 12  # every duplicate pairs the two files
    assert (result.papers.n_records == 2).sum() == 12
    assert (result.records.status == "rejected").sum() == 0
    assert (
        result.papers.iloc[0]["title"] == "NormBank: A Knowledge Bank of Situational Social Norms"
    )
    assert result.papers.iloc[0]["sources"] == [f"{SEED_213.name}:3"]
    assert result.papers.abstract.str.len().min() > 300
    assert [p.name for p in result.inputs] == [SEED_213.name, SEED_80.name]


def test_seed_listing_keeps_code_urls():
    papers = ingest_paths([SEED_80]).papers
    row = papers[papers.title == "Understanding the Role of Invariance in Transfer Learning"].iloc[
        0
    ]
    assert row["code_urls"] == [
        "https://github.com/tillspeicher/representation-invariance-transfer"
    ]


EXPORT_EXPECTED = {
    # file: (records, kept+duplicate, rejected "no abstract")
    "ieee-example.ris": (25, 25, 0),
    "ieee-export.csv": (10, 10, 0),
    "scopus-export.bib": (18, 17, 1),
    "scopus-export.csv": (16, 15, 1),
    "wos-export.bib": (16, 16, 0),
}


@pytest.mark.parametrize("name", sorted(EXPORT_EXPECTED))
def test_trimmed_exports_parse_exactly(name):
    records, usable, no_abstract = EXPORT_EXPECTED[name]
    result = ingest_paths([EXPORTS / name])
    assert len(result.records) == records
    assert (result.records.status != "rejected").sum() == usable
    assert (result.records.reason == "no abstract").sum() == no_abstract
    assert result.papers.title.notna().all()
    assert result.papers.abstract.str.len().min() > 100
    assert not result.papers.title.str.contains(r"[{}\\]").any()


def test_exports_merge_across_formats():
    result = ingest_paths([EXPORTS])
    dup = result.records[result.records.status == "duplicate"]
    # The WoS and Scopus BibTeX exports list the same articles: 11 WoS entries share a DOI.
    assert len(dup) == 11
    assert set(dup.source_file) == {"wos-export.bib"}
    assert set(dup.reason.str.extract(r"\((.*)\)")[0]) == {"same DOI"}
    merged = result.papers[result.papers.doi == "10.1016/j.ejor.2021.05.017"].iloc[0]
    assert merged["title"] == "ELECTRE-SCORE: A first outranking based method for scoring actions"
    assert merged["sources"] == ["scopus-export.bib:2", "wos-export.bib:2"]
    assert merged["year"] == 2022
    assert merged["source_ids"] == ["Figueira2022986", "WOS:000719584000015"]


def test_export_fields_are_kept():
    papers = ingest_paths([EXPORTS / "ieee-export.csv"]).papers
    first = papers.iloc[0]
    assert first["authors"] == ["P. Kogge", "J. Shalf"]
    assert first["doi"].startswith("10.1109/")
    assert first["year"] == 2013
    scopus = ingest_paths([EXPORTS / "scopus-export.csv"]).papers.iloc[0]
    assert scopus["authors"][:2] == ["Phillips J.C.", "Braun R."]
    assert scopus["source_ids"][0].startswith("2-s2.0-")


def _independent_counts(path):
    text = path.read_bytes().decode("utf-8-sig")
    if path.suffix == ".bib":
        entries = re.split(r"^@", text, flags=re.MULTILINE)[1:]
        with_abstract = sum(bool(re.search(r"^abstract\s*=", e, re.I | re.M)) for e in entries)
        return len(entries), with_abstract
    if path.suffix == ".ris":
        return len(re.findall(r"^ER  -", text, re.M)), len(re.findall(r"^AB  - \S", text, re.M))
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    key = "Abstract"
    with_abstract = sum(bool(r[key].strip()) and r[key] != "[No abstract available]" for r in rows)
    return len(rows), with_abstract


@pytest.mark.skipif(not FULL_EXPORTS.is_dir(), reason=f"full exports not present at {FULL_EXPORTS}")
@pytest.mark.parametrize(
    "name",
    [
        "ieee-example.ris",
        "ieee-export.csv",
        "scopus-export.bib",
        "scopus-export.csv",
        "wos-export.bib",
    ],
)
def test_full_exports_match_independent_counts(name):
    path = FULL_EXPORTS / name
    expected_records, expected_abstracts = _independent_counts(path)
    result = ingest_paths([path])
    assert len(result.records) == expected_records
    assert (result.records.status != "rejected").sum() == expected_abstracts
    assert set(result.records.loc[result.records.status == "rejected", "reason"]) <= {"no abstract"}


def test_jsonl_arxiv_style_and_gzip(write):
    lines = [
        {
            "id": "2301.00001v2",
            "title": "Graph \\emph{Transformers}",
            "abstract": abstract_text(),
            "categories": "cs.LG",
        },
        {"id": "2301.00002", "title": "Another Paper", "abstract": abstract_text("vision")},
    ]
    text = "\n".join(json.dumps(x) for x in lines) + "\n"
    path = write("papers.jsonl.gz", gzip.compress(text.encode()))
    result = ingest_paths([path])
    assert list(result.papers.title) == ["Graph Transformers", "Another Paper"]
    assert list(result.papers.arxiv_id) == ["2301.00001", "2301.00002"]
    assert list(result.records.line) == [1, 2]
    assert list(result.records.source_id) == ["2301.00001v2", "2301.00002"]


def test_json_array_gets_line_numbers(write):
    items = [{"title": f"Paper {i}", "abstract": abstract_text(str(i))} for i in range(3)]
    path = write("papers.json", json.dumps(items, indent=2))
    result = ingest_paths([path])
    assert len(result.papers) == 3
    assert list(result.records.line) == [2, 6, 10]


def test_generic_and_wos_tab_delimited_tables(write):
    generic = write("mine.csv", f'Paper Title,ABSTRACT\n"A, B",{abstract_text()}\n')
    wos = write(
        "wos.txt",
        f"PT\tAU\tTI\tAB\tPY\tDI\tUT\nJ\tDoe, J\tWoS Paper\t{abstract_text()}\t"
        "2021\t10.1000/XYZ\tWOS:1\n",
    )
    result = ingest_paths([generic, wos])
    assert list(result.papers.title) == ["A, B", "WoS Paper"]
    row = result.papers.iloc[1]
    assert (row["doi"], row["year"], row["source_ids"]) == ("10.1000/xyz", 2021, ["WOS:1"])


@pytest.mark.parametrize(
    ("name", "head", "expected"),
    [
        ("x.txt", "@article{k,\n title={T}}", "bibtex"),
        ("x.txt", "TY  - JOUR\nTI  - T\nER  - ", "ris"),
        ("x.data", '{"title": "T"}', "jsonl"),
        ("x.txt", "Title,Abstract\nT,A", "csv"),
        ("x.bib", "Just a title line\n", "bibtex"),
        ("x.txt", "Just a title line\n", "hfpapers"),
        ("x.unknown", "Just a title line\n", "hfpapers"),
        ("x.csv.gz", "Just a title line\n", "csv"),
    ],
)
def test_detect_format_content_first_then_extension(tmp_path, name, head, expected):
    assert detect_format(head, tmp_path / name) == expected


def test_input_format_overrides_detection(write):
    path = write("listing.bib", f"A Title Here\n{abstract_text()}\n")
    assert len(ingest_paths([path], input_format="hfpapers").papers) == 1
