"""Cleaning of field text: LaTeX residue, HTML, whitespace, identifiers, URLs."""

from __future__ import annotations

import pytest

from litreview.ingest import clean


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            r"We present \textsc{MineNPC-Task} in \emph{Minecraft}",
            "We present MineNPC-Task in Minecraft",
        ),
        (r"a {\em finite sample} setting", "a finite sample setting"),
        (r"\textbf{Bold} and \textit{italic}", "Bold and italic"),
        (r"cost $O(n^{2})$ per step", "cost $O(n^{2})$ per step"),
        (r"code\footnote{\scriptsize Code: https://x.org/a}.", "code Code: https://x.org/a."),
        ("stray scriptsize marker", "stray marker"),
        (r"R\&D gains of 5% and 10\%", "R&D gains of 5% and 10%"),
        ("{{ELECTRE-SCORE : a method}}", "ELECTRE-SCORE : a method"),
        (r"Caf\'e M\"{u}ller", "Café Müller"),
        ("10<sup>18</sup> ops, T<sub>MTTF</sub>", "1018 ops, TMTTF"),
        ("Q&amp;A &lt;b&gt;", "Q&A <b>"),
        ("<script>alert(1)</script> X", "<script>alert(1)</script> X"),
        ("  spread \n over\tlines  ", "spread over lines"),
        ("Cafe\u0301", "Café"),  # NFC
        ("a large small model", "a large small model"),
        ("   ", None),
    ],
)
def test_clean_text(raw, expected):
    assert clean.clean_text(raw) == expected


def test_extract_urls_and_code_urls():
    text = (
        "Code: https://github.com/a/b. Models at (https://huggingface.co/org/m), "
        "site www.example.org, and gitlab.com/x/y; paper https://arxiv.org/abs/2301.1."
    )
    urls = clean.extract_urls(text)
    assert urls == [
        "https://github.com/a/b",
        "https://huggingface.co/org/m",
        "www.example.org",
        "gitlab.com/x/y",
        "https://arxiv.org/abs/2301.1",
    ]
    assert [u for u in urls if clean.is_code_url(u)] == [*urls[:2], "gitlab.com/x/y"]
    assert not clean.is_code_url("https://github.com")
    assert not clean.is_code_url("https://notgithub.com/a/b")


@pytest.mark.parametrize(
    ("raw", "doi"),
    [
        ("https://doi.org/10.1016/J.EJOR.2021.05.017", "10.1016/j.ejor.2021.05.017"),
        ("doi:10.1109/MCSE.2018.2884139.", "10.1109/mcse.2018.2884139"),
        ("n/a", None),
        (None, None),
    ],
)
def test_normalize_doi(raw, doi):
    assert clean.normalize_doi(raw) == doi


@pytest.mark.parametrize(
    ("raw", "arxiv"),
    [
        ("2301.01234v3", "2301.01234"),
        ("arXiv:2301.01234", "2301.01234"),
        ("https://arxiv.org/abs/cs/0112017v1", "cs/0112017"),
        ("not an id", None),
    ],
)
def test_normalize_arxiv_id(raw, arxiv):
    assert clean.normalize_arxiv_id(raw) == arxiv


def test_arxiv_id_from_doi_and_year():
    assert clean.arxiv_id_from_doi("10.48550/arxiv.2301.01234") == "2301.01234"
    assert clean.arxiv_id_from_doi("10.1000/x") is None
    assert clean.parse_year("1 Jan.-Feb. 2019") == 2019
    assert clean.parse_year("{2022}") == 2022
    assert clean.parse_year("12345") is None


@pytest.mark.parametrize(
    ("raw", "authors"),
    [
        ("Figueira, J.R. and Greco, S. and Roy, B.", "Figueira, J.R.; Greco, S.; Roy, B."),
        ("Phillips J.C., Braun R., Wang W.", "Phillips J.C.; Braun R.; Wang W."),
        ("P. Kogge; J. Shalf", "P. Kogge; J. Shalf"),
        ("Single Author", "Single Author"),
    ],
)
def test_normalize_authors(raw, authors):
    assert clean.normalize_authors(raw) == authors


def test_title_keys_ignore_case_accents_and_punctuation():
    assert clean.normalize_title_key("Café: A Study!") == clean.normalize_title_key("cafe a-study")
    assert clean.fuzzy_title_form("Deep  Learning—A Review") == "deep learning a review"
