"""Property tests: generated listings with noise round-trip through the listing parser."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from litreview.ingest import hfpapers

WORDS = st.sampled_from(
    [
        "graph",
        "neural",
        "language",
        "model",
        "learning",
        "vision",
        "robust",
        "sparse",
        "attention",
        "memory",
        "agents",
        "benchmark",
        "data",
        "reasoning",
        "scaling",
        "diffusion",
        "policy",
        "alignment",
        "safety",
        "causal",
    ]
)
NOISE = st.sampled_from(
    [
        "Get trending papers in your email inbox once a day!",
        "Get trending papers in your email inbox!",
        "Subscribe",
        "Daily Papers",
        "byAK and the research community",
        "Oct 8",
        "new",
        "",
    ]
)


@st.composite
def titles(draw):
    words = draw(st.lists(WORDS, min_size=2, max_size=14))
    title = " ".join(words).capitalize()
    if draw(st.booleans()):
        title = title.replace(" ", ": ", 1)
    return title


@st.composite
def abstracts(draw):
    sentences = draw(st.lists(st.lists(WORDS, min_size=8, max_size=20), min_size=3, max_size=8))
    return " ".join(" ".join(s).capitalize() + "." for s in sentences)


@st.composite
def listings(draw):
    papers = draw(
        st.lists(st.tuples(titles(), st.one_of(st.none(), abstracts())), min_size=1, max_size=12)
    )
    lines: list[str] = draw(st.lists(NOISE, max_size=6))
    starts = []
    for title, abstract in papers:
        lines.extend(draw(st.lists(st.just(""), max_size=2)))
        if lines and lines[-1] == "Subscribe" and draw(st.booleans()):
            lines[-1] = "Subscribe" + title  # the page copy glues the button to the title
        else:
            lines.append(title)
        starts.append(len(lines))
        if abstract is not None:
            lines.extend(draw(st.lists(st.just(""), max_size=2)))
            lines.append(abstract)
    return papers, starts, "\n".join(lines) + draw(st.sampled_from(["", "\n", "\n\n"]))


@settings(max_examples=150, deadline=None)
@given(listings())
def test_generated_listings_round_trip(listing):
    papers, starts, text = listing
    records, messages = hfpapers.parse(text, "gen.txt")
    assert messages == []
    assert [(r.title, r.abstract) for r in records] == papers
    assert [r.line for r in records] == starts
    assert all(r.reject_reason is None for r in records)


@settings(max_examples=100, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=400))
def test_any_text_is_parsed_without_crashing_and_accounted(text):
    records, _ = hfpapers.parse(text, "any.txt")
    content = [line for line in text.split("\n") if line.strip()]
    assert len(records) <= len(content)
    for record in records:
        assert 1 <= record.line <= len(text.split("\n"))
        assert record.title or record.abstract


@st.composite
def sentence_titles(draw):
    """Titles of one to three short sentences ("Is X enough? A study of Y"), no final period."""
    parts = draw(st.lists(st.lists(WORDS, min_size=2, max_size=8), min_size=1, max_size=3))
    stops = draw(st.lists(st.sampled_from([". ", "? ", "! "]), min_size=2, max_size=2))
    title = ""
    for i, words in enumerate(parts):
        title += " ".join(words).capitalize() + (stops[i] if i < len(parts) - 1 else "")
    return title + draw(st.sampled_from(["", "?", "!"]))


@st.composite
def long_abstracts(draw):
    sentences = draw(st.lists(st.lists(WORDS, min_size=9, max_size=20), min_size=3, max_size=6))
    return " ".join(" ".join(s).capitalize() + "." for s in sentences)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(sentence_titles(), st.one_of(st.none(), long_abstracts())),
        min_size=1,
        max_size=10,
    ),
    st.sampled_from(["\n", "\n\n"]),
)
def test_titles_of_several_sentences_stay_titles(papers, separator):
    lines = []
    for title, abstract in papers:
        lines.append(title)
        if abstract is not None:
            lines.append(abstract)
    records, messages = hfpapers.parse("Daily Papers" + separator + separator.join(lines), "s.txt")
    assert messages == []
    assert [(r.title, r.abstract) for r in records] == papers
    assert all(r.reject_reason is None for r in records)


def test_two_sentence_title_after_an_abstract_is_its_own_paper():
    first = "Graph neural networks at scale"
    title = "Is attention all you need? A study of sparse models for reasoning tasks!"
    abstract = (
        "We study sparse attention in large models. It improves accuracy on three "
        "benchmarks by a wide margin. We release code and data for future work."
    )
    text = "\n".join([first, abstract, title, abstract + " Second one."])
    records, messages = hfpapers.parse(text, "l.txt")
    assert [(r.title, r.line) for r in records] == [(first, 1), (title, 3)]
    assert records[0].abstract == abstract
    assert messages == []
