"""Research lines across themes (``review.crosslines``): which phrases count as a line."""

from __future__ import annotations

from litreview.review.crosslines import CROSS_LINE_COLUMNS, compute_cross_theme_lines

NAMES = {0: "Safety", 1: "Psychology", 2: "Hallucination", 3: "Fairness"}


def corpus() -> tuple[list[str], list[str], list[int]]:
    """Steering papers in three themes (2 + 2 + 2), refusal papers mostly in one."""
    rows = [
        ("Steering vectors against jailbreaks", "We study refusals.", 0),
        ("Steering refusals", "", 0),
        ("Refusal directions in chat models", "Refusal is mediated by one direction.", 0),
        ("Refusal tokens", "", 0),
        ("Refusal and over-refusal", "", 0),
        ("Refusal under pressure", "", 0),
        ("Steering personality traits", "", 1),
        ("Persona vectors", "Steering with persona vectors. Steering changes traits.", 1),
        ("Activation steering of moods", "", 1),
        ("Refusal of therapy questions", "", 1),
        ("Steering away from hallucinations", "", 2),
        ("Truthfulness directions",
         "Activation steering reduces errors. Activation steering helps.", 2),
        ("Steering decoding", "", 2),
        ("Unplaced steering paper", "", -1),
        ("Fair ranking", "", 3),
    ]
    titles, abstracts, topics = zip(*rows, strict=True)
    return list(titles), list(abstracts), list(topics)


def test_a_phrase_spread_over_three_themes_is_a_line_and_one_themes_phrase_is_not():
    titles, abstracts, topics = corpus()
    lines = compute_cross_theme_lines(titles, abstracts, topics,
                                      ["steering", "refusal", "Activation steering"], NAMES)
    assert list(lines.columns) == CROSS_LINE_COLUMNS
    assert lines["phrase"].tolist() == ["steering"]
    row = lines.iloc[0]
    # A single word counts in titles only ("Steering with persona vectors. Steering …" in
    # an abstract does not), nor does the unplaced paper; "refusal" is mostly Safety's
    # (4 of 5), so not a line; "activation steering" has two papers.
    assert row["n_papers"] == 6
    assert row["themes"] == [  # ties by name; the papers by position (no ids given)
        {"topic": 2, "name": "Hallucination", "papers": 2, "paper_ids": ["10", "12"]},
        {"topic": 1, "name": "Psychology", "papers": 2, "paper_ids": ["6", "8"]},
        {"topic": 0, "name": "Safety", "papers": 2, "paper_ids": ["0", "1"]}]


def test_a_phrase_of_several_words_also_counts_twice_in_an_abstract(monkeypatch):
    from litreview.review import crosslines

    monkeypatch.setattr(crosslines, "MIN_LINE_PAPERS", 2)
    monkeypatch.setattr(crosslines, "MIN_LINE_THEMES", 0)
    monkeypatch.setattr(crosslines, "MAX_THEME_SHARE", 1.0)
    titles, abstracts, topics = corpus()
    lines = compute_cross_theme_lines(titles, abstracts, topics, ["activation steering"], NAMES)
    assert [e["paper_ids"] for e in lines.iloc[0]["themes"]] == [["11"], ["8"]]


def test_modifiers_and_too_few_papers_give_no_line():
    titles, abstracts, topics = corpus()
    assert compute_cross_theme_lines(titles, abstracts, topics, ["internal", "pretrained"],
                                     NAMES).empty
    assert compute_cross_theme_lines(titles[:3], abstracts[:3], topics[:3], ["steering"],
                                     NAMES).empty


def test_the_sample_of_a_large_corpus_is_fixed():
    titles, abstracts, topics = corpus()
    a = compute_cross_theme_lines(titles * 3, abstracts * 3, topics * 3, ["steering"], NAMES,
                                  max_documents=20)
    b = compute_cross_theme_lines(titles * 3, abstracts * 3, topics * 3, ["steering"], NAMES,
                                  max_documents=20)
    assert a.equals(b)
    assert a.iloc[0]["n_papers"] <= 20
