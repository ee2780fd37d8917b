"""Step 4 of stage 02: name themes and strands. ``name_topics`` is the one entry point.

Everything a naming method may want is in the ``NamingRequest`` (term lists, member
titles and texts, the corpus's casing), so a better method (e.g. phrases taken from
titles, ``litreview.labels``) replaces the body of ``name_topics`` and nothing else.
Themes and strands are named by ``labels.name_groups``: the phrases the members' titles
use, distinctive against the other themes (for a strand, against its theme's other
strands) and carried by at least three papers. Strands are named first; a theme's label
must cover ``labels.THEME_COVERAGE`` of its papers (else ``broad_label`` joins its
strands' phrases), and ``label_quality`` measures what every label covers for
``topic_metrics.json``. ``name_topics`` (two best key terms) is the fallback for an
unclustered corpus.
"""

from __future__ import annotations

import dataclasses
import re
import sys
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from litreview import labels

#: The version of the naming recipe. Bump it whenever the way labels are chosen changes
#: (``naming_fingerprint`` also notices a changed constant or word list of ``labels``):
#: a folder named by an older recipe is then relabelled instead of keeping its old
#: automatic labels (``curate.keep_previous_labels``).
RECIPE_VERSION = "phrases-11"


def naming_fingerprint() -> str:
    """The naming recipe in one string: ``RECIPE_VERSION`` and a hash of its settings.

    The settings are the module-level constants of ``labels`` (coverage shares, word
    lists, regular expressions) and of this module, so editing a filler-word list or a
    threshold changes the fingerprint without anyone remembering to bump the version.
    Stored in ``topics.parquet`` (``label_recipe``) with the automatic labels it made.
    """
    import hashlib
    import json

    def plain(value: Any) -> Any:
        if isinstance(value, (frozenset, set)):
            return sorted(plain(v) for v in value)
        if isinstance(value, Mapping):
            return sorted((str(k), plain(v)) for k, v in value.items())
        if isinstance(value, (tuple, list)):
            return [plain(v) for v in value]
        if isinstance(value, re.Pattern):
            return value.pattern
        return value

    settings = {}
    for module in (labels, sys.modules[__name__]):
        for key, value in sorted(vars(module).items()):
            if key.lstrip("_").isupper() and isinstance(
                    value, (int, float, str, tuple, frozenset, set, dict, re.Pattern)):
                settings[f"{module.__name__}.{key}"] = plain(value)
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode())
    return f"{RECIPE_VERSION}:{digest.hexdigest()[:12]}"


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


def _distinct(names: list[str], theme_name: str, *, allow_theme_name: bool = False
              ) -> list[str]:
    """Make the strand names of one theme non-empty, unlike the theme's and unlike each other.

    ``allow_theme_name``: the theme's only strand may carry the theme's name
    (``only_strand_label``).
    """
    return labels.number_duplicates(
        [n if n and (n != theme_name or allow_theme_name) else other_papers(theme_name)
         for n in names])


def only_strand_label(strand_label: str, theme_label: str, keyed: Sequence[str]) -> str:
    """The label of a theme's only strand: its own phrase unless that is narrower than the theme's.

    The strand holds the theme's papers, so its label speaks for them as well as the
    theme's label does or it misleads: "Motion" (a word two of seven equivariant-network
    papers are about) under "Equivariance". ``keyed`` are the strand's papers
    (``labels.keyed_text``); the strand keeps its label when it is carried by at least as
    many of them as the theme's label, else it takes the theme's label (a one-strand theme
    is one research line, named once).
    """
    if not theme_label or theme_label.startswith(labels.FALLBACK_NAME):
        return strand_label
    theme_hits = sum(labels.label_carriers(keyed, theme_label))
    if not strand_label or sum(labels.label_carriers(keyed, strand_label)) < theme_hits:
        return theme_label
    return strand_label


#: A strand label none of whose phrases stands in this many of the strand's titles ...
WEAK_LABEL_TITLES = 2
#: ... names the strand only when it is carried by at least this share of its papers.
WEAK_LABEL_COVERAGE = 1 / 3


#: ... or when the strand holds at least this share of the corpus's papers that carry it
#: (the word is the strand's own, not one the whole corpus uses).
OWN_LABEL_SHARE = 1 / 3


def weak_label(label: str, keyed: Sequence[str], title_keyed: Sequence[str], *,
               corpus_carriers: int | None = None) -> bool:
    """Whether a strand's label speaks for too few of its papers to name it.

    A label whose phrases stand in fewer than ``WEAK_LABEL_TITLES`` of the strand's titles
    and are carried by fewer than ``WEAK_LABEL_COVERAGE`` of its papers' titles and
    abstracts names the strand after a word a few of its papers use ("Reasoning" for ten
    papers on model evaluation and scaling of which one title reasons): the reader is
    better served by "other papers" than by a name that misleads. Unless the word is the
    strand's own: with ``corpus_carriers`` (how many of the corpus's papers carry it), a
    strand holding ``OWN_LABEL_SHARE`` of them keeps it ("Psychology" for eleven papers
    on language models as cognitive subjects: 3 of the corpus's 8 carriers, where
    "Reasoning" has 3 of 43). ``keyed`` and ``title_keyed`` are the strand's papers as
    ``labels.keyed_text`` of title and abstract, and of the title alone.
    """
    if not label or not keyed or _titled(label, title_keyed):
        return False
    carriers = sum(labels.label_carriers(keyed, label))
    if carriers >= WEAK_LABEL_COVERAGE * len(keyed):
        return False
    return not (corpus_carriers and carriers >= OWN_LABEL_SHARE * corpus_carriers)


def _corpus_carriers(label: str, lowered: Sequence[str], titles: Sequence[str],
                     abstracts: Sequence[str]) -> int:
    """How many papers carry ``label`` (``labels.label_carriers``), reading as keyed text
    only those whose lowercased text holds the start of one of its words."""
    stems = {labels.singular(w)[:4] for part in labels.label_parts(label)
             for w in re.findall(r"[^\W_]+", part.lower())}
    rows = [i for i, text in enumerate(lowered) if any(stem in text for stem in stems)]
    return sum(labels.label_carriers(
        [labels.keyed_text(titles[i], abstracts[i]) for i in rows], label))


def _titled(label: str, title_keyed: Sequence[str]) -> bool:
    """Whether one of the label's phrases stands in ``WEAK_LABEL_TITLES`` of the titles."""
    return max((sum(labels.label_carriers(title_keyed, part))
                for part in labels.label_parts(label)), default=0) >= WEAK_LABEL_TITLES


def _or_empty(name: str) -> str:
    """A strand that no phrase names ("All papers (12)") is named after its theme instead."""
    return "" if name.startswith(labels.FALLBACK_NAME) else name


def name_levels(
    papers: pd.DataFrame, topics: np.ndarray, strands: np.ndarray,
    casing: Mapping[str, str] | None = None,
) -> Names:
    """Name themes and strands with phrases their papers use (``labels.name_groups``).

    Strands are named first; a theme's label must cover ``labels.THEME_COVERAGE`` of
    its papers, reach two of its strands and take no strand's own phrase that stays
    inside that strand (``name_groups(min_coverage=..., protected=...)``); a theme no
    phrase covers is named
    broadly from its strands' phrases (``broad_label``: "Invariance, generalization and
    fairness"), and then its strands keep those phrases: only a theme named by one
    phrase of its own takes that phrase from its strands. A theme's only strand keeps
    its own phrase when that speaks for as many of its papers as the theme's label, else
    it carries the theme's label (``only_strand_label``).

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
    topics = np.asarray(topics, dtype=int)
    strands = np.asarray(strands, dtype=int)
    theme_of = {int(s): int(t) for s, t in zip(strands, topics, strict=True) if s >= 0}
    # Strands first: the phrase that names a strand stays its own unless it reaches two.
    first = labels.name_groups(frame.assign(group=strands), parent=theme_of, casing=casing)
    own: dict[int, set[str]] = {}
    for strand, name in zip(first["group"].astype(int), first["label"], strict=True):
        if not name.startswith(labels.FALLBACK_NAME):
            own.setdefault(theme_of[strand], set()).update(labels.label_parts(name))
    themes_named = labels.name_groups(frame.assign(group=topics, subgroup=strands),
                                      casing=casing, min_coverage=labels.THEME_COVERAGE,
                                      protected=own)
    themes = dict(zip(themes_named["group"].astype(int), themes_named["label"], strict=True))
    broad = {t for t, name in themes.items() if name.startswith(labels.FALLBACK_NAME)}
    strands_named = labels.name_groups(
        frame.assign(group=strands), parent=theme_of,
        parent_labels={t: n for t, n in themes.items() if t not in broad}, casing=casing,
        unique_per_parent=True)
    labels.clear_tokens()  # the three calls shared one tokenisation of the placed papers
    by_theme: dict[int, list[int]] = {}
    for strand in sorted(theme_of):
        by_theme.setdefault(theme_of[strand], []).append(strand)
    named = dict(zip(strands_named["group"].astype(int), strands_named["label"], strict=True))
    titles, abstracts = frame["title"].to_numpy(), frame["abstract"].to_numpy()
    lowered: list[str] | None = None  # every paper's text, read only for a weak-looking label
    for strand in sorted(named):
        label = _or_empty(named[strand])
        if label and len(by_theme.get(theme_of.get(strand, -1), ())) > 1:
            rows = np.flatnonzero(strands == strand)
            title_keyed = [labels.keyed_text(titles[i], "") for i in rows]
            if _titled(label, title_keyed):  # the titles carry it: no abstract need be read
                continue
            keyed = [labels.keyed_text(titles[i], abstracts[i]) for i in rows]
            if weak_label(label, keyed, title_keyed):
                if lowered is None:
                    lowered = [f"{t} {a}".lower() for t, a in zip(titles, abstracts, strict=True)]
                if weak_label(label, keyed, title_keyed, corpus_carriers=_corpus_carriers(
                        label, lowered, titles, abstracts)):
                    named[strand] = ""
    sizes = Counter(int(s) for s in strands if s >= 0)

    def strand_labels(theme: int) -> list[str]:
        """The theme's strands' labels, largest strand first."""
        return [_or_empty(named.get(s, "")) for s in
                sorted(by_theme.get(theme, []), key=lambda s: (-sizes[s], s))]

    def theme_papers(theme: int) -> list[str]:
        return [labels.keyed_text(titles[i], abstracts[i]) for i in np.flatnonzero(topics == theme)]

    def rename(theme: int, name: str) -> None:
        if name and name.lower() not in {n.lower() for n in themes.values()}:
            themes[theme] = name

    # only the broad themes' papers are read here (not all of a 75k corpus)
    for theme in sorted(broad):
        rename(theme, broad_label(strand_labels(theme), theme_papers(theme),
                                  [n for t, n in themes.items() if t != theme and t not in broad]))
    for theme in sorted(set(themes) - broad):
        # one phrase of its own that speaks for under half its papers: joined by its
        # strands' phrases ("Bias" → "Bias and values")
        if len(by_theme.get(theme, [])) < 2 or len(labels.label_parts(themes[theme])) != 1:
            continue
        name = widened_label(themes[theme], strand_labels(theme), theme_papers(theme),
                             [n for t, n in themes.items() if t != theme])
        if name != themes[theme]:
            rename(theme, name)
    for theme, members in by_theme.items():
        if len(members) == 1:  # the theme's only strand: not named more narrowly than it
            strand = members[0]
            papers_of = [labels.keyed_text(titles[i], abstracts[i])
                         for i in np.flatnonzero(strands == strand)]
            named[strand] = only_strand_label(_or_empty(named.get(strand, "")),
                                              themes.get(theme, ""), papers_of)
    strand_names: dict[int, str] = {}
    for theme, members in by_theme.items():
        names = _distinct([_or_empty(named.get(s, "")) for s in members],
                          themes.get(theme, ""), allow_theme_name=len(members) == 1)
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


#: A broad theme label joins at most this many of its strands' phrases.
BROAD_PARTS = 3
#: A theme named by one phrase that stands in fewer than this share of its papers is named
#: with its strands' phrases too (``name_levels``).
WIDEN_BELOW_COVERAGE = 0.5
#: The same bar for a one-word phrase, which says less than a longer one: "Safety" for 12 of
#: 22 papers on refusal, alignment faking and safety evaluations reads as the whole field.
WIDEN_ONE_WORD_BELOW = 0.7


def broad_label(strand_labels: Sequence[str], keyed: Sequence[str],
                other_themes: Sequence[str] = ()) -> str:
    """Name a theme no one phrase covers from its strands' phrases: "A, B and C".

    ``strand_labels`` are the theme's strands' labels, largest strand first ("" for one
    without a name); ``keyed`` the theme's papers (``labels.keyed_text``). Each strand, largest
    first, gives its label's main phrase (or its second, if the main one is taken), when
    it covers at least two more of the theme's papers, none sharing a content word with a phrase
    already taken or with another theme's label, at most ``BROAD_PARTS``. Returns "" when
    fewer than two phrases qualify (the theme keeps its one-phrase name).
    """
    blocked = {w for name in other_themes for w in _words(name)}
    chosen: list[str] = []
    covered = np.zeros(len(keyed), dtype=bool)
    for label in strand_labels:
        for part in labels.label_parts(label):
            if _words(part) & blocked:
                continue
            hits = np.asarray(labels.label_carriers(keyed, part), dtype=bool)
            if int((hits & ~covered).sum()) < 2:
                continue
            chosen.append(part)
            covered |= hits
            blocked |= _words(part)
            break
        if len(chosen) == BROAD_PARTS:
            break
    if len(chosen) < 2:
        return ""
    shown = [_lower_head(p) for p in chosen]
    first = shown[0].split(" ")[0]
    if first == first.lower():  # not "fMRI" or "GPT-4"
        shown[0] = shown[0][:1].upper() + shown[0][1:]
    return ", ".join(shown[:-1]) + " and " + shown[-1]


def widened_label(theme_label: str, strand_labels: Sequence[str], keyed: Sequence[str],
                  other_themes: Sequence[str] = ()) -> str:
    """A theme's one-phrase label joined by its strands' phrases when it stands in fewer
    than ``WIDEN_BELOW_COVERAGE`` of the theme's papers (``WIDEN_ONE_WORD_BELOW`` for a
    one-word label: "Safety" → "Safety, refusal and alignment").

    ``strand_labels`` (largest strand first), ``keyed`` and ``other_themes`` as for
    :func:`broad_label`, which picks the strands' phrases after the theme's own. Returns
    ``theme_label`` unchanged when it covers enough papers or no strand phrase adds two.
    """
    bar = WIDEN_ONE_WORD_BELOW if len(_words(theme_label)) == 1 else WIDEN_BELOW_COVERAGE
    if not keyed or labels.label_coverage(keyed, theme_label) >= bar:
        return theme_label
    return broad_label([theme_label, *strand_labels], keyed, other_themes) or theme_label


def _lower_head(part: str) -> str:
    """A label's phrase as it reads inside a name: "Fairness" → "fairness", "RLHF" kept."""
    first = part.split(" ")[0]
    if first[:1].isupper() and first[1:] == first[1:].lower():
        return part[:1].lower() + part[1:]
    return part


def _words(name: str) -> set[str]:
    """A label's content words in singular form (two labels sharing one read alike)."""
    stop = {"and", "of", "the", "for", "in", "on", "with", "to", "a", "an"}
    return {labels.singular(w) for w in re.findall(r"[^\W_]+", name.lower()) if w not in stop}


def label_quality(papers: pd.DataFrame, topics: np.ndarray, strands: np.ndarray,
                  theme_labels: Mapping[int, str], strand_labels: Mapping[int, str]
                  ) -> dict[str, float | int | str | None]:
    """How much of each group its label speaks for, for ``topic_metrics.json``.

    A label's coverage is the share of its group's papers whose title or abstract holds
    one of its phrases (``labels.label_coverage``; an "other papers" name covers none).
    Returns the mean and minimum over themes and over named strands, the number of
    "other papers" strands, of the papers in them and of themes with more than one such
    strand, and the naming recipe (``naming_fingerprint``).
    """
    frame = papers.reindex(columns=["title", "abstract"]).fillna("")
    keyed = [labels.keyed_text(t, a) for t, a in zip(frame["title"].astype(str),
                                                      frame["abstract"].astype(str), strict=True)]
    topics = np.asarray(topics, dtype=int)
    strands = np.asarray(strands, dtype=int)

    def coverage(groups: np.ndarray, label_of: Mapping[int, str], ids: Iterable[int]
                 ) -> dict[int, float]:
        return {g: labels.label_coverage([keyed[i] for i in np.flatnonzero(groups == g)],
                                         label_of[g]) for g in ids}

    themes = coverage(topics, theme_labels, sorted(t for t in theme_labels if t >= 0))
    unnamed = {s for s, name in strand_labels.items() if s >= 0 and _unnamed(name)}
    named = coverage(strands, strand_labels,
                     sorted(s for s in strand_labels if s >= 0 and s not in unnamed))
    theme_of = {int(s): int(t) for s, t in zip(strands, topics, strict=True) if s >= 0}
    per_theme = Counter(theme_of.get(s, -1) for s in unnamed)

    def stat(values: Iterable[float], how: Any) -> float | None:
        values = list(values)
        return round(float(how(values)), 4) if values else None

    return {
        "theme_label_coverage_mean": stat(themes.values(), np.mean),
        "theme_label_coverage_min": stat(themes.values(), np.min),
        "strand_label_coverage_mean": stat(named.values(), np.mean),
        "strand_label_coverage_min": stat(named.values(), np.min),
        "n_other_papers_strands": len(unnamed),
        "n_themes_with_several_other_papers_strands": sum(n > 1 for n in per_theme.values()),
        "n_papers_in_other_papers_strands": int(np.isin(strands, sorted(unnamed)).sum()),
        "label_recipe": naming_fingerprint(),
    }


def _unnamed(name: str) -> bool:
    """Whether a strand's name is a fallback ("<theme>: other papers", "All papers (3)")."""
    return (name.startswith(labels.FALLBACK_NAME) or name.endswith(": other papers")
            or bool(re.search(r": other papers \(\d+\)$", name)))
