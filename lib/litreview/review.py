"""Stage 03: turn the topic map into a sourced thematic review.

Everything here is computed from the files stages 01 and 02 wrote under
``DIR/data`` and from ``DIR/manifest.json``: nothing is refitted or re-embedded.
Every sentence the review quotes is lifted verbatim (after whitespace
normalisation) from the abstract of the paper it cites.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from litreview import config, io, manifest, sanitize
from litreview.review_roles import (  # re-exported: split_sentences, is_self_contained, …
    _NOT_THEMATIC,
    MAX_SENTENCE_WORDS,
    MIN_SENTENCE_WORDS,
    ROLES,  # noqa: F401
    RoledSentence,
    contribution_sentence,
    field_acronyms,
    is_self_contained,  # noqa: F401
    normalise_whitespace,
    quotable,
    roled_sentences,
    split_sentences,
)

#: The data files this stage reads (without ``.parquet``), all under ``DIR/data``.
INPUT_TABLES = (
    "papers", "records", "doc_topics", "topics", "topic_similarity", "topic_hierarchy",
)
METRICS_FILE = "topic_metrics.json"

#: Most central papers per theme whose sentences compete to be key sentences.
CANDIDATE_PAPERS_PER_THEME = 200
#: Most central papers per theme scanned for "we introduce X" resources.
RESOURCE_SCAN_PER_THEME = 500
MAX_RESOURCES_PER_THEME = 8
#: Sentences closer than this (TF-IDF cosine) to an already chosen one are redundant.
REDUNDANCY_THRESHOLD = 0.5
#: How much of a sentence's similarity to the whole corpus is subtracted from its score.
BACKGROUND_PENALTY = 0.5
#: Above this many papers the strategic diagram counts co-occurrences in a fixed sample.
STRATEGIC_MAX_PAPERS = 20_000

QUADRANTS = {
    "motor": "Motor themes",
    "niche": "Niche themes",
    "emerging": "Emerging or declining themes",
    "basic": "Basic and transversal themes",
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
    role: str = ""  # one of review_roles.ROLES, or "title" when the title is quoted


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
    kind: str  # "resource", "method" or "study": contributions of one kind sit together


#: How each kind of contribution is introduced in a strand, in this order.
#: The PDF lists at most this many contributions per strand (the HTML and Markdown list all).
PDF_STRAND_LIMIT = 40
CONTRIBUTION_KINDS = {
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

    def groups(self, limit: int | None = None) -> list[tuple[str, list[Contribution]]]:
        """``(heading, contributions)`` by kind, in the order of :data:`CONTRIBUTION_KINDS`;
        with ``limit``, only the first ``limit`` contributions (the PDF of a large corpus)."""
        shown = self.contributions if limit is None else self.contributions[:limit]
        return [(CONTRIBUTION_KINDS[kind].capitalize(), [c for c in shown if c.kind == kind])
                for kind in CONTRIBUTION_KINDS if any(c.kind == kind for c in shown)]


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
    glance: pd.DataFrame  # topic, name, anchor, papers, share, top_terms; largest first
    paragraph: str


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


@dataclass
class Review:
    """The whole content of the thematic review, ready to render."""

    title: str
    author: str
    overview: Overview
    themes: list[ThemeSection]
    cross: CrossTheme
    outliers: pd.DataFrame  # paper_id, title, year, sources
    papers: pd.DataFrame  # paper_id, key, title, year, topic, theme, url
    references: list[Reference]
    methods: Methods
    keys: dict[str, str] = field(repr=False, default_factory=dict)  # paper_id -> key
    #: One cited sentence per paper in no theme (paper_id -> sentence), in outlier order.
    unplaced: dict[str, Sentence] = field(default_factory=dict)
    #: Contributions per strand the PDF lists (:data:`PDF_STRAND_LIMIT`).
    pdf_strand_limit: int = PDF_STRAND_LIMIT

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
        quoted.extend(self.unplaced.values())
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


# --------------------------------------------------------------------------- text
# Splitting, roles and quotability live in litreview.review_roles; re-exported here.


def _is_quotable(sentence: str, *, strict: bool = True, known: Iterable[str] = ()) -> bool:
    if strict:
        return quotable(sentence, known_acronyms=known)
    words = sentence.split()
    if not MIN_SENTENCE_WORDS <= len(words) <= MAX_SENTENCE_WORDS:
        return False
    if _NOT_THEMATIC.search(sentence) or sentence.endswith("?"):
        return False
    return sentence.count("(") == sentence.count(")")


# --------------------------------------------------------------------------- citation keys


_TITLE_STOPWORDS = frozenset({
    "a", "an", "the", "of", "for", "and", "or", "in", "on", "to", "with", "from", "by", "via",
    "at", "as", "is", "are", "be", "its", "into", "towards", "toward", "using", "use", "do",
    "does", "can", "we", "our", "how", "what", "why", "when", "which"
})


#: Title words a key starts with, and the most it grows to when keys clash.
_KEY_TITLE_WORDS = {"author": (1, 3), "title": (2, 4)}


def _first_surname(authors: Any) -> str:
    """ASCII, lower-case surname of the first author (``"Smith, J.; Doe, A."`` gives smith)."""
    names = _as_list(authors) if not isinstance(authors, str) else [authors]
    text = normalise_whitespace(_text(names[0])) if names else ""
    first = re.split(r";|\s+and\s+", text)[0].strip()
    if "," in first:
        surname = first.split(",")[0]
    else:  # "G. Kalbe", "Jane Smith", or PubMed's "Smith JR": skip initials
        tokens = [t for t in first.split() if not re.fullmatch(r"(?:[A-Z]\.?-?){1,3}", t)]
        surname = tokens[-1] if tokens else ""
    words = [w.lower() for w in _ascii_words(surname) if not w.isdigit()]
    return words[-1][:20] if words else ""  # "van der Berg" gives berg


def _significant_words(title: str) -> list[str]:
    words = _ascii_words(normalise_whitespace(title))
    return [w for w in words if w.lower() not in _TITLE_STOPWORDS] or words


def citation_key(
    title: str | None, year: int | None = None, authors: Any = None, *, n_words: int | None = None
) -> str:
    """Return a short, lower-case ASCII citation key, as researchers write them in BibTeX.

    With an author and a year: first author's surname, year, first significant title word
    (``smith2021mapping``). Otherwise the first two significant title words and the year
    when known (``largelanguage2024``); a title whose head before a colon is one name uses
    that name (``"NormBank: A Knowledge Bank…"`` gives ``normbank2023``). ``n_words``
    takes more title words (used to tell clashing keys apart).
    """
    title = normalise_whitespace(_text(title))
    year = _year(year)
    surname = _first_surname(authors)
    words = _significant_words(title)
    if surname and year is not None:
        n = n_words or _KEY_TITLE_WORDS["author"][0]
        return f"{surname}{year}" + "".join(w.lower() for w in words[:n])
    head, sep, _ = title.partition(":")
    head_words = _ascii_words(head) if sep else []
    if len(head_words) == 1 and len(head_words[0]) <= 20 and not n_words:
        words = head_words
    n = n_words or _KEY_TITLE_WORDS["title"][0]
    key = "".join(w.lower() for w in words[:n]) or (surname or "untitled")
    return key + (str(year) if year is not None else "")


def _ascii_words(text: str) -> list[str]:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.findall(r"[A-Za-z0-9]+", ascii_text.replace("'", "").replace("’", ""))


def assign_citation_keys(papers: pd.DataFrame) -> dict[str, str]:
    """Give every paper a unique key (see :func:`citation_key`), independent of row order.

    Papers whose keys clash get more title words while that tells them apart, then
    a/b/c… suffixes in paper_id order (never a key another paper has).
    """
    columns = papers.reindex(columns=["paper_id", "title", "year", "authors"])
    rows = {str(r.paper_id): (r.title, _year(r.year), r.authors)
            for r in columns.itertuples(index=False)}

    def kind(pid: str) -> str:
        _title, year, authors = rows[pid]
        return "author" if year is not None and _first_surname(authors) else "title"

    keys = {pid: citation_key(*rows[pid]) for pid in sorted(rows)}
    for _ in range(3):
        clashing = _clashes(keys)
        if not clashing:
            break
        for group in clashing:
            longer = {}
            for pid in group:
                start, most = _KEY_TITLE_WORDS[kind(pid)]
                n = min(most, start + 1 + _extra_words(keys[pid], rows[pid]))
                longer[pid] = citation_key(*rows[pid], n_words=n)
            if len(set(longer.values())) > 1:
                keys.update(longer)
    taken = {k for k, n in _counts(keys).items() if n == 1}
    for group in _clashes(keys):
        index = 0
        for pid in group:
            while (candidate := keys[pid] + _letters(index)) in taken:
                index += 1
            taken.add(candidate)
            keys[pid] = candidate
            index += 1
    return keys


def _extra_words(key: str, row: tuple[Any, int | None, Any]) -> int:
    """How many title words beyond the first level ``key`` already uses."""
    title, year, authors = row
    start, most = _KEY_TITLE_WORDS[
        "author" if year is not None and _first_surname(authors) else "title"]
    for n in range(start, most + 1):
        if citation_key(title, year, authors, n_words=n) == key:
            return n - start
    return 0


def _counts(keys: Mapping[str, str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for key in keys.values():
        counts[key] = counts.get(key, 0) + 1
    return counts


def _clashes(keys: Mapping[str, str]) -> list[list[str]]:
    """Groups of paper ids (each sorted) that share a key, in key order."""
    groups: dict[str, list[str]] = {}
    for pid, key in keys.items():
        groups.setdefault(key, []).append(pid)
    return [sorted(ids) for key, ids in sorted(groups.items()) if len(ids) > 1]


def _letters(index: int) -> str:
    """0 -> a, 25 -> z, 26 -> aa, …"""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(ord("a") + rem) + letters
    return letters


# --------------------------------------------------------------------------- resources

_NAME = r"(?:[A-Z][\w\-*]*|[0-9]+[A-Za-z][\w\-]*)(?:\s+(?:[A-Z0-9][\w\-]*))*?"
_VERBS = (
    r"(?:introduce|present|release|propose|construct|build|curate|create|develop|"
    r"contribute|collect|design|offer)"
)
#: "We propose", "we further introduce", "this paper introduces", "our work presents".
_INTRO = (
    rf"(?:\b[Ww]e\s+(?:\w+ly\s+)?(?:also\s+|further\s+|first\s+|then\s+)?{_VERBS}"
    rf"(?:\s+in this \w+)?|\b(?:[Tt]his|[Oo]ur)\s+(?:paper|work|study|article)\s+{_VERBS}s|"
    rf"\bby\s+(?:introducing|proposing|presenting|releasing|developing|constructing|building|"
    rf"creating|curating|designing)|\b[Ww]e\b[^.;]{{0,80}}?\band\s+{_VERBS}|"
    rf"\b[Oo]ur\s+(?:proposed\s+)?(?:approach|method|framework|model|system|benchmark|dataset))"
)
_KINDS = (
    r"(?:benchmarking|benchmark|data ?set|corpus|corpora|framework|toolkit|tool|library|suite|"
    r"model|method|knowledge (?:bank|base|graph)|resource|collection|taxonomy|metric|"
    r"leaderboard|platform|"
    r"testbed|environment|simulator|pipeline|system|database|lexicon|treebank|test set|"
    r"language model|agent|architecture|algorithm|approach|technique|protocol|paradigm|"
    r"mechanism|function|module|strategy|scheme|measure|index|score|workflow|network)"
)
_DATA_KINDS = (
    r"(?:benchmark|data ?set|corpus|toolkit|library|suite|knowledge (?:bank|base|graph)|"
    r"leaderboard|testbed|test set|treebank|lexicon)"
)
_ACR = r"[A-Za-z][A-Za-z0-9\-*]*[A-Z0-9][A-Za-z0-9\-*]*"
_RESOURCE_PATTERNS = (
    # "We present NormBank, a knowledge bank of …" / "We introduce X (Long Name): a new benchmark"
    re.compile(
        rf"{_INTRO}\s+(?:the\s+)?(?P<name>{_NAME})"
        rf"(?:\s*\([^()]{{1,80}}\))?\s*(?:[,:]\s*(?:which\s+(?:serves\s+as|is)\s+)?|"
        rf"\s+as\s+|\s+(?:--|—)\s*)(?:a|an|the first)\s+"
        rf"(?:[\w\-]+\s+){{0,6}}?(?P<kind>{_KINDS})s?\b"
    ),
    # "We introduce a new benchmark, X, …" / "we release a dataset called X"
    re.compile(
        rf"{_INTRO}\s+(?:a|an|the|two|three|several)\s+(?:[\w\-]+\s+){{0,8}}?"
        rf"(?P<kind>{_KINDS})s?(?:\s*,\s*|,?\s+(?:called|named|dubbed|termed|namely)\s+|\s+)"
        rf"(?P<name>{_NAME})(?=\s*[,.;:(]|\s+(?:which|that|to|for|with|of|comprising|containing|"
        rf"and)\b|\s+(?:[\w\-]+\s+){{0,3}}\()"
    ),
    # "We propose Relevance Patching (RelP)", "we propose dynamic safety shaping (DSS), a
    # framework", "the Flexible Activation Steering with Backtracking (FASB) framework"
    re.compile(
        rf"{_INTRO}\s+(?:the\s+|a\s+|an\s+)?(?:(?:novel|new|simple|first)\s+)?"
        rf"(?P<long>(?:[^\s,;:.()]+\s+){{0,9}}?[^\s,;:.()]+)\s*\((?P<name>{_ACR})\)"
        rf"(?:\s+(?P<kind>{_KINDS})s?\b|(?=\s*(?:[,.;:]|--|—|$)|\s+(?:as|that|which|to|for|"
        rf"with|in|on|and)\b))"
    ),
    # 'we propose "SelfCheckGPT", a …' / 'we introduce "Outlandish," a … dataset'
    re.compile(
        rf"{_INTRO}\s+(?:the\s+)?[\"“`']+(?P<name>[A-Z][\w\-]*(?:\s+[\w\-]+){{0,3}}?)[,.]?[\"”']+"
        rf"(?:\s*,?\s*(?:a|an|the)\s+(?:[\w\-]+\s+){{0,6}}?(?P<kind>{_KINDS})s?\b)?"
    ),
    # "…, named Self-Feedback" / "a technique called X" / "our approach SAILOR"
    re.compile(
        rf"\b(?:named|called|termed|dubbed|namely|our (?:proposed )?(?:approach|method|"
        rf"framework|model|system|benchmark|dataset),?)\s+(?P<name>{_NAME})"
        rf"(?=\s*[,.;:(]|\s+(?:which|that|to|for|with|of|and|is|can|consistently)\b|$)"
    ),
    # "We propose CopyPasteLLM, obtained …" / "we introduce the Poisoned Context Testbed, …"
    re.compile(
        rf"{_INTRO}\s+(?:the\s+)?(?P<name>{_NAME})(?=\s*[,.;:]|\s+(?:to|for|that|which)\b)"
    ),
    # "… SafetyBench, a comprehensive benchmark for …" (only in a sentence that introduces)
    re.compile(
        rf"(?:^|(?<=[\s(]))(?P<name>{_NAME}),\s+(?:a|an)\s+(?:[\w\-]+\s+){{0,5}}?"
        rf"(?P<kind>{_DATA_KINDS})s?\b"
    ),
)
_INTRO_RE = re.compile(_INTRO)
_NAME_STOPWORDS = frozenset({
    "a", "an", "the", "this", "that", "these", "our", "we", "in", "it", "to", "for", "on",
    "with", "as", "by", "unlike", "existing", "towards", "toward", "beyond", "rethinking",
    "revisiting", "understanding", "when", "why", "how", "what", "is", "are", "do",
})
#: The six kinds the report names, and the words that map onto them.
RESOURCE_KINDS = ("dataset", "benchmark", "model", "method", "framework", "library")
_KIND_WORDS = {
    "benchmark": "benchmark", "benchmarking": "benchmark", "leaderboard": "benchmark",
    "test set": "benchmark",
    "testbed": "benchmark", "suite": "benchmark", "test suite": "benchmark",
    "dataset": "dataset", "corpus": "dataset", "corpora": "dataset", "knowledge bank": "dataset",
    "knowledge base": "dataset", "knowledge graph": "dataset", "resource": "dataset",
    "collection": "dataset", "database": "dataset", "lexicon": "dataset", "treebank": "dataset",
    "taxonomy": "dataset",
    "model": "model", "language model": "model", "agent": "model", "architecture": "model",
    "network": "model",
    "framework": "framework", "pipeline": "framework", "system": "framework",
    "platform": "framework", "environment": "framework", "simulator": "framework",
    "workflow": "framework",
    "library": "library", "toolkit": "library", "tool": "library",
}


def find_resources(sentence: str, title: str = "") -> list[tuple[str, str]]:
    """Return ``(name, kind)`` for each named resource a sentence says it introduces.

    The sentence must introduce ("we propose / introduce / present / release …",
    "this paper introduces …"). Names must look like names: CamelCase (``NormBank``),
    an acronym given in parentheses (``RelP``), contain a digit, span several
    capitalised words (``Moral Stories``), be quoted (``"SelfCheckGPT"``), or be a
    single capitalised word that the paper's ``title`` also carries (``Beacon``).
    ``kind`` is one of :data:`RESOURCE_KINDS`.
    """
    if not _INTRO_RE.search(sentence):
        return []
    found: list[tuple[str, str]] = []
    for index, pattern in enumerate(_RESOURCE_PATTERNS):
        for match in pattern.finditer(sentence):
            name = match.group("name").strip(" -")
            groups = match.groupdict()
            if index == 2 and _looks_like_name(groups["long"]) and " " not in groups["long"]:
                name = groups["long"]  # "SimpleSafetyTests (SST)": the long form is the name
            ok = _looks_like_name(name) or index in (2, 3) or (
                index in (0, 1) and name in re.findall(r"[\w\-]+", title)
                and name[:1].isupper())
            if index == 2 and not _looks_like_name(name):
                ok = False
            if index == 3 and name.lower() in _NAME_STOPWORDS:
                ok = False
            if index != 2:  # "named Long Name (ACR) Evaluation": the ACR
                after = re.match(rf"(?:[\s\w\-]{{0,50}}?)\((?P<acr>{_ACR})\)",
                                 sentence[match.end("name"):])
                longer = " " in name or (after is not None and after.group(0)[:-len(
                    after.group("acr")) - 2].strip() != "")
                if after and longer and _looks_like_name(after.group("acr")) and not after.group(
                        "acr").endswith("s"):
                    name, ok = after.group("acr"), True
            if not ok or _is_known(name, found, sentence) or _not_a_name(name):
                continue
            kind = _kind_of(groups.get("kind"), sentence, name)
            found.append((name, kind))
            # "… ConvexDA and RewardFusion", "(GraNd) and the Error L2-Norm (EL2N)"
            rest = sentence[match.end():]
            more = re.match(rf"\s*(?:,|and)\s+(?:the\s+)?(?:(?:[^\s,;:.()]+\s+){{0,5}}?"
                            rf"\((?P<acr>{_ACR})\)|(?P<name>{_NAME})(?=[\s,.;:]))", rest)
            if index != 3 and more:
                extra = more.group("acr") or more.group("name")
                if _looks_like_name(extra) and not _is_known(extra, found, sentence) \
                        and not _not_a_name(extra):
                    found.append((extra, kind))
    return found


def _not_a_name(name: str) -> bool:
    """Plural acronyms (GNNs) and everyday acronyms (LLM, OOD) name no new resource."""
    from litreview.review_roles import COMMON_ACRONYMS

    bare = name.rstrip("*")
    return (bare in COMMON_ACRONYMS or bare in {"OOD", "ID", "IID"}
            or bool(re.fullmatch(r"[A-Z][A-Z0-9]*[A-Z]s", bare)))


def _is_known(name: str, found: Sequence[tuple[str, str]], sentence: str) -> bool:
    for other, _ in found:
        a, b = name.lower(), other.lower()
        if a == b or a in b or b in a:
            return True
        if f"{other} ({name})" in sentence or f"{name} ({other})" in sentence:
            return True
    return False


def _kind_of(word: str | None, sentence: str, name: str, title: str = "") -> str:
    """One of :data:`RESOURCE_KINDS`: the kind word the pattern matched, else the nearest
    kind word after the name in the sentence (then in the title), else ``method``."""
    if word:
        return _normalise_kind(word)
    at = sentence.find(name) if name else -1
    after = " ".join(sentence[at + len(name):].split()[:10]) if at >= 0 else sentence
    before = " ".join(sentence[:at].split()[-8:]) if at >= 0 else ""
    named = re.search(r"(?:called|named|termed|dubbed|namely|approach|method|framework|model|"
                      r"system|benchmark|dataset),?\s*$", before)
    for text in ((before, after, title) if named else (after, before, title)):
        match = re.search(rf"(?<![\w-]){_KINDS}s?\b", text, re.I)
        if match:
            return _normalise_kind(match.group(0))
    return "method"


def introduced_resources(title: str, sentences: Sequence[str]) -> list[tuple[str, str, str]]:
    """``(name, kind, sentence)`` for each resource a paper introduces, in reading order.

    Sentences first (:func:`find_resources`), then the title: a title shaped
    ``"X: …"`` names a resource when X is one name-like token (``MOSSBench:``,
    ``EgoNormia:``, ``Beacon:``) and the abstract presents it — mentions X or says
    "we propose / introduce / present". Its sentence is the first that mentions X,
    else the title.
    """
    title = normalise_whitespace(title)
    out: list[tuple[str, str, str]] = []
    names: list[tuple[str, str]] = []
    for sentence in sentences:
        for name, kind in find_resources(sentence, title):
            if not _is_known(name, names, sentence):
                names.append((name, kind))
                out.append((name, kind, sentence))
    head, sep, tail = title.partition(":")
    head = head.strip()
    one_token = len(head.split()) == 1 or bool(re.fullmatch(r"\S+ [0-9IVX]+", head))
    if sep and head and one_token and head.lower() not in _NAME_STOPWORDS:
        mentioned = [s for s in sentences if re.search(rf"(?<![\w-]){re.escape(head)}(?![\w-])", s)]
        single_word = " " not in head and head[:1].isupper() and head[1:].islower()
        name_like = _looks_like_name(head) and "(" not in head and len(head) <= 30
        camel = name_like and head[:1].isalpha()  # not "3D-Properties"
        presents = mentioned or (camel and any(_INTRO_RE.search(s) for s in sentences))
        if ((name_like and presents) or (single_word and mentioned)) and not _is_known(
                head, names, title):
            kind = _kind_of(None, tail, "", "")
            if kind == "method":
                kind = _kind_of(None, mentioned[0], head) if mentioned else "method"
            out.append((head, kind, mentioned[0] if mentioned else title))
    return out


def _looks_like_name(name: str) -> bool:
    tokens = name.split()
    if not tokens or tokens[0].lower() in _NAME_STOPWORDS or len(name) > 60:
        return False
    if len(tokens) >= 2:
        return all(t[0].isupper() or t[0].isdigit() for t in tokens)
    token = tokens[0]
    letters = [c for c in token if c.isalpha()]
    has_inner_capital = any(c.isupper() for c in token[1:])
    return bool(letters) and (has_inner_capital or any(c.isdigit() for c in token))


def _normalise_kind(kind: str) -> str:
    kind = kind.lower().replace("data set", "dataset")
    if kind not in _KIND_WORDS and kind.endswith("s"):
        kind = kind[:-1]
    return _KIND_WORDS.get(kind, "method")


# --------------------------------------------------------------------------- strategic diagram


def compute_strategic_diagram(
    documents: Sequence[str],
    theme_terms: Mapping[int, Sequence[str]],
    *,
    sizes: Mapping[int, int] | None = None,
    names: Mapping[int, str] | None = None,
    max_documents: int | None = STRATEGIC_MAX_PAPERS,
) -> pd.DataFrame:
    """Place each theme on Callon centrality × density from a co-word network.

    Terms are each theme's top terms; documents are binary term occurrences
    (CountVectorizer with the terms' n-gram range), counted over every document, or
    over a fixed random sample of ``max_documents`` of them (seed 0) when there are
    more: shares of co-occurrence are stable long before 20,000 papers, and reading
    every text of a 75k corpus took 15 s. Link strength between two
    terms is the equivalence index ``e_ij = c_ij² / (c_i c_j)``. A theme's
    centrality is 10 × the sum of its terms' links to other themes' terms; its
    density is 100 × the sum of links among its own terms divided by their number.
    Returns one row per theme with ``topic, name, size, centrality, density, quadrant``.
    """
    from sklearn.feature_extraction.text import CountVectorizer

    term_sets = {t: list(dict.fromkeys(str(x).lower() for x in terms if str(x).strip()))
                 for t, terms in theme_terms.items()}
    vocabulary = sorted({term for terms in term_sets.values() for term in terms})
    topics = list(term_sets)
    if not vocabulary or not topics:
        return _empty_strategic()
    max_n = max(len(term.split()) for term in vocabulary)
    vectorizer = CountVectorizer(
        vocabulary=vocabulary, ngram_range=(1, max_n), binary=True, lowercase=True
    )
    if max_documents is not None and len(documents) > max_documents:
        picked = np.sort(np.random.default_rng(0).choice(len(documents), max_documents,
                                                         replace=False))
        documents = [documents[i] for i in picked]
    occurrences = vectorizer.fit_transform([normalise_whitespace(d) for d in documents])
    cooc = (occurrences.T @ occurrences).toarray().astype(float)
    counts = np.diag(cooc).copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        equivalence = np.where(
            np.outer(counts, counts) > 0, cooc**2 / np.outer(counts, counts), 0.0
        )
    np.fill_diagonal(equivalence, 0.0)
    index = {term: i for i, term in enumerate(vocabulary)}
    rows = []
    for topic in topics:
        own = [index[t] for t in term_sets[topic]]
        others = sorted({index[t] for o in topics if o != topic for t in term_sets[o]} - set(own))
        external = equivalence[np.ix_(own, others)].sum() if others and own else 0.0
        internal = np.triu(equivalence[np.ix_(own, own)], k=1).sum() if own else 0.0
        rows.append(
            {
                "topic": int(topic),
                "name": (names or {}).get(topic, f"Theme {topic}"),
                "size": int((sizes or {}).get(topic, 0)),
                "centrality": 10.0 * float(external),
                "density": 100.0 * float(internal) / max(len(own), 1),
            }
        )
    return assign_quadrants(pd.DataFrame(rows))


def assign_quadrants(strategic: pd.DataFrame) -> pd.DataFrame:
    """Add a ``quadrant`` column, splitting centrality and density at their medians.

    High means strictly above the median, so with an odd number of themes the
    median theme counts as low.
    """
    df = strategic.copy()
    if df.empty:
        df["quadrant"] = pd.Series(dtype=str)
        return df
    high_c = df["centrality"] > df["centrality"].median()
    high_d = df["density"] > df["density"].median()
    df["quadrant"] = np.select(
        [high_c & high_d, ~high_c & high_d, ~high_c & ~high_d],
        ["motor", "niche", "emerging"],
        default="basic",
    )
    return df


def quadrant_sentences(strategic: pd.DataFrame) -> dict[str, str]:
    """One sentence per quadrant naming its themes (largest first)."""
    sentences: dict[str, str] = {}
    for quadrant, label in QUADRANTS.items():
        members = strategic[strategic["quadrant"] == quadrant].sort_values(
            ["size", "name"], ascending=[False, True]
        )
        gloss = _QUADRANT_GLOSS[quadrant]
        if members.empty:
            sentences[quadrant] = f"{label} ({gloss}): none."
        else:
            sentences[quadrant] = f"{label} ({gloss}): {_join(list(members['name']))}."
    return sentences


def _empty_strategic() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "topic": pd.Series(dtype=int), "name": pd.Series(dtype=str),
            "size": pd.Series(dtype=int), "centrality": pd.Series(dtype=float),
            "density": pd.Series(dtype=float), "quadrant": pd.Series(dtype=str),
        }
    )


# --------------------------------------------------------------------------- key terms


def compute_term_weights(
    documents: Sequence[str], document_topics: Sequence[int],
    theme_terms: Mapping[int, Sequence[str]], *, max_documents: int | None = STRATEGIC_MAX_PAPERS,
) -> pd.DataFrame:
    """How much each theme's key terms weigh: the share of the theme's papers using each.

    Returns ``topic, term, rank, theme_share, corpus_share`` (shares in 0–1 of papers whose
    title or abstract contains the term; binary occurrence, as in the strategic diagram,
    over a fixed sample of ``max_documents`` when the corpus is larger).
    """
    from sklearn.feature_extraction.text import CountVectorizer

    terms = {int(t): list(dict.fromkeys(str(x).lower() for x in ts if str(x).strip()))
             for t, ts in theme_terms.items()}
    vocabulary = sorted({term for ts in terms.values() for term in ts})
    columns = ["topic", "term", "rank", "theme_share", "corpus_share"]
    if not vocabulary or not len(documents):
        return pd.DataFrame(columns=columns)
    labels = np.asarray(document_topics, dtype=int)
    if max_documents is not None and len(documents) > max_documents:
        picked = np.sort(np.random.default_rng(0).choice(len(documents), max_documents,
                                                         replace=False))
        documents = [documents[i] for i in picked]
        labels = labels[picked]
    max_n = max(len(term.split()) for term in vocabulary)
    # English stop words are dropped as the topics stage does, so "theory of mind" counts
    # for the key term "theory mind".
    occurrences = CountVectorizer(vocabulary=vocabulary, ngram_range=(1, max_n), binary=True,
                                  lowercase=True, stop_words="english").fit_transform(
        [normalise_whitespace(d) for d in documents]).tocsc()
    index = {term: i for i, term in enumerate(vocabulary)}
    corpus = np.asarray(occurrences.mean(axis=0)).ravel()
    rows = []
    for topic, ts in terms.items():
        members = np.flatnonzero(labels == topic)
        share = (np.asarray(occurrences[members].mean(axis=0)).ravel() if len(members)
                 else np.zeros(len(vocabulary)))
        for rank, term in enumerate(ts, start=1):
            rows.append((topic, term, rank, float(share[index[term]]),
                         float(corpus[index[term]])))
    return pd.DataFrame(rows, columns=columns)


# --------------------------------------------------------------------------- loading


@dataclass
class _Inputs:
    papers: pd.DataFrame
    records: pd.DataFrame
    doc_topics: pd.DataFrame
    topics: pd.DataFrame
    similarity: pd.DataFrame
    hierarchy: pd.DataFrame
    metrics: dict[str, Any]
    manifest: dict[str, Any]
    hashes: dict[str, str]
    strands: pd.DataFrame | None = None  # data/strands.parquet when stage 02 wrote it


def _load_inputs(out_dir: str | os.PathLike) -> _Inputs:
    tables = {name: io.load_table(out_dir, name) for name in INPUT_TABLES}
    metrics_path = config.data_dir(out_dir) / METRICS_FILE
    if not metrics_path.exists():
        raise FileNotFoundError(
            f"{metrics_path} is missing: run the topics stage first "
            f"(`litreview run --out {out_dir}`)."
        )
    hashes = {
        os.fspath(path): manifest.sha256_file(path) for path in input_paths(out_dir)
    }
    papers = tables["papers"].copy()
    papers["paper_id"] = papers["paper_id"].astype(str)
    doc_topics = tables["doc_topics"].copy()
    doc_topics["paper_id"] = doc_topics["paper_id"].astype(str)
    topics = tables["topics"].sort_values(["size", "topic"], ascending=[False, True])
    strands_path = config.data_dir(out_dir) / f"{STRANDS_TABLE}.parquet"
    strands = io.load_table(out_dir, STRANDS_TABLE) if strands_path.exists() else None
    return _Inputs(
        strands=strands,
        papers=papers.set_index("paper_id", drop=False),
        records=tables["records"],
        doc_topics=doc_topics,
        topics=topics.reset_index(drop=True),
        similarity=tables["topic_similarity"],
        hierarchy=tables["topic_hierarchy"],
        metrics=io.read_json(metrics_path),
        manifest=manifest.read_manifest(out_dir),
        hashes=hashes,
    )


def input_paths(out_dir: str | os.PathLike) -> list[Path]:
    """The files the review stage reads."""
    folder = config.data_dir(out_dir)
    optional = [folder / f"{STRANDS_TABLE}.parquet"]
    return ([folder / f"{name}.parquet" for name in INPUT_TABLES] + [folder / METRICS_FILE]
            + [path for path in optional if path.exists()])


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


def _compose(
    inputs: _Inputs, *, n_representative: int, n_key_sentences: int, title: str, author: str
) -> Review:
    papers, topics, doc_topics = inputs.papers, inputs.topics, inputs.doc_topics
    keys = assign_citation_keys(papers)
    abstracts = {pid: normalise_whitespace(a) for pid, a in papers["abstract"].items()}
    names = {int(t): _clean_label(label, int(t)) for t, label in zip(
        topics["topic"], topics["label"], strict=True)}
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

    strategic = compute_strategic_diagram(
        [f"{_text(t)}. {_text(a)}" for t, a in zip(papers["title"], papers["abstract"],
                                                   strict=True)],
        {int(t): _as_list(terms) for t, terms in zip(topics["topic"], topics["top_terms"],
                                                     strict=True)},
        sizes=dict(zip(topics["topic"].astype(int), topics["size"].astype(int), strict=True)),
        names=names,
        max_documents=STRATEGIC_MAX_PAPERS,
    )
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
        term_weights=compute_term_weights(
            [texts[pid] for pid in papers["paper_id"]],
            [topic_of.get(pid, -1) for pid in papers["paper_id"]],
            {int(t): _as_list(terms) for t, terms in zip(
                topics["topic"], topics["top_terms"], strict=True)},
        ),
    )
    overview.paragraph = _overview_paragraph(overview, sections, cross, names)
    review = Review(
        title=title,
        author=author,
        overview=overview,
        themes=sections,
        cross=cross,
        outliers=_outliers(papers, doc_topics, keys),
        papers=_paper_table(papers, doc_topics, keys, names),
        references=[],
        methods=_methods(inputs, n_representative, n_key_sentences),
        keys=keys,
    )
    review.unplaced = {pid: writer.contribution(pid) for pid in review.outliers["paper_id"]
                       if titles.get(pid) or abstracts.get(pid)}
    review.references = _references(review, papers)
    return review


def theme_anchor(topic: int) -> str:
    """The HTML id of a theme's section."""
    return f"theme-{int(topic)}"


class _Quoter:
    """Choose key sentences, gists and resources for themes using TF-IDF centrality."""

    def __init__(
        self,
        abstracts: Mapping[str, str],
        keys: Mapping[str, str],
        topics: pd.DataFrame,
        members: Mapping[int, pd.DataFrame],
    ) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.abstracts = abstracts
        self.keys = keys
        self.members = members
        candidates: dict[int, list[str]] = {}
        for row in topics.itertuples(index=False):
            top = list(members.get(int(row.topic), _NO_MEMBERS)["paper_id"][
                :CANDIDATE_PAPERS_PER_THEME])
            reps = [str(p) for p in _as_list(row.representative_paper_ids)]
            candidates[int(row.topic)] = list(dict.fromkeys(top + reps))
        self.candidates = candidates
        self.sentences: dict[str, list[str]] = {}
        flat: list[str] = []
        self.rows: dict[str, range] = {}
        for paper_ids in candidates.values():
            for pid in paper_ids:
                if pid in self.rows or pid not in abstracts:
                    continue
                sentences = split_sentences(abstracts[pid])
                self.sentences[pid] = sentences
                self.rows[pid] = range(len(flat), len(flat) + len(sentences))
                flat.extend(sentences)
        self.matrix = None
        if flat:
            vectorizer = TfidfVectorizer(
                stop_words="english", sublinear_tf=True, ngram_range=(1, 2)
            )
            try:
                self.matrix = vectorizer.fit_transform(flat)
            except ValueError:  # only stop words
                self.matrix = None
        # One unit-length row per paper: the sum of its sentences' rows. Kept sparse:
        # the uni+bigram vocabulary of a large corpus has ~10^6 columns.
        self.paper_row = {pid: i for i, pid in enumerate(self.rows)}
        self.paper_matrix = None
        if self.matrix is not None:
            from scipy import sparse
            from sklearn.preprocessing import normalize

            owner = np.repeat(np.arange(len(self.rows)), [len(r) for r in self.rows.values()])
            gather = sparse.csr_matrix(
                (np.ones(len(owner)), (owner, np.arange(len(owner)))),
                shape=(len(self.rows), self.matrix.shape[0]),
            )
            self.paper_matrix = normalize(gather @ self.matrix)
        # Sentences typical of the whole corpus ("LLMs have achieved remarkable…") match
        # every theme; subtracting part of their similarity to the corpus favours
        # sentences that say what is specific to a theme.
        self.background = (
            _unit(np.asarray(self.matrix.mean(axis=0)).ravel()) if self.matrix is not None
            else None
        )

    def _weights(self, topic: int) -> dict[str, float]:
        frame = self.members.get(topic, _NO_MEMBERS)
        return {
            pid: float(np.clip(c, 0.05, 1.0)) if not _is_missing(c) else 0.05
            for pid, c in zip(frame["paper_id"], frame["centrality"], strict=True)
        }

    def _paper_vector(self, pid: str) -> Any:
        """Return the paper's unit TF-IDF row (1 × vocabulary, sparse), or None."""
        if self.paper_matrix is None or not self.rows.get(pid):
            return None
        row = self.paper_row[pid]
        return self.paper_matrix[row : row + 1]

    def _centroid(self, topic: int) -> np.ndarray | None:
        weights = self._weights(topic)
        with_text = [pid for pid in self.candidates.get(topic, []) if self.rows.get(pid)]
        if self.paper_matrix is None or not with_text:
            return None
        rows = self.paper_matrix[[self.paper_row[pid] for pid in with_text]]
        weighted = np.asarray([weights.get(pid, 0.05) for pid in with_text]) @ rows
        return _unit(np.asarray(weighted).ravel())

    def _sentence_vectors(self, pid: str) -> Any:
        # Sparse rows: the uni+bigram vocabulary of a large corpus has ~10^6 columns, and
        # dense copies of every candidate sentence took gigabytes at 75k papers.
        rows = self.rows[pid]
        return self.matrix[rows.start : rows.stop]

    def key_sentences(self, topic: int, n: int) -> list[Sentence]:
        """Pick up to ``n`` central, self-contained, non-redundant sentences (one per paper)."""
        centroid = self._centroid(topic)
        if centroid is None or n <= 0:
            return []
        weights = self._weights(topic)
        scored: list[tuple[float, str, int, np.ndarray]] = []
        for pid in self.candidates[topic]:
            if pid not in self.rows or not self.rows[pid]:
                continue
            vectors = self._sentence_vectors(pid)
            boost = 0.5 + 0.5 * weights.get(pid, 0.05)
            specific = np.asarray(
                vectors @ centroid - BACKGROUND_PENALTY * (vectors @ self.background)
            ).ravel()
            for i, score in enumerate(specific):
                scored.append((float(score) * boost, pid, i, vectors[i]))
        scored.sort(key=lambda item: (-item[0], item[1], item[2]))
        chosen: list[tuple[Sentence, np.ndarray]] = []
        for strict in (True, False):
            for score, pid, i, vector in scored:
                if len(chosen) >= n or (not strict and len(chosen) >= min(2, n)):
                    break
                text = self.sentences[pid][i]
                if score <= 0 or not _is_quotable(text, strict=strict):
                    continue
                if any(s.paper_id == pid for s, _ in chosen):
                    continue
                if any(float(vector.multiply(v).sum()) > REDUNDANCY_THRESHOLD
                       for _, v in chosen):
                    continue
                chosen.append((Sentence(text, pid, self.keys[pid], round(score, 4)), vector))
        return [s for s, _ in chosen]

    def gist(self, pid: str) -> Sentence | None:
        """The sentence of a paper's abstract closest to its own abstract centroid."""
        sentences = self.sentences.get(pid) or split_sentences(self.abstracts.get(pid, ""))
        if not sentences:
            return None
        own = self._paper_vector(pid) if pid in self.rows else None
        scores = (
            (self._sentence_vectors(pid) @ own.T).toarray().ravel() if own is not None
            else np.zeros(len(sentences))
        )
        order = sorted(range(len(sentences)), key=lambda i: (-scores[i], i))
        for strict in (True, False):
            for i in order:
                if _is_quotable(sentences[i], strict=strict):
                    return Sentence(sentences[i], pid, self.keys[pid], round(float(scores[i]), 4))
        return Sentence(sentences[order[0]], pid, self.keys[pid], round(float(scores[order[0]]), 4))

    def representatives(
        self, topic: int, listed: Iterable[Any], n: int, papers: pd.DataFrame,
        exclude: set[str] | frozenset[str] = frozenset(),
    ) -> list[RepresentativePaper]:
        """The theme's ``n`` most representative papers (stage 02's order, then centrality),
        never one of ``exclude`` (papers stage 02 marked peripheral)."""
        ranked = [str(p) for p in listed] + list(self.members.get(topic, _NO_MEMBERS)["paper_id"])
        chosen = [pid for pid in dict.fromkeys(ranked)
                  if pid in papers.index and pid not in exclude][:n]
        result = []
        for pid in chosen:
            paper = papers.loc[pid]
            code = _code_urls(paper)
            result.append(
                RepresentativePaper(
                    paper_id=pid,
                    key=self.keys[pid],
                    title=normalise_whitespace(paper["title"]),
                    year=_year(paper["year"]),
                    gist=self.gist(pid),
                    code_url=code[0] if code else None,
                )
            )
        return result

    def resources(self, topic: int) -> list[Resource]:
        """Named resources introduced by the theme's most central papers."""
        found: list[Resource] = []
        seen: set[str] = set()
        frame = self.members.get(topic, _NO_MEMBERS)
        for pid in frame["paper_id"][:RESOURCE_SCAN_PER_THEME]:
            abstract = self.abstracts.get(pid, "")
            if not _MAY_INTRODUCE.search(abstract):
                continue
            for sentence in self.sentences.get(pid) or split_sentences(abstract):
                for name, kind in find_resources(sentence):
                    if name.lower() in seen:
                        continue
                    seen.add(name.lower())
                    found.append(Resource(name, kind, Sentence(sentence, pid, self.keys[pid])))
            if len(found) >= MAX_RESOURCES_PER_THEME:
                break
        return found[:MAX_RESOURCES_PER_THEME]


def _resources_by_paper(
    sentences: _Sentences, titles: Mapping[str, str], keys: Mapping[str, str],
    paper_ids: Iterable[str],
) -> dict[str, list[Resource]]:
    """Named resources each paper says it introduces (every paper, no cap)."""
    found: dict[str, list[Resource]] = {}
    for pid in paper_ids:
        abstract = sentences.abstracts.get(pid, "")
        title = titles.get(pid, "")
        if not (":" in title or _INTRO_RE.search(abstract)):
            continue
        seen: set[str] = set()
        for name, kind, text in introduced_resources(title, sentences.split(pid)):
            if name.lower() not in seen:
                seen.add(name.lower())
                found.setdefault(pid, []).append(
                    Resource(name, kind, Sentence(text, pid, keys[pid], role="objective")))
    return found


_MAY_INTRODUCE = re.compile(rf"\b[Ww]e\s+(?:also\s+|further\s+)?{_VERBS}\b|,\s+an?\s")
_NO_MEMBERS = pd.DataFrame({"paper_id": pd.Series(dtype=str), "centrality": pd.Series(
    dtype=float)})


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
    corpus_line = (
        f"{_count(n_papers, 'paper')} from {_count(n_listings, 'listing')} "
        f"({_count(n_records, 'record')}, {_count(n_duplicates, 'duplicate')} merged, "
        f"{n_rejected} rejected)"
    )
    glance = pd.DataFrame(
        {
            "topic": [s.topic for s in sections],
            "name": [s.name for s in sections],
            "anchor": [s.anchor for s in sections],
            "papers": [s.size for s in sections],
            "share": [s.share for s in sections],
            "top_terms": [s.top_terms[:6] for s in sections],
        }
    )
    n_outliers = int((inputs.doc_topics["topic"] < 0).sum())
    return Overview(corpus_line, n_papers, n_listings, n_records, n_duplicates, n_rejected,
                    n_outliers, glance, paragraph="")


def _overview_paragraph(
    overview: Overview, sections: list[ThemeSection], cross: CrossTheme,
    names: Mapping[int, str],
) -> str:
    if not sections:
        return (f"No themes were found: all {_count(overview.n_papers, 'paper')} "
                "are listed among the papers in no theme.")
    largest = [
        f"{s.name} ({_count(s.size, 'paper')}, {format_percent(s.share)})" for s in sections[:3]
    ]
    parts = [
        f"The corpus falls into {_count(len(sections), 'theme')}; the largest "
        f"{'is' if len(largest) == 1 else 'are'} {_join(largest)}."
    ]
    groups = cross.groups
    if len(groups) == 2:
        a, b = ([names[t] for t in g] for g in groups)
        if len(b) == 1:
            parts.append(
                f"In the theme hierarchy, {b[0]} stands apart from the other "
                f"{_count(len(a), 'theme')}, which gather around {_join(a[:2])}."
            )
        else:
            parts.append(
                f"The theme hierarchy splits the field into two branches: one gathers "
                f"{_join_some(a)}; the other gathers {_join_some(b)}."
            )
    if not cross.closest_pairs.empty:
        pair = cross.closest_pairs.iloc[0]
        parts.append(
            f"The most closely related pair is {pair['name_a']} and {pair['name_b']} "
            f"(similarity {pair['similarity']:.2f})"
            + (f"; {_count(overview.n_outliers, 'paper')} "
               f"({format_percent(overview.n_outliers / max(overview.n_papers, 1))}) fit no theme."
               if overview.n_outliers else ".")
        )
    return " ".join(parts)


def _outliers(
    papers: pd.DataFrame, doc_topics: pd.DataFrame, keys: Mapping[str, str]
) -> pd.DataFrame:
    ids = doc_topics.loc[doc_topics["topic"] < 0, "paper_id"].astype(str)
    frame = papers.loc[[p for p in ids if p in papers.index]]
    out = pd.DataFrame(
        {
            "paper_id": frame["paper_id"].to_numpy(),
            "key": [keys[p] for p in frame["paper_id"]],
            "title": [normalise_whitespace(t) for t in frame["title"]],
            "year": [_year(y) for y in frame["year"]],
            "sources": [", ".join(str(s) for s in _as_list(s)) for s in frame["sources"]],
            "url": [_primary_url(row) for row in _link_fields(frame)],
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


def _link_fields(papers: pd.DataFrame) -> list[dict[str, Any]]:
    """Return the fields ``_links`` reads, one dict per paper (fast, unlike iterrows)."""
    return papers.reindex(
        columns=["paper_id", "doi", "arxiv_id", "pmid", "url", "urls"]).to_dict("records")


def _references(review: Review, papers: pd.DataFrame) -> list[Reference]:
    cited = {s.paper_id for s in review.citations()}
    cited |= {p.paper_id for t in review.themes for p in t.representatives}
    refs = []
    for pid in cited:
        paper = papers.loc[pid]
        refs.append(
            Reference(
                key=review.keys[pid],
                paper_id=pid,
                title=normalise_whitespace(paper["title"]),
                year=_year(paper["year"]),
                sources=tuple(str(s) for s in _as_list(paper.get("sources"))),
                links=tuple(_links(paper)),
                code_urls=_code_urls(paper),
            )
        )
    return sorted(refs, key=lambda r: (r.key.lower(), r.key))


def _methods(inputs: _Inputs, n_representative: int, n_key_sentences: int) -> Methods:
    recorded = inputs.manifest
    metrics = dict(inputs.metrics)
    return Methods(
        generated_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
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
    )


# --------------------------------------------------------------------------- strands

#: Most strands a theme is split into when stage 02 recorded none.
MAX_STRANDS = 6
#: Most central core papers per strand whose sentences compete as problem, finding or open issue.
STRAND_CANDIDATES = 60
N_PROBLEM_SENTENCES = 2
N_OPEN_SENTENCES = 2
STRANDS_TABLE = "strands"
_DATA_KINDS_SET = frozenset({
    "benchmark", "dataset", "corpus", "knowledge bank", "knowledge base", "knowledge graph",
    "resource", "collection", "leaderboard", "testbed", "test set", "treebank", "lexicon",
    "suite", "database", "taxonomy", "environment", "simulator", "platform", "library",
    "toolkit", "tool",
})


class _Sentences:
    """Sentences of every abstract, with roles and quotability worked out only when asked.

    Classifying every sentence of a 75k-paper corpus costs minutes; the write-up needs
    roles for a strand's central papers and one contribution sentence per paper.
    """

    def __init__(self, abstracts: Mapping[str, str], known_acronyms: Iterable[str]) -> None:
        self.abstracts = abstracts
        self.known = frozenset(known_acronyms)
        self._split: dict[str, list[str]] = {}
        self._roled: dict[str, list[RoledSentence]] = {}

    def split(self, pid: str) -> list[str]:
        if pid not in self._split:
            self._split[pid] = split_sentences(self.abstracts.get(pid, ""))
        return self._split[pid]

    def roled(self, pid: str) -> list[RoledSentence]:
        if pid not in self._roled:
            self._roled[pid] = roled_sentences(self.abstracts.get(pid, ""),
                                               known_acronyms=self.known)
        return self._roled[pid]

    def contribution(self, pid: str) -> RoledSentence | None:
        """The paper's contribution sentence (see :func:`review_roles.contribution_sentence`)."""
        if pid in self._roled:
            return contribution_sentence(self._roled[pid])
        sentences = self.split(pid)
        n = len(sentences)
        for i, text in enumerate(sentences):  # fast path: the first quotable "we propose …"
            if _CONTRIBUTION_CUE.search(text) and quotable(text, known_acronyms=self.known):
                return RoledSentence(text, i, n, "objective", True, True)
        # Same preference as review_roles.contribution_sentence, classifying only the
        # sentences that can win (roles and quotability are the costly part at 75k papers).
        best: tuple[int, int, RoledSentence] | None = None
        for i, text in enumerate(sentences):
            we = _WE_SUBJECT_CUE.search(text) is not None
            if not we and (i == 0 or not _RESULT_CUE.search(text)):
                continue
            role = sentence_role(text, i, n)
            rank = ({"objective": 1, "result": 2, "method": 3}.get(role, 9) if we
                    else (4 if role == "result" and not _BACKGROUND_CUE.search(text) else 9))
            if rank < 9 and (best is None or (rank, i) < best[:2]) and quotable(
                    text, known_acronyms=self.known):
                best = (rank, i, RoledSentence(text, i, n, role, True, False))
        return best[2] if best else None


from litreview.review_roles import _BACKGROUND as _BACKGROUND_CUE  # noqa: E402
from litreview.review_roles import _RESULT as _RESULT_CUE  # noqa: E402
from litreview.review_roles import _WE_SUBJECT as _WE_SUBJECT_CUE  # noqa: E402
from litreview.review_roles import sentence_role  # noqa: E402

_CONTRIBUTION_CUE = re.compile(
    r"\b(?:we|paper|work|study)\s+(?:\w+ly\s+)?(?:propose|introduce|present|develop|release|"
    r"design|construct|build|create|curate|contribute|offer|formali[sz]e|provide)s?\b", re.I)


@dataclass
class _StrandSpec:
    strand: int
    label: str
    top_terms: list[str]
    members: list[str]  # most central first
    core: list[str]  # members that may represent the strand (not peripheral)


def _strand_specs(
    inputs: _Inputs, members: Mapping[int, pd.DataFrame], texts: Mapping[str, str],
    theme_terms: Mapping[int, Sequence[str]],
) -> dict[int, list[_StrandSpec]]:
    """Strands of every theme: stage 02's when ``doc_topics`` has a ``strand`` column,
    otherwise a deterministic sub-clustering of each theme's papers on their TF-IDF rows."""
    doc = inputs.doc_topics
    if "strand" in doc.columns:
        return _recorded_strands(doc, inputs.strands, members)
    return _subcluster_strands(members, texts, theme_terms)


def _recorded_strands(
    doc: pd.DataFrame, table: pd.DataFrame | None, members: Mapping[int, pd.DataFrame]
) -> dict[int, list[_StrandSpec]]:
    info: dict[int, dict[str, Any]] = {}
    if table is not None and not table.empty:
        for row in table.to_dict("records"):
            info[int(row["strand"])] = row
    strand_of = dict(zip(doc["paper_id"].astype(str), pd.to_numeric(
        doc["strand"], errors="coerce").fillna(-1).astype(int), strict=True))
    membership = (dict(zip(doc["paper_id"].astype(str), doc["membership"].astype(str),
                           strict=True)) if "membership" in doc.columns else {})
    labels = (dict(zip(doc["paper_id"].astype(str), doc["strand_label"], strict=True))
              if "strand_label" in doc.columns else {})
    if "similarity" in doc.columns:
        similarity = dict(zip(doc["paper_id"].astype(str), pd.to_numeric(
            doc["similarity"], errors="coerce").fillna(-1.0), strict=True))
    else:
        similarity = {}
    specs: dict[int, list[_StrandSpec]] = {}
    for topic, frame in members.items():
        ids = list(frame["paper_id"])
        by_strand: dict[int, list[str]] = {}
        for pid in ids:
            by_strand.setdefault(strand_of.get(pid, -1), []).append(pid)
        out = []
        for strand, pids in by_strand.items():
            rank = {p: i for i, p in enumerate(pids)}
            pids = sorted(pids, key=lambda p: (-similarity.get(p, -1.0), rank[p])) \
                if similarity else pids
            row = info.get(strand, {})
            label = normalise_whitespace(_text(row.get("label")) or _text(labels.get(pids[0])))
            if strand < 0:
                label = "Other papers of this theme"
            terms = [str(t) for t in _as_list(row.get("top_terms"))]
            core = [p for p in pids if membership.get(p, "core") != "peripheral"] or pids
            out.append(_StrandSpec(strand, label or f"Strand {strand}", terms, pids, core))
        specs[topic] = _ordered(out)
    return specs


def _ordered(specs: list[_StrandSpec]) -> list[_StrandSpec]:
    """Largest strand first; "other papers" (strand -1) last."""
    return sorted(specs, key=lambda s: (s.strand < 0, -len(s.members), s.label, s.strand))


def _subcluster_strands(
    members: Mapping[int, pd.DataFrame], texts: Mapping[str, str],
    theme_terms: Mapping[int, Sequence[str]],
) -> dict[int, list[_StrandSpec]]:
    """Ward clustering of each theme's papers (TF-IDF, reduced by a seeded SVD).

    The number of strands is round(sqrt(n / 5)), between 1 and :data:`MAX_STRANDS`;
    themes above 2,000 papers use seeded k-means instead of Ward (quadratic memory).
    Each strand is named by the three terms most over-represented in it relative to
    its theme.
    """
    from sklearn.cluster import AgglomerativeClustering, KMeans
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import normalize

    ids = [pid for frame in members.values() for pid in frame["paper_id"]]
    specs: dict[int, list[_StrandSpec]] = {}
    if not ids:
        return specs
    vectorizer = TfidfVectorizer(stop_words="english", sublinear_tf=True, ngram_range=(1, 2),
                                 min_df=2, max_features=50_000)
    try:
        matrix = vectorizer.fit_transform([texts.get(pid, "") for pid in ids])
    except ValueError:
        matrix = None
    row_of = {pid: i for i, pid in enumerate(ids)}
    vocab = vectorizer.get_feature_names_out() if matrix is not None else np.array([])
    for topic, frame in members.items():
        pids = list(frame["paper_id"])
        k = int(min(MAX_STRANDS, max(1, round(math.sqrt(len(pids) / 5)))))
        if matrix is None or k == 1 or len(pids) < 6:
            labels = np.zeros(len(pids), dtype=int)
        else:
            rows = matrix[[row_of[p] for p in pids]]
            n_comp = int(min(50, rows.shape[1] - 1, len(pids) - 1))
            reduced = (normalize(TruncatedSVD(n_comp, random_state=0).fit_transform(rows))
                       if n_comp >= 2 else rows.toarray())
            if len(pids) > 2000:
                labels = KMeans(k, n_init=3, random_state=0).fit_predict(reduced)
            else:
                labels = AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(reduced)
        theme_rows = matrix[[row_of[p] for p in pids]] if matrix is not None else None
        theme_mean = (np.asarray(theme_rows.mean(axis=0)).ravel()
                      if theme_rows is not None else None)
        skip = {str(t).lower() for t in theme_terms.get(topic, [])}
        out = []
        for label in sorted(set(labels.tolist())):
            group = [p for p, lab in zip(pids, labels, strict=True) if lab == label]
            terms: list[str] = []
            if theme_rows is not None and len(set(labels.tolist())) > 1:
                mean = np.asarray(matrix[[row_of[p] for p in group]].mean(axis=0)).ravel()
                lift = mean - theme_mean
                for j in np.lexsort((vocab, -lift))[:40]:
                    term = str(vocab[j])
                    if lift[j] <= 0 or term in skip or any(term in t or t in term for t in terms):
                        continue
                    terms.append(term)
                    if len(terms) == 3:
                        break
            terms = [_display_case(t, [texts.get(p, "") for p in group[:50]]) for t in terms]
            name = _join(terms) if terms else "All papers of this theme"
            out.append(_StrandSpec(int(label), name[:1].upper() + name[1:], terms, group, group))
        out = _ordered(out)
        specs[topic] = [
            _StrandSpec(i, s.label, s.top_terms, s.members, s.core) for i, s in enumerate(out)
        ]
    return specs


def _display_case(term: str, texts: Sequence[str]) -> str:
    """The spelling a lower-cased vocabulary term most often has in the texts (RAG, not rag)."""
    pattern = re.compile(rf"\b{re.escape(term)}\b", re.I)
    spellings: dict[str, int] = {}
    for text in texts:
        for match in pattern.findall(text):
            spellings[match] = spellings.get(match, 0) + 1
    # Only a spelling with capitals inside a word (RAG, SFT, CIFAR, GPT-4) wins over the
    # lower-case term: "Guidance" at the start of a name is not how the field writes it.
    marked = {w: n for w, n in spellings.items() if any(c.isupper() for c in w[1:])}
    if not marked:
        return term
    return min(marked, key=lambda w: (-marked[w], w))


#: A sentence reporting a measurement ("= 0.49", "12%") states a result, not the problem.
_MEASURED = re.compile(r"[=<>]\s*-?\d|\d\s?%")


class _StrandWriter:
    """Write each strand: problem, every paper's contribution, findings, open issues."""

    def __init__(self, sentences: _Sentences, keys: Mapping[str, str],
                 titles: Mapping[str, str]) -> None:
        self.sentences = sentences
        self.keys = keys
        self.titles = titles

    def contribution(self, pid: str, resources: Sequence[Resource] = ()) -> Sentence:
        """The sentence that introduces the paper's resource, if it stands alone; else its
        contribution sentence; else its title."""
        for resource in resources:
            text = resource.sentence.text
            if text != self.titles.get(pid) and quotable(text, known_acronyms=self.sentences.known):
                return Sentence(text, pid, self.keys[pid], role="objective")
        found = self.sentences.contribution(pid)
        if found is not None:
            return Sentence(found.text, pid, self.keys[pid], role=found.role)
        return Sentence(self.titles.get(pid, ""), pid, self.keys[pid], role="title")

    def write(self, topic: int, spec: _StrandSpec, index: int,
              resources_of: Mapping[str, list[Resource]]) -> Strand:
        from sklearn.feature_extraction.text import TfidfVectorizer

        contributions = {pid: self.contribution(pid, resources_of.get(pid, []))
                         for pid in spec.members}
        candidates: list[tuple[str, RoledSentence]] = []
        for pid in spec.core[:STRAND_CANDIDATES]:
            for s in self.sentences.roled(pid):
                if s.quotable and s.role in ("background", "result", "limitation") \
                        and s.text != contributions[pid].text \
                        and not (s.role == "background" and _MEASURED.search(s.text)):
                    candidates.append((pid, s))
        texts = [c.text for c in contributions.values()] + [s.text for _, s in candidates]
        vectors = None
        if texts:
            try:
                vectors = TfidfVectorizer(stop_words="english", sublinear_tf=True).fit_transform(
                    texts)
            except ValueError:
                vectors = None
        n_c = len(contributions)
        problem = findings = open_issues = []
        if vectors is not None and candidates:
            centroid = _unit(np.asarray(vectors.mean(axis=0)).ravel())
            scores = np.asarray(vectors[n_c:] @ centroid).ravel()
            rank = sorted(range(len(candidates)), key=lambda i: (-scores[i], candidates[i][0],
                                                                   candidates[i][1].position))
            problem = self._pick(rank, candidates, vectors[n_c:], "background",
                                 N_PROBLEM_SENTENCES, one_first_line=True)
            n_findings = int(min(4, 1 + len(spec.members) // 5))
            findings = self._pick(rank, candidates, vectors[n_c:], "result", n_findings)
            open_issues = self._pick(rank, candidates, vectors[n_c:], "limitation",
                                     N_OPEN_SENTENCES)
        ordered = self._group(spec.members, contributions, vectors, resources_of)
        resources = [r for pid in spec.members for r in resources_of.get(pid, [])]
        return Strand(
            strand=spec.strand, label=spec.label,
            anchor=f"{theme_anchor(topic)}-strand-{index + 1}", size=len(spec.members),
            top_terms=spec.top_terms, problem=problem, contributions=ordered,
            findings=findings, open_issues=open_issues, resources=resources,
        )

    def _pick(self, rank: list[int], candidates: list[tuple[str, RoledSentence]], vectors: Any,
              role: str, n: int, *, one_first_line: bool = False) -> list[Sentence]:
        chosen: list[int] = []
        for i in rank:
            pid, s = candidates[i]
            if len(chosen) >= n:
                break
            if s.role != role or any(candidates[j][0] == pid for j in chosen):
                continue
            if one_first_line and s.position == 0 and any(
                    candidates[j][1].position == 0 for j in chosen):
                continue
            if any(float(vectors[i].multiply(vectors[j]).sum()) > REDUNDANCY_THRESHOLD
                   for j in chosen):
                continue
            chosen.append(i)
        return [Sentence(candidates[i][1].text, candidates[i][0], self.keys[candidates[i][0]],
                         role=role) for i in chosen]

    def _group(self, members: list[str], contributions: Mapping[str, Sentence], vectors: Any,
               resources_of: Mapping[str, list[Resource]]) -> list[Contribution]:
        """Contributions by kind; within a kind, each next to its most similar neighbour."""
        row = {pid: i for i, pid in enumerate(contributions)}
        out: list[Contribution] = []
        for kind in CONTRIBUTION_KINDS:
            group = [p for p in members if _contribution_kind(
                contributions[p], resources_of.get(p, [])) == kind]
            for pid in _chain(group, row, vectors):
                out.append(Contribution(pid, self.keys[pid], contributions[pid], kind))
        return out


def _contribution_kind(sentence: Sentence, resources: Sequence[Resource]) -> str:
    if any(r.kind in _DATA_KINDS_SET for r in resources):
        return "resource"
    if sentence.role != "title" and _CONTRIBUTION_CUE.search(sentence.text):
        return "method"
    return "study"


def _chain(group: list[str], row: Mapping[str, int], vectors: Any, limit: int = 400) -> list[str]:
    """Order papers so that each follows the most similar one not yet placed.

    Starts from the most central paper (the group's first); above ``limit`` papers
    the quadratic walk is skipped and centrality order is kept.
    """
    if vectors is None or len(group) <= 2 or len(group) > limit:
        return list(group)
    sub = vectors[[row[p] for p in group]]
    sim = (sub @ sub.T).toarray()
    placed = [0]
    left = set(range(1, len(group)))
    while left:
        last = placed[-1]
        nxt = min(left, key=lambda j: (-sim[last, j], j))
        placed.append(nxt)
        left.remove(nxt)
    return [group[i] for i in placed]


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
            + (f"; {_count(section.strands[-1].size, 'paper')} fit no strand." if other else ".")
        )
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
        parts.append(f"Its closest neighbours are {_join(near)}.")
    if section.quadrant:
        parts.append(f"On the strategic diagram it is among the "
                     f"{QUADRANTS[section.quadrant].lower()}: {_QUADRANT_GLOSS[section.quadrant]}.")
    n_res = sum(len(s.resources) for s in section.strands)
    if n_res:
        parts.append(f"Its abstracts name {_count(n_res, 'new resource')}.")
    return " ".join(parts)


# --------------------------------------------------------------------------- running


def run_review(
    out_dir: str | os.PathLike,
    *,
    title: str = "Thematic review",
    author: str = "",
    n_representative: int = 5,
    n_key_sentences: int = 3,
    formats: Sequence[str] = ("html", "pdf", "md"),
) -> list[Path]:
    """Build the review, save its figure, write the report files and record the stage.

    Returns the paths written: the strategic diagram figures, then the report files.
    """
    return write_review(out_dir, title=title, author=author, n_representative=n_representative,
                        n_key_sentences=n_key_sentences, formats=formats)[1]


def write_review(
    out_dir: str | os.PathLike,
    *,
    title: str = "Thematic review",
    author: str = "",
    n_representative: int = 5,
    n_key_sentences: int = 3,
    formats: Sequence[str] = ("html", "pdf", "md"),
) -> tuple[Review, list[Path]]:
    """:func:`run_review`, also returning the composed :class:`Review` (for the notebook)."""
    from litreview import report
    from litreview.plots.review import plot_key_terms, plot_strategic_diagram

    timer = manifest.Timer()
    with timer("load"):
        inputs = _load_inputs(out_dir)
    with timer("write-up"):
        review = _compose(inputs, n_representative=n_representative,
                          n_key_sentences=n_key_sentences, title=title, author=author)
    with timer("figures"):
        import matplotlib.pyplot as plt

        fig = plot_strategic_diagram(review.cross.strategic)
        written = io.save_figure(fig, out_dir, "review_strategic_diagram")
        plt.close(fig)
        fig = plot_key_terms(review.cross.term_weights,
                             {t.topic: f"{t.name} ({t.size})" for t in review.themes})
        written += io.save_figure(fig, out_dir, "review_key_terms")
        plt.close(fig)
    for fmt in sorted(formats, key=lambda f: {"html": 0, "pdf": 2}.get(f, 1)):  # HTML first
        with timer(fmt):
            written += report.write_report(review, out_dir, formats=(fmt,))
    manifest.record_stage(
        out_dir,
        "review",
        parameters={
            "title": title, "author": author, "n_representative": n_representative,
            "n_key_sentences": n_key_sentences, "formats": list(formats),
        },
        inputs=input_paths(out_dir),
        timings=timer.timings,
        extra={
            "n_themes": len(review.themes),
            "n_references": len(review.references),
            "n_key_sentences": sum(len(t.key_sentences) for t in review.themes),
        },
    )
    return review, written


# --------------------------------------------------------------------------- summaries


def compute_outline(review: Review) -> pd.DataFrame:
    """The review's table of contents: one row per strand (theme, strand, papers, resources,
    findings, open issues), themes largest first."""
    rows = [
        {"theme": t.name, "theme_papers": t.size, "strand": s.label, "papers": s.size,
         "resources": len(s.resources), "findings": len(s.findings),
         "open_issues": len(s.open_issues)}
        for t in review.themes for s in t.strands
    ]
    return pd.DataFrame(rows, columns=["theme", "theme_papers", "strand", "papers", "resources",
                                       "findings", "open_issues"])


def compute_coverage(review: Review) -> pd.DataFrame:
    """Per theme: papers, papers cited in its section, and how each is cited (by a
    contribution sentence or, when none stands alone, by its title)."""
    rows = []
    for t in review.themes:
        contributions = [c for s in t.strands for c in s.contributions]
        by_title = sum(c.sentence.role == "title" for c in contributions)
        rows.append({"theme": t.name, "papers": t.size, "cited": len(t.cited_ids()),
                     "coverage": len(t.cited_ids()) / max(t.size, 1),
                     "by_sentence": len(contributions) - by_title, "by_title": by_title})
    frame = pd.DataFrame(rows, columns=["theme", "papers", "cited", "coverage", "by_sentence",
                                        "by_title"])
    if len(frame):
        total = frame[["papers", "cited", "by_sentence", "by_title"]].sum()
        frame.loc[len(frame)] = {"theme": "All themes", **total.to_dict(),
                                 "coverage": total["cited"] / max(total["papers"], 1)}
    return frame


def section_markdown(markdown: str, heading: str) -> str:
    """The part of a rendered ``review.md`` under ``### heading``, up to the next theme."""
    start = markdown.find(f"### {heading}\n")
    if start < 0:
        return ""
    end = markdown.find("\n### ", start + 4)
    stop = markdown.find("\n## ", start + 4)
    ends = [e for e in (end, stop) if e >= 0]
    return markdown[start:min(ends) if ends else len(markdown)].strip()


def outputs_table(paths: Iterable[Path]) -> pd.DataFrame:
    """The files the stage wrote, with their size in kB."""
    paths = [Path(p) for p in paths]
    return pd.DataFrame({
        "file": [f"{p.parent.name}/{p.name}" for p in paths],
        "kB": [round(p.stat().st_size / 1024, 1) if p.exists() else None for p in paths],
    })


# --------------------------------------------------------------------------- helpers


def safe_url(url: Any) -> bool:
    """Whether a URL from the corpus is safe to link (see :func:`litreview.sanitize.https_url`)."""
    return sanitize.https_url(url) is not None


def _links(paper: Mapping[str, Any]) -> list[tuple[str, str]]:
    return sanitize.paper_links(paper)


def _code_urls(paper: Mapping[str, Any]) -> tuple[str, ...]:
    return sanitize.code_links(paper)


def _primary_url(paper: Mapping[str, Any]) -> str | None:
    links = _links(paper)
    return links[0][1] if links else None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, float) and math.isnan(value):
        return []
    try:
        return list(value)
    except TypeError:
        return [value]


def _is_missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _year(value: Any) -> int | None:
    return None if value is None or _is_missing(value) else int(value)


def _text(value: Any) -> str:
    return "" if value is None or _is_missing(value) else str(value)


def _clean_label(label: Any, topic: int) -> str:
    label = normalise_whitespace(_text(label))
    return label or f"Theme {topic}"


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def format_percent(share: float) -> str:
    """Format a share as a percentage with a no-break space before the sign."""
    share = float(share)
    return f"{100 * share:.1f}\u00a0%" if share < 0.1 else f"{100 * share:.0f}\u00a0%"


def _join(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _join_some(items: Sequence[str], limit: int = 3) -> str:
    items = list(items)
    if len(items) <= limit:
        return _join(items)
    rest = len(items) - limit
    return ", ".join(items[:limit]) + f" and {rest} more"
