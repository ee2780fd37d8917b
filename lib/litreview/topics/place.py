"""Step 3 of stage 02: place every paper in the theme and strand it is close to, or in none.

The tree gives every paper a group, including papers that fit nowhere. Placement
decides membership from the corpus itself:

* themes smaller than ``min_topic_size`` are dissolved;
* papers the tree detached from their theme (strand −1: a far stray group,
  ``fit.split_far_halves``) count for their theme's size but are no members of it;
* every paper joins the theme whose centroid (mean of the tree's members) is most
  similar (cosine); a paper that moves is counted as reassigned;
* the cut-off is Tukey's lower fence of the members' similarities to their own theme's
  centroid, Q1 − 1.5 × IQR over the corpus: a paper less similar to every centroid
  stays **unplaced** (theme −1);
* a placed paper less similar to its centroid than the corpus's first quartile is
  **peripheral** (it belongs, at the edge); the rest are **core**;
* the paper's strand is the most similar strand centroid inside its theme; strands
  under ``min_strand_size`` papers are dissolved into the others (a theme always keeps
  at least one strand).

Representative papers are chosen among core papers only (``describe``).
"""

from __future__ import annotations

import collections
import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from litreview import metrics

CORE, PERIPHERAL, UNPLACED = "core", "peripheral", "unplaced"
#: Tukey's multiplier for the lower fence.
FENCE_IQR = 1.5


@dataclasses.dataclass
class Placement:
    """Final theme, strand, membership and similarity per paper, and how they were decided."""

    topics: np.ndarray
    strands: np.ndarray
    membership: np.ndarray
    #: Cosine similarity to the centroid of the paper's theme (its nearest, if unplaced).
    similarity: np.ndarray
    #: The tree's theme before placement (−1 where its theme was dissolved).
    topics_before: np.ndarray
    strand_theme: dict[int, int]
    summary: dict[str, Any]


def fence(similarities: np.ndarray) -> float:
    """Return Tukey's lower fence Q1 − 1.5 × IQR of ``similarities``."""
    q1, q3 = np.quantile(similarities, [0.25, 0.75])
    return float(q1 - FENCE_IQR * (q3 - q1))


def place_papers(
    embeddings: np.ndarray,
    themes: np.ndarray,
    strands: np.ndarray,
    *,
    min_topic_size: int,
    min_strand_size: int = 3,
    threshold: float = 0.0,
) -> Placement:
    """Decide every paper's theme, strand and membership (see the module docstring).

    ``threshold > 0`` replaces the corpus's own cut-off with a fixed similarity.
    Theme and strand ids are renumbered by size (largest first) after placement.
    """
    unit = metrics._unit(embeddings)
    themes = np.asarray(themes, dtype=np.int64).copy()
    strands = np.asarray(strands, dtype=np.int64)
    n = len(unit)
    detached = strands < 0
    sizes = {int(t): int(c) for t, c in zip(*np.unique(themes, return_counts=True), strict=True)}
    anchored = set(themes[~detached].tolist())
    kept = [t for t in sorted(sizes) if sizes[t] >= min_topic_size and t in anchored] or \
        [max(anchored or sizes, key=lambda t: (sizes[t], -t))]
    dissolved = np.isin(themes, kept, invert=True)
    before = np.where(dissolved | detached, -1, themes)
    centres = metrics.centroids(unit, before, kept)
    sims = unit @ centres.T
    best = sims.argmax(axis=1)
    nearest = np.asarray(kept)[best]
    similarity = sims[np.arange(n), best]
    own = np.where(before >= 0, sims[np.arange(n), np.searchsorted(kept, np.maximum(before, 0))],
                   np.nan)
    members_sim = own[before >= 0]
    auto_cut = fence(members_sim) if len(members_sim) else 0.0
    cut = float(threshold) if threshold > 0 else auto_cut
    q1 = float(np.quantile(members_sim, 0.25)) if len(members_sim) else cut
    placed = similarity >= cut
    topics = np.where(placed, nearest, -1)
    moved = placed & (topics != before)
    membership = np.where(~placed, UNPLACED, np.where(similarity < q1, PERIPHERAL, CORE))

    strand_out, strand_theme = _place_strands(unit, topics, before, strands, min_strand_size)
    topics, strand_out, strand_theme = _renumber(topics, strand_out)
    before_renumbered = _map_before(before, np.where(placed & ~moved, nearest, -1), topics)
    summary = {
        "similarity_cutoff": cut,
        "similarity_cutoff_rule": ("fixed outlier_threshold" if threshold > 0 else
                                   "Tukey lower fence Q1 - 1.5 IQR of members' similarity"),
        "corpus_fence": auto_cut,
        "peripheral_below": q1,
        "n_dissolved_theme_papers": int(dissolved.sum()),
        "n_detached": int((detached & ~dissolved).sum()),
        "n_reassigned": int(moved.sum()),
        "reassigned_similarity_min": float(similarity[moved].min()) if moved.any() else None,
        "reassigned_similarity_median": (float(np.median(similarity[moved]))
                                         if moved.any() else None),
        "n_unplaced": int((~placed).sum()),
        "unplaced_share": float((~placed).mean()) if n else 0.0,
        "n_peripheral": int((membership == PERIPHERAL).sum()),
        "n_core": int((membership == CORE).sum()),
    }
    return Placement(topics, strand_out, membership, similarity.astype(float),
                     before_renumbered, strand_theme, summary)


def _place_strands(unit: np.ndarray, topics: np.ndarray, before: np.ndarray,
                   strands: np.ndarray, min_size: int) -> tuple[np.ndarray, dict[int, int]]:
    """Give each placed paper the most similar kept strand centroid inside its theme."""
    out = np.full(len(topics), -1, dtype=np.int64)
    strand_theme: dict[int, int] = {}
    for theme in sorted(set(topics.tolist()) - {-1}):
        # Strands of this theme: the tree's strands of its members (before placement).
        members = np.flatnonzero((before == theme) & (topics == theme))
        values, counts = np.unique(strands[members], return_counts=True)
        kept = [int(v) for v, c in zip(values, counts, strict=True) if c >= min_size]
        if not kept:
            kept = [int(values[counts.argmax()])] if len(values) else []
        placed = np.flatnonzero(topics == theme)
        if not kept:
            out[placed] = -2 - theme  # one strand, the whole theme (temporary id below -1)
            strand_theme[-2 - theme] = theme
            continue
        basis = members[np.isin(strands[members], kept)]
        centres = metrics.centroids(unit[basis], strands[basis], kept)
        out[placed] = np.asarray(kept)[(unit[placed] @ centres.T).argmax(axis=1)]
        for s in kept:
            strand_theme[s] = theme
    return out, strand_theme


def renumber(topics: np.ndarray, strands: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, dict[int, int], dict[int, int]]:
    """Number themes by size (as BERTopic does, ``size_order``) and strands by theme, size.

    Returns the new theme and strand arrays and the old -> new maps of each; a paper in no
    theme, or in no strand, keeps −1.
    """
    placed = topics >= 0
    theme_map = size_order(topics)
    new_topics = np.asarray([theme_map.get(int(t), -1) for t in topics], dtype=np.int64)
    has = placed & (strands >= 0)
    values, first, counts = np.unique(strands[has], return_index=True, return_counts=True)
    index = np.flatnonzero(has)
    order = sorted(range(len(values)), key=lambda i: (int(new_topics[index[first[i]]]),
                                                      -counts[i], first[i]))
    strand_map = {int(values[i]): r for r, i in enumerate(order)}
    new_strands = np.asarray([strand_map.get(int(s), -1) if t >= 0 else -1
                              for s, t in zip(strands, topics, strict=True)], dtype=np.int64)
    return new_topics, new_strands, theme_map, strand_map


def _renumber(topics: np.ndarray, strands: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, dict[int, int]]:
    """``renumber``, returning each new strand's theme instead of the maps."""
    new_topics, new_strands, _, _ = renumber(topics, strands)
    strand_theme = {int(s): int(t) for s, t in zip(new_strands, new_topics, strict=True)
                    if s >= 0}
    return new_topics, new_strands, strand_theme


def size_order(topics: np.ndarray) -> dict[int, int]:
    """Map each theme (not −1) to its rank by size, ties broken exactly as BERTopic breaks them.

    BERTopic renumbers the themes it is given by size (``_sort_mappings_by_frequency``:
    a Counter in order of first appearance, then pandas' unstable ``sort_values``), so
    equal-sized themes come out in an order of its own. The stage keeps BERTopic's numbers
    equal to its own only if it numbers them the same way, hence this mirror of BERTopic's
    few lines rather than a stable sort (which would disagree on ties).
    """
    sizes = collections.Counter(np.asarray(topics).astype(int).tolist())
    frame = pd.DataFrame(list(sizes.items()), columns=["Old_Topic", "Size"])
    frame = frame.sort_values("Size", ascending=False)
    ranked = [int(t) for t in frame["Old_Topic"] if t != -1]
    return {t: r for r, t in enumerate(ranked)}


def _map_before(before: np.ndarray, stayed: np.ndarray, topics: np.ndarray) -> np.ndarray:
    """Express the tree's themes in the final numbering (−1 where it has no final theme)."""
    mapping: dict[int, int] = {}
    for b, t in zip(before, topics, strict=True):
        if b >= 0 and t >= 0:
            mapping.setdefault(int(b), -1)
    for b, s, t in zip(before, stayed, topics, strict=True):
        if b >= 0 and s >= 0 and t >= 0:
            mapping[int(b)] = int(t)
    return np.asarray([mapping.get(int(b), -1) for b in before], dtype=np.int64)
