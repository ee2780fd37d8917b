"""Cleaning of field text: LaTeX residue, HTML, whitespace, identifiers, URLs."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

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
        ("Inference Scaling scriptsizeFLaws: The Limits", "Inference Scaling FLaws: The Limits"),
        ("alignment is black{generally} better", "alignment is generally better"),
        ("a blackboard{x} and Blackwell{y}", "a blackboardx and Blackwelly"),
        ("'What happened {time}{place}?'", "'What happened time place?'"),
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


@pytest.mark.parametrize(
    ("raw", "doi"),
    [
        ("10.1234/s><script>alert(1)</script>", None),
        ('10.1234/x"onmouseover="alert(1)', None),
        ("10.1234/abc def", None),
        ("10.12/too-short-prefix", None),
        ("see 10.1000/abc in text", None),
        ("DOI: 10.1000/ABC.", "10.1000/abc"),
        ("https://dx.doi.org/10.1000/a(b)c).", "10.1000/a(b)c"),
        (r"10.1000/with\_underscore", "10.1000/with_underscore"),
    ],
)
def test_check_doi_accepts_only_one_well_formed_doi(raw, doi):
    found, problem = clean.check_doi(raw)
    assert found == doi
    assert clean.normalize_doi(raw) == doi
    assert (problem is None) == (doi is not None)
    if doi is None:
        assert problem.startswith("not a valid DOI") and problem.endswith("DOI dropped")


def test_check_doi_is_quiet_for_empty_and_placeholder_values():
    assert clean.check_doi("  ") == (None, None)
    assert clean.check_doi("N/A") == (None, None)


@given(st.text(max_size=60))
def test_any_doi_that_passes_matches_the_syntax(text):
    doi = clean.normalize_doi(text)
    assert doi is None or clean.DOI_PATTERN.fullmatch(doi)
    assert doi is None or not set(doi) & set('<>" \n')


def test_check_arxiv_id_and_pmid():
    assert clean.check_arxiv_id("arXiv:2301.01234v2") == ("2301.01234", None)
    found, problem = clean.check_arxiv_id("<script>")
    assert found is None and problem.startswith("not a valid arXiv id")
    assert clean.normalize_pmid("PMID: 00123456") == "123456"
    assert clean.normalize_pmid("123456789") is None
    assert clean.normalize_pmid("12a") is None


@pytest.mark.parametrize(
    ("raw", "latex", "expected"),
    [
        ("``Quoted'' title", True, "\u201cQuoted\u201d title"),
        ("``Quoted'' title", False, "\u201cQuoted\u201d title"),
        ("the `best' model and ``this", True, "the \u2018best\u2019 model and \u201cthis"),
        (
            "models' outputs and the authors' `view'",
            True,
            "models' outputs and the authors' \u2018view\u2019",
        ),
        (r"{\scriptsize Code} at \url{https://x.org}", True, "Code at https://x.org"),
        (r"A\B testing in C:\temp with {braces}", False, r"A\B testing in C:\temp with {braces}"),
        (r"A\B testing \emph{x}", True, "A testing x"),
    ],
)
def test_latex_residue_only_where_the_text_is_latex(raw, latex, expected):
    assert clean.clean_text(raw, latex=latex) == expected
