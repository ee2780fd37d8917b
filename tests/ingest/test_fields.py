"""Field types and identifiers through the whole ingest: JSONL types, RIS text, bad DOIs."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from litreview.ingest import ingest_paths, jsonl

from .conftest import abstract_text


@pytest.mark.parametrize(
    ("title", "kind"),
    [
        (42, "a number"),
        (4.5, "a number"),
        (True, "a boolean"),
        (["A", "list"], "a list"),
        ({"en": "Localized title"}, "an object"),
    ],
)
def test_jsonl_non_string_titles_are_rejected_with_their_type(write, title, kind):
    lines = [
        {"title": "A Real Title", "abstract": abstract_text()},
        {"title": title, "abstract": abstract_text("other")},
    ]
    path = write("p.jsonl", "\n".join(json.dumps(x) for x in lines) + "\n")
    result = ingest_paths([path])
    assert list(result.records.status) == ["kept", "rejected"]
    assert result.records.reason.iloc[1] == f"title is {kind}, not text"
    assert f"p.jsonl:2: title is {kind}, not text" in result.messages
    assert result.papers.title.tolist() == ["A Real Title"]


def test_jsonl_non_string_abstract_is_rejected(write):
    path = write("a.jsonl", json.dumps({"title": "T", "abstract": {"text": "x"}}) + "\n")
    with pytest.raises(Exception, match="abstract is an object, not text"):
        ingest_paths([path])


def test_ris_backslashes_are_text_not_latex(write):
    text = (
        "TY  - JOUR\n"
        "TI  - Paths like C:\\temp\\new and A\\B tests with {braces}\n"
        f"AB  - {abstract_text()} We match \\d+ and \\emph literally.\n"
        "ER  - \n"
    )
    result = ingest_paths([write("x.ris", text)])
    paper = result.papers.iloc[0]
    assert paper["title"] == "Paths like C:\\temp\\new and A\\B tests with {braces}"
    assert paper["abstract"].endswith("We match \\d+ and \\emph literally.")


def test_bibtex_latex_quotes_and_commands_are_cleaned(write):
    text = (
        "@article{k,\n"
        "  title={The ``Best'' {\\scriptsize Model}},\n"
        f"  abstract={{{abstract_text()} We call it ``fast''.\\vspace{{2mm}}}}\n"
        "}\n"
    )
    paper = ingest_paths([write("q.bib", text)]).papers.iloc[0]
    assert paper["title"] == "The \u201cBest\u201d Model"
    assert paper["abstract"].endswith("We call it \u201cfast\u201d.")


def test_invalid_doi_is_dropped_with_a_warning_and_the_record_kept(write):
    text = (
        "TY  - JOUR\n"
        "TI  - Hostile DOI paper\n"
        f"AB  - {abstract_text()}\n"
        "DO  - 10.1234/s><script>alert(1)</script>\n"
        "ER  - \n"
        "TY  - JOUR\n"
        "TI  - Good DOI paper\n"
        f"AB  - {abstract_text('good')}\n"
        "DO  - https://doi.org/10.1234/GOOD.1\n"
        "ER  - \n"
    )
    result = ingest_paths([write("d.ris", text)])
    assert list(result.records.status) == ["kept", "kept"]
    hostile, good = result.papers.iloc[0], result.papers.iloc[1]
    assert hostile["title"] == "Hostile DOI paper"
    assert hostile["abstract"] == abstract_text()
    assert pd.isna(hostile["doi"])
    assert good["doi"] == "10.1234/good.1"
    assert any(
        m.startswith("d.ris:1: not a valid DOI '10.1234/s><script>") and m.endswith("DOI dropped")
        for m in result.messages
    )


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


@settings(max_examples=150, deadline=None)
@given(JSON_VALUES)
def test_a_jsonl_title_is_a_string_or_a_named_reject(title):
    line = json.dumps({"title": title, "abstract": abstract_text()})
    (record,), _ = jsonl.parse(line + "\n", "any.jsonl")
    if isinstance(title, str) or title is None:
        assert record.reject_reason is None
        assert record.title == (title if title and title.strip() else None)
    else:
        assert record.reject_reason.startswith("title is ")
        assert record.reject_reason.endswith(", not text")
        assert record.title is None
