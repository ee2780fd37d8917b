"""Duplicate detection: identifiers, exact and fuzzy titles, provenance, richest fields."""

from __future__ import annotations

import json

import pytest

from litreview.ingest import ingest_paths
from litreview.ingest.dedup import DedupKeys, find_duplicates, fuzzy_title_pairs

from .conftest import abstract_text


def _jsonl(write, name, rows):
    return write(name, "\n".join(json.dumps(r) for r in rows) + "\n")


def test_same_doi_merges_different_titles(write):
    path = _jsonl(
        write,
        "a.jsonl",
        [
            {"title": "Title One", "abstract": abstract_text(), "doi": "10.1000/ABC"},
            {
                "title": "Completely Different",
                "abstract": abstract_text(),
                "doi": "https://doi.org/10.1000/abc",
            },
        ],
    )
    result = ingest_paths([path])
    assert len(result.papers) == 1
    assert result.records.reason.iloc[1] == f"duplicate of {result.papers.paper_id[0]} (same DOI)"


def test_same_arxiv_id_merges(write):
    path = _jsonl(
        write,
        "a.jsonl",
        [
            {"id": "2301.00001v1", "title": "Old Name", "abstract": abstract_text()},
            {"id": "2301.00001v3", "title": "New Name", "abstract": abstract_text()},
        ],
    )
    result = ingest_paths([path])
    assert len(result.papers) == 1
    assert result.records.match.iloc[1] == "same arXiv id"
    assert result.papers.paper_id[0].startswith("p-")


def test_case_and_punctuation_in_titles_do_not_matter(write):
    path = _jsonl(
        write,
        "a.jsonl",
        [
            {"title": "Graph Neural Networks: A Review", "abstract": abstract_text()},
            {"title": "graph neural networks - a review.", "abstract": abstract_text()},
        ],
    )
    result = ingest_paths([path])
    assert len(result.papers) == 1
    assert result.records.match.iloc[1] == "same normalized title"


@pytest.mark.parametrize(("threshold", "merged"), [(90.0, True), (99.0, False)])
def test_fuzzy_titles_merge_only_above_threshold(write, threshold, merged):
    path = _jsonl(
        write,
        "a.jsonl",
        [
            {
                "title": "Scaling Laws for Neural Language Models in Practice",
                "abstract": abstract_text(),
            },
            {
                "title": "Scaling Law for Neural Language Models in Practise",
                "abstract": abstract_text(),
            },
        ],
    )
    result = ingest_paths([path], fuzzy_threshold=threshold)
    assert (len(result.papers) == 1) is merged
    if merged:
        assert result.records.match.iloc[1].startswith("fuzzy title match ")
        assert float(result.records.match.iloc[1].rsplit(" ", 1)[1]) >= threshold


def test_fuzzy_match_never_joins_different_numbers_or_dois():
    keys = [
        DedupKeys(None, None, "Llama 2: Open Foundation and Fine-Tuned Chat Models"),
        DedupKeys(None, None, "Llama 3: Open Foundation and Fine-Tuned Chat Models"),
        DedupKeys("10.1000/a", None, "Editorial"),
        DedupKeys("10.1000/b", None, "Editorial"),
    ]
    assert find_duplicates(keys, 80.0).group == [0, 1, 2, 3]


def test_fuzzy_pairs_find_typos_in_a_large_corpus():
    forms = [f"study number {i} of topic {chr(97 + i % 26)}{i * 7919 % 10007}" for i in range(3000)]
    target = forms[1234]
    forms.append(target.replace("study", "studdy"))
    pairs = fuzzy_title_pairs(forms, 92.0)
    assert (1234, len(forms) - 1) in {(i, j) for i, j, _ in pairs}


def test_provenance_and_richest_fields_win(write):
    short = _jsonl(write, "a.jsonl", [{"title": "Same Paper", "abstract": "Short. Abstract."}])
    rich = _jsonl(
        write,
        "b.jsonl",
        [
            {
                "title": "Same paper",
                "abstract": abstract_text(),
                "doi": "10.5555/x",
                "year": "2020",
                "authors": ["A. B", "C. D"],
            }
        ],
    )
    result = ingest_paths([short, rich], keep_title_only=True)
    paper = result.papers.iloc[0]
    assert len(result.papers) == 1
    assert paper["title"] == "Same Paper"  # the first appearance names the paper
    assert paper["abstract"] == abstract_text()
    assert (paper["doi"], paper["year"], paper["authors"]) == ("10.5555/x", 2020, ["A. B", "C. D"])
    assert paper["sources"] == ["a.jsonl:1", "b.jsonl:1"]
    assert list(result.records.status) == ["kept", "duplicate"]


def test_duplicates_within_one_file_count(write):
    path = _jsonl(write, "a.jsonl", [{"title": "Repeated", "abstract": abstract_text()}] * 3)
    result = ingest_paths([path])
    assert list(result.records.status) == ["kept", "duplicate", "duplicate"]
    assert result.papers.n_records[0] == 3


def test_paper_ids_are_stable_across_runs_and_order(write):
    rows = [
        {"title": f"Paper {i}", "abstract": abstract_text(), "doi": f"10.9999/{i}"}
        for i in range(5)
    ]
    first = ingest_paths([_jsonl(write, "a.jsonl", rows)]).papers
    second = ingest_paths([_jsonl(write, "b.jsonl", rows[::-1])]).papers
    assert sorted(first.paper_id) == sorted(second.paper_id)
    assert list(first.title) == [f"Paper {i}" for i in range(5)]
    assert first.paper_id.str.fullmatch(r"p-[0-9a-f]{12}").all()
