"""The sanitizer: identifiers validated, links safe, Markdown escaped so no markup can form."""

from __future__ import annotations

import logging
import re
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from litreview import sanitize
from litreview.report import render

sys.path.insert(0, str(Path(__file__).parent / "e2e"))
from hostile import (
    BAD_DOIS,
    BAD_URLS,
    MARKDOWN_TAGS,
    PAYLOADS,
    render_markdown,
    scan_html,
)

# --------------------------------------------------------------------------- identifiers


@pytest.mark.parametrize(
    ("value", "doi"),
    [
        ("10.1016/j.ejor.2021.05.017", "10.1016/j.ejor.2021.05.017"),
        ("https://doi.org/10.1016/S0140-6736(20)30183-5.", "10.1016/S0140-6736(20)30183-5"),
        ("doi:10.48550/arXiv.2301.01234,", "10.48550/arXiv.2301.01234"),
        ("(10.1109/MCSE.2018.2884139)", None),  # leading junk is not a DOI
        ("10.1234/s><script>alert(1)</script>", None),
        ('10.5555/a"onmouseover="alert(1)', None),
        ("10.1234/a b", None),
        ("javascript:alert(1)", None),
        ("10.12/too-short-prefix", None),
        ("", None),
        (None, None),
        (float("nan"), None),
    ],
)
def test_valid_doi(value: object, doi: str | None) -> None:
    assert sanitize.valid_doi(value) == doi


def test_dropped_identifier_warns_once_with_field(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="litreview.sanitize"):
        assert sanitize.valid_doi("10.9/<b>", field="doi of paper p1") is None
        assert sanitize.valid_doi("10.9/<b>", field="doi of paper p1") is None
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 1 and "doi of paper p1" in messages[0]


@pytest.mark.parametrize(
    ("value", "arxiv"),
    [
        ("2301.01234", "2301.01234"),
        ("arXiv:2301.01234v2", "2301.01234v2"),
        ("https://arxiv.org/pdf/2301.01234v1.pdf", "2301.01234v1"),
        ("cs/0112017", "cs/0112017"),
        ("math.GT/0309136", "math.GT/0309136"),
        ("hep-th/9901001v3", "hep-th/9901001v3"),
        ("1501.0123", "1501.0123"),  # 2007-2014 ids have four digits
        ("2301.012", None),
        ("2301.01234<script>", None),
        ("javascript:alert(1)", None),
    ],
)
def test_valid_arxiv_id(value: str, arxiv: str | None) -> None:
    assert sanitize.valid_arxiv_id(value) == arxiv


@pytest.mark.parametrize(
    ("value", "pmid"),
    [("12345678", "12345678"), (31452104, "31452104"), ("PMID: 999", "999"),
     ("0123", None), ("12a", None), ("1234567890", None), (True, None)],
)
def test_valid_pmid(value: object, pmid: str | None) -> None:
    assert sanitize.valid_pmid(value) == pmid


# --------------------------------------------------------------------------- links


@pytest.mark.parametrize("url", [*BAD_URLS[:2], BAD_URLS[3], "vbscript:msgbox(1)",
                                 "//evil.example/x", "/relative/path", "page.html", "example.org/x",
                                 "https://user:pw@example.org/", "https://exa mple.org/",
                                 "https://bad_host.example/", "ftp://example.org/file",
                                 "https://example.org/\\..\\x", "https:///nohost"])
def test_https_url_refuses(url: str) -> None:
    assert sanitize.https_url(url) is None
    assert sanitize.safe_link("url", url) is None


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://github.com/org/repo).", "https://github.com/org/repo"),
        ("HTTPS://Example.ORG/a(b)", "https://example.org/a%28b%29"),
        ('https://ok.example/"><script>alert(1)</script>',
         "https://ok.example/%22%3E%3Cscript%3Ealert%281%29%3C/script"),
        ("http://example.org/p?q=1&r=<x>#frag", "http://example.org/p?q=1&r=%3Cx%3E#frag"),
        ("https://example.org/100%/x", "https://example.org/100%25/x"),
        ("github.com/org/repo", "https://github.com/org/repo"),  # as abstracts write it
        ("www.example.org/x", "https://www.example.org/x"),
    ],
)
def test_https_url_encodes(url: str, safe: str) -> None:
    assert sanitize.https_url(url) == safe


def test_safe_link_builds_from_validated_parts() -> None:
    assert sanitize.safe_link("doi", "doi:10.1000/xyz(1)") == (
        "doi:10.1000/xyz(1)", "https://doi.org/10.1000/xyz(1)")
    _label, url = sanitize.safe_link("doi", "10.1234/x](javascript:alert(1))")
    assert url.startswith("https://doi.org/10.1234/x%5D") and "<" not in url and " " not in url
    assert sanitize.safe_link("arxiv", "2301.01234") == (
        "arXiv:2301.01234", "https://arxiv.org/abs/2301.01234")
    assert sanitize.safe_link("pmid", "123") == ("PMID:123", "https://pubmed.ncbi.nlm.nih.gov/123/")
    for doi in BAD_DOIS[::2]:
        assert sanitize.safe_link("doi", doi) is None
    with pytest.raises(ValueError, match="unknown link kind"):
        sanitize.safe_link("ftp", "x")


@given(st.text(max_size=80))
@settings(max_examples=300, deadline=None)
def test_any_url_result_is_inert(text: str) -> None:
    for candidate in (text, "https://example.org/" + text, "https://" + text):
        url = sanitize.https_url(candidate)
        if url is not None:
            assert re.match(r"^https?://[a-z0-9.\-\[\]:]+(?::\d+)?/", url)
            assert not re.search(r"[\s<>\"'`()\\\[\]*{}^|]", url.split("://", 1)[1])


def test_code_links_each_once_and_paper_pages_are_not_code() -> None:
    paper = {
        "paper_id": "p", "doi": "10.1000/abc", "arxiv_id": "2301.01234",
        "url": "https://arxiv.org/pdf/2301.01234.pdf",
        "urls": ["https://github.com/org/repo", "https://github.com/org/repo/",
                 "https://huggingface.co/papers/2301.01234", "https://doi.org/10.1000/ABC",
                 "javascript:alert(1)"],
        "code_urls": ["https://github.com/org/repo"],
    }
    assert sanitize.paper_links(paper) == [
        ("doi:10.1000/abc", "https://doi.org/10.1000/abc"),
        ("arXiv:2301.01234", "https://arxiv.org/abs/2301.01234"),
        ("https://huggingface.co/papers/2301.01234", "https://huggingface.co/papers/2301.01234"),
    ]
    assert sanitize.code_links(paper) == ("https://github.com/org/repo",)


# --------------------------------------------------------------------------- Markdown


def _markup_in(markdown: str) -> list[str]:
    """Problems in the CommonMark rendering of text that should be plain (one paragraph)."""
    problems, _ = scan_html(render_markdown(markdown), allowed_script=lambda a, t: False,
                            where="md", allowed_tags={"p"})
    return problems


def _plain_text(markdown: str) -> str:
    html = render_markdown(markdown)
    _, text = scan_html(html, allowed_script=lambda a, t: False, where="md")
    return text


@pytest.mark.parametrize("payload", [*PAYLOADS, "- item", "# heading", "1. item", "> quote",
                                     "    code", "| a | b |", "***", "`x`", "<https://x.org>",
                                     "www.example.org", "&#106;avascript:alert(1)"])
def test_escaped_payload_renders_as_its_own_text(payload: str) -> None:
    escaped = sanitize.escape_markdown(payload)
    assert not _markup_in(escaped)
    assert _plain_text(escaped).strip() == " ".join(payload.split())


_MARKUP_ALPHABET = st.sampled_from([
    *"<>[]()!*_`#|&;:/\\=\"' -+.\n", "javascript:", "data:", "script", "img", "onerror",
    "http://", "https://", "a href", "&lt;", "&#60;", "1.", "www.", "@", "~~", "alert", "x",
])


@given(st.lists(_MARKUP_ALPHABET, max_size=40).map("".join) | st.text(max_size=60))
@settings(max_examples=500, deadline=None)
def test_escaped_markdown_never_forms_markup(text: str) -> None:
    escaped = sanitize.escape_markdown(text)
    assert not _markup_in(escaped), escaped
    # and it still says what the corpus said (less control characters)
    assert _plain_text(escaped).strip() == " ".join(
        re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", text).split())


@given(st.text(max_size=60))
@settings(max_examples=200, deadline=None)
def test_markdown_link_is_safe_or_absent(text: str) -> None:
    for url in (text, "https://example.org/" + text, "javascript:" + text):
        html = render_markdown(sanitize.markdown_link(url, label=text))
        problems, _ = scan_html(html, allowed_script=lambda a, t: False, where="md",
                                allowed_tags={"p", "a"})
        assert not problems


def test_markdown_template_escapes_every_value_by_default() -> None:
    env = render._markdown_env()
    template = env.from_string("{{ a }} {{ b|md }} {{ c|mdlink }} {{ d|mdcode }}")
    out = template.render(a="<b>x</b>", b="[y](javascript:z)", c="javascript:alert(1)",
                          d="a`b`")
    assert out == r"\<b\>x\</b\> \[y\](javascript:z)  `` a`b` ``"
    html = render_markdown(out)
    assert not scan_html(html, allowed_script=lambda a, t: False, where="md",
                         allowed_tags=MARKDOWN_TAGS)[0]
    assert "<a " not in html


def test_period_does_not_double_punctuate() -> None:
    assert render.end_sentence("In-Context?") == "In-Context?"
    assert render.end_sentence("A title") == "A title."
    assert isinstance(render.end_sentence(render.MarkdownSafe("x")), render.MarkdownSafe)


def test_html_environment_autoescapes_and_hrefs_are_revalidated() -> None:
    env = render._html_env()
    out = env.from_string('<a href="{{ u|href }}">{{ t }}</a>').render(
        u="javascript:alert(1)", t="<script>alert(1)</script>")
    assert out == '<a href="#">&lt;script&gt;alert(1)&lt;/script&gt;</a>'
    assert render.safe_href("https://example.org/a b") == "#"
    assert render.safe_href("https://example.org/x") == "https://example.org/x"


def test_markdown_escaping_keeps_the_draft_readable() -> None:
    # parentheses and intra-word underscores cannot form markup: left as written
    assert sanitize.escape_markdown("(293 records) in 000_06277f12.txt") == (
        "(293 records) in 000_06277f12.txt")
    assert sanitize.escape_markdown("_x_ *y* # z") == r"\_x\_ \*y\* # z"
    assert sanitize.escape_markdown("# heading?") == r"\# heading?"
