"""Relations between themes from a co-word network: the strategic diagram (Callon
centrality × density, four quadrants) and the weight of each theme's key terms."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from litreview.review.helpers import _join_names
from litreview.review.model import _QUADRANT_GLOSS, QUADRANTS
from litreview.review.sentences import normalise_whitespace

#: Above this many papers the strategic diagram counts co-occurrences in a fixed sample.
STRATEGIC_MAX_PAPERS = 20_000


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
            names = list(members["name"])
            sentences[quadrant] = f"{label} ({gloss}): {_join_names(names, limit=len(names))}."
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
