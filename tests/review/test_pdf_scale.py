"""The PDF of a large corpus: shorter listings (each kind keeps its share), written first."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from litreview import report, review
from litreview.review import compose, model, stage
from litreview.review.model import Contribution, Sentence, Strand, kind_quota

from .conftest import make_output_dir


def test_kind_quota_keeps_each_kinds_share():
    assert kind_quota({"method": 30, "study": 10}, 8) == {"method": 6, "study": 2}
    assert kind_quota({"survey": 1, "method": 98, "study": 1}, 10) == {
        "survey": 1, "method": 8, "study": 1}  # a kind the rounding leaves out keeps one
    assert kind_quota({"method": 3, "study": 2}, 10) == {"method": 3, "study": 2}
    assert kind_quota({"survey": 1, "resource": 1, "method": 5}, 2) == {
        "survey": 1, "resource": 1, "method": 0}
    got = kind_quota({"resource": 7, "method": 7, "study": 7}, 10)
    assert sum(got.values()) == 10 and got == {"resource": 4, "method": 3, "study": 3}


def _strand(kinds: list[str]) -> Strand:
    contributions = [Contribution(f"p{i}", f"K{i}", Sentence(f"s{i}", f"p{i}", f"K{i}"), k)
                     for i, k in enumerate(kinds)]
    return Strand(strand=0, label="x", anchor="a", size=len(kinds), top_terms=[], problem=[],
                  contributions=contributions, findings=[], open_issues=[], resources=[])


def test_shortened_strand_lists_every_kind_in_proportion():
    strand = _strand(["survey"] * 2 + ["method"] * 30 + ["study"] * 8)
    groups = dict(strand.groups(10))
    assert {k: len(v) for k, v in groups.items()} == {
        "Surveys and reviews": 1, "Methods and frameworks": 7, "Studies and analyses": 2}
    # the first of each kind, in their order
    assert [c.paper_id for c in groups["Methods and frameworks"]] == [f"p{i}" for i in
                                                                       range(2, 9)]
    assert sum(len(v) for v in dict(strand.groups(None)).values()) == 40
    assert strand.groups(40) == strand.groups(None)


def test_large_corpus_review_shortens_its_pdf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    root = make_output_dir(tmp_path / "run")
    small = review.build_review(root)
    assert small.pdf_strand_limit == model.PDF_STRAND_LIMIT and small.pdf_paper_limit is None
    monkeypatch.setattr(compose, "PDF_SCALE_MIN_PAPERS", 10)
    monkeypatch.setattr(compose, "PDF_SCALE_STRAND_LIMIT", 2)
    monkeypatch.setattr(compose, "PDF_SCALE_PAPER_LIMIT", 3)
    large = review.build_review(root)
    assert large.pdf_strand_limit == 2 and large.pdf_paper_limit == 3
    printed = report.render_print_html(large, root)
    assert "The PDF lists the first 3 of 30 papers" in printed
    assert "The PDF lists 2 of the strand" in printed
    listed = set(re.findall(r'<li id="ref-([^"]+)"', printed))
    assert listed == set(re.findall(r'href="#ref-([^"]+)"', printed))  # every cited one
    # the HTML and Markdown are those of the small corpus: only the PDF lists less
    small.methods.generated_at = large.methods.generated_at
    assert report.render_html(large, root) == report.render_html(small, root)
    assert report.render_markdown(large, root) == report.render_markdown(small, root)


def test_large_corpus_hands_the_pdf_its_page_before_the_html(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from litreview.report import pdf

    root = make_output_dir(tmp_path / "run")
    order: list[str] = []
    real_start, real_write = pdf.start_pdf, report.write_report
    monkeypatch.setattr(pdf, "start_pdf", lambda *a: order.append("pdf") or real_start(*a))
    monkeypatch.setattr(report, "write_report",
                        lambda *a, **k: order.extend(k["formats"]) or real_write(*a, **k))
    _, normal = review.write_review(root)
    assert order == ["html", "pdf", "md"]
    order.clear()
    monkeypatch.setattr(stage, "PDF_FIRST_MIN_PAPERS", 0)
    _, first = review.write_review(root)
    assert order == ["pdf", "html", "md"]
    assert sorted(p.name for p in first) == sorted(p.name for p in normal)
    assert [p.name for p in first if p.parent.name == "report"] == [
        "review.html", "review.md", "review.pdf"]
    assert (root / "report" / "review.pdf").read_bytes().startswith(b"%PDF")
