"""The map snapshot and the incremental update: new papers placed onto an earlier map.

Every full fit leaves a **snapshot** of its map under ``DIR/models/map_snapshot/``: what
a later update needs to place papers the way that fit placed them, without refitting —

* ``themes.parquet``: each theme's centroid in the embedding space (unit mean of the
  tree's members, exactly the centres ``place.place_papers`` measured against), label
  and ``theme_id`` when the run has them;
* ``strands.parquet``: each strand's centroid (unit mean of its final members), theme,
  label and ``strand_id`` when present;
* ``papers.parquet``: every paper of the fit (placed or not) with its theme, strand,
  membership, similarity and map position (and ``theme_id`` / ``strand_id`` when
  present);
* ``snapshot.json``: the membership cut-offs the placement used (the similarity
  cut-off, Tukey's fence or a fixed ``outlier_threshold``, and the peripheral quartile),
  the fit date, a fingerprint of corpus + parameters, and the SHA-256 of each file.

The snapshot in ``current/`` is replaced only when a full fit's fingerprint differs
from it; the one it replaces moves to ``previous/`` and is the baseline later fits are
compared with. Re-running the same fit therefore leaves both untouched and gives the
same ``is_new`` flags (idempotent). The fit date is taken once, from the run's
manifest (the ingest stage's finish date) when the snapshot is written, and reused.

An **update** (``run_topics(update=True)`` / ``litreview run --update``) keeps every
paper of the current snapshot in its theme and strand; a new paper (``paper_id`` not in
the snapshot) joins the theme whose centroid it is most similar to when that similarity
reaches the snapshot's cut-off — the full fit's own rule with its own numbers — and
the most similar strand inside it; a new paper below the cut-off stays unplaced and is
flagged ``candidate_new_theme``. Without a snapshot the update falls back to a full fit
(one warning says so). ``data/map_changes.json`` records what happened.

The cut-off and the centroids are read back rather than recomputed because an update
must not move the bar with the new papers: a paper is placed exactly as it would have
been in the fit it is added to.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import os
import shutil
import tempfile
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from litreview import config, io, manifest, metrics
from litreview.topics.fit import Levels, TopicParams
from litreview.topics.place import CORE, PERIPHERAL, UNPLACED, Placement, _renumber

logger = logging.getLogger(__name__)

#: Folder under ``DIR/models`` that holds the snapshots.
SNAPSHOT_DIR = "map_snapshot"
CURRENT, PREVIOUS = "current", "previous"
SNAPSHOT_FILES = ("themes", "strands", "papers")
#: Modes ``data/map_changes.json`` reports.
MODES = ("first", "refit", "update")
MAP_CHANGES_FILE = "map_changes.json"
#: Nearest earlier papers whose map positions place a new paper on the 2-D map.
MAP_NEIGHBOURS = 10
#: Optional id columns another step adds to doc_topics; kept in the snapshot when present.
ID_COLUMNS = ("theme_id", "strand_id")


class SnapshotWarning(UserWarning):
    """The map snapshot is missing or unusable: the update fits the map from scratch."""


@dataclasses.dataclass
class Snapshot:
    """One full fit's map, as stored under ``models/map_snapshot/<current|previous>``."""

    themes: pd.DataFrame
    strands: pd.DataFrame
    papers: pd.DataFrame
    meta: dict[str, Any]

    @property
    def fingerprint(self) -> str:
        return str(self.meta.get("fingerprint", ""))

    @property
    def fit_date(self) -> str:
        return str(self.meta.get("fit_date", ""))

    @property
    def paper_ids(self) -> set[str]:
        return set(self.papers["paper_id"].astype(str))


@dataclasses.dataclass
class MapState:
    """What the topics stage decided about the snapshot before fitting (``begin``)."""

    #: "first" (no earlier map), "refit" (full fit, earlier map to compare) or "update".
    mode: str
    fingerprint: str
    #: The snapshot new papers are judged against (``is_new``); None in "first" mode.
    baseline: Snapshot | None
    #: The current snapshot (None when there is none).
    current: Snapshot | None
    notes: list[str] = dataclasses.field(default_factory=list)
    #: Update mode only: the tree-free levels and the placement onto the snapshot.
    levels: Levels | None = None
    placement: Placement | None = None

    @property
    def updating(self) -> bool:
        return self.mode == "update"


# --------------------------------------------------------------------------- storage


def snapshot_dir(out_dir: str | os.PathLike, which: str = CURRENT) -> Path:
    """Return ``DIR/models/map_snapshot/<which>``."""
    return config.models_dir(out_dir) / SNAPSHOT_DIR / which


def save_snapshot(folder: Path, snapshot: Snapshot) -> Path:
    """Write ``snapshot`` into ``folder`` (replaced only once complete), checksummed."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        sums = {}
        for name in SNAPSHOT_FILES:
            path = tmp / f"{name}.parquet"
            getattr(snapshot, name).to_parquet(path, index=False)
            sums[name] = hashlib.sha256(path.read_bytes()).hexdigest()
        io.write_json(tmp / "snapshot.json", {**snapshot.meta, "sha256": sums})
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def load_snapshot(out_dir: str | os.PathLike, which: str = CURRENT) -> Snapshot | None:
    """Read a snapshot; None when absent, and (with a ``SnapshotWarning``) when unusable."""
    folder = snapshot_dir(out_dir, which)
    record = folder / "snapshot.json"
    if not record.exists():
        return None
    try:
        meta = io.read_json(record)
        sums = meta.pop("sha256")
        frames = {}
        for name in SNAPSHOT_FILES:
            path = folder / f"{name}.parquet"
            if hashlib.sha256(path.read_bytes()).hexdigest() != sums[name]:
                raise ValueError(f"{path.name}: checksum mismatch")
            frames[name] = pd.read_parquet(path)
    except (OSError, ValueError, KeyError, TypeError, json.JSONDecodeError) as err:
        _warn(f"map snapshot {folder} is not used: {err}")
        return None
    return Snapshot(frames["themes"], frames["strands"], frames["papers"], meta)


def _warn(message: str) -> None:
    logger.warning(message)
    warnings.warn(message, SnapshotWarning, stacklevel=3)


# --------------------------------------------------------------------------- fingerprint


def fit_fingerprint(paper_ids: list[str], embeddings: np.ndarray, params: TopicParams,
                    settings: Mapping[str, Any] | None = None) -> str:
    """Return the SHA-256 of what decides a full fit: papers, their vectors, parameters."""
    digest = hashlib.sha256()
    digest.update("\n".join(paper_ids).encode())
    array = np.ascontiguousarray(embeddings)
    digest.update(f"{array.dtype.str}{array.shape}".encode())
    digest.update(array.tobytes())
    digest.update(json.dumps({**dataclasses.asdict(params), **(settings or {})},
                             sort_keys=True, default=str).encode())
    return digest.hexdigest()


def run_date(out_dir: str | os.PathLike) -> str:
    """Return the run's date (YYYY-MM-DD): the ingest stage's finish date in the manifest,
    else today (UTC). Called once, when a snapshot is written; the date is then stored."""
    stages = manifest.read_manifest(out_dir).get("stages") or {}
    for stage in ("ingest", "topics"):
        finished = str((stages.get(stage) or {}).get("finished_at") or "")
        if len(finished) >= 10:
            return finished[:10]
    return dt.datetime.now(dt.UTC).date().isoformat()


# --------------------------------------------------------------------------- the snapshot of a fit


def make_snapshot(embeddings: np.ndarray, placement: Placement, doc_topics: pd.DataFrame,
                  topics: pd.DataFrame, strands: pd.DataFrame, *, fingerprint: str,
                  fit_date: str, clustered: bool = True,
                  n_themes_bounds: tuple[int, int] = (1, 1)) -> Snapshot:
    """Return the snapshot of a full fit (see the module docstring).

    Theme centroids are the unit means of the tree's members (``placement.topics_before``),
    the centres the placement measured similarity against; strand centroids are the unit
    means of each strand's final members.
    """
    unit = metrics._unit(np.asarray(embeddings, dtype=np.float64))
    theme_ids = [int(t) for t in topics["topic"]]
    centres = metrics.centroids(unit, np.asarray(placement.topics_before), theme_ids)
    empty = ~np.abs(centres).any(axis=1)
    if empty.any():  # no tree member left (cannot happen after place_papers): final members
        centres[empty] = metrics.centroids(unit, np.asarray(placement.topics),
                                           np.asarray(theme_ids)[empty].tolist())
    themes = pd.DataFrame({
        "topic": pd.Series(theme_ids, dtype="int64"),
        "label": topics["label"].astype(str).to_numpy(),
        "centroid": [row.astype(float).tolist() for row in centres],
    })
    if "theme_id" in topics.columns:
        themes["theme_id"] = topics["theme_id"].astype(str).to_numpy()
    strand_ids = [int(s) for s in strands["strand"]]
    s_centres = metrics.centroids(unit, np.asarray(placement.strands), strand_ids)
    strand_frame = pd.DataFrame({
        "strand": pd.Series(strand_ids, dtype="int64"),
        "topic": strands["topic"].astype("int64").to_numpy(),
        "label": strands["label"].astype(str).to_numpy(),
        "centroid": [row.astype(float).tolist() for row in s_centres],
    })
    if "strand_id" in strands.columns:
        strand_frame["strand_id"] = strands["strand_id"].astype(str).to_numpy()
    columns = ["paper_id", "topic", "strand", "membership", "similarity", "x", "y",
               *(c for c in ID_COLUMNS if c in doc_topics.columns)]
    papers = doc_topics[columns].reset_index(drop=True).copy()
    papers["paper_id"] = papers["paper_id"].astype(str)
    summary = placement.summary
    meta = {
        "fingerprint": fingerprint,
        "fit_date": fit_date,
        "n_papers": len(papers),
        "n_themes": len(themes),
        "n_strands": len(strand_frame),
        "dimensions": int(unit.shape[1]) if unit.ndim == 2 else 0,
        "similarity_cutoff": float(summary["similarity_cutoff"]),
        "similarity_cutoff_rule": str(summary["similarity_cutoff_rule"]),
        "corpus_fence": float(summary["corpus_fence"]),
        "peripheral_below": float(summary["peripheral_below"]),
        "clustered": bool(clustered),
        "n_themes_bounds": [int(b) for b in n_themes_bounds],
    }
    return Snapshot(themes, strand_frame, papers, meta)


def record_fit(out_dir: str | os.PathLike, snapshot: Snapshot) -> Snapshot | None:
    """Store a full fit's snapshot and return the baseline it is compared with.

    Same fingerprint as ``current``: nothing is written and the baseline stays
    ``previous`` (idempotent re-runs). A different one: ``current`` becomes ``previous``
    and the new snapshot ``current``. None when there is no earlier map.
    """
    current = load_snapshot(out_dir, CURRENT)
    if current is not None and current.fingerprint == snapshot.fingerprint:
        return load_snapshot(out_dir, PREVIOUS)
    if current is not None:
        previous_dir = snapshot_dir(out_dir, PREVIOUS)
        if previous_dir.exists():
            shutil.rmtree(previous_dir)
        os.replace(snapshot_dir(out_dir, CURRENT), previous_dir)
    save_snapshot(snapshot_dir(out_dir, CURRENT), snapshot)
    return current


# --------------------------------------------------------------------------- placing new papers


@dataclasses.dataclass
class NewPlacement:
    """Where the new papers land on a snapshot (arrays in the order of the input)."""

    topics: np.ndarray
    strands: np.ndarray
    membership: np.ndarray
    similarity: np.ndarray


def place_new(embeddings: np.ndarray, snapshot: Snapshot) -> NewPlacement:
    """Place papers onto ``snapshot``'s themes by the full fit's rule and cut-offs.

    The nearest theme centroid (cosine) when the similarity reaches the snapshot's
    ``similarity_cutoff`` (else unplaced, theme −1); peripheral below
    ``peripheral_below``, else core; the nearest strand centroid inside the theme.
    """
    unit = metrics._unit(np.asarray(embeddings, dtype=np.float64))
    n = len(unit)
    theme_ids = snapshot.themes["topic"].astype(int).to_numpy()
    if n == 0 or len(theme_ids) == 0:
        return NewPlacement(np.full(n, -1, np.int64), np.full(n, -1, np.int64),
                            np.full(n, UNPLACED, dtype=object), np.zeros(n))
    centres = np.asarray(snapshot.themes["centroid"].tolist(), dtype=np.float64)
    sims = unit @ centres.T
    best = sims.argmax(axis=1)
    similarity = sims[np.arange(n), best]
    cut = float(snapshot.meta["similarity_cutoff"])
    placed = similarity >= cut
    topics = np.where(placed, theme_ids[best], -1).astype(np.int64)
    q1 = float(snapshot.meta["peripheral_below"])
    membership = np.where(~placed, UNPLACED, np.where(similarity < q1, PERIPHERAL, CORE))
    strands = np.full(n, -1, dtype=np.int64)
    s_topic = snapshot.strands["topic"].astype(int).to_numpy()
    s_ids = snapshot.strands["strand"].astype(int).to_numpy()
    s_centres = (np.asarray(snapshot.strands["centroid"].tolist(), dtype=np.float64)
                 if len(s_ids) else np.zeros((0, unit.shape[1])))
    for theme in sorted(set(topics.tolist()) - {-1}):
        rows = np.flatnonzero(topics == theme)
        inside = np.flatnonzero(s_topic == theme)
        if len(inside):
            strands[rows] = s_ids[inside][(unit[rows] @ s_centres[inside].T).argmax(axis=1)]
    return NewPlacement(topics, strands, membership.astype(object), similarity.astype(float))


def place_on_snapshot(paper_ids: list[str], embeddings: np.ndarray, snapshot: Snapshot
                      ) -> tuple[Levels, Placement, np.ndarray]:
    """Return levels and placement of the whole (grown) corpus on ``snapshot``, and is_new.

    Papers of the snapshot keep their theme, strand, membership and similarity; the
    others are placed by :func:`place_new`. Themes are then numbered by size and strands
    by theme and size, as ``place.place_papers`` numbers them.
    """
    known = snapshot.papers.set_index("paper_id")
    is_new = np.asarray([pid not in known.index for pid in paper_ids], dtype=bool)
    n = len(paper_ids)
    topics = np.full(n, -1, dtype=np.int64)
    strands = np.full(n, -1, dtype=np.int64)
    membership = np.full(n, UNPLACED, dtype=object)
    similarity = np.zeros(n, dtype=float)
    old = np.flatnonzero(~is_new)
    if len(old):
        rows = known.loc[[paper_ids[i] for i in old]]
        topics[old] = rows["topic"].astype("int64").to_numpy()
        strands[old] = rows["strand"].astype("int64").to_numpy()
        membership[old] = rows["membership"].astype(str).to_numpy()
        similarity[old] = rows["similarity"].astype(float).to_numpy()
    new = np.flatnonzero(is_new)
    landed = place_new(np.asarray(embeddings)[new], snapshot)
    topics[new], strands[new] = landed.topics, landed.strands
    membership[new], similarity[new] = landed.membership, landed.similarity
    # Numbered by size like a full fit's (BERTopic and the tables expect it); identity
    # across runs is the ids' business (theme_id), not the number's.
    topics, strands, strand_theme = _renumber(topics, strands)
    meta = snapshot.meta
    placed = topics >= 0
    n_unplaced = int((~placed).sum())
    summary = {
        "similarity_cutoff": float(meta["similarity_cutoff"]),
        "similarity_cutoff_rule": f"{meta['similarity_cutoff_rule']} (of the map fitted "
                                  f"{snapshot.fit_date}; update)",
        "corpus_fence": float(meta["corpus_fence"]),
        "peripheral_below": float(meta["peripheral_below"]),
        "n_dissolved_theme_papers": 0,
        "n_reassigned": 0,
        "reassigned_similarity_min": None,
        "reassigned_similarity_median": None,
        "n_unplaced": n_unplaced,
        "unplaced_share": n_unplaced / n if n else 0.0,
        "n_peripheral": int((membership == PERIPHERAL).sum()),
        "n_core": int((membership == CORE).sum()),
        "n_new": int(is_new.sum()),
        "n_new_placed": int((is_new & placed).sum()),
    }
    placement = Placement(topics, strands, membership.astype(str), similarity,
                          topics.copy(), strand_theme, summary)
    bounds = tuple(meta.get("n_themes_bounds") or (1, 1))
    levels = Levels(themes=topics.copy(), strands=strands.copy(), strand_theme=strand_theme,
                    n_themes_bounds=(int(bounds[0]), int(bounds[1])),
                    clustered=bool(meta.get("clustered", True)),
                    notes=[_update_note(snapshot, summary)], tree_papers=np.arange(0))
    return levels, placement, is_new


def _update_note(snapshot: Snapshot, summary: Mapping[str, Any]) -> str:
    n_new, placed = summary["n_new"], summary["n_new_placed"]
    return (f"update: {n_new} new paper{'s' if n_new != 1 else ''} placed onto the map "
            f"fitted {snapshot.fit_date} without refitting ({placed} in a theme, "
            f"{n_new - placed} fit none: candidates for a new theme)")


def update_coordinates(paper_ids: list[str], embeddings: np.ndarray, snapshot: Snapshot,
                       k: int = MAP_NEIGHBOURS) -> np.ndarray | None:
    """Return 2-D map positions: the snapshot's for its papers, and for a new paper the
    similarity-weighted mean position of its ``k`` most similar snapshot papers.

    This is how UMAP's own ``transform`` starts a new point (the model itself is not
    cached, only the reduction). None when the snapshot has no positions for the
    papers it holds that are still in the corpus (the caller recomputes the map).
    """
    known = snapshot.papers.set_index("paper_id")
    index = {pid: i for i, pid in enumerate(paper_ids)}
    old = [pid for pid in paper_ids if pid in known.index]
    if not old or not {"x", "y"} <= set(known.columns):
        return None
    xy_old = known.loc[old, ["x", "y"]].astype(float).to_numpy()
    if not np.isfinite(xy_old).all():
        return None
    coords = np.zeros((len(paper_ids), 2), dtype=float)
    old_rows = np.asarray([index[p] for p in old])
    coords[old_rows] = xy_old
    new_rows = np.asarray([i for i, pid in enumerate(paper_ids) if pid not in known.index],
                          dtype=np.int64)
    if len(new_rows):
        unit = metrics._unit(np.asarray(embeddings, dtype=np.float64))
        sims = unit[new_rows] @ unit[old_rows].T
        k = min(k, len(old_rows))
        nearest = np.argsort(-sims, axis=1, kind="stable")[:, :k]
        weights = np.clip(np.take_along_axis(sims, nearest, axis=1), 1e-6, None)
        coords[new_rows] = (weights[:, :, None] * xy_old[nearest]).sum(axis=1) / \
            weights.sum(axis=1, keepdims=True)
    return coords


# --------------------------------------------------------------------------- the stage's hooks


def begin(out_dir: str | os.PathLike, paper_ids: list[str], embeddings: np.ndarray,
          params: TopicParams, *, update: bool = False,
          settings: Mapping[str, Any] | None = None) -> MapState:
    """Decide the stage's mode before fitting; in update mode, place the corpus.

    ``settings`` are the other parameters that decide the fit (embedding model, …),
    folded into the fingerprint with ``params``.
    """
    fingerprint = fit_fingerprint(paper_ids, embeddings, params, settings)
    current = load_snapshot(out_dir, CURRENT)
    if update and current is not None:
        levels, placement, _ = place_on_snapshot(paper_ids, embeddings, current)
        return MapState("update", fingerprint, current, current, list(levels.notes),
                        levels, placement)
    notes = []
    if update:
        note = ("--update: no map snapshot under "
                f"{config.models_dir(out_dir) / SNAPSHOT_DIR / CURRENT}; fitting the map "
                "from scratch")
        _warn(note)
        notes.append(note)
    if current is None:
        return MapState("first", fingerprint, None, None, notes)
    baseline = load_snapshot(out_dir, PREVIOUS) if current.fingerprint == fingerprint \
        else current
    return MapState("refit" if baseline is not None else "first", fingerprint, baseline,
                    current, notes)


def map_coordinates_for(state: MapState, paper_ids: list[str], embeddings: np.ndarray
                        ) -> np.ndarray | None:
    """Return the update's map positions (``update_coordinates``), None to recompute."""
    if not state.updating or state.current is None:
        return None
    return update_coordinates(paper_ids, embeddings, state.current)


def auto_map_tables(paper_ids: list[str], doc_topics: pd.DataFrame, placement: Placement,
                    theme_names: Mapping[int, str], strand_names: Mapping[int, str],
                    theme_ids: Mapping[int, str], strand_ids: Mapping[int, str],
                    ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The automatic (uncurated) map as the snapshot stores it: topics, strands, doc_topics.

    The snapshot keeps the map the model fitted, not the curated one, so an update places
    new papers onto the fitted themes and the curation is applied again afterwards, exactly
    as after a refit (a merge names themes that only the fitted map still has apart).
    ``paper_ids`` are in the order of ``placement``'s arrays; ``doc_topics`` gives the map
    positions.
    """
    topics = np.asarray(placement.topics, dtype=np.int64)
    strands = np.asarray(placement.strands, dtype=np.int64)
    numbers = sorted(set(topics.tolist()) - {-1})
    topic_frame = pd.DataFrame({
        "topic": pd.Series(numbers, dtype="int64"),
        "label": [str(theme_names.get(t, "")) for t in numbers],
        "theme_id": [str(theme_ids.get(t, "")) for t in numbers],
    })
    strand_numbers = sorted(set(strands.tolist()) - {-1})
    strand_frame = pd.DataFrame({
        "strand": pd.Series(strand_numbers, dtype="int64"),
        "topic": pd.Series([int(placement.strand_theme.get(s, -1)) for s in strand_numbers],
                           dtype="int64"),
        "label": [str(strand_names.get(s, "")) for s in strand_numbers],
        "strand_id": [str(strand_ids.get(s, "")) for s in strand_numbers],
    })
    positions = doc_topics.set_index(doc_topics["paper_id"].astype(str))[["x", "y"]]
    doc = pd.DataFrame({
        "paper_id": [str(p) for p in paper_ids],
        "topic": topics,
        "strand": strands,
        "membership": np.asarray(placement.membership, dtype=object),
        "similarity": np.asarray(placement.similarity, dtype=float),
    })
    doc["x"] = positions.loc[doc["paper_id"], "x"].to_numpy()
    doc["y"] = positions.loc[doc["paper_id"], "y"].to_numpy()
    doc["theme_id"] = [str(theme_ids.get(int(t), "")) if t >= 0 else "" for t in topics]
    doc["strand_id"] = [str(strand_ids.get(int(s), "")) if s >= 0 else "" for s in strands]
    return topic_frame, strand_frame, doc


def finish(out_dir: str | os.PathLike, state: MapState, embeddings: np.ndarray,
           placement: Placement, tables: Any, summary: dict[str, Any], *,
           levels: Levels | None = None,
           snapshot_tables: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame] | None = None,
           ) -> dict[str, Any]:
    """Add ``is_new`` / ``candidate_new_theme`` to ``tables.doc_topics``, store a full
    fit's snapshot, write ``data/map_changes.json`` and add it to ``summary``.

    Call after the tables are final (names, ids, curation) and before they are written;
    ``snapshot_tables`` (``auto_map_tables``) are the uncurated map the snapshot stores
    (default: the final tables). Returns the map changes.
    """
    doc = tables.doc_topics
    ids = doc["paper_id"].astype(str)
    baseline = state.baseline
    if not state.updating:
        s_topics, s_strands, s_doc = (snapshot_tables if snapshot_tables is not None
                                      else (tables.topics, tables.strands, doc))
        snapshot = make_snapshot(
            embeddings, placement, s_doc, s_topics, s_strands,
            fingerprint=state.fingerprint, fit_date=_fit_date(out_dir, state),
            clustered=levels.clustered if levels is not None else True,
            n_themes_bounds=levels.n_themes_bounds if levels is not None else (1, 1))
        baseline = record_fit(out_dir, snapshot)
    previous = baseline.paper_ids if baseline is not None else None
    is_new = (np.asarray([p not in previous for p in ids], dtype=bool)
              if previous is not None else np.zeros(len(doc), dtype=bool))
    placed = doc["topic"].astype(int).to_numpy() >= 0
    doc["is_new"] = is_new
    doc["candidate_new_theme"] = (is_new & ~placed) if state.updating \
        else np.zeros(len(doc), dtype=bool)
    mode = state.mode if baseline is not None or state.updating else "first"
    changes = {
        "mode": mode,
        "previous_date": baseline.fit_date if baseline is not None else None,
        "n_new": int(is_new.sum()),
        "n_new_placed": int((is_new & placed).sum()),
        "n_new_unplaced": int((is_new & ~placed).sum()),
    }
    io.write_json(config.data_dir(out_dir) / MAP_CHANGES_FILE, changes)
    summary["map_changes"] = changes
    summary.setdefault("notes", [])
    for note in state.notes:
        if note not in summary["notes"]:
            summary["notes"].append(note)
    return changes


def _fit_date(out_dir: str | os.PathLike, state: MapState) -> str:
    """The date stored with a new snapshot: the current one's when the fit is unchanged."""
    if state.current is not None and state.current.fingerprint == state.fingerprint:
        return state.current.fit_date
    return run_date(out_dir)


def moved_table(doc_topics: pd.DataFrame, topics: pd.DataFrame) -> pd.DataFrame:
    """Return, per theme, how many papers it has and how many of them are new
    (``theme``, ``label``, ``papers``, ``new``), plus a row for new unplaced papers."""
    labels = dict(zip(topics["topic"].astype(int), topics["label"].astype(str), strict=True))
    frame = doc_topics.assign(_new=doc_topics.get("is_new", False))
    rows = []
    for topic, group in frame.groupby(frame["topic"].astype(int), sort=True):
        rows.append({"theme": int(topic), "label": labels.get(int(topic), "Unplaced"),
                     "papers": len(group), "new": int(group["_new"].astype(bool).sum())})
    out = pd.DataFrame(rows, columns=["theme", "label", "papers", "new"])
    return out.sort_values(["new", "theme"], ascending=[False, True]).reset_index(drop=True)
