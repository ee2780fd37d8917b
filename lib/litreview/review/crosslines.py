"""Research lines the map splits: key phrases whose papers sit in several themes.

A theme map cuts the corpus one way; a line of work defined by its method ("activation
steering") or its object ("refusal") can cut across it, and a survey author who reads
one section at a time does not see it. This lists the phrases that name papers in three
or more themes, so the author can decide to discuss such a line in one place (or curate
the map). The counting is a binary bag of phrases (scikit-learn's ``CountVectorizer``
with the phrases as its vocabulary); what counts as a line — carried by enough papers,
spread over themes, not mostly one theme's — is this module's rule.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from litreview import labels

#: Columns of :func:`compute_cross_theme_lines`.
CROSS_LINE_COLUMNS = ["phrase", "n_papers", "n_themes", "themes"]
#: A line is carried by at least this many papers (and ``MIN_LINE_SHARE`` of the placed ones),
MIN_LINE_PAPERS = 5
MIN_LINE_SHARE = 0.02
#: ... by at least two papers in each of this many themes,
MIN_LINE_THEMES = 3
#: ... and no theme holds more than this share of its papers (else it is that theme's line).
MAX_THEME_SHARE = 0.5
#: Lines listed in the report, most papers first.
MAX_LINES = 8
#: Above this many placed papers a fixed random sample of them is counted: shares settle
#: long before, and every abstract of a 75k corpus read for every phrase took 18 s.
CROSS_LINES_MAX_PAPERS = 3_000
#: Papers cited per theme under a line in the report (the others are counted).
LINE_CITATIONS = 6
#: Longest candidate phrase, in words (longer key terms are rare and costly to count).
MAX_PHRASE_WORDS = 3
#: A single word with one of these endings is a modifier, not a line ("internal", "pretrained").
_MODIFIER_ENDINGS = ("al", "ed", "ive", "ous", "ful", "ic", "able", "ible", "ary")


def compute_cross_theme_lines(
    titles: Sequence[str],
    abstracts: Sequence[str],
    topics: Sequence[int],
    phrases: Sequence[str],
    names: Mapping[int, str],
    *,
    limit: int = MAX_LINES,
    max_documents: int | None = CROSS_LINES_MAX_PAPERS,
    paper_ids: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Return the key phrases whose papers are spread over several themes.

    A paper carries a phrase when its title uses it, or, for a phrase of several words,
    when its abstract uses it twice (a phrase mentioned once in passing, or a single word
    that abstracts use in other senses, does not make a paper part of a line); plural
    forms count. Only placed papers (``topics`` ≥ 0) count. A phrase is a line when it is
    carried by at least ``MIN_LINE_PAPERS`` papers and ``MIN_LINE_SHARE`` of the placed
    ones, by two or more papers in each of at least ``MIN_LINE_THEMES`` themes, and no
    theme holds more than ``MAX_THEME_SHARE`` of them. A phrase inside a longer listed
    one that has most of its papers is dropped; phrases of more than ``MAX_PHRASE_WORDS``
    words are not counted. Above ``max_documents`` placed papers a fixed random sample of
    that many is counted (seed 0) and counts are of the sample.

    Parameters
    ----------
    titles, abstracts, topics
        One entry per paper: its title, abstract and theme (-1 = unplaced).
    phrases
        Candidate phrases (the themes' and strands' key terms), any case.
    names
        Theme names by id, for the ``themes`` column.
    limit
        At most this many lines, most papers first (ties by phrase).
    paper_ids
        One id per paper (default: its position), listed per theme in ``themes``.

    Returns
    -------
    pandas.DataFrame
        ``phrase`` (as first listed), ``n_papers``, ``n_themes`` and ``themes``: a list of
        ``{"topic", "name", "papers", "paper_ids"}`` per theme, most papers first (the
        papers in input order).
    """
    from sklearn.feature_extraction.text import CountVectorizer

    topics = np.asarray(topics, dtype=np.int64)
    placed = np.flatnonzero(topics >= 0)
    if max_documents is not None and len(placed) > max_documents:
        placed = np.sort(np.random.default_rng(0).choice(placed, max_documents, replace=False))
    shown: dict[str, str] = {}
    for phrase in phrases:
        key = " ".join(str(phrase).lower().split())
        words = key.split()
        modifier = len(words) == 1 and (key.endswith(_MODIFIER_ENDINGS)
                                        or key in labels.GENERIC_WORDS
                                        or key in labels.FILLER_WORDS)
        if len(key) >= 3 and len(words) <= MAX_PHRASE_WORDS and not modifier:
            shown.setdefault(key, str(phrase))
    if len(placed) == 0 or not shown:
        return pd.DataFrame(columns=CROSS_LINE_COLUMNS)
    keys = sorted(shown)
    forms = sorted({form for key in keys for form in (key, key + "s")})
    column = {form: i for i, form in enumerate(forms)}
    vectorizer = CountVectorizer(vocabulary=forms, lowercase=True,
                                 token_pattern=r"(?u)\b\w[\w-]*\b",
                                 ngram_range=(1, max(len(f.split()) for f in forms)))
    in_title = vectorizer.transform([str(titles[i]) for i in placed]).tocsc()
    in_abstract = vectorizer.transform([str(abstracts[i] or "") for i in placed]).tocsc()
    theme = topics[placed]
    minimum = max(MIN_LINE_PAPERS, int(np.ceil(MIN_LINE_SHARE * len(placed))))
    found: list[tuple[str, np.ndarray, Counter]] = []
    for key in keys:
        cols = [column[key], column[key + "s"]]
        titled = np.asarray(in_title[:, cols].sum(axis=1)).ravel() > 0
        repeated = np.asarray(in_abstract[:, cols].sum(axis=1)).ravel() >= 2
        # A single word names a paper's line only in its title: "reasoning" or
        # "activation" twice in an abstract is as often another sense of the word.
        carriers = titled | repeated if " " in key else titled
        n = int(carriers.sum())
        if n < minimum:
            continue
        per_theme = Counter(int(t) for t in theme[carriers])
        if (sum(v >= 2 for v in per_theme.values()) < MIN_LINE_THEMES
                or max(per_theme.values()) > MAX_THEME_SHARE * n):
            continue
        found.append((key, carriers, per_theme))
    kept = [(key, carriers, per_theme) for key, carriers, per_theme in found
            if not any(other != key and f" {key} " in f" {other} "
                       and (carriers & longer).sum() >= 0.7 * carriers.sum()
                       for other, longer, _ in found)]
    kept.sort(key=lambda f: (-int(f[1].sum()), f[0]))
    ids = [str(i) for i in range(len(topics))] if paper_ids is None else [str(p) for p in paper_ids]

    def members(carriers: np.ndarray, t: int) -> list[str]:
        return [ids[i] for i in placed[carriers & (theme == t)]]

    rows = [{"phrase": shown[key], "n_papers": int(carriers.sum()), "n_themes": len(per_theme),
             "themes": [{"topic": t, "name": names.get(t, f"Theme {t}"), "papers": int(v),
                         "paper_ids": members(carriers, t)}
                        for t, v in sorted(per_theme.items(),
                                           key=lambda tv: (-tv[1], names.get(tv[0], ""), tv[0]))]}
            for key, carriers, per_theme in kept[:limit]]
    return pd.DataFrame(rows, columns=CROSS_LINE_COLUMNS)
