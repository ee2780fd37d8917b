"""Step 4 of stage 02: name themes and strands. ``name_topics`` is the one entry point.

Everything a naming method may want is in the ``NamingRequest`` (term lists, member
titles and texts, the corpus's casing), so a better method (e.g. phrases taken from
titles, ``litreview.labels``) replaces the body of ``name_topics`` and nothing else.
Themes and strands are named by ``labels.name_groups``: the phrases the members' titles
use, distinctive against the other themes (for a strand, against its theme's other
strands) and carried by at least three papers. ``name_topics`` (two best key terms) is
the fallback for an unclustered corpus.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from litreview import labels


@dataclasses.dataclass
class NamingRequest:
    """What the naming step knows about each theme and strand."""

    #: Theme ids in table order, and per theme its key terms (best first, lower case).
    theme_ids: list[int]
    theme_terms: list[list[str]]
    #: Strand ids, their theme, and per strand its distinctive terms.
    strand_ids: list[int]
    strand_theme: dict[int, int]
    strand_terms: list[list[str]]
    #: Titles and full texts of the members, per theme and per strand (core first).
    theme_titles: dict[int, list[str]] = dataclasses.field(default_factory=dict)
    strand_titles: dict[int, list[str]] = dataclasses.field(default_factory=dict)
    theme_texts: dict[int, list[str]] = dataclasses.field(default_factory=dict)
    strand_texts: dict[int, list[str]] = dataclasses.field(default_factory=dict)
    #: How the corpus writes its words (``labels.learn_casing``).
    casing: Mapping[str, str] = dataclasses.field(default_factory=dict)
    #: False when the corpus was too small to cluster: one theme, named as such.
    clustered: bool = True


@dataclasses.dataclass
class Names:
    """A name per theme and per strand."""

    themes: dict[int, str]
    strands: dict[int, str]
    #: Per strand, its key phrases (lower case) and as the corpus writes them, when the
    #: naming method found them (``name_levels``); else the strand's term ranking is used.
    strand_terms: dict[int, list[str]] = dataclasses.field(default_factory=dict)
    strand_display_terms: dict[int, list[str]] = dataclasses.field(default_factory=dict)
    #: The same for themes (``name_levels``); else the theme's c-TF-IDF/KeyBERT ranking.
    theme_terms: dict[int, list[str]] = dataclasses.field(default_factory=dict)
    theme_display_terms: dict[int, list[str]] = dataclasses.field(default_factory=dict)


def name_topics(request: NamingRequest) -> Names:
    """Return the names of every theme and strand; a strand's name differs from its theme's."""
    if not request.clustered:
        themes = {t: labels.FALLBACK_NAME for t in request.theme_ids}
    else:
        themes = dict(zip(request.theme_ids,
                          labels.unique_theme_names(request.theme_terms, casing=request.casing),
                          strict=True))
    strands: dict[int, str] = {}
    by_theme: dict[int, list[int]] = {}
    for strand in request.strand_ids:
        by_theme.setdefault(request.strand_theme[strand], []).append(strand)
    terms_of = dict(zip(request.strand_ids, request.strand_terms, strict=True))
    for theme, members in by_theme.items():
        theme_name = themes.get(theme, labels.FALLBACK_NAME)
        used = {labels.singular(w) for w in theme_name.lower().replace("&", " ").replace(
            ",", " ").split()}
        names = [_strand_name(terms_of[s], used, request.casing) for s in members]
        names = _distinct(names, theme_name)
        strands.update(zip(members, names, strict=True))
    return Names(themes, strands)


def _strand_name(terms: Sequence[str], used: set[str], casing: Mapping[str, str]) -> str:
    fresh = [t for t in terms if not {labels.singular(w) for w in t.split()} <= used]
    return labels.theme_name(fresh, 2, casing=casing) if fresh else ""


def other_papers(theme_name: str) -> str:
    """The name of a strand no phrase of its own names: after its theme."""
    return f"{theme_name}: other papers"


def _distinct(names: list[str], theme_name: str) -> list[str]:
    """Make the strand names of one theme non-empty, unlike the theme's and unlike each other."""
    return labels.number_duplicates(
        [n if n and n != theme_name else other_papers(theme_name) for n in names])


def _or_empty(name: str) -> str:
    """A strand that no phrase names ("All papers (12)") is named after its theme instead."""
    return "" if name.startswith(labels.FALLBACK_NAME) else name


def name_levels(
    papers: pd.DataFrame, topics: np.ndarray, strands: np.ndarray,
    casing: Mapping[str, str] | None = None,
) -> Names:
    """Name themes and strands with phrases their papers use (``labels.name_groups``).

    Parameters
    ----------
    papers
        The corpus in model order, with ``paper_id``, ``title`` and ``abstract``.
    topics, strands
        Each paper's theme and strand (-1: unplaced).
    casing
        How the corpus writes its words (``labels.learn_casing``).
    """
    frame = papers.reindex(columns=["paper_id", "title", "abstract"]).fillna("")
    frame = frame.assign(title=frame["title"].astype(str), abstract=frame["abstract"].astype(str))
    themes_named = labels.name_groups(frame.assign(group=np.asarray(topics, dtype=int)),
                                      casing=casing)
    themes = dict(zip(themes_named["group"].astype(int), themes_named["label"], strict=True))
    theme_of = {int(s): int(t) for s, t in zip(strands, topics, strict=True) if s >= 0}
    strands_named = labels.name_groups(
        frame.assign(group=np.asarray(strands, dtype=int)), parent=theme_of,
        parent_labels=themes, casing=casing)
    by_theme: dict[int, list[int]] = {}
    for strand in sorted(theme_of):
        by_theme.setdefault(theme_of[strand], []).append(strand)
    named = dict(zip(strands_named["group"].astype(int), strands_named["label"], strict=True))
    strand_names: dict[int, str] = {}
    for theme, members in by_theme.items():
        names = _distinct([_or_empty(named.get(s, "")) for s in members],
                          themes.get(theme, ""))
        strand_names.update(zip(members, names, strict=True))
    phrases = {int(g): (list(t), list(d)) for g, t, d in zip(
        strands_named["group"], strands_named["top_terms"], strands_named["display_terms"],
        strict=True) if len(t)}
    theme_phrases = {int(g): (list(t), list(d)) for g, t, d in zip(
        themes_named["group"], themes_named["top_terms"], themes_named["display_terms"],
        strict=True) if len(t)}
    return Names(themes, strand_names,
                 strand_terms={g: t for g, (t, _) in phrases.items()},
                 strand_display_terms={g: d for g, (_, d) in phrases.items()},
                 theme_terms={g: t for g, (t, _) in theme_phrases.items()},
                 theme_display_terms={g: d for g, (_, d) in theme_phrases.items()})
