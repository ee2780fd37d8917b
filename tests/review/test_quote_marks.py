"""Quotes look like quotes: verbatim sentences in “…” + [Key] (Markdown) and <q> (HTML)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from litreview import review
from litreview.report import render


def _norm(text: str) -> str:
    return " ".join(re.sub(r"\\([\\`*_{}\[\]()#+\-.!|<>&~=])", r"\1", text).split())


def test_markdown_quotes_are_marked_and_verbatim(built_review: review.Review,
                                                 out_dir: Path) -> None:
    md = render.render_markdown(built_review, out_dir)
    body = md.partition("## References")[0]
    quotes = re.findall(r"“([^”]+)”\s*\[([A-Za-z0-9]+)\]", body)
    cited = built_review.citations()
    assert len(quotes) == len(cited) > 0
    by_key = {s.key: set() for s in cited}
    for s in cited:
        by_key[s.key].add(s.text)
    for quote, key in quotes:
        assert _norm(quote) in by_key[key], (quote, key)
    # our own words never sit inside the marks: every “ opens a sentence we quote
    assert body.count("“") == body.count("”") == len(quotes)
    assert "## References" in md and "## Method" in md


class _Quotes(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.depth, self.quotes, self.current = 0, [], []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "q":
            self.depth += 1
            self.current = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "q":
            self.depth -= 1
            self.quotes.append("".join(self.current))

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.current.append(data)


def test_html_quotes_are_q_elements(built_review: review.Review, out_dir: Path) -> None:
    parser = _Quotes()
    parser.feed(render.render_html(built_review, out_dir))
    texts = {s.text for s in built_review.citations()}
    assert parser.quotes and set(parser.quotes) == texts
    assert "q.quote" in render._static("review.css")
