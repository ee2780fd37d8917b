"""The content of a review: the dataclasses the write-up fills and the report renders.

Nothing here reads files or computes a result: :mod:`litreview.report` imports only
this module, so the report depends on the review's shape, never on how it is built.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

QUADRANTS = {
    "motor": "Motor themes",
    "niche": "Niche themes",
    "emerging": "Emerging or declining themes",
    "basic": "Basic and transversal themes",
}
#: Kinds of a named contribution that are ways of doing something, listed apart from the
#: datasets, benchmarks and models a reader could reuse.
METHOD_RESOURCE_KINDS = frozenset({"method", "framework"})
#: The quadrant of one theme, as its section's header line says it.
QUADRANT_OF_A_THEME = {
    "motor": "Motor theme",
    "niche": "Niche theme",
    "emerging": "Emerging or declining theme",
    "basic": "Basic and transversal theme",
}
_QUADRANT_GLOSS = {
    "motor": "central to the field and internally well developed",
    "niche": "well developed internally but weakly linked to the rest",
    "emerging": "weakly developed and marginal: either emerging or fading",
    "basic": "linked to much of the field but not yet internally cohesive",
}


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Sentence:
    """A sentence quoted verbatim from the abstract of the paper it cites."""

    text: str
    paper_id: str
    key: str
    score: float = 0.0
    role: str = ""  # one of roles.ROLES, or "title" when the title is quoted
    #: ``(acronym, long form)`` pairs the abstract defines elsewhere, shown beside the quote
    glosses: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Reference:
    """One entry of the reference list."""

    key: str
    paper_id: str
    title: str
    year: int | None
    sources: tuple[str, ...]
    links: tuple[tuple[str, str], ...]  # (label, http(s) URL)
    code_urls: tuple[str, ...]
    #: The reference formatted in the citation style (HTML-safe, from
    #: :func:`litreview.report.citations.format_references`); empty when the paper has
    #: no authors and year, and the report then shows title and source as before.
    formatted: str = ""


@dataclass(frozen=True)
class RepresentativePaper:
    """A paper near the theme's centre, with its most central sentence."""

    paper_id: str
    key: str
    title: str
    year: int | None
    gist: Sentence | None
    code_url: str | None


@dataclass(frozen=True)
class Resource:
    """A dataset, benchmark or tool a paper says it introduces."""

    name: str
    kind: str
    sentence: Sentence


@dataclass(frozen=True)
class RelatedTheme:
    """A neighbouring theme and its similarity to the one it is listed under."""

    topic: int
    name: str
    anchor: str
    similarity: float


@dataclass(frozen=True)
class Contribution:
    """One paper of a strand, cited by the sentence that states what it contributes."""

    paper_id: str
    key: str
    sentence: Sentence  # the contribution sentence, or the title when no sentence stands alone
    kind: str  # "survey", "resource", "method" or "study": one kind's contributions sit together


#: How each kind of contribution is introduced in a strand, in this order.
#: The PDF lists at most this many contributions per strand (the HTML and Markdown list all).
PDF_STRAND_LIMIT = 40
#: From this many papers the PDF is shortened further (its layout time grows with the
#: pages): at most :data:`PDF_SCALE_STRAND_LIMIT` contributions per strand and
#: :data:`PDF_SCALE_PAPER_LIMIT` rows in its paper table and outlier list.
PDF_SCALE_MIN_PAPERS = 20_000
PDF_SCALE_STRAND_LIMIT = 15
PDF_SCALE_PAPER_LIMIT = 100
CONTRIBUTION_KINDS = {
    "survey": "surveys and reviews",
    "resource": "datasets, benchmarks and other resources",
    "method": "methods and frameworks",
    "study": "studies and analyses",
}


@dataclass
class Strand:
    """A sub-theme: what it works on, what each paper contributes, what is found and open."""

    strand: int
    label: str
    anchor: str
    size: int
    top_terms: list[str]
    problem: list[Sentence]  # one or two background sentences
    contributions: list[Contribution]  # every paper of the strand, once; grouped by kind
    findings: list[Sentence]  # result sentences
    open_issues: list[Sentence]  # limitation / future-work sentences
    resources: list[Resource]

    @property
    def introduced(self) -> list[Resource]:
        """The datasets, benchmarks, models and libraries its abstracts introduce."""
        return [r for r in self.resources if r.kind not in METHOD_RESOURCE_KINDS]

    @property
    def named_methods(self) -> list[Resource]:
        """The methods and frameworks its abstracts name (not resources a reader can use)."""
        return [r for r in self.resources if r.kind in METHOD_RESOURCE_KINDS]

    def groups(self, limit: int | None = None) -> list[tuple[str, list[Contribution]]]:
        """``(heading, contributions)`` by kind, in the order of :data:`CONTRIBUTION_KINDS`;
        with ``limit``, only ``limit`` contributions (the PDF of a large corpus): each kind
        keeps its share of them (largest remainders; one at least for every kind present
        while the limit allows), the first of each kind."""
        shown = self.contributions
        if limit is not None and len(shown) > limit:
            counts = {k: sum(c.kind == k for c in shown) for k in CONTRIBUTION_KINDS}
            take = kind_quota({k: n for k, n in counts.items() if n}, limit)
            seen = dict.fromkeys(take, 0)
            kept = []
            for c in shown:
                if seen[c.kind] < take[c.kind]:
                    kept.append(c)
                seen[c.kind] += 1
            shown = kept
        return [(CONTRIBUTION_KINDS[kind].capitalize(), [c for c in shown if c.kind == kind])
                for kind in CONTRIBUTION_KINDS if any(c.kind == kind for c in shown)]


@dataclass(frozen=True)
class EdgePaper:
    """A placed paper far from its theme's centre, and the other theme it is nearest to."""

    paper_id: str
    key: str
    title: str
    similarity: float
    other_name: str
    other_anchor: str
    other_similarity: float


def kind_quota(counts: dict[str, int], limit: int) -> dict[str, int]:
    """Split ``limit`` places among kinds in proportion to ``counts`` (largest remainders,
    ties in the order of ``counts``), one at least for each kind present while ``limit``
    allows (else the first kinds); never more than a kind has."""
    total = sum(counts.values())
    if total <= limit:
        return dict(counts)
    order = list(counts)
    share = {k: limit * counts[k] / total for k in order}
    take = {k: min(counts[k], max(1, int(share[k]))) for k in order if counts[k]}
    while sum(take.values()) > limit:  # the ones given to small kinds: from the largest
        over = [k for k in take if take[k] > 1]
        if over:
            k = max(over, key=lambda k: (take[k] - share[k], order.index(k)))
        else:  # fewer places than kinds: the later kinds go
            k = max((k for k in take if take[k]), key=order.index)
        take[k] -= 1
    while sum(take.values()) < limit:
        k = max((k for k in take if take[k] < counts[k]),
                key=lambda k: (share[k] - take[k], -order.index(k)))
        take[k] += 1
    return take


@dataclass
class ThemeSection:
    """Everything the report says about one theme."""

    topic: int
    name: str
    anchor: str
    top_terms: list[str]
    size: int
    share: float
    key_sentences: list[Sentence]
    representatives: list[RepresentativePaper]
    resources: list[Resource]
    related: list[RelatedTheme]
    quadrant: str | None = None
    opening: str = ""  # our words, built from facts: size, strands, neighbours
    strands: list[Strand] = field(default_factory=list)
    #: Its members least similar to its centre (peripheral), least similar first.
    edge: list[EdgePaper] = field(default_factory=list)
    #: How many of its members are peripheral (placed, but not close to its centre).
    n_peripheral: int = 0

    def cited_ids(self) -> set[str]:
        """Papers cited in this theme's strands."""
        return {c.paper_id for strand in self.strands for c in strand.contributions}


@dataclass
class Overview:
    """The front page: corpus line, themes at a glance and a short paragraph."""

    corpus_line: str
    n_papers: int
    n_listings: int
    n_records: int
    n_duplicates: int
    n_rejected: int
    n_outliers: int
    #: topic, name, anchor, papers, share, top_terms, strands ((label, size, anchor) each)
    glance: pd.DataFrame  # largest theme first
    paragraph: str
    n_excluded: int = 0  # papers screened out by the curation file


@dataclass
class CrossTheme:
    """Relations between themes: similarity, hierarchy and the strategic diagram."""

    similarity: pd.DataFrame  # long form: topic_a, topic_b, similarity
    closest_pairs: pd.DataFrame  # name_a, name_b, similarity; most similar first
    hierarchy: pd.DataFrame
    groups: list[list[int]]  # top-level branches of the theme tree, largest first
    strategic: pd.DataFrame  # topic, name, size, centrality, density, quadrant
    quadrant_sentences: dict[str, str]
    #: Papers whose text built the co-word network (all, or a fixed sample of large corpora).
    strategic_papers: int = 0
    #: topic, term, rank, theme_share, corpus_share (see :func:`compute_term_weights`).
    term_weights: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: Research lines across themes (see :func:`compute_cross_theme_lines`).
    lines: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: Placed papers the lines were counted over, and placed papers in all (a large
    #: corpus is counted over a fixed sample).
    lines_papers: int = 0
    placed_papers: int = 0


@dataclass
class ThemeTrends:
    """Themes over time (see :mod:`litreview.review.trends`), or why they are not shown."""

    shown: bool
    reason: str  # why not shown ("dates are known for 0 of 281 papers in a theme ..."); "" if shown
    granularity: str  # "year" or "month"
    n_placed: int
    n_dated: int
    counts: pd.DataFrame  # topic, period, period_index, papers, period_papers, share
    growth: pd.DataFrame  # topic, name, papers, recent_share, ..., slope, trend
    sentences: list[str] = field(default_factory=list)

    def themes(self, trend: str) -> list[str]:
        """Names of the themes with this trend (``growing``, ``stable``, ``fading``)."""
        if self.growth.empty:
            return []
        return [str(n) for n in self.growth.loc[self.growth["trend"] == trend, "name"]]


@dataclass
class Methods:
    """What is needed to reproduce the report."""

    generated_at: str
    parameters: dict[str, Any]
    inputs: dict[str, str]  # files this stage read -> SHA-256
    stages: dict[str, dict[str, Any]]  # earlier stages' manifest records
    metrics: dict[str, Any]
    embedding_model: str | None
    seed: Any
    packages: dict[str, str | None]
    python: str | None
    #: What the curation file changed and skipped (``review.living.curation_lines``).
    curated: list[str] = field(default_factory=list)
    #: Themes that changed since the previous run, and how many were kept (``living``).
    map_changes: list[dict[str, Any]] = field(default_factory=list)
    n_kept: int = 0


@dataclass
class Review:
    """The whole content of the thematic review, ready to render."""

    title: str
    author: str
    overview: Overview
    themes: list[ThemeSection]
    cross: CrossTheme
    outliers: pd.DataFrame  # paper_id, key, title, year, sources, url, nearest, nearest_similarity
    papers: pd.DataFrame  # paper_id, key, title, year, topic, theme, url
    references: list[Reference]
    methods: Methods
    keys: dict[str, str] = field(repr=False, default_factory=dict)  # paper_id -> key
    #: One cited sentence per paper in no theme (paper_id -> sentence), in outlier order.
    unplaced: dict[str, Sentence] = field(default_factory=dict)
    #: Contributions per strand the PDF lists (:data:`PDF_STRAND_LIMIT`).
    pdf_strand_limit: int = PDF_STRAND_LIMIT
    #: Rows of the PDF's paper table and outlier list; None: ``report.PDF_PAPER_LIMIT``.
    pdf_paper_limit: int | None = None
    #: Themes over time; None when the review was built without it.
    trends: ThemeTrends | None = None
    #: The CSL style the references are formatted in.
    citation_style: str = "apa"
    #: The screening flow, identified -> included -> placed (step, label, count, detail).
    screening: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: Papers excluded at screening: paper_id, title, reason, ref, line (by title).
    exclusions: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: Papers new since the previous map (``review.whatsnew``); None when nothing is new.
    whats_new: Any = None

    @property
    def date(self) -> str:
        """The run date (YYYY-MM-DD)."""
        return self.methods.generated_at[:10]

    def citations(self) -> list[Sentence]:
        """Every quoted sentence in the write-up, in reading order."""
        quoted: list[Sentence] = []
        for theme in self.themes:
            if not theme.strands:  # the fallback layout: key sentences and representatives
                quoted.extend(theme.key_sentences)
                quoted.extend(p.gist for p in theme.representatives if p.gist is not None)
                quoted.extend(r.sentence for r in theme.resources)
            for strand in theme.strands:
                quoted.extend(strand.problem)
                quoted.extend(c.sentence for c in strand.contributions)
                quoted.extend(strand.findings)
                quoted.extend(strand.open_issues)  # resources are named, not quoted
        # a paper in no theme is listed by its title; a title is not quoted a second time
        quoted.extend(s for s in self.unplaced.values() if s.role != "title")
        if self.whats_new is not None:
            quoted.extend(self.whats_new.sentences())
        return quoted

    def coverage(self) -> float:
        """Share of placed papers cited in their own theme's section."""
        placed = int((self.papers["topic"] >= 0).sum())
        cited = sum(len(t.cited_ids()) for t in self.themes)
        return cited / placed if placed else 1.0

    def role_counts(self) -> pd.DataFrame:
        """How many quoted sentences of each role the write-up uses (role, sentences)."""
        roles = pd.Series([s.role or "other" for s in self.citations()], dtype=str)
        counts = roles.value_counts()
        return pd.DataFrame({"role": counts.index, "sentences": counts.to_numpy()})


# --------------------------------------------------------------------------- names and numbers


def theme_anchor(topic: int) -> str:
    """The HTML id of a theme's section."""
    return f"theme-{int(topic)}"


def format_percent(share: float) -> str:
    """Format a share as a percentage with a no-break space before the sign."""
    share = float(share)
    return f"{100 * share:.1f}\u00a0%" if share < 0.1 else f"{100 * share:.0f}\u00a0%"
