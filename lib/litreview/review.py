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
MIN_SENTENCE_WORDS = 8
MAX_SENTENCE_WORDS = 50

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

    @property
    def date(self) -> str:
        """The run date (YYYY-MM-DD)."""
        return self.methods.generated_at[:10]

    def citations(self) -> list[Sentence]:
        """Every quoted sentence in the write-up, in reading order."""
        quoted: list[Sentence] = []
        for theme in self.themes:
            quoted.extend(theme.key_sentences)
            quoted.extend(p.gist for p in theme.representatives if p.gist is not None)
            quoted.extend(r.sentence for r in theme.resources)
        return quoted


# --------------------------------------------------------------------------- text


_ABBREVIATIONS = frozenset({
    "al", "vs", "cf", "fig", "figs", "eq", "eqs", "sec", "secs", "approx", "resp", "viz", "dr",
    "mr", "mrs", "ms", "prof", "st", "jr", "sr", "inc", "ltd", "ref", "refs", "vol", "pp", "ch",
    "no", "nos"
})
_BOUNDARY = re.compile(r"""[.!?]+["'”’)\]]*\s+(?=["'“‘(\[]?[A-Z0-9])""")
_DOTTED_ACRONYM = re.compile(r"^(?:[A-Za-z]\.){2,}$")  # e.g. i.e. U.S.


def normalise_whitespace(text: str | None) -> str:
    """Collapse runs of whitespace to single spaces and strip the ends."""
    return " ".join(str(text or "").split())


def split_sentences(text: str | None) -> list[str]:
    """Split an abstract into sentences.

    Splits after ``.``, ``!`` or ``?`` followed by whitespace and a capital or
    digit, except after abbreviations (``e.g.``, ``i.e.``, ``et al.``, ``vs.``,
    ``Fig.``), dotted acronyms (``U.S.``) and initials (``J. Smith``). Decimals
    never split because no space follows their dot. Each returned sentence is
    a substring of the whitespace-normalised text.
    """
    text = normalise_whitespace(text)
    if not text:
        return []
    sentences: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        if _is_abbreviation(text[start : match.start() + 1]):
            continue
        end = match.end() - len(match.group()) + len(match.group().rstrip())
        sentence = text[start:end].strip()
        if sentence:
            sentences.append(sentence)
        start = match.end()
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


def _is_abbreviation(before: str) -> bool:
    """Whether the text up to a candidate boundary ends in an abbreviation."""
    if not before.endswith("."):
        return False
    token = before.rsplit(" ", 1)[-1].lstrip("([\"'“‘")
    if _DOTTED_ACRONYM.match(token):
        return True
    word = token[:-1]
    if len(word) == 1 and word.isupper():  # an initial
        return True
    return word.lower() in _ABBREVIATIONS


_OPENERS = re.compile(
    r"^(?:this|these|that|those|it|its|they|their|them|such|he|she|his|her|here|there|"
    r"however|moreover|furthermore|additionally|in addition|also|thus|therefore|hence|"
    r"still|finally|then|besides|nevertheless|nonetheless|consequently|accordingly|"
    r"similarly|likewise|instead|in contrast|on the other hand|in particular|"
    r"specifically|to this end|to that end|as a result|for example|for instance|"
    r"first|second|third|lastly|next|both|yet|but|and|or|so|other|another|the latter|"
    r"the former|the same|in this (?:paper|work|study|article)|to (?:bridge|address|fill|"
    r"tackle|close|overcome) (?:this|these|the)|previous|prior work|recent work)\b",
    re.IGNORECASE,
)
_NOT_THEMATIC = re.compile(
    r"https?://|www\.|github|\bcode (?:is|and|will)|available at"
    r"|\((?:1|i|a)\)",  # enumerations read badly out of their abstract
    re.I,
)


_BACK_REFERENCE = re.compile(
    r"\b(?:this|these|such) (?:problem|gap|issue|issues|challenge|challenges|limitation|"
    r"limitations|fact|finding|findings|approach|method|setting|dataset|benchmark|"
    r"framework|model|task|resource|corpus|paper|work|study|analysis)\b|^motivated by\b",
    re.IGNORECASE,
)


def is_self_contained(sentence: str) -> bool:
    """Whether a sentence reads well out of context.

    It must not open with a pronoun or connective ("This", "However,") nor lean
    on an earlier sentence ("this problem", "these challenges").
    """
    return _OPENERS.match(sentence) is None and _BACK_REFERENCE.search(sentence) is None


def _is_quotable(sentence: str, *, strict: bool = True) -> bool:
    words = sentence.split()
    if not MIN_SENTENCE_WORDS <= len(words) <= MAX_SENTENCE_WORDS:
        return False
    if _NOT_THEMATIC.search(sentence) or sentence.endswith("?"):
        return False
    if sentence.count("(") != sentence.count(")"):
        return False
    return not strict or is_self_contained(sentence)


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

_NAME = r"(?:[A-Z][\w\-]*|[0-9]+[A-Za-z][\w\-]*)(?:\s+(?:[A-Z0-9][\w\-]*))*?"
_VERBS = (
    r"(?:introduce|present|release|propose|construct|build|curate|create|develop|"
    r"contribute|collect|design)"
)
_KINDS = (
    r"(?:benchmark|data ?set|corpus|corpora|framework|toolkit|tool|library|suite|model|method|"
    r"knowledge (?:bank|base|graph)|resource|collection|taxonomy|metric|leaderboard|platform|"
    r"testbed|environment|simulator|pipeline|system|database|lexicon|treebank|test set|"
    r"language model|agent|architecture|algorithm)"
)
_DATA_KINDS = (
    r"(?:benchmark|data ?set|corpus|toolkit|library|suite|knowledge (?:bank|base|graph)|"
    r"leaderboard|testbed|test set|treebank|lexicon)"
)
_RESOURCE_PATTERNS = (
    # "We present NormBank, a knowledge bank of …" / "We introduce X (Long Name): a new benchmark"
    re.compile(
        rf"\b[Ww]e\s+(?:also\s+|further\s+)?{_VERBS}\s+(?P<name>{_NAME})"
        rf"(?:\s*\([^()]{{1,80}}\))?\s*[,:]\s*(?:a|an|the first)\s+"
        rf"(?:[\w\-]+\s+){{0,6}}?(?P<kind>{_KINDS})s?\b"
    ),
    # "We introduce a new benchmark, X, …" / "we release a dataset called X"
    re.compile(
        rf"\b[Ww]e\s+(?:also\s+|further\s+)?{_VERBS}\s+(?:a|an)\s+(?:[\w\-]+\s+){{0,5}}?"
        rf"(?P<kind>{_KINDS})s?(?:\s*,\s*|\s+(?:called|named|dubbed|termed)\s+)"
        rf"(?P<name>{_NAME})(?=\s*[,.;:(]|\s+(?:which|that|to|for|with|of|comprising|containing))"
    ),
    # "… SafetyBench, a comprehensive benchmark for …"
    re.compile(
        rf"(?:^|(?<=[\s(]))(?P<name>{_NAME}),\s+(?:a|an)\s+(?:[\w\-]+\s+){{0,5}}?"
        rf"(?P<kind>{_DATA_KINDS})s?\b"
    ),
)
_NAME_STOPWORDS = frozenset({
    "a", "an", "the", "this", "that", "these", "our", "we", "in", "it", "to", "for", "on",
    "with", "as", "by", "unlike", "existing"
})


def find_resources(sentence: str) -> list[tuple[str, str]]:
    """Return ``(name, kind)`` for each named resource a sentence says it introduces.

    Names must look like names: CamelCase (``NormBank``), an acronym (``MMLU``),
    contain a digit, or span several capitalised words (``Moral Stories``).
    """
    found: list[tuple[str, str]] = []
    for pattern in _RESOURCE_PATTERNS:
        for match in pattern.finditer(sentence):
            name = match.group("name").strip(" -")
            if _looks_like_name(name) and name not in (n for n, _ in found):
                found.append((name, _normalise_kind(match.group("kind"))))
    return found


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
    return {"corpora": "corpus"}.get(kind, kind)


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
    return _Inputs(
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
    return [folder / f"{name}.parquet" for name in INPUT_TABLES] + [folder / METRICS_FILE]


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
                    topic, _as_list(row.representative_paper_ids), n_representative, papers
                ),
                resources=quoter.resources(topic),
                related=_related(topic, inputs.similarity, names),
                quadrant=quadrant_of.get(topic),
            )
        )

    overview = _overview(inputs, sections, names)
    cross = CrossTheme(
        similarity=inputs.similarity,
        closest_pairs=_closest_pairs(inputs.similarity, names),
        hierarchy=inputs.hierarchy,
        groups=_top_level_groups(inputs.hierarchy, set(names), inputs.topics),
        strategic=strategic,
        quadrant_sentences=quadrant_sentences(strategic),
        strategic_papers=min(len(papers), STRATEGIC_MAX_PAPERS),
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
        self, topic: int, listed: Iterable[Any], n: int, papers: pd.DataFrame
    ) -> list[RepresentativePaper]:
        """The theme's ``n`` most representative papers (stage 02's order, then centrality)."""
        ranked = [str(p) for p in listed] + list(self.members.get(topic, _NO_MEMBERS)["paper_id"])
        chosen = [pid for pid in dict.fromkeys(ranked) if pid in papers.index][:n]
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
    from litreview import report
    from litreview.plots.review import plot_strategic_diagram

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
    for fmt in formats:
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
    return written


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
