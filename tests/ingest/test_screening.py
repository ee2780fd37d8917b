"""Screening in the ingest stage: the curation file's exclude / include_only, and the flow."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest

from litreview import config, io
from litreview.curation import CurationError
from litreview.ingest import IngestError, compute_screening_flow, format_summary, run_ingest
from litreview.ingest.screening import CurationWarning, flow_totals
from litreview.plots.screening import plot_screening_flow

from .conftest import EXPORTS, SEED_DIR, abstract_text

SCOPUS_BIB = EXPORTS / "scopus-export.bib"
FIRST_DOI = "10.1016/j.ejor.2021.05.017"  # the first entry of scopus-export.bib


def _curation(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "review.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _line_of(path: Path, needle: str) -> int:
    """1-based line of the first line of ``path`` containing ``needle``."""
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_exclusion_by_doi_removes_the_paper_and_records_why(tmp_path: Path) -> None:
    curation = _curation(tmp_path, f"""version: 1
exclude:
  - paper: "https://doi.org/{FIRST_DOI.upper()}"
    reason: off-topic (operations research)
""")
    out = tmp_path / "out"
    result = run_ingest([SCOPUS_BIB], out, curation_file=curation)
    papers = io.load_table(out, "papers")
    assert FIRST_DOI not in set(papers["doi"])
    exclusions = io.load_table(out, "exclusions")
    assert exclusions.columns.tolist() == ["paper_id", "ref", "reason", "line", "title"]
    assert len(exclusions) == 1
    row = exclusions.iloc[0]
    assert row["reason"] == "off-topic (operations research)"
    assert row["line"] == _line_of(curation, "- paper:")
    assert row["title"].startswith("ELECTRE-SCORE")
    records = io.load_table(out, "records")
    excluded = records[records["status"] == "excluded"]
    assert excluded["paper_id"].tolist() == [row["paper_id"]]
    assert excluded["reason_kind"].tolist() == ["screening"]
    assert excluded["reason"].tolist() == [
        f"excluded: off-topic (operations research) (review.yaml:{row['line']})"]
    assert row["paper_id"] not in set(papers["paper_id"])
    assert "Excluded at screening (1 paper), by reason:" in format_summary(result)


def test_exclusion_by_paper_id_on_the_seed_corpus(tmp_path: Path) -> None:
    plain = run_ingest([SEED_DIR], tmp_path / "plain")
    last = plain.papers["paper_id"].tolist()[-2:]
    curation = _curation(tmp_path, "exclude:\n" + "".join(
        f"  - paper: {pid}\n    reason: not about language models\n" for pid in last))
    result = run_ingest([SEED_DIR], tmp_path / "out", curation_file=curation)
    assert len(result.papers) == len(plain.papers) - 2
    assert not set(last) & set(result.papers["paper_id"])
    assert result.exclusions["paper_id"].tolist() == last
    assert result.exclusions["line"].tolist() == [2, 4]
    manifest = io.read_json(config.manifest_path(tmp_path / "out"))
    assert manifest["stages"]["ingest"]["counts"]["excluded_papers"] == 2


def test_an_arxiv_id_of_a_duplicate_record_names_the_merged_paper(tmp_path: Path, write) -> None:
    # Two records of one paper (same DOI), each with its own arXiv id: the merged paper
    # keeps one of them; the other still names it.
    entry = """@article{{{key},
  title = {{Norms in language models}},
  abstract = {{{abstract}}},
  doi = {{10.1234/norms.2024}},
  eprint = {{{arxiv}}},
  archivePrefix = {{arXiv}},
  year = {{2024}}
}}
"""
    write("a.bib", entry.format(key="a", abstract=abstract_text("norms"), arxiv="2401.00001"))
    write("b.bib", entry.format(key="b", abstract=abstract_text("norms"), arxiv="2401.00002v2"))
    plain = run_ingest([tmp_path / "a.bib", tmp_path / "b.bib"], tmp_path / "plain")
    assert len(plain.papers) == 1
    kept = plain.papers["arxiv_id"].iloc[0]
    other = "2401.00002" if kept.startswith("2401.00001") else "2401.00001"
    curation = _curation(tmp_path, f'exclude:\n  - paper: "arXiv:{other}"\n    reason: x\n')
    with pytest.raises(IngestError, match="leaves no paper"):  # the only paper is gone
        run_ingest([tmp_path / "a.bib", tmp_path / "b.bib"], tmp_path / "out",
                   curation_file=curation)
    write("c.bib", entry.format(key="c", abstract=abstract_text("graphs"),
                                arxiv="2402.00003").replace("Norms in", "Graphs in")
          .replace("norms.2024", "graphs.2024"))
    inputs = [tmp_path / "a.bib", tmp_path / "b.bib", tmp_path / "c.bib"]
    result = run_ingest(inputs, tmp_path / "out", curation_file=curation)
    assert result.papers["title"].tolist() == ["Graphs in language models"]
    records = result.records.sort_values("source_file")
    # both records of the excluded paper say so (one was merged as a duplicate first)
    assert records["status"].tolist() == ["excluded", "excluded", "kept"]
    totals = flow_totals(compute_screening_flow(result.records, result.exclusions))
    assert totals == {"identified": 3, "duplicates": 1, "rejected": 0, "excluded": 1,
                      "included": 1}


def test_include_only_keeps_the_listed_papers(tmp_path: Path) -> None:
    plain = run_ingest([SCOPUS_BIB], tmp_path / "plain")
    dois = [d for d in plain.papers["doi"] if d.startswith("10.")][:3]
    curation = _curation(tmp_path, "include_only:\n" + "".join(f'  - "{d}"\n' for d in dois))
    result = run_ingest([SCOPUS_BIB], tmp_path / "out", curation_file=curation)
    assert sorted(result.papers["doi"]) == sorted(dois)
    assert len(result.exclusions) == len(plain.papers) - 3
    assert set(result.exclusions["reason"]) == {"not in include_only"}
    assert set(result.exclusions["line"]) == {0}
    unlisted = result.records[result.records["status"] == "excluded"]
    assert set(unlisted["reason"]) == {"not in include_only (review.yaml)"}
    assert set(unlisted["reason_kind"]) == {"screening"}


def test_an_unknown_ref_stops_before_anything_is_written(tmp_path: Path) -> None:
    curation = _curation(tmp_path, f"""exclude:
  - paper: "{FIRST_DOI}"
    reason: off-topic
  - paper: "10.9999/no.such.paper"
    reason: off-topic
""")
    out = tmp_path / "out"
    with pytest.raises(CurationError) as err:
        run_ingest([SCOPUS_BIB], out, curation_file=curation)
    assert f"{curation}:4: paper '10.9999/no.such.paper' matches no paper" in str(err.value)
    assert not out.exists() or not any(out.rglob("*"))


def test_an_unknown_ref_is_a_warning_with_its_line_when_lenient(tmp_path: Path) -> None:
    curation = _curation(tmp_path, f"""exclude:
  - paper: "{FIRST_DOI}"
    reason: off-topic
  - paper: "10.9999/no.such.paper"
    reason: off-topic
""")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run_ingest([SCOPUS_BIB], tmp_path / "out", curation_file=curation,
                            curation_strict=False)
    messages = [str(w.message) for w in caught if issubclass(w.category, CurationWarning)]
    assert messages == [f"curation entry skipped: {curation}:4: paper "
                        "'10.9999/no.such.paper' matches no paper of the corpus"]
    assert result.exclusions["ref"].tolist() == [FIRST_DOI]  # the valid entry still holds
    assert any("10.9999/no.such.paper" in m for m in result.messages)


def test_without_a_curation_file_nothing_is_excluded(tmp_path: Path) -> None:
    result = run_ingest([SCOPUS_BIB], tmp_path / "out",
                        curation_file=tmp_path / "missing.yaml")
    exclusions = io.load_table(tmp_path / "out", "exclusions")
    assert exclusions.empty and exclusions.columns.tolist() == result.exclusions.columns.tolist()
    assert "excluded" not in set(result.records["status"])
    for rel in config.STAGE_WRITES["ingest"]:
        assert (tmp_path / "out" / rel).is_file(), rel


def test_the_flow_adds_up_on_the_seed_corpus(tmp_path: Path) -> None:
    plain = run_ingest([SEED_DIR], tmp_path / "plain")
    chosen = plain.papers["paper_id"].tolist()[-5:]
    curation = _curation(tmp_path, "exclude:\n" + "".join(
        f"  - paper: {pid}\n    reason: {'off-topic' if i < 3 else 'not empirical'}\n"
        for i, pid in enumerate(chosen)))
    out = tmp_path / "out"
    result = run_ingest([SEED_DIR], out, curation_file=curation)
    flow = io.load_table(out, "screening_flow")
    assert flow.columns.tolist() == ["step", "label", "count", "detail"]
    totals = flow_totals(flow)
    assert totals["identified"] == len(result.records) == 293
    assert totals["identified"] == (totals["duplicates"] + totals["rejected"]
                                    + totals["excluded"] + totals["included"])
    assert totals["duplicates"] == 12 and totals["excluded"] == 5
    assert totals["included"] == len(result.papers) == 276
    identified = flow[flow["step"] == "identified"]
    assert identified["detail"].tolist() == ["000_06277f12b8a26c99.txt",
                                             "001_206916e277d3519c.txt"]
    excluded = flow[flow["step"] == "excluded"]
    assert dict(zip(excluded["detail"], excluded["count"], strict=True)) == {
        "off-topic": 3, "not empirical": 2}
    # a later stage adds the placement; every included paper is placed or unplaced
    doc_topics = pd.DataFrame({"paper_id": result.papers["paper_id"],
                               "topic": [i % 4 - 1 for i in range(len(result.papers))]})
    full = flow_totals(compute_screening_flow(result.records, result.exclusions, doc_topics))
    assert full["placed"] + full["unplaced"] == full["included"]
    assert full["unplaced"] == int((doc_topics["topic"] < 0).sum())
    # the same inputs give the same bytes
    again = run_ingest([SEED_DIR], tmp_path / "again", curation_file=curation)
    assert len(again.papers) == len(result.papers)
    for name in ("papers", "records", "exclusions", "screening_flow"):
        rel = f"data/{name}.parquet"
        assert (out / rel).read_bytes() == (tmp_path / "again" / rel).read_bytes(), name


def test_the_flow_figure_shows_every_step(tmp_path: Path) -> None:
    flow = pd.DataFrame({
        "step": ["identified", "identified", "duplicates", "rejected", "excluded",
                 "included", "placed", "unplaced"],
        "label": ["Records identified"] * 2 + ["d", "r", "e", "i", "p", "u"],
        "count": [10, 5, 2, 1, 3, 9, 7, 2],
        "detail": ["a.bib", "$b$.ris", "", "no abstract", "off-topic", "", "", ""],
    })
    fig = plot_screening_flow(flow)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "Records identified (n = 15)" in texts
    assert "Records screened (n = 12)" in texts
    assert "Excluded at screening (n = 3)" in texts
    assert "Placed in themes (n = 7)" in texts and "In no theme (n = 2)" in texts
    assert "$b$.ris: 5" in texts  # corpus text is shown as written, not as mathtext
    fig.savefig(tmp_path / "flow.png")
