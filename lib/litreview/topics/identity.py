"""Stable theme and strand identities across runs (``theme_id``, ``strand_id``, the change report).

A theme's number (``topic``) is its rank by size and changes whenever the corpus does; the
researcher's curation file names themes by a stable id instead. The ids are made here:

* without a previous run in the output folder, every theme is ``t-<slug of its label>``
  (at most four words, ASCII) and every strand ``s-<slug>``; equal slugs are told apart
  deterministically in table order with ``-2``, ``-3`` …;
* with a previous run (its ``data/topics.parquet``, ``doc_topics.parquet`` and
  ``strands.parquet``, read by :func:`read_previous` *before* the stage overwrites them),
  the current themes are matched to the previous ones by shared member papers: the
  Jaccard index of their paper sets, one-to-one by the Hungarian algorithm
  (``scipy.optimize.linear_sum_assignment``). A pair needs ``MIN_JACCARD``; themes left
  over whose papers mostly come from one left-over previous theme are paired too, and
  the rest may still be paired by the cosine of their centroids (``MIN_COSINE``) when
  their papers barely overlap. A matched theme keeps the previous id (and with it its
  curation); a theme without a match gets a fresh id that no previous theme had.

What happened to each theme goes into ``data/theme_changes.parquet``:

``kept``      matched, same automatic label;
``renamed``   matched, the automatic label changed (the id, and any curated name, stay);
``split``     a previous theme whose papers now lie in two current themes: the one that
              kept the id and the one that split off (a fresh id, ``previous_theme_id``
              the theme it came from) are both ``split``;
``merged``    a current theme that absorbed another previous theme, and that previous
              theme's own row (``theme_id`` the theme it went into);
``new``       a current theme with no previous counterpart;
``gone``      a previous theme whose papers went nowhere in particular (its own row).

Matching compares the *automatic* map of both runs (before curation): the previous
run's ``doc_topics.auto_theme_id`` / ``auto_strand_id`` columns hold it, so a theme the
researcher merged away last time is found again, keeps its id, and is merged again.
Tables from older versions without these columns are read by deriving their ids from
their labels, as a first run would.

Strands are matched the same way, among the strands of the previous themes their theme
is related to. The module works on plain arrays and DataFrames and needs no model.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from litreview import config

THEME_PREFIX, STRAND_PREFIX = "t-", "s-"
#: Words of a label that make its id.
ID_WORDS = 4
#: Least Jaccard index of two themes' papers for the Hungarian pairing to keep the pair.
MIN_JACCARD = 0.2
#: Share of a theme's known papers that must come from (go to) one theme to call it its
#: source (destination): a split-off, a merge, or a left-over pair.
DOMINANT_SHARE = 0.5
#: Least cosine of two centroids to pair themes whose papers barely overlap.
MIN_COSINE = 0.9
KEPT, RENAMED, SPLIT, MERGED, NEW, GONE = "kept", "renamed", "split", "merged", "new", "gone"
CHANGE_COLUMNS = ["theme_id", "label", "previous_theme_id", "previous_label", "change",
                  "shared_papers", "similarity"]
CHANGES_TABLE = "theme_changes"


def slug(text: str, max_words: int = ID_WORDS) -> str:
    """Return the first ``max_words`` words of ``text`` as lower-case ASCII joined by ``-``.

    Written by hand (unicodedata's NFKD, then ASCII): a slug library would add a
    dependency for five lines; accents are dropped (``Café`` -> ``cafe``), anything else
    that is not a letter or a digit separates words. Empty when no word is left.
    """
    ascii_text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    return "-".join(words[:max_words])


def fresh_id(prefix: str, label: str, taken: set[str]) -> str:
    """Return ``prefix + slug(label)``, numbered ``-2``, ``-3`` … until not in ``taken``; add it."""
    base = prefix + (slug(label) or ("theme" if prefix == THEME_PREFIX else "strand"))
    candidate, k = base, 1
    while candidate in taken:
        k += 1
        candidate = f"{base}-{k}"
    taken.add(candidate)
    return candidate


def derive_ids(labels: Sequence[str], prefix: str, taken: Iterable[str] = ()) -> list[str]:
    """Ids for ``labels`` in order, as a first run makes them (deduplicated in that order)."""
    used = set(taken)
    return [fresh_id(prefix, label, used) for label in labels]


# --------------------------------------------------------------------------- previous map


@dataclasses.dataclass(frozen=True)
class PreviousMap:
    """The automatic map of the previous run in the same output folder."""

    #: Every paper of the previous map (placed or not).
    papers: frozenset[str]
    #: Automatic theme id -> its member papers, and its automatic label where known.
    themes: dict[str, frozenset[str]]
    labels: dict[str, str]
    strands: dict[str, frozenset[str]]
    strand_theme: dict[str, str]
    strand_labels: dict[str, str]
    #: Every id the previous tables used (never given to a new theme or strand).
    used_ids: frozenset[str] = frozenset()
    #: The naming recipe that made the automatic labels (``topics.label_recipe``; "" for
    #: tables written before it was recorded).
    label_recipe: str = ""


def read_previous(out_dir: str | Path) -> PreviousMap | None:
    """Read the previous run's map under ``out_dir``; None when there is none (or unreadable).

    Call it before the stage writes: it reads the very files the stage replaces.
    """
    folder = config.data_dir(out_dir)
    paths = {name: folder / f"{name}.parquet" for name in ("topics", "doc_topics", "strands")}
    if not (paths["topics"].is_file() and paths["doc_topics"].is_file()):
        return None
    changes_path = folder / f"{CHANGES_TABLE}.parquet"
    try:
        topics = pd.read_parquet(paths["topics"])
        doc_topics = pd.read_parquet(paths["doc_topics"])
        strands = pd.read_parquet(paths["strands"]) if paths["strands"].is_file() else None
        changes = pd.read_parquet(changes_path) if changes_path.is_file() else None
    except (OSError, ValueError):  # a half-written or foreign file: no previous map
        return None
    return previous_from_tables(topics, doc_topics, strands, changes)


def previous_from_tables(topics: pd.DataFrame, doc_topics: pd.DataFrame,
                         strands: pd.DataFrame | None = None,
                         changes: pd.DataFrame | None = None) -> PreviousMap | None:
    """Build the previous map from its three tables (any version of them).

    ``changes`` (the previous ``theme_changes.parquet``) gives the automatic labels of
    themes the curation merged away, which ``topics`` no longer lists.
    """
    if "paper_id" not in doc_topics or "topic" not in doc_topics or "topic" not in topics:
        return None
    docs = doc_topics.assign(paper_id=doc_topics["paper_id"].astype(str))
    topics = topics.sort_values("topic", kind="stable")
    # theme id of each paper: the automatic one, else the final one, else from the labels
    if "theme_id" in topics:
        id_of_topic = dict(zip(topics["topic"].astype(int), topics["theme_id"].astype(str),
                               strict=True))
    else:
        id_of_topic = dict(zip(topics["topic"].astype(int),
                               derive_ids(topics["label"].astype(str).tolist(), THEME_PREFIX),
                               strict=True))
    if "auto_theme_id" in docs:
        theme_of = docs["auto_theme_id"].fillna("").astype(str)
    elif "theme_id" in docs:
        theme_of = docs["theme_id"].fillna("").astype(str)
    else:
        theme_of = docs["topic"].astype(int).map(lambda t: id_of_topic.get(t, ""))
    label_column = "auto_label" if "auto_label" in topics else "label"
    labels = {}
    if changes is not None and {"theme_id", "label"} <= set(changes.columns):
        labels = {str(k): str(v) for k, v in zip(changes["theme_id"], changes["label"],
                                                 strict=True) if str(k)}
    labels.update({id_of_topic[int(t)]: str(lab)
                   for t, lab in zip(topics["topic"], topics[label_column], strict=True)})
    themes = _groups(docs["paper_id"], theme_of)
    labels = {k: v for k, v in labels.items() if k in themes}
    strand_members: dict[str, frozenset[str]] = {}
    strand_theme: dict[str, str] = {}
    strand_labels: dict[str, str] = {}
    used = set(id_of_topic.values()) | set(themes)
    if strands is not None and "strand" in docs and "strand" in strands and len(strands):
        strands = strands.sort_values("strand", kind="stable")
        if "strand_id" in strands:
            sid_of = dict(zip(strands["strand"].astype(int), strands["strand_id"].astype(str),
                              strict=True))
        else:
            sid_of = dict(zip(strands["strand"].astype(int),
                              derive_ids(strands["label"].astype(str).tolist(), STRAND_PREFIX),
                              strict=True))
        if "auto_strand_id" in docs:
            strand_of = docs["auto_strand_id"].fillna("").astype(str)
        elif "strand_id" in docs:
            strand_of = docs["strand_id"].fillna("").astype(str)
        else:
            strand_of = docs["strand"].astype(int).map(lambda s: sid_of.get(s, ""))
        strand_members = _groups(docs["paper_id"], strand_of)
        for sid, members in strand_members.items():
            owners = theme_of[docs["paper_id"].isin(members).to_numpy()]
            strand_theme[sid] = owners.value_counts().sort_index().idxmax() if len(owners) else ""
        slabel = "auto_label" if "auto_label" in strands else "label"
        strand_labels = {sid_of[int(s)]: str(lab) for s, lab in
                         zip(strands["strand"], strands[slabel], strict=True)
                         if sid_of[int(s)] in strand_members}
        used |= set(sid_of.values()) | set(strand_members)
    recipes = (sorted({str(r) for r in topics["label_recipe"].dropna()})
               if "label_recipe" in topics else [])
    return PreviousMap(frozenset(docs["paper_id"]), themes, labels, strand_members,
                       strand_theme, strand_labels, frozenset(used),
                       label_recipe=recipes[0] if len(recipes) == 1 else "")


def _groups(paper_ids: pd.Series, group_ids: pd.Series) -> dict[str, frozenset[str]]:
    out: dict[str, set[str]] = {}
    for pid, gid in zip(paper_ids.astype(str), group_ids.astype(str), strict=True):
        if gid:
            out.setdefault(gid, set()).add(pid)
    return {k: frozenset(v) for k, v in sorted(out.items())}


# --------------------------------------------------------------------------- matching


@dataclasses.dataclass(frozen=True)
class Match:
    """How current groups relate to previous ones."""

    #: current index -> previous key it keeps the id of, with how ("jaccard" | "cosine").
    pairs: dict[int, str]
    how: dict[int, str]
    #: current index (unpaired) -> the previous key its papers mostly came from.
    split_from: dict[int, str]
    #: previous key (unpaired) -> the current index its papers mostly went to.
    merged_into: dict[str, int]
    #: previous key (unpaired) with no destination.
    gone: list[str]


def jaccard_matrix(current: Sequence[frozenset[str]], previous: Sequence[frozenset[str]]
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Return (Jaccard index, shared papers) of every current × previous pair of paper sets."""
    jac = np.zeros((len(current), len(previous)))
    shared = np.zeros((len(current), len(previous)), dtype=np.int64)
    for i, cur in enumerate(current):
        for j, prev in enumerate(previous):
            both = len(cur & prev)
            if both:
                shared[i, j] = both
                jac[i, j] = both / len(cur | prev)
    return jac, shared


def match_groups(
    current: Sequence[frozenset[str]], previous: Mapping[str, frozenset[str]],
    known_papers: frozenset[str] | set[str],
    current_centroids: np.ndarray | None = None,
    previous_centroids: Mapping[str, np.ndarray] | None = None,
) -> Match:
    """Pair current groups with previous ones (see the module docstring for the rules).

    Parameters
    ----------
    current
        Member paper ids of each current group, in table order.
    previous
        Member paper ids of each previous group, by its id.
    known_papers
        Papers of the current corpus that the previous map also had (placed or not): a
        share of a group's papers is taken among those only.
    current_centroids, previous_centroids
        Unit centroids for the fallback pairing by cosine (optional).
    """
    from scipy.optimize import linear_sum_assignment

    keys = list(previous)
    prev_sets = [previous[k] for k in keys]
    jac, shared = jaccard_matrix(current, prev_sets)
    pairs: dict[int, str] = {}
    how: dict[int, str] = {}
    if jac.size:
        rows, cols = linear_sum_assignment(-jac)
        for i, j in zip(rows, cols, strict=True):
            if jac[i, j] >= MIN_JACCARD:
                pairs[int(i)], how[int(i)] = keys[j], "jaccard"
    taken = set(pairs.values())

    def source(i: int, pool: Iterable[int]) -> int | None:
        known = len(current[i] & known_papers)
        best = max(pool, key=lambda j: (shared[i, j], -j), default=None)
        if best is None or not known or shared[i, best] < DOMINANT_SHARE * known:
            return None
        return best

    def destination(j: int, pool: Iterable[int]) -> int | None:
        alive = len(prev_sets[j] & known_papers)
        best = max(pool, key=lambda i: (shared[i, j], -i), default=None)
        if best is None or not alive or shared[best, j] < DOMINANT_SHARE * alive:
            return None
        return best

    # left-over pairs whose papers mostly came from / went to each other
    for i in range(len(current)):
        if i in pairs:
            continue
        free = [j for j in range(len(keys)) if keys[j] not in taken]
        j = source(i, free)
        if j is not None and destination(j, [i2 for i2 in range(len(current))
                                             if i2 not in pairs]) == i:
            pairs[i], how[i] = keys[j], "jaccard"
            taken.add(keys[j])
    split_from: dict[int, str] = {}
    for i in range(len(current)):
        if i not in pairs:
            j = source(i, range(len(keys)))
            if j is not None:
                split_from[i] = keys[j]
    merged_into: dict[str, int] = {}
    for j, key in enumerate(keys):
        if key not in taken:
            i = destination(j, range(len(current)))
            if i is not None:
                merged_into[key] = i
    # fallback: centroids of what is left with no relation at all
    if current_centroids is not None and previous_centroids:
        rest_i = [i for i in range(len(current)) if i not in pairs and i not in split_from]
        rest_j = [j for j, k in enumerate(keys)
                  if k not in taken and k not in merged_into and k in previous_centroids]
        if rest_i and rest_j:
            prev_c = np.stack([_unit(previous_centroids[keys[j]]) for j in rest_j])
            cos = np.asarray(current_centroids)[rest_i] @ prev_c.T
            rows, cols = linear_sum_assignment(-cos)
            for r, c in zip(rows, cols, strict=True):
                if cos[r, c] >= MIN_COSINE:
                    pairs[rest_i[r]], how[rest_i[r]] = keys[rest_j[c]], "cosine"
                    taken.add(keys[rest_j[c]])
    gone = [k for k in keys if k not in taken and k not in merged_into]
    return Match(pairs, how, split_from, merged_into, gone)


def _unit(vector: np.ndarray) -> np.ndarray:
    vector = np.asarray(vector, dtype=np.float64)
    norm = np.linalg.norm(vector)
    return vector / norm if norm else vector


# --------------------------------------------------------------------------- assignment


@dataclasses.dataclass
class Identity:
    """Ids of the current automatic map and how it relates to the previous one."""

    #: theme number (``topic``) -> ``theme_id``; strand number -> ``strand_id``.
    theme_ids: dict[int, str]
    strand_ids: dict[int, str]
    #: Automatic labels by id.
    theme_labels: dict[str, str]
    strand_labels: dict[str, str]
    #: ``theme_id`` -> change ("" without a previous map).
    change: dict[str, str]
    #: ``data/theme_changes.parquet``.
    changes: pd.DataFrame
    #: Papers of the previous map; None without one.
    previous_papers: frozenset[str] | None = None
    #: Ids a new theme or strand may not take (every id used before or now).
    used_ids: set[str] = dataclasses.field(default_factory=set)

    @property
    def has_previous(self) -> bool:
        """True when a previous map was compared against."""
        return self.previous_papers is not None


def assign_ids(
    paper_ids: Sequence[str], topics: np.ndarray, strands: np.ndarray,
    theme_labels: Mapping[int, str], strand_labels: Mapping[int, str],
    previous: PreviousMap | None = None, *, embeddings: np.ndarray | None = None,
    previous_centroids: Mapping[str, np.ndarray] | None = None,
) -> Identity:
    """Give every current theme and strand its id, matching the previous map when given.

    Parameters
    ----------
    paper_ids
        The corpus's paper ids, in the order of ``topics`` / ``strands``.
    topics, strands
        Each paper's theme and strand number (-1: none).
    theme_labels, strand_labels
        The automatic label of each theme and strand number.
    previous
        The previous run's map (:func:`read_previous`), or None for a first run.
    embeddings
        The papers' embeddings, for the fallback pairing by centroid cosine (optional;
        previous centroids are taken from the embeddings of the previous themes'
        papers that are still in the corpus, unless ``previous_centroids`` gives them).
    """
    ids = np.asarray([str(p) for p in paper_ids], dtype=object)
    topics = np.asarray(topics, dtype=np.int64)
    strands = np.asarray(strands, dtype=np.int64)
    theme_nums = sorted(int(t) for t in set(topics.tolist()) | set(theme_labels) if t >= 0)
    members = [frozenset(ids[topics == t]) for t in theme_nums]
    labels_now = [str(theme_labels.get(t, "")) for t in theme_nums]
    strand_nums = sorted(int(s) for s in set(strands.tolist()) if s >= 0)
    strand_parent = {s: int(np.bincount(topics[strands == s][topics[strands == s] >= 0]
                                        ).argmax()) if (strands == s).any() else -1
                     for s in strand_nums}
    if previous is None:
        theme_ids = dict(zip(theme_nums, derive_ids(labels_now, THEME_PREFIX), strict=True))
        strand_ids = dict(zip(strand_nums, derive_ids(
            [str(strand_labels.get(s, "")) for s in strand_nums], STRAND_PREFIX), strict=True))
        changes = pd.DataFrame({
            "theme_id": [theme_ids[t] for t in theme_nums], "label": labels_now,
            "previous_theme_id": "", "previous_label": "", "change": "",
            "shared_papers": np.zeros(len(theme_nums), dtype=np.int64),
            "similarity": np.full(len(theme_nums), np.nan)}, columns=CHANGE_COLUMNS)
        return Identity(theme_ids, strand_ids,
                        {theme_ids[t]: lab for t, lab in zip(theme_nums, labels_now, strict=True)},
                        {strand_ids[s]: str(strand_labels.get(s, "")) for s in strand_nums},
                        {i: "" for i in theme_ids.values()}, changes, None,
                        set(theme_ids.values()) | set(strand_ids.values()))

    known = frozenset(ids) & previous.papers
    cur_c = prev_c = None
    if embeddings is not None and len(theme_nums):
        unit = _unit_rows(embeddings)
        cur_c = np.stack([_unit(unit[topics == t].mean(axis=0)) if (topics == t).any()
                          else np.zeros(unit.shape[1]) for t in theme_nums])
        position = {p: k for k, p in enumerate(ids)}
        prev_c = dict(previous_centroids or {})
        for key, prev_members in previous.themes.items():
            rows = [position[p] for p in sorted(prev_members) if p in position]
            if key not in prev_c and rows:
                prev_c[key] = _unit(unit[rows].mean(axis=0))
    elif previous_centroids:
        prev_c = dict(previous_centroids)
    match = match_groups(members, previous.themes, known, cur_c, prev_c)
    used = set(previous.used_ids) | set(previous.themes)
    theme_ids: dict[int, str] = {}
    for k, t in enumerate(theme_nums):
        if k in match.pairs:
            theme_ids[t] = match.pairs[k]
    for k, t in enumerate(theme_nums):
        if k not in match.pairs:
            theme_ids[t] = fresh_id(THEME_PREFIX, labels_now[k], used)
    used |= set(theme_ids.values())
    keys = list(previous.themes)
    _, shared = jaccard_matrix(members, [previous.themes[k] for k in keys])
    split_sources = set(match.split_from.values())
    absorbed = {i for i in match.merged_into.values()}
    rows: list[dict[str, object]] = []
    change: dict[str, str] = {}
    for k, t in enumerate(theme_nums):
        tid = theme_ids[t]
        prev_id = match.pairs.get(k) or match.split_from.get(k, "")
        if k in match.pairs:
            what = (SPLIT if prev_id in split_sources else MERGED if k in absorbed
                    else RENAMED if previous.labels.get(prev_id, labels_now[k]) != labels_now[k]
                    else KEPT)
        elif k in match.split_from:
            what = SPLIT
        else:
            what = MERGED if k in absorbed else NEW
        j = keys.index(prev_id) if prev_id else -1
        both = int(shared[k, j]) if j >= 0 else 0
        if prev_id and match.how.get(k) == "cosine" and cur_c is not None and prev_c:
            sim = float(cur_c[k] @ _unit(prev_c[prev_id]))
        elif prev_id:
            sim = both / len(members[k] | previous.themes[prev_id])
        else:
            sim = float("nan")
        change[tid] = what
        rows.append({"theme_id": tid, "label": labels_now[k], "previous_theme_id": prev_id,
                     "previous_label": previous.labels.get(prev_id, "") if prev_id else "",
                     "change": what, "shared_papers": both, "similarity": sim})
    for j, key in enumerate(keys):
        if key in match.pairs.values():
            continue
        into = match.merged_into.get(key)
        tid = theme_ids[theme_nums[into]] if into is not None else ""
        both = int(shared[into, j]) if into is not None else 0
        sim = both / len(members[into] | previous.themes[key]) if into is not None else 0.0
        rows.append({"theme_id": tid, "label": labels_now[into] if into is not None else "",
                     "previous_theme_id": key, "previous_label": previous.labels.get(key, ""),
                     "change": MERGED if into is not None else GONE,
                     "shared_papers": both, "similarity": sim})
    changes = pd.DataFrame(rows, columns=CHANGE_COLUMNS).astype(
        {"shared_papers": "int64", "similarity": "float64"})
    strand_ids = _match_strands(ids, strands, strand_nums, strand_parent, strand_labels,
                                theme_ids, match, theme_nums, previous, known, used)
    return Identity(theme_ids, strand_ids,
                    {theme_ids[t]: lab for t, lab in zip(theme_nums, labels_now, strict=True)},
                    {strand_ids[s]: str(strand_labels.get(s, "")) for s in strand_nums},
                    change, changes, previous.papers, used | set(strand_ids.values()))


def _match_strands(
    ids: np.ndarray, strands: np.ndarray, strand_nums: list[int], parent: dict[int, int],
    strand_labels: Mapping[int, str], theme_ids: dict[int, str], match: Match,
    theme_nums: list[int], previous: PreviousMap, known: frozenset[str], used: set[str],
) -> dict[int, str]:
    """Pair strands inside related themes (same rules as themes); fresh ids for the rest."""
    related: dict[int, set[str]] = {t: set() for t in theme_nums}
    for k, t in enumerate(theme_nums):
        if k in match.pairs:
            related[t].add(match.pairs[k])
        if k in match.split_from:
            related[t].add(match.split_from[k])
    for key, k in match.merged_into.items():
        related[theme_nums[k]].add(key)
    out: dict[int, str] = {}
    taken: set[str] = set()
    for t in theme_nums:
        mine = [s for s in strand_nums if parent[s] == t]
        pool = {sid: m for sid, m in previous.strands.items()
                if previous.strand_theme.get(sid) in related[t] and sid not in taken}
        if mine and pool:
            found = match_groups([frozenset(ids[strands == s]) for s in mine], pool, known)
            for k, sid in found.pairs.items():
                out[mine[k]] = sid
                taken.add(sid)
    used |= set(previous.strands)
    for s in strand_nums:
        if s not in out:
            out[s] = fresh_id(STRAND_PREFIX, str(strand_labels.get(s, "")), used)
    used |= set(out.values())
    return out


def _unit_rows(embeddings: np.ndarray) -> np.ndarray:
    matrix = np.asarray(embeddings, dtype=np.float64)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1.0, norms)


def write_changes(out_dir: str | Path, identity: Identity) -> Path:
    """Write ``data/theme_changes.parquet``."""
    from litreview import io

    return io.save_table(identity.changes.reset_index(drop=True), out_dir, CHANGES_TABLE)
