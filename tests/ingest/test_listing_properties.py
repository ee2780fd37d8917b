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
