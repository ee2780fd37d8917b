"""PubMed MEDLINE and Web of Science tagged-text exports: real files, bad input, properties."""

from __future__ import annotations

import re
import string

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from litreview.ingest import ingest_paths, medline, wos
from litreview.ingest.reading import detect_format

from .conftest import EXPORTS, REPO

#: The full exports sit in the shared workspace next to the main checkout or a worktree.
_PLACES = (REPO.parent / "shared/fixtures/exports", REPO.parents[1] / "shared/fixtures/exports")
FULL = next((p for p in _PLACES if p.is_dir()), None)
needs_full = pytest.mark.skipif(FULL is None, reason="full exports not present")


def test_trimmed_medline_fixture_keeps_every_field():
    result = ingest_paths([EXPORTS / "pubmed-medline.txt"])
    assert len(result.records) == 6 and (result.records.status == "kept").all()
    assert set(result.records.format) == {"medline"}
    first = result.papers.iloc[0]
    # Continuation lines join at the wrap: "A \n      Bibliometric" -> "A Bibliometric".
    assert first["title"] == (
        "Knowledge Mapping of Multicriteria Decision Analysis in Healthcare: "
        "A Bibliometric Analysis."
    )
    assert first["abstract"].startswith("OBJECTIVE: Multicriteria decision analysis (MCDA)")
    assert first["abstract"].endswith("application (e.g., telemedicine).")
    assert first["pmid"] == "35757629"
    assert first["doi"] == "10.3389/fpubh.2022.895552"
    assert first["year"] == 2022 and pd.isna(first["month"])
    assert first["venue"] == "Frontiers in public health"
    assert first["authors"][:2] == ["Dai, Zeqi", "Xu, Simin"]
    assert len(first["authors"]) == 8
    # OT keywords first, then MeSH descriptors without "*" or qualifiers.
    assert first["keywords"][:2] == ["CiteSpace", "R-bibliometrix"]
    assert "COVID-19" in first["keywords"] and "*COVID-19" not in first["keywords"]
    assert first["document_type"] == "Journal Article"
    assert first["url"] == "https://pubmed.ncbi.nlm.nih.gov/35757629/"
    second = result.papers.iloc[1]
    assert (second["year"], second["month"]) == (2017, 3)  # DP  - 2017 Mar
    # A NIHR book chapter: BTI title, no SO line, still complete.
    book = result.papers[result.papers.pmid == "30329254"].iloc[0]
    assert book["title"].startswith("The impact of home energy efficiency interventions")
    assert book["doi"] == "10.3310/phr06110"
    assert book["venue"] == "Public Health Research"


def test_trimmed_wos_fixture_accounts_every_record():
    result = ingest_paths([EXPORTS / "wos-savedrecs.txt"], keep_title_only=True)
    assert len(result.records) == 5 and (result.records.status == "kept").all()
    assert list(result.records.line) == [3, 139, 206, 306, 361]
    first = result.papers.iloc[0]
    assert first["title"] == (
        "EXPERIMENTS IN PHENOMENOLOGICAL ELECTRODYNAMICS AND THE ELECTROMAGNETIC "
        "ENERGY-MOMENTUM TENSOR"
    )
    assert first["source_ids"] == ["WOS:A1979GV55600001"]
    assert first["cited_by"] == 244 and first["document_type"] == "Review"
    assert first["year"] == 1979
    with_abstract = ingest_paths([EXPORTS / "wos-savedrecs.txt"]).papers
    assert len(with_abstract) == 3
    last = with_abstract.iloc[-1]
    assert last["doi"] == "10.1364/ol.27.001421"
    assert (last["year"], last["month"], last["pmid"]) == (2002, 8, "18026466")
    assert last["venue"] == "OPTICS LETTERS"


def test_detection_by_content_not_extension(write):
    medline_text = (EXPORTS / "pubmed-medline.txt").read_text(encoding="utf-8")
    wos_text = (EXPORTS / "wos-savedrecs.txt").read_text(encoding="utf-8-sig")
    assert detect_format(medline_text, write("x.bib", "")) == "medline"
    assert detect_format(wos_text, write("y.csv", "")) == "wos"
    assert detect_format("PMID- 1\nTI  - A\n", write("a.nbib", "")) == "medline"
    # A Hugging Face listing is not mistaken for either.
    assert detect_format("Some Title\nAn abstract. With words.\n", write("z.txt", "")) == "hfpapers"


@needs_full
def test_full_pubmed_export_every_record_kept():
    result = ingest_paths([FULL / "pubmed-medline.txt"])
    assert len(result.records) == 335
    assert (result.records.status == "kept").sum() == 335
    assert result.papers.pmid.notna().all() and result.papers.year.notna().all()
    assert result.papers.doi.notna().sum() >= 330


@needs_full
def test_full_wos_export_32_records_10_abstracts():
    result = ingest_paths([FULL / "wos-savedrecs.txt"])
    assert len(result.records) == 32
    assert (result.records.status == "kept").sum() == 10
    assert (result.records.reason == "no abstract").sum() == 22
    assert not result.messages[0].startswith("wos-savedrecs.txt:1:")  # the header is no record


MEDLINE_RECORD = """PMID- {pmid}
TI  - A title about {word}
AB  - We study {word}. It works well on all the benchmarks that we tried in this
      work, and we release the code.
FAU - Doe, Jane
AU  - Doe J
DP  - 2021 Mar
EDAT- 2021/03/01 00:00
SO  - J Test. 2021.
"""


def test_medline_truncated_last_record_is_rejected_and_nothing_else_lost(write):
    text = MEDLINE_RECORD.format(pmid=1, word="graphs") + "\nPMID- 2\nTI  - Cut off\nAB  - We st"
    result = ingest_paths([write("cut.txt", text)])
    assert list(result.records.status) == ["kept", "rejected"]
    rejected = result.records.iloc[1]
    assert rejected["line"] == 11
    assert rejected["reason"].startswith("truncated MEDLINE record")
    assert "cut.txt:11: truncated MEDLINE record" in "\n".join(result.messages)


def test_medline_stray_line_is_reported_with_its_line(write):
    text = MEDLINE_RECORD.format(pmid=1, word="graphs").replace("FAU", "garbage here\nFAU")
    result = ingest_paths([write("odd.txt", text)])
    assert (result.records.status == "kept").all()
    assert any(m.startswith("odd.txt:5: not a MEDLINE tag line") for m in result.messages)


def _wos_record(title: str, abstract: str) -> str:
    return (
        f"PT J\nAU Doe, J\nAF Doe, Jane\nTI {title}\nAB {abstract}\nPY 2020\n"
        f"UT WOS:{len(title)}\nER\n"
    )


def test_wos_missing_er_and_truncated_file_are_rejected_with_lines(write):
    body = "FN Clarivate Analytics Web of Science\nVR 1.0\n"
    body += _wos_record("First paper", "An abstract. Long enough.").replace("ER\n", "")  # no ER
    body += "\n" + _wos_record("Second paper", "Another abstract. Fine.")
    body += "\nPT J\nTI Third paper\nAB cut he"  # file ends inside the record
    result = ingest_paths([write("savedrecs.txt", body)])
    records = result.records
    assert list(records.status) == ["rejected", "kept", "rejected"]
    assert list(records.line) == [3, 11, 20]
    assert records.iloc[0]["reason"].startswith("WoS record not closed by ER")
    assert records.iloc[2]["reason"].startswith("truncated WoS record")
    assert result.papers.iloc[0]["title"] == "Second paper"
    unclosed = wos.parse(_wos_record("Last", "An abstract.").replace("ER\n", "EF\n"), "s.txt")
    assert unclosed[0][0].reject_reason.startswith("WoS record not closed by ER")


_WORD = st.text(alphabet=string.ascii_letters + string.digits + "-'(),:", min_size=1, max_size=12)
_SENTENCE = st.lists(_WORD, min_size=1, max_size=40).map(" ".join)


def _wrap(tag: str, text: str, width: int, indent: str) -> list[str]:
    """Wrap like the exporters: break at spaces, keep the space at the end of the line."""
    lines, current = [], tag
    for word in text.split(" "):
        if current.strip() and len(current) + len(word) > width:
            lines.append(current)
            current = ""
        current += word + " "
    lines.append(current.rstrip())
    return [lines[0]] + [indent + line for line in lines[1:]]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(_SENTENCE, _SENTENCE, st.lists(_SENTENCE, max_size=3)), min_size=1, max_size=5
    ),
    st.integers(min_value=10, max_value=70),
)
def test_medline_round_trips_generated_records(records, width):
    chunks = []
    for pmid, (title, abstract, authors) in enumerate(records, start=1):
        lines = [f"PMID- {pmid}"]
        lines += _wrap("TI  - ", title, width, "      ")
        lines += _wrap("AB  - ", abstract, width, "      ")
        lines += [f"FAU - {a}" for a in authors]
        lines += ["EDAT- 2020/01/01 00:00", "SO  - J. 2020."]
        chunks.append("\n".join(lines) + "\n")
    parsed, messages = medline.parse("\n".join(chunks), "gen.txt")
    assert messages == []
    assert [r.title for r in parsed] == [t for t, _, _ in records]
    assert [r.abstract for r in parsed] == [a for _, a, _ in records]
    expected_authors = [[a.strip() for a in au if a.strip()] for _, _, au in records]
    assert [r.authors or [] for r in parsed] == expected_authors
    assert [r.source_id for r in parsed] == [str(i) for i in range(1, len(records) + 1)]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(_SENTENCE, _SENTENCE, st.booleans()), min_size=1, max_size=5),
    st.integers(min_value=10, max_value=70),
)
def test_wos_round_trips_generated_records_and_counts_unclosed_ones(records, width):
    lines = ["FN Clarivate Analytics Web of Science", "VR 1.0"]
    starts = []
    for title, abstract, closed in records:
        starts.append(len(lines) + 1)
        lines += ["PT J", "AU Doe, J"]
        lines += _wrap("TI ", title, width, "   ")
        lines += _wrap("AB ", abstract, width, "   ")
        lines += ["ER", ""] if closed else [""]
    lines.append("EF")
    parsed, _ = wos.parse("\n".join(lines) + "\n", "gen.txt")
    assert [r.line for r in parsed] == starts  # every record accounted, at its PT line
    assert [r.title for r in parsed] == [t for t, _, _ in records]
    assert [r.abstract for r in parsed] == [a for _, a, _ in records]
    assert [r.reject_reason is None for r in parsed] == [c for _, _, c in records]


@settings(max_examples=80, deadline=None)
@given(st.text(alphabet=string.printable + "é\u00a0", max_size=400))
def test_tagged_parsers_never_raise_and_account_every_record_start(text):
    for parser, start in ((medline.parse, r"^PMID- "), (wos.parse, r"^PT ")):
        parsed, messages = parser(text, "fuzz.txt")
        assert all(isinstance(m, str) and m.startswith("fuzz.txt:") for m in messages)
        lines = {r.line for r in parsed}
        for number, line in enumerate(text.split("\n"), start=1):
            if re.match(start, line):
                assert number in lines
