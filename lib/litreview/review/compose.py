"""Compose the review from the loaded inputs: theme sections with their strands and
opening paragraphs, the overview, cross-theme relations, outliers and references."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import os
from collections.abc import Mapping
from typing import Any

import pandas as pd

from litreview import manifest
from litreview.ingest.screening import compute_screening_flow
from litreview.review import living
from litreview.review.citations import (
    _link_fields,
    _primary_url,
    _references,
    assign_citation_keys,
)
from litreview.review.crosslines import (
    CROSS_LINES_MAX_PAPERS,
    LINE_CITATIONS,
    compute_cross_theme_lines,
)
from litreview.review.helpers import (
    _NO_MEMBERS,
    _as_list,
    _clean_label,
    _count,
    _join,
    _join_names,
    _text,
    _year,
)
from litreview.review.inputs import _Inputs, _load_inputs
from litreview.review.model import (
    _QUADRANT_GLOSS,
    CONTRIBUTION_KINDS,
    PDF_SCALE_MIN_PAPERS,
    PDF_SCALE_PAPER_LIMIT,
    PDF_SCALE_STRAND_LIMIT,
    QUADRANTS,
    CrossTheme,
    EdgePaper,
    Methods,
    Overview,
    RelatedTheme,
    Review,
    ThemeSection,
    ThemeTrends,
    format_percent,
    theme_anchor,
)
from litreview.review.quoter import (
    BACKGROUND_PENALTY,
    CANDIDATE_PAPERS_PER_THEME,
    REDUNDANCY_THRESHOLD,
    _Quoter,
)
from litreview.review.resources import _resources_by_paper
from litreview.review.roles import _Sentences
from litreview.review.sentences import (
    MAX_SENTENCE_WORDS,
    MIN_SENTENCE_WORDS,
    field_acronyms,
    normalise_whitespace,
)
from litreview.review.strands import _strand_specs, _StrandWriter
from litreview.review.strategic import (
    STRATEGIC_MAX_PAPERS,
    compute_strategic_diagram,
    compute_term_weights,
    quadrant_sentences,
)
from litreview.review.trends import (
    compute_theme_growth,
    compute_theme_trends,
    describe_growth,
    trend_sentences,
    trend_status,
)
from litreview.review.whatsnew import compute_whats_new

# --------------------------------------------------------------------------- composing


def build_review(
    out_dir: str | os.PathLike,
    *,
    n_representative: int = 5,
    n_key_sentences: int = 3,
    title: str = "Thematic review",
    author: str = "",
) -> Review:
    """Load the stage 01/02 outputs under ``out_dir`` and compose the review."""
    inputs = _load_inputs(out_dir)
    return _compose(
        inputs,
        n_representative=n_representative,
        n_key_sentences=n_key_sentences,
        title=title,
        author=author,
    )


def _display_phrases(topics: pd.DataFrame, strands: pd.DataFrame | None) -> list[str]:
    """The themes' and strands' key terms as the corpus writes them (display terms first)."""
    out: list[str] = []
    for frame in (topics, strands):
        if frame is None or frame.empty:
            continue
        column = "display_terms" if "display_terms" in frame.columns else "top_terms"
        out += [str(t) for terms in frame[column] for t in _as_list(terms)]
    return out


@dataclasses.dataclass
class FigureData:
    """What the review's figures are drawn from, worked out before the write-up so that
    the figures can be drawn beside it (``stage._FigureJob``); the write-up reuses it."""

    strategic: pd.DataFrame  # compute_strategic_diagram
    term_weights: pd.DataFrame  # compute_term_weights
    theme_names: dict[int, str]  # "name (size)" by theme, the key-terms figure's panel titles
    trends: ThemeTrends
    screening: pd.DataFrame  # the full screening flow (``_screening``)


def figure_data(inputs: _Inputs) -> FigureData:
    """The review figures' data (:class:`FigureData`) from the loaded inputs."""
    papers, topics, doc_topics = inputs.papers, inputs.topics, inputs.doc_topics
    names = _theme_names(topics)
    texts = {pid: f"{normalise_whitespace(t)}. {normalise_whitespace(a)}" for pid, t, a in zip(
        papers["paper_id"], papers["title"], papers["abstract"], strict=True)}
    topic_of = dict(zip(doc_topics["paper_id"].astype(str), doc_topics["topic"].astype(int),
                        strict=True))
    theme_terms = {int(t): _as_list(terms) for t, terms in zip(
        topics["topic"], topics["top_terms"], strict=True)}
    strategic = compute_strategic_diagram(
        [f"{_text(t)}. {_text(a)}" for t, a in zip(papers["title"], papers["abstract"],
                                                   strict=True)],
        theme_terms,
        sizes=dict(zip(topics["topic"].astype(int), topics["size"].astype(int), strict=True)),
        names=names,
        max_documents=STRATEGIC_MAX_PAPERS,
    )
    term_weights = compute_term_weights(
        [texts[pid] for pid in papers["paper_id"]],
        [topic_of.get(pid, -1) for pid in papers["paper_id"]],
        theme_terms,
    )
    sized = {int(t): f"{names[int(t)]} ({int(n)})" for t, n in zip(
        topics["topic"], topics["size"], strict=True)}
    return FigureData(strategic=strategic, term_weights=term_weights, theme_names=sized,
                      trends=_theme_trends(papers, doc_topics, names),
                      screening=_screening(inputs))


def _theme_names(topics: pd.DataFrame) -> dict[int, str]:
    return {int(t): _clean_label(label, int(t)) for t, label in zip(
        topics["topic"], topics["label"], strict=True)}


def _compose(
    inputs: _Inputs, *, n_representative: int, n_key_sentences: int, title: str, author: str,
    figures: FigureData | None = None,
) -> Review:
    papers, topics, doc_topics = inputs.papers, inputs.topics, inputs.doc_topics
    if figures is None:
        figures = figure_data(inputs)
    keys = assign_citation_keys(papers)
    abstracts = {pid: normalise_whitespace(a) for pid, a in papers["abstract"].items()}
    names = _theme_names(topics)
    members = _members_by_theme(doc_topics)
    quoter = _Quoter(abstracts, keys, topics, members)
    titles = {pid: normalise_whitespace(t) for pid, t in papers["title"].items()}
    texts = {pid: f"{titles[pid]}. {abstracts[pid]}" for pid in titles}
    known = field_acronyms(texts.values(), max(3, round(0.005 * len(texts))))
    sentences = _Sentences(abstracts, known)
    writer = _StrandWriter(sentences, keys, titles)
    theme_terms = {int(t): _as_list(terms) for t, terms in zip(
        topics["topic"], topics["top_terms"], strict=True)}
    specs = _strand_specs(inputs, members, texts, theme_terms)
    peripheral = (set(doc_topics.loc[doc_topics["membership"].astype(str) == "peripheral",
                                     "paper_id"].astype(str))
                  if "membership" in doc_topics.columns else set())
    resources_of = _resources_by_paper(sentences, titles, keys,
                                       [p for frame in members.values() for p in frame["paper_id"]])

    writer.precompute([p for topic in topics["topic"].astype(int)
                       for spec in specs.get(int(topic), []) for p in spec.members], resources_of)
    strategic = figures.strategic
    quadrant_of = dict(zip(strategic["topic"], strategic["quadrant"], strict=True))

    sections = []
    for row in topics.itertuples(index=False):
        topic = int(row.topic)
        sections.append(
            ThemeSection(
                topic=topic,
                name=names[topic],
                anchor=theme_anchor(topic),
                top_terms=[str(t) for t in _as_list(getattr(row, "display_terms", row.top_terms))],
                size=int(row.size),
                share=float(row.share),
                key_sentences=quoter.key_sentences(topic, n_key_sentences),
                representatives=quoter.representatives(
                    topic, [p for p in _as_list(row.representative_paper_ids)
                            if str(p) not in peripheral],
                    n_representative, papers, exclude=peripheral,
                ),
                resources=[r for pid in members.get(topic, _NO_MEMBERS)["paper_id"]
                           for r in resources_of.get(pid, [])],
                related=_related(topic, inputs.similarity, names),
                quadrant=quadrant_of.get(topic),
                strands=[writer.write(topic, spec, i, resources_of)
                         for i, spec in enumerate(specs.get(topic, []))],
                edge=_edge_papers(topic, doc_topics, keys, titles, names),
                n_peripheral=sum(str(p) in peripheral
                                 for p in members.get(topic, _NO_MEMBERS)["paper_id"]),
            )
        )
        sections[-1].opening = _opening(sections[-1], len(papers))

    overview = _overview(inputs, sections, names)
    topic_of = dict(zip(doc_topics["paper_id"].astype(str), doc_topics["topic"].astype(int),
                        strict=True))
    cross = CrossTheme(
        similarity=inputs.similarity,
        closest_pairs=_closest_pairs(inputs.similarity, names),
        hierarchy=inputs.hierarchy,
        groups=_top_level_groups(inputs.hierarchy, set(names), inputs.topics),
        strategic=strategic,
        quadrant_sentences=quadrant_sentences(strategic),
        strategic_papers=min(len(papers), STRATEGIC_MAX_PAPERS),
        term_weights=figures.term_weights,
    )
    cross.lines = compute_cross_theme_lines(
        [titles[pid] for pid in papers["paper_id"]],
        [abstracts[pid] for pid in papers["paper_id"]],
        [topic_of.get(pid, -1) for pid in papers["paper_id"]],
        _display_phrases(topics, inputs.strands), names,
        paper_ids=papers["paper_id"].astype(str).tolist())
    for line in cross.lines["themes"] if not cross.lines.empty else []:
        for entry in line:
            entry["keys"] = [keys[p] for p in entry["paper_ids"][:LINE_CITATIONS] if p in keys]
    cross.placed_papers = sum(topic_of.get(pid, -1) >= 0 for pid in papers["paper_id"])
    cross.lines_papers = min(cross.placed_papers, CROSS_LINES_MAX_PAPERS)
    trends = figures.trends
    if not trends.shown:
        # Without dates the "emerging or declining" quadrant is only "below the median on
        # both axes": said once, with its caveat, in the strategic diagram's section, not
        # as a verdict on each theme (the largest theme of the seed corpus was "marginal").
        for section in sections:
            if section.quadrant == "emerging":
                section.quadrant = None
                section.opening = _opening(section, len(papers))
    cross.quadrant_sentences["emerging"] = _emerging_sentence(
        cross.quadrant_sentences.get("emerging", ""), strategic, trends)
    overview.paragraph = _overview_paragraph(overview, sections, cross, names,
                                             inputs.metrics)
    review = Review(
        title=title,
        author=author,
        overview=overview,
        themes=sections,
        cross=cross,
        outliers=_outliers(papers, doc_topics, keys, names),
        papers=_paper_table(papers, doc_topics, keys, names),
        references=[],
        methods=_methods(inputs, n_representative, n_key_sentences),
        keys=keys,
        trends=trends,
        screening=figures.screening,
        exclusions=_excluded(inputs),
    )
    if len(papers) >= PDF_SCALE_MIN_PAPERS:  # the PDF of a large corpus lists less
        review.pdf_strand_limit = PDF_SCALE_STRAND_LIMIT
        review.pdf_paper_limit = PDF_SCALE_PAPER_LIMIT
    review.unplaced = {pid: writer.contribution(pid) for pid in review.outliers["paper_id"]
                       if titles.get(pid) or abstracts.get(pid)}
    review.whats_new = compute_whats_new(
        doc_topics, papers, theme_order=[s.topic for s in sections], names=names, keys=keys,
        contribution=writer.contribution, changes=inputs.metrics.get("map_changes"))
    review.references = _references(review, papers)
    return review


# --------------------------------------------------------------------------- themes


def _members_by_theme(doc_topics: pd.DataFrame) -> dict[int, pd.DataFrame]:
    """Papers of each theme, most central first (ties by paper_id)."""
    frame = doc_topics[doc_topics["topic"] >= 0][["paper_id", "topic", "centrality"]].copy()
    frame["centrality"] = pd.to_numeric(frame["centrality"], errors="coerce")
    frame["_c"] = frame["centrality"].fillna(-1.0)
    frame = frame.sort_values(["topic", "_c", "paper_id"], ascending=[True, False, True])
    return {
        int(topic): group[["paper_id", "centrality"]].reset_index(drop=True)
        for topic, group in frame.groupby("topic", sort=False)
    }


def _related(topic: int, similarity: pd.DataFrame, names: Mapping[int, str]) -> list[RelatedTheme]:
    rows = similarity[
        (similarity["topic_a"] == topic)
        & (similarity["topic_b"] != topic)
        & (similarity["topic_b"].isin(list(names)))
    ].sort_values(["similarity", "topic_b"], ascending=[False, True])
    return [
        RelatedTheme(int(r.topic_b), names[int(r.topic_b)], theme_anchor(int(r.topic_b)),
                     float(r.similarity))
        for r in rows.head(2).itertuples(index=False)
    ]


def _opening(section: ThemeSection, n_papers: int) -> str:
    """The theme's opening paragraph, ours, from facts: size, strands, neighbours, quadrant."""
    parts = [f"{section.name} gathers {_count(section.size, 'paper')} "
             f"({format_percent(section.share)} of the corpus)."]
    strands = [s for s in section.strands if s.strand >= 0]
    if len(section.strands) > 1 and strands:
        listed = [f"{s.label} ({s.size})" for s in strands]
        other = len(section.strands) - len(strands)
        listing = "; ".join(listed[:-1]) + ("; and " if len(listed) > 1 else "") + listed[-1]
        parts.append(
            f"Its papers fall into {_count(len(strands), 'strand')}: {listing}"
            + (f"; {_count(section.strands[-1].size, 'paper')} share no named research line."
               if other else ".")
        )
    if section.n_peripheral:
        n = section.n_peripheral
        if n >= LOOSE_THEME_SHARE * section.size:
            parts.append(f"{n:,} of its {section.size:,} papers "
                         f"({format_percent(n / section.size)}) are peripheral members, placed "
                         "here but not close to its centre; at that share the theme is a loose "
                         "grouping to check before it is written up as one section.")
        else:
            parts.append(f"{n:,} of its papers "
                         + ("is a peripheral member" if n == 1 else "are peripheral members")
                         + ", placed here but not close to its centre.")
    kinds: dict[str, int] = {}
    for strand in section.strands:
        for c in strand.contributions:
            kinds[c.kind] = kinds.get(c.kind, 0) + 1
    if kinds:
        described = [f"{CONTRIBUTION_KINDS[k]} ({kinds[k]})" for k in CONTRIBUTION_KINDS
                     if k in kinds]
        parts.append(f"By what they contribute, its papers offer {_join(described)}.")
    if section.related:
        near = [f"{r.name} (similarity {r.similarity:.2f})" for r in section.related]
        parts.append(f"Its closest neighbours are {_join_names(near)}.")
    if section.quadrant:
        parts.append(f"On the strategic diagram it is among the "
                     f"{QUADRANTS[section.quadrant].lower()}: {_QUADRANT_GLOSS[section.quadrant]}.")
    n_res = sum(len(s.introduced) for s in section.strands)
    n_methods = sum(len(s.named_methods) for s in section.strands)
    if n_res or n_methods:
        said = []
        if n_res:
            said.append("introduce " + _count(n_res, "dataset, benchmark or model",
                                              "datasets, benchmarks or models"))
        if n_methods:
            said.append("name " + _count(n_methods, "new method or framework",
                                         "new methods or frameworks"))
        parts.append(f"Its abstracts {' and '.join(said)}.")
    return " ".join(parts)


# --------------------------------------------------------------------------- over time


def _theme_trends(
    papers: pd.DataFrame, doc_topics: pd.DataFrame, names: Mapping[int, str]
) -> ThemeTrends:
    """Themes over time, or the reason the dates cannot carry them."""
    status = trend_status(papers, doc_topics)
    counts = compute_theme_trends(papers, doc_topics)
    counts = counts[counts["topic"].isin(list(names))].reset_index(drop=True)
    growth = compute_theme_growth(counts, granularity=status.granularity or "year", names=names)
    return ThemeTrends(
        shown=status.shown and not counts.empty,
        reason=status.reason or ("" if not counts.empty else "no dated paper is in a theme"),
        granularity=status.granularity, n_placed=status.n_placed, n_dated=status.n_dated,
        counts=counts, growth=growth, sentences=trend_sentences(growth),
    )


def _emerging_sentence(sentence: str, strategic: pd.DataFrame, trends: ThemeTrends) -> str:
    """The "emerging or declining" quadrant's sentence, told apart by dates when known."""
    members = strategic.loc[strategic["quadrant"] == "emerging", "topic"].astype(int).tolist()
    if not members:
        return sentence
    if not trends.shown:
        return (f"{sentence} The dates cannot tell emerging from declining here: "
                f"{trends.reason}.")
    growth = trends.growth.set_index("topic")
    readings = []
    for topic in members:
        if topic not in growth.index:
            continue
        row = growth.loc[topic]
        verb = {"growing": "is emerging", "fading": "is declining",
                "stable": "holds steady"}[str(row["trend"])]
        readings.append(f"{row['name']} {verb}: {describe_growth(row.to_dict())}")
    if not readings:
        return sentence
    return f"{sentence} Over time, " + "; ".join(readings) + "."


# --------------------------------------------------------------------------- overview


def _closest_pairs(similarity: pd.DataFrame, names: Mapping[int, str], n: int = 5) -> pd.DataFrame:
    pairs = similarity[
        (similarity["topic_a"] < similarity["topic_b"])
        & similarity["topic_a"].isin(list(names))
        & similarity["topic_b"].isin(list(names))
    ].sort_values(["similarity", "topic_a", "topic_b"], ascending=[False, True, True]).head(n)
    return pd.DataFrame(
        {
            "topic_a": pairs["topic_a"].astype(int).to_numpy(),
            "name_a": [names[int(t)] for t in pairs["topic_a"]],
            "topic_b": pairs["topic_b"].astype(int).to_numpy(),
            "name_b": [names[int(t)] for t in pairs["topic_b"]],
            "similarity": pairs["similarity"].astype(float).to_numpy(),
        }
    )


def _top_level_groups(
    hierarchy: pd.DataFrame, themes: set[int], topics: pd.DataFrame
) -> list[list[int]]:
    """The two branches under the root of the theme tree, largest first, each largest first."""
    if hierarchy.empty:
        return []
    covers = {int(r.parent_id): [int(t) for t in _as_list(r.topics)]
              for r in hierarchy.itertuples(index=False)}
    root = hierarchy.assign(_n=[len(_as_list(t)) for t in hierarchy["topics"]]).sort_values(
        ["_n", "distance"], ascending=[False, False]).iloc[0]
    size = dict(zip(topics["topic"].astype(int), topics["size"].astype(int), strict=True))
    groups = []
    for child in (root["child_left_id"], root["child_right_id"]):
        child = int(child)
        members = covers.get(child, [child] if child in themes else [])
        members = sorted((t for t in members if t in themes), key=lambda t: (-size[t], t))
        if members:
            groups.append(members)
    groups.sort(key=lambda g: (-sum(size[t] for t in g), g[0]))
    return groups


def _overview(inputs: _Inputs, sections: list[ThemeSection], names: Mapping[int, str]) -> Overview:
    records = inputs.records
    status = records["status"].astype(str).str.lower() if "status" in records else pd.Series()
    n_records = len(records)
    n_listings = int(records["source_file"].nunique()) if "source_file" in records else 0
    n_duplicates = int((status == "duplicate").sum())
    n_rejected = int((status == "rejected").sum())
    n_papers = len(inputs.papers)
    n_excluded = len(inputs.exclusions) if inputs.exclusions is not None else 0
    screened = f", {n_excluded} excluded at screening" if n_excluded else ""
    corpus_line = (
        f"{_count(n_papers, 'paper')} from {_count(n_listings, 'listing')} "
        f"({_count(n_records, 'record')}, {_count(n_duplicates, 'duplicate')} merged, "
        f"{n_rejected} rejected{screened})"
    )
    glance = pd.DataFrame(
        {
            "topic": [s.topic for s in sections],
            "name": [s.name for s in sections],
            "anchor": [s.anchor for s in sections],
            "papers": [s.size for s in sections],
            "share": [s.share for s in sections],
            "top_terms": [s.top_terms[:6] for s in sections],
            # the survey's table of contents: each theme's named strands, largest first,
            # then its other papers, so the sizes add up to the theme's
            "strands": [[(st.label if st.strand >= 0 else "Other papers", st.size, st.anchor)
                         for st in s.strands] for s in sections],
        }
    )
    n_outliers = int((inputs.doc_topics["topic"] < 0).sum())
    return Overview(corpus_line, n_papers, n_listings, n_records, n_duplicates, n_rejected,
                    n_outliers, glance, paragraph="", n_excluded=n_excluded)


#: Below this silhouette the themes overlap more than they separate ...
FIRM_SILHOUETTE = 0.1
#: ... and below this agreement a refit on 90 % of the papers redraws many boundaries.
FIRM_SUBSAMPLE_ARI = 0.6


def firmness_sentence(metrics: Mapping[str, Any]) -> str:
    """One sentence on how far the reader can lean on the map's boundaries.

    From the topics stage's silhouette (how well the themes separate in the embedding) and
    its subsample stability (agreement of refits that each leave out a random tenth of the
    papers). A map below ``FIRM_SILHOUETTE`` or ``FIRM_SUBSAMPLE_ARI`` is said to be a
    first outline to curate, so that the reader does not take its boundaries as settled;
    "" when the stage measured neither.
    """
    def number(key: str) -> float | None:
        value = metrics.get(key)
        return float(value) if isinstance(value, (int, float)) and math.isfinite(value) \
            else None

    silhouette, subsample = number("silhouette"), number("subsample_ari_mean")
    if silhouette is None and subsample is None:
        return ""
    said = []
    if silhouette is not None:
        said.append(f"silhouette {silhouette:.2f}, where 1 is cleanly separated themes")
    if subsample is not None:
        said.append(f"refits that each leave out a tenth of the papers agree with this map "
                    f"at ARI {subsample:.2f}")
    weak = (silhouette is not None and silhouette < FIRM_SILHOUETTE) or (
        subsample is not None and subsample < FIRM_SUBSAMPLE_ARI)
    count = ""
    step, at = number("theme_count_step"), metrics.get("theme_count_cut")
    support = number("theme_count_support")
    if metrics.get("theme_count_clear") is False and step is not None and at:
        strongest = f"its strongest, at {at} themes, is {step:.2f}× the merge before it"
        if support is not None:
            strongest += (f", but only {support:.2f}× on trees that each leave out a tenth "
                          "of the papers")
        count = (f" Nor does the corpus settle the number of themes: the theme tree has no "
                 f"clear step ({strongest}), so the map takes the finest outline it allows, "
                 f"since two "
                 f"themes are joined by one merge in review.yaml while a theme is split only "
                 f"paper by paper; the nr_topics parameter sets another count.")
    if weak:
        return ("The themes overlap (" + "; ".join(said) + "): read them as a first outline "
                "to curate (rename, merge, move papers in review.yaml), not as settled "
                "boundaries." + count)
    return "The themes are well separated and stable (" + "; ".join(said) + ")." + count


#: Papers listed at the edge of each theme.
EDGE_PAPERS = 5
#: A theme this share of whose papers are peripheral is called a loose grouping.
LOOSE_THEME_SHARE = 0.4


def _edge_papers(topic: int, doc_topics: pd.DataFrame, keys: Mapping[str, str],
                 titles: Mapping[str, str], names: Mapping[int, str],
                 limit: int = EDGE_PAPERS) -> list[EdgePaper]:
    """A theme's peripheral papers least similar to its centre, each with the other theme it
    is nearest to (doc_topics ``second_topic`` / ``second_similarity``), so the researcher
    sees at a glance which papers the map attached loosely and where else they could go;
    none for a folder written before those columns existed."""
    needed = {"membership", "similarity", "second_topic", "second_similarity"}
    if not needed <= set(doc_topics.columns):
        return []
    rows = doc_topics[(doc_topics["topic"].astype(int) == topic)
                      & (doc_topics["membership"].astype(str) == "peripheral")]
    rows = rows.assign(edge_similarity=pd.to_numeric(rows["similarity"], errors="coerce"))
    rows = rows.sort_values(["edge_similarity", "paper_id"], kind="mergesort")
    out = []
    for row in rows.itertuples(index=False):
        other = int(row.second_topic) if pd.notna(row.second_topic) else -1
        pid = str(row.paper_id)
        if (other not in names or other == topic or pid not in keys
                or pd.isna(row.edge_similarity)):
            continue
        out.append(EdgePaper(pid, keys[pid], titles.get(pid, ""), float(row.edge_similarity),
                             names[other], theme_anchor(other), float(row.second_similarity)))
        if len(out) == limit:
            break
    return out


def _overview_paragraph(
    overview: Overview, sections: list[ThemeSection], cross: CrossTheme,
    names: Mapping[int, str], metrics: Mapping[str, Any] | None = None,
) -> str:
    if not sections:
        return (f"No themes were found: all {_count(overview.n_papers, 'paper')} "
                "are listed among the papers in no theme.")
    largest = [
        f"{s.name} ({_count(s.size, 'paper')}, {format_percent(s.share)})" for s in sections[:3]
    ]
    parts = [
        f"The corpus falls into {_count(len(sections), 'theme')}; the largest "
        f"{'is' if len(largest) == 1 else 'are'} {_join_names(largest)}."
    ]
    groups = cross.groups
    if len(groups) == 2:
        a, b = ([names[t] for t in g] for g in groups)
        if len(b) == 1:
            parts.append(
                f"In the theme hierarchy, {b[0]} stands apart from the other "
                f"{_count(len(a), 'theme')}, which gather around {_join_names(a[:2])}."
            )
        else:
            parts.append(
                f"The theme hierarchy splits the field into two branches. One gathers "
                f"{_join_names(a)}. The other gathers {_join_names(b)}."
            )
    if not cross.closest_pairs.empty:
        pair = cross.closest_pairs.iloc[0]
        parts.append(
            # "A is closest to B": "A and B" misreads when a name has an "and" of its own
            f"Of all pairs of themes, {pair['name_a']} is closest to {pair['name_b']} "
            f"(similarity {pair['similarity']:.2f})"
            + (f"; {_count(overview.n_outliers, 'paper')} "
               f"({format_percent(overview.n_outliers / max(overview.n_papers, 1))}) fit no theme."
               if overview.n_outliers else ".")
        )
    firmness = firmness_sentence(metrics or {})
    if firmness:
        parts.append(firmness)
    return " ".join(parts)


# --------------------------------------------------------------------------- papers and method


def _outliers(
    papers: pd.DataFrame, doc_topics: pd.DataFrame, keys: Mapping[str, str],
    names: Mapping[int, str],
) -> pd.DataFrame:
    """The papers in no theme, by title, each with the theme it came nearest to.

    ``nearest`` is that theme's name and ``nearest_similarity`` the paper's cosine
    similarity to its centroid (columns ``nearest_topic`` / ``nearest_similarity`` of
    doc_topics; empty for a folder written before they existed), so a researcher sees
    which papers only just missed a theme and which are off the corpus's subject.
    """
    unplaced = doc_topics.loc[doc_topics["topic"] < 0]
    ids = unplaced["paper_id"].astype(str)
    nearest: dict[str, tuple[str, float | None]] = {}
    if {"nearest_topic", "nearest_similarity"} <= set(unplaced.columns):
        for pid, topic, sim in zip(ids, unplaced["nearest_topic"],
                                   unplaced["nearest_similarity"], strict=True):
            if pd.notna(topic) and int(topic) in names and pd.notna(sim):
                nearest[pid] = (names[int(topic)], float(sim))
    frame = papers.loc[[p for p in ids if p in papers.index]]
    out = pd.DataFrame(
        {
            "paper_id": frame["paper_id"].to_numpy(),
            "key": [keys[p] for p in frame["paper_id"]],
            "title": [normalise_whitespace(t) for t in frame["title"]],
            "year": [_year(y) for y in frame["year"]],
            "sources": [", ".join(str(s) for s in _as_list(s)) for s in frame["sources"]],
            "url": [_primary_url(row) for row in _link_fields(frame)],
            "nearest": [nearest.get(p, ("", None))[0] for p in frame["paper_id"]],
            "nearest_similarity": [nearest.get(p, ("", None))[1] for p in frame["paper_id"]],
        }
    )
    by_title = out.sort_values(["title", "paper_id"], key=lambda s: s.astype(str).str.lower())
    return by_title.reset_index(drop=True)


def _paper_table(
    papers: pd.DataFrame, doc_topics: pd.DataFrame, keys: Mapping[str, str],
    names: Mapping[int, str],
) -> pd.DataFrame:
    topic_of = dict(zip(doc_topics["paper_id"].astype(str), doc_topics["topic"].astype(int),
                        strict=True))
    topic = [topic_of.get(p, -1) for p in papers["paper_id"]]
    return pd.DataFrame(
        {
            "paper_id": papers["paper_id"].to_numpy(),
            "key": [keys[p] for p in papers["paper_id"]],
            "title": [normalise_whitespace(t) for t in papers["title"]],
            "year": [_year(y) for y in papers["year"]],
            "topic": topic,
            "theme": [names.get(t, "(no theme)") for t in topic],
            "url": [_primary_url(row) for row in _link_fields(papers)],
        }
    )


def _screening(inputs: _Inputs) -> pd.DataFrame:
    """The full screening flow: the ingest stage's, plus placed in themes / unplaced."""
    exclusions = inputs.exclusions if inputs.exclusions is not None else pd.DataFrame(
        columns=["reason"])
    return compute_screening_flow(inputs.records, exclusions, inputs.doc_topics)


def _excluded(inputs: _Inputs) -> pd.DataFrame:
    """The appendix of excluded papers, by title: paper_id, title, reason, ref, line."""
    columns = ["paper_id", "title", "reason", "ref", "line"]
    if inputs.exclusions is None or inputs.exclusions.empty:
        return pd.DataFrame(columns=columns)
    frame = inputs.exclusions.copy()
    frame["title"] = [normalise_whitespace(t) for t in frame["title"]]
    frame = frame.sort_values(["title", "paper_id"], key=lambda s: s.astype(str).str.lower())
    return frame[columns].reset_index(drop=True)


def generation_time() -> str:
    """When the report was written (UTC, ISO seconds): ``SOURCE_DATE_EPOCH`` when set.

    The reproducible-builds convention: with the variable set, two runs on the same inputs
    and parameters write byte-identical reports; without it the report is dated now.
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        moment = dt.datetime.fromtimestamp(int(epoch), dt.UTC)
    else:
        moment = dt.datetime.now(dt.UTC)
    return moment.isoformat(timespec="seconds")


def _methods(inputs: _Inputs, n_representative: int, n_key_sentences: int) -> Methods:
    recorded = inputs.manifest
    metrics = dict(inputs.metrics)
    return Methods(
        generated_at=generation_time(),
        parameters={
            "n_representative": n_representative,
            "n_key_sentences": n_key_sentences,
            "candidate_papers_per_theme": CANDIDATE_PAPERS_PER_THEME,
            "redundancy_threshold": REDUNDANCY_THRESHOLD,
            "background_penalty": BACKGROUND_PENALTY,
            "sentence_words": [MIN_SENTENCE_WORDS, MAX_SENTENCE_WORDS],
        },
        inputs=dict(inputs.hashes),
        stages={k: v for k, v in (recorded.get("stages") or {}).items() if k != "review"},
        metrics=metrics,
        embedding_model=metrics.get("embedding_model"),
        seed=metrics.get("seed"),
        packages=dict(recorded.get("packages") or manifest.package_versions()),
        python=recorded.get("python"),
        curated=living.curation_lines(inputs.curation, inputs.topics, inputs.strands,
                                      inputs.theme_changes),
        map_changes=living.change_rows(inputs.theme_changes, inputs.topics),
        n_kept=living.n_kept(inputs.theme_changes),
    )
