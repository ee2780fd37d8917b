"""OpenAlex CSV / works JSON and CSL-JSON exports: real files, broken items, gaps."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from litreview.ingest import csljson, ingest_paths, openalex
from litreview.ingest.jsontext import split_items
from litreview.ingest.openalex import rebuild_abstract
from litreview.ingest.reading import detect_format

from .conftest import EXPORTS, abstract_text


def test_openalex_csv_is_eight_records_not_one():
    result = ingest_paths([EXPORTS / "openalex-sample.csv"], keep_title_only=True)
    assert len(result.records) == 8
    assert set(result.records.format) == {"openalex"}
    assert list(result.records.line) == [2, 3, 4, 5, 6, 7, 8, 9]
    papers = result.papers
    assert len(papers) == 8
    first = papers.iloc[0]
    assert first["title"] == "bibliometrix : An R-tool for comprehensive science mapping analysis"
    assert first["authors"] == ["Massimo Aria", "Corrado Cuccurullo"]
    assert (first["year"], first["month"]) == (2017, 9)
    assert first["doi"] == "10.1016/j.joi.2017.08.007"
    assert first["venue"] == "Journal of Informetrics"
    assert first["cited_by"] == 13235
    assert first["document_type"] == "article"
    assert first["source_ids"] == ["https://openalex.org/W2755950973"]
    # Without --keep-title-only the three rows without an abstract are rejected one by one.
    strict = ingest_paths([EXPORTS / "openalex-sample.csv"]).records
    assert list(strict.status).count("rejected") == 3
    assert list(strict.loc[strict.status == "rejected", "line"]) == [2, 4, 5]


def test_openalex_works_jsonl_rebuilds_abstracts():
    result = ingest_paths([EXPORTS / "openalex-works.jsonl"])
    assert len(result.records) == 3 and (result.records.status == "kept").all()
    assert set(result.records.format) == {"openalex"}
    first = result.papers.iloc[0]
    work = json.loads((EXPORTS / "openalex-works.jsonl").read_text(encoding="utf-8").split("\n")[0])
    expected = " ".join(
        word
        for _, word in sorted(
            (p, w) for w, ps in work["abstract_inverted_index"].items() for p in ps
        )
    )
    assert first["abstract"] == " ".join(expected.split())
    assert first["pmid"] == work["ids"]["pmid"].rsplit("/", 1)[-1]
    assert first["authors"][0] == work["authorships"][0]["author"]["display_name"]
    assert first["keywords"] == [k["display_name"] for k in work["keywords"]]
    assert first["cited_by"] == work["cited_by_count"]


def test_openalex_api_page_and_array_give_lines(write):
    lines = (EXPORTS / "openalex-works.jsonl").read_text(encoding="utf-8").splitlines()
    works = [json.loads(line) for line in lines]
    page = write("page.json", json.dumps({"meta": {"count": 3}, "results": works}, indent=2))
    result = ingest_paths([page])
    assert len(result.records) == 3 and (result.records.status == "kept").all()
    text = page.read_text()
    starts = [i + 1 for i, line in enumerate(text.split("\n")) if line == "    {"]
    assert list(result.records.line) == starts


def test_rebuild_abstract_tolerates_gaps_and_junk():
    rebuilt = rebuild_abstract({"world": [1], "Hello": [0], "again": [3]})
    assert rebuilt == ("Hello world again", 3, 1)
    assert rebuild_abstract({"a": [0, "x", -1, True], "b": "nope", "c": [2]}) == ("a c", 2, 1)
    assert rebuild_abstract({}) == (None, 0, 0)
    assert rebuild_abstract(["not", "a", "dict"]) == (None, 0, 0)


def _work(i: int, index: object) -> dict:
    return {
        "id": f"https://openalex.org/W{i}",
        "display_name": f"Work number {i} on topic {chr(65 + i)}",
        "publication_year": 2020 + i,
        "authorships": [],
        "abstract_inverted_index": index,
    }


def test_openalex_gaps_broken_index_and_bad_line_lose_nothing_else(write):
    words = abstract_text().split()
    full = {}
    for position, word in enumerate(words):
        full.setdefault(word, []).append(position)
    small_gap = {w: [p for p in ps if p != 5] for w, ps in full.items()}
    big_gap = {w: [p for p in ps if p % 2] for w, ps in full.items()}
    lines = [
        json.dumps(_work(0, full)),
        json.dumps(_work(1, small_gap)),
        json.dumps(_work(2, big_gap)),
        json.dumps(_work(3, "garbage")),
        '{"id": "https://openalex.org/W4", "display_name": "Broken',  # truncated line
        json.dumps(_work(5, full)),
    ]
    result = ingest_paths([write("works.jsonl", "\n".join(lines) + "\n")])
    records = result.records
    assert list(records.line) == [1, 2, 3, 4, 5, 6]
    assert list(records.status) == ["kept", "kept", "rejected", "rejected", "rejected", "kept"]
    assert records.iloc[2]["reason"].startswith("abstract_inverted_index misses")
    assert records.iloc[3]["reason"] == "malformed abstract_inverted_index (no word positions)"
    assert records.iloc[4]["reason"].startswith("invalid JSON")
    assert any(
        m.startswith("works.jsonl:2: abstract_inverted_index misses 1 of") for m in result.messages
    )
    assert result.papers.iloc[1]["abstract"] == " ".join(w for i, w in enumerate(words) if i != 5)


def test_csl_json_zotero_export():
    result = ingest_paths([EXPORTS / "zotero-csl.json"])
    items = json.loads((EXPORTS / "zotero-csl.json").read_text(encoding="utf-8"))
    assert len(result.records) == 3 and (result.records.status == "kept").all()
    assert set(result.records.format) == {"csljson"}
    text = (EXPORTS / "zotero-csl.json").read_text(encoding="utf-8").split("\n")
    assert list(result.records.line) == [i + 1 for i, line in enumerate(text) if line == "\t{"]
    first, item = result.papers.iloc[0], items[0]
    assert first["title"] == item["title"]
    assert first["authors"][0] == f"{item['author'][0]['family']}, {item['author'][0]['given']}"
    assert first["year"] == item["issued"]["date-parts"][0][0]
    assert first["venue"] == item["container-title"]
    assert first["doi"] == item["DOI"].lower() and first["pmid"] == item["PMID"]
    assert first["keywords"] == [k.strip() for k in item["keyword"].split(",")]
    assert first["document_type"] == "article-journal"
    assert first["source_ids"] == [item["id"]]


def test_csl_json_array_with_one_broken_item_keeps_the_others(write):
    items = [
        {
            "id": f"k{i}",
            "type": "article-journal",
            "title": f"Paper {i} about {t}",
            "abstract": abstract_text(t),
            "author": [{"family": "Doe", "given": "J."}],
            "issued": {"date-parts": [[2019 + i, 3]]},
        }
        for i, t in enumerate(["graphs", "trees", "forests"])
    ]
    text = json.dumps(items, indent="\t")
    lines = text.split("\n")
    second = lines.index("\t{", 2)
    broken = text.replace('"title": "Paper 1 about trees",', '"title": "Paper 1 about trees"')
    result = ingest_paths([write("zotero.json", broken)])
    records = result.records
    assert list(records.status) == ["kept", "rejected", "kept"]
    assert records.iloc[1]["line"] == second + 1
    assert records.iloc[1]["reason"].startswith("invalid JSON item")
    assert f"zotero.json:{second + 1}: invalid JSON item" in "\n".join(result.messages)
    assert list(result.papers.title) == ["Paper 0 about graphs", "Paper 2 about forests"]
    assert list(result.papers.month) == [3, 3]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("openalex-sample.csv", "openalex"),
        ("openalex-works.jsonl", "openalex"),
        ("zotero-csl.json", "csljson"),
        ("ieee-export.csv", "csv"),
    ],
)
def test_detected_by_content(name, expected, write):
    text = (EXPORTS / name).read_text(encoding="utf-8-sig")
    assert detect_format(text, write("no-extension", "")) == expected


def test_plain_arxiv_jsonl_is_still_jsonl(write):
    line = json.dumps({"id": "2301.01234", "title": "T", "abstract": "A.", "categories": "cs.CL"})
    assert detect_format(line + "\n", write("a.jsonl", "")) == "jsonl"


def test_split_items_one_object_and_json_lines():
    assert [i.line for i in split_items('\n\n{"a": 1}')] == [3]
    items = split_items('{"a": 1}\n\n{"b": 2}\n')
    assert [(i.line, i.value) for i in items] == [(1, {"a": 1}), (3, {"b": 2})]


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.just('{"id": "https://openalex.org/W1", "title": "T", "type": "article"}'),
            st.just('\t{\n\t\t"title": "broken'),
            st.just("\t{"),
            st.just("\t},"),
            st.just(","),
            st.text(alphabet='{}[]":,\n\t ab1', max_size=30),
        ),
        max_size=12,
    ),
    st.sampled_from(["[\n", "", '{"results": [\n']),
)
def test_json_parsers_never_raise(parts, opening):
    text = opening + "\n".join(parts)
    for parse in (openalex.parse, csljson.parse):
        records, messages = parse(text, "f.json")
        assert all(r.line >= 1 for r in records)
        assert all(m.startswith("f.json:") for m in messages)
