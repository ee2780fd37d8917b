"""Themes over time (litreview.review.trends) and the citation style of the report."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from litreview import io, review
from litreview.review import compose, trends

from .conftest import make_output_dir


def _corpus(spec: dict[int, list[int]], *, undated: int = 0, outliers: int = 0
            ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Papers and doc_topics from ``{topic: [year of each paper]}``; ``undated`` more papers
    of topic 0 have no year, ``outliers`` papers are in no theme (and have no year)."""
    papers, docs = [], []
    for topic, years in spec.items():
        for i, year in enumerate(years):
            pid = f"t{topic}-{i:03d}"
            papers.append({"paper_id": pid, "year": year, "month": None})
            docs.append({"paper_id": pid, "topic": topic})
    for i in range(undated):
        papers.append({"paper_id": f"u{i:03d}", "year": None, "month": None})
        docs.append({"paper_id": f"u{i:03d}", "topic": 0})
    for i in range(outliers):
        papers.append({"paper_id": f"o{i:03d}", "year": None, "month": None})
        docs.append({"paper_id": f"o{i:03d}", "topic": -1})
    frame = pd.DataFrame(papers)
    frame["year"] = frame["year"].astype("Int64")
    return frame, pd.DataFrame(docs)


#: Theme 0 piles up in the last years, theme 1 in the first, theme 2 is even.
RISING = [2015] * 1 + [2016] * 1 + [2017] * 2 + [2018] * 2 + [2019] * 6 + [2020] * 10
FALLING = [2015] * 10 + [2016] * 6 + [2017] * 2 + [2018] * 2 + [2019] * 1 + [2020] * 1
EVEN = [year for year in range(2015, 2021) for _ in range(4)]


def test_rising_theme_grows_falling_fades_even_is_stable() -> None:
    papers, docs = _corpus({0: RISING, 1: FALLING, 2: EVEN})
    counts = trends.compute_theme_trends(papers, docs)
    assert counts["period"].drop_duplicates().tolist() == [str(y) for y in range(2015, 2021)]
    assert counts.loc[counts["topic"] == 0, "papers"].tolist() == [1, 1, 2, 2, 6, 10]
    assert counts.groupby("period_index")["share"].sum().round(9).eq(1.0).all()
    growth = trends.compute_theme_growth(counts, names={0: "Rising", 1: "Falling", 2: "Even"})
    by_topic = growth.set_index("topic")
    assert by_topic.loc[0, "trend"] == "growing"
    assert by_topic.loc[1, "trend"] == "fading"
    assert by_topic.loc[2, "trend"] == "stable"
    assert by_topic.loc[0, "slope"] > 0 > by_topic.loc[1, "slope"]
    # recent = 2018–2020: 18 of theme 0's 22 papers, 34 of the corpus' 68
    assert by_topic.loc[0, "recent_periods"] == "2018–2020"
    assert by_topic.loc[0, "recent_share"] == pytest.approx(18 / 22)
    assert by_topic.loc[0, "corpus_recent_share"] == pytest.approx(34 / 68)
    assert growth["trend"].tolist() == ["growing", "stable", "fading"]
    sentences = trends.trend_sentences(growth)
    assert sentences[0].startswith("Growing: Rising, with 82")
    assert any(s.startswith("Fading: Falling") for s in sentences)


def test_classify_needs_both_numbers_and_enough_papers() -> None:
    assert trends.classify_trend(40, 1.5, 0.8) == "growing"
    assert trends.classify_trend(40, 1.5, -0.8) == "stable"  # numbers disagree
    assert trends.classify_trend(40, 0.6, -0.8) == "fading"
    assert trends.classify_trend(40, 0.6, -0.01) == "stable"  # slope too small to count
    assert trends.classify_trend(4, 3.0, 5.0) == "stable"  # too few papers
    assert trends.classify_trend(40, float("nan"), 1.0) == "stable"


def test_shown_only_when_80_percent_are_dated() -> None:
    dated = {0: EVEN[:16], 1: EVEN[:16]}  # 32 dated papers
    papers, docs = _corpus(dated, undated=8, outliers=30)  # 32 of 40 placed: 80 %
    assert trends.trend_status(papers, docs).shown
    papers, docs = _corpus(dated, undated=9)  # 32 of 41: 78 %
    status = trends.trend_status(papers, docs)
    assert not status.shown
    assert status.reason.startswith("dates are known for 32 of 41 papers in a theme")
    assert trends.compute_theme_trends(papers, docs).empty
    assert trends.compute_theme_growth(trends.compute_theme_trends(papers, docs)).empty


def test_needs_three_periods_and_falls_back_to_months() -> None:
    papers, docs = _corpus({0: [2020, 2021] * 5, 1: [2021] * 6})
    status = trends.trend_status(papers, docs)
    assert not status.shown and "span only 2 years" in status.reason
    papers, docs = _corpus({0: [2019, 2021] * 5})  # a gap year still spans three years
    assert trends.trend_status(papers, docs).granularity == "year"
    papers, docs = _corpus({0: [2021] * 6, 1: [2021] * 6})
    papers["month"] = [1, 2, 3, 4, 5, 6] * 2
    status = trends.trend_status(papers, docs)
    assert status.shown and status.granularity == "month" and status.n_periods == 6
    counts = trends.compute_theme_trends(papers, docs)
    assert counts["period"].drop_duplicates().tolist() == [f"2021-0{m}" for m in range(1, 7)]


def test_trends_are_deterministic_and_independent_of_row_order() -> None:
    papers, docs = _corpus({0: RISING, 1: FALLING, 2: EVEN})
    first = trends.compute_theme_growth(trends.compute_theme_trends(papers, docs))
    shuffled = trends.compute_theme_trends(papers.sample(frac=1, random_state=3),
                                           docs.sample(frac=1, random_state=5))
    pd.testing.assert_frame_equal(trends.compute_theme_trends(papers, docs), shuffled)
    pd.testing.assert_frame_equal(first, trends.compute_theme_growth(shuffled))


def test_emerging_quadrant_is_read_with_the_trends() -> None:
    papers, docs = _corpus({0: RISING, 1: FALLING, 2: EVEN})
    names = {0: "Rising", 1: "Falling", 2: "Even"}
    strategic = pd.DataFrame({"topic": [0, 1, 2], "name": list(names.values()),
                              "quadrant": ["emerging", "emerging", "motor"]})
    dated = compose._theme_trends(papers, docs, names)
    sentence = compose._emerging_sentence("Emerging: Rising and Falling.", strategic, dated)
    assert sentence.startswith("Emerging: Rising and Falling. Over time, Rising is emerging: 82")
    assert "Falling is declining: " in sentence and "Even" not in sentence
    undated = compose._theme_trends(papers.assign(year=pd.NA), docs, names)
    sentence = compose._emerging_sentence("Emerging: Rising and Falling.", strategic, undated)
    assert sentence.endswith("The dates cannot tell emerging from declining here: dates are known "
                             "for 0 of 68 papers in a theme (at least 80\u00a0% needed).")


# --------------------------------------------------------------------------- the report


def _with_authors(root: Path) -> Path:
    papers = io.load_table(root, "papers")
    papers["authors"] = [[f"Author{i}, Jane", "Doe, John"] for i in range(len(papers))]
    papers["venue"] = "Journal of Fixtures"
    io.save_table(papers, root, "papers")
    return root


@pytest.fixture(scope="module")
def ieee_report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = _with_authors(make_output_dir(tmp_path_factory.mktemp("ieee")))
    written = review.run_review(root, formats=("html", "md"), citation_style="ieee")
    assert (root / "figures" / "review_themes_over_time.png").exists()
    assert (root / "figures" / "review_themes_over_time.html").exists()
    return {p.suffix: p.read_text(encoding="utf-8") for p in written if p.parent.name == "report"}


def test_ieee_style_references(ieee_report: dict[str, str]) -> None:
    page = ieee_report[".html"]
    # IEEE: initials first, "and" between two authors, the title in quotation marks
    assert 'J. Author' in page and " and J. Doe, “" in page
    assert "<i>Journal of Fixtures</i>" in page
    assert 'doi: <a href="https://doi.org/10.1234/fixture.0">10.1234/fixture.0</a>' in page
    assert "Doe, J." not in page  # no APA-style entry
    markdown = ieee_report[".md"]
    assert "*Journal of Fixtures*" in markdown
    assert "doi: [10.1234/fixture.0](<https://doi.org/10.1234/fixture.0>)" in markdown


def test_report_shows_themes_over_time_when_dated(ieee_report: dict[str, str]) -> None:
    page = ieee_report[".html"]
    assert 'id="themes-over-time"' in page and 'class="trend-table"' in page
    assert "Themes over time are not shown" not in page
    assert "Stable (the two numbers do not agree on a rise or a fall): 4 of 4 themes." in page
    assert "### Themes over time" in ieee_report[".md"]


def test_report_without_dates_says_why(tmp_path: Path) -> None:
    root = make_output_dir(tmp_path)
    papers = io.load_table(root, "papers")
    papers["year"] = pd.array([None] * len(papers), dtype="Int64")
    io.save_table(papers, root, "papers")
    built = review.build_review(root)
    assert built.trends is not None and not built.trends.shown
    written = review.run_review(root, formats=("md",))
    markdown = next(p for p in written if p.suffix == ".md").read_text(encoding="utf-8")
    assert "Themes over time are not shown because dates are known for 0 of" in markdown
    assert not (root / "figures" / "review_themes_over_time.png").exists()
    # no authors: references keep title and source, unformatted
    assert all(not r.formatted for r in built.references)
