"""CSL references through citeproc-py: styles, DOI links, escaping, papers without authors."""

from __future__ import annotations

import pandas as pd
import pytest

from litreview.report.citations import STYLE_DIR, STYLES, format_references

PAPER = {
    "paper_id": "p-1",
    "title": "Mapping the field of topic models.",
    "authors": ["Smith, Jane", "Doe, John"],
    "year": 2021,
    "month": 3,
    "venue": "Journal of Tests",
    "doi": "10.1000/xyz.1",
    "url": None,
}
LINK = '<a href="https://doi.org/10.1000/xyz.1">'


def _papers(*rows: dict) -> pd.DataFrame:
    return pd.DataFrame(list(rows))


def test_apa_reference_exact():
    (reference,) = format_references(_papers(PAPER), "apa")
    assert reference == (
        "Smith, J., &amp; Doe, J. (2021). Mapping the field of topic models. "
        f"<i>Journal of Tests</i>. {LINK}https://doi.org/10.1000/xyz.1</a>"
    )


@pytest.mark.parametrize(
    ("style", "pieces"),
    [
        ("ieee", ["J. Smith and J. Doe", "“Mapping the field of topic models”", "Mar. 2021"]),
        ("chicago-author-date", ["Smith, J., and J. Doe. 2021.", "<i>Journal of Tests</i>"]),
    ],
)
def test_other_styles(style, pieces):
    (reference,) = format_references(_papers(PAPER), style)
    for piece in pieces:
        assert piece in reference
    assert reference.count(LINK) == 1
    assert not reference.startswith("[1]")


def test_names_without_commas_and_order_kept():
    rows = [
        {**PAPER, "authors": ["Massimo Aria", "Phillips J.C."], "title": "B paper", "doi": None},
        {**PAPER, "authors": ["WHO Pathogens Priority List Working Group"], "title": "A paper"},
    ]
    first, second = format_references(_papers(*rows), "apa")
    assert first.startswith("Aria, M., &amp; Phillips, J. C. (2021). B paper.")
    assert "<a " not in first
    assert second.startswith("WHO Pathogens Priority List Working Group. (2021). A paper.")


def test_papers_without_authors_cite_the_title_once():
    seed = {"paper_id": "p", "title": "NormBank: A Knowledge Bank", "authors": [], "year": None}
    for style in STYLES:
        (reference,) = format_references(_papers(seed), style)
        assert reference.count("NormBank") == 1, (style, reference)


def test_hostile_fields_are_escaped_and_never_linked():
    hostile = {
        **PAPER,
        "title": '<script>alert("x")</script> & <img src=x onerror=alert(1)>',
        "venue": "<b>Venue</b>",
        "url": "javascript:alert(1)",
        "doi": '10.1000/x"><script>',
        "authors": ["<i>Evil</i>, Eve"],
    }
    for style in STYLES:
        (reference,) = format_references(_papers(hostile), style)
        assert "<script" not in reference and "<img" not in reference and "<b>" not in reference
        assert "javascript:" not in reference and "<a " not in reference
        assert "&lt;script&gt;" in reference


def test_unknown_style_and_style_by_path(tmp_path):
    with pytest.raises(ValueError, match="unknown citation style"):
        format_references(_papers(PAPER), "harvard")
    custom = tmp_path / "mine.csl"
    custom.write_bytes((STYLE_DIR / "ieee.csl").read_bytes())
    assert format_references(_papers(PAPER), str(custom)) == format_references(
        _papers(PAPER), "ieee"
    )


def test_styles_ship_with_the_package():
    assert sorted(p.stem for p in STYLE_DIR.glob("*.csl")) == sorted(STYLES)
