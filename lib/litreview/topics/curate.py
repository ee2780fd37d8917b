"""Apply the researcher's map curation (``review.yaml``) to the fitted map.

Runs after the themes and strands have their stable ids (``identity``) and before the
tables are built, in this order:

1. **merge** — ``themes: {A: {merge_into: B}}``: A's papers and strands join B, which keeps
   its id, its (automatic or curated) name and gains A's papers (chains A -> B -> C end
   in C); members' similarities are re-taken against the merged centroid;
2. **move** — ``papers: {REF: {theme: B}}``: the paper becomes a ``core`` member of B, in
   B's nearest strand (``curated`` = "moved");
3. **rename** — ``themes: {B: {name: ...}}`` and ``strands: {S: {name: ...}}``: the label
   is the curated one (``label_source`` = "curated"); an automatic label that equals a
   curated name is numbered, a curated one never changes; two curated names may not be
   the same;
4. **pin** — ``papers: {REF: {representative: true}}``: the paper comes first among its
   theme's (and strand's) representative papers (``curated`` = "pinned"; a paper both
   moved and pinned is "moved").

Everything that cannot be honoured (an unknown theme or strand id, a paper reference
that matches no paper, a pinned paper in no theme, two equal curated names, a rename of
a theme that is merged away) is collected first with its ``file:line``; then
``curation.settle`` stops the run before anything is written (strict) or returns the
problems to warn about (lenient), and only the valid entries are applied.
``data/curation.json`` lists what was applied and what was skipped.
"""

from __future__ import annotations

import dataclasses
import logging
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from litreview import config, curation, io
from litreview.topics.identity import Identity
from litreview.topics.naming import Names, naming_fingerprint, other_papers
from litreview.topics.place import CORE, PERIPHERAL, UNPLACED, Placement, renumber

logger = logging.getLogger(__name__)

CURATION_JSON = "curation.json"
AUTO, CURATED = "auto", "curated"
MOVED, PINNED = "moved", "pinned"


class MapCurationError(curation.CurationError):
    """A map curation that cannot be honoured, said on one line: ``file:line: why; …``.

    The pipeline shows a stage's error as ``ename: evalue`` on one line, so the message
    names every problem with its file and line without the multi-line layout of
    ``CurationError``.
    """

    def __str__(self) -> str:
        return "curation: " + "; ".join(str(p) for p in self.problems)


class CurationWarning(Warning):
    """A curation entry that a lenient run skipped (the message gives ``file:line``).

    Not a ``UserWarning``: a library of the stage silences those globally on import.
    """


@dataclasses.dataclass
class CuratedMap:
    """The map after curation, with everything the tables need to say about it."""

    placement: Placement
    names: Names
    #: Final theme number -> theme id; strand number -> strand id.
    theme_ids: dict[int, str]
    strand_ids: dict[int, str]
    #: Ids whose label the curation file gave.
    curated_themes: set[str]
    curated_strands: set[str]
    #: paper id -> "moved" | "pinned".
    flags: dict[str, str]
    #: theme id / strand id -> pinned paper ids, in file order.
    pins: dict[str, list[str]]
    #: ``data/curation.json``.
    report: dict[str, Any]
    #: True when merges or moves changed who belongs where (key terms are then re-ranked).
    membership_changed: bool
    identity: Identity
    #: Each paper's theme / strand id before curation ("" when none).
    auto_theme_of: dict[str, str]
    auto_strand_of: dict[str, str]
    #: The themes before curation: theme_id, label, size.
    before: pd.DataFrame

    def before_after(self) -> pd.DataFrame:
        """One row per theme before curation: its id, label and size before and after."""
        topics = self.placement.topics
        after = {self.theme_ids[t]: (self.names.themes.get(t, ""), int((topics == t).sum()))
                 for t in self.theme_ids}
        merged = {a["id"]: a["value"] for a in self.report["applied"] if a["kind"] == "merge"}
        rows = []
        for row in self.before.itertuples(index=False):
            target = row.theme_id
            while target in merged:
                target = merged[target]
            label, size = after.get(target, ("", 0))
            rows.append({"theme_id": row.theme_id, "label_before": row.label,
                         "size_before": row.size, "theme_id_after": target,
                         "label_after": label, "size_after": size,
                         "curated": ", ".join(_what(row.theme_id, target, self))})
        return pd.DataFrame(rows, columns=["theme_id", "label_before", "size_before",
                                           "theme_id_after", "label_after", "size_after",
                                           "curated"])


def _what(theme_id: str, target: str, cmap: CuratedMap) -> list[str]:
    out = []
    if target != theme_id:
        out.append(f"merged into {target}")
    for a in cmap.report["applied"]:
        if a["id"] != theme_id:
            continue
        if a["kind"] == "rename":
            out.append("renamed")
        elif a["kind"] == "move":
            out.append("paper moved in")
        elif a["kind"] == "pin":
            out.append("pinned")
    return out


def _remap_names(names: Names, theme_map: Mapping[int, int] | None,
                 strand_map: Mapping[int, int] | None) -> Names:
    """A copy of ``names`` keyed by the renumbered themes and strands (None: as they are).

    Every field of ``Names`` is a dict per theme (``theme…``) or per strand, so a field
    added there is carried here without a change (one once was dropped).
    """
    def remap(values: Mapping[int, Any], numbers: Mapping[int, int] | None) -> dict[int, Any]:
        if numbers is None:
            return dict(values)
        return {numbers[k]: v for k, v in values.items() if k in numbers}

    return Names(**{field.name: remap(getattr(names, field.name),
                                      theme_map if field.name.startswith("theme") else strand_map)
                    for field in dataclasses.fields(Names)})


def apply_curation(
    edits: curation.Curation, papers: pd.DataFrame, placement: Placement, names: Names,
    identity: Identity, *, embeddings: np.ndarray | None = None, strict: bool = True,
) -> CuratedMap:
    """Apply ``edits`` to the map (see the module docstring); nothing is written.

    Parameters
    ----------
    edits
        The curation file as read by ``curation.load_curation``.
    papers
        The corpus in model order (``paper_id`` and the identifier columns ``doi``,
        ``arxiv_id``, ``pmid`` where present): paper references resolve against it.
    placement, names, identity
        The fitted map, its automatic names, and its ids.
    embeddings
        The papers' embeddings (model order), to re-take similarities after a merge and
        to put a moved paper in its nearest strand; without them similarities stay and a
        moved paper joins its new theme's largest strand.
    strict
        Raise :class:`MapCurationError` (a ``CurationError``) on any entry that cannot be
        honoured; else warn (``CurationWarning``) and apply the valid entries only.
    """
    paper_ids = papers["paper_id"].astype(str).tolist()
    position = {p: i for i, p in enumerate(paper_ids)}
    theme_ids = dict(identity.theme_ids)
    strand_ids = dict(identity.strand_ids)
    num_of = {tid: t for t, tid in theme_ids.items()}
    strand_num_of = {sid: s for s, sid in strand_ids.items()}
    topics = np.asarray(placement.topics, dtype=np.int64).copy()
    strands = np.asarray(placement.strands, dtype=np.int64).copy()
    auto_theme_of = {p: theme_ids.get(int(t), "") for p, t in zip(paper_ids, topics, strict=True)}
    auto_strand_of = {p: strand_ids.get(int(s), "")
                      for p, s in zip(paper_ids, strands, strict=True)}
    before = pd.DataFrame({
        "theme_id": [theme_ids[t] for t in sorted(theme_ids)],
        "label": [names.themes.get(t, "") for t in sorted(theme_ids)],
        "size": [int((topics == t).sum()) for t in sorted(theme_ids)]})

    # ---- ids the refit retired: follow a merged theme, set aside a vanished one
    edits, retired = follow_retired_ids(edits, identity, set(theme_ids.values()))

    # ---- everything that cannot be honoured, first
    where = edits.path or curation.CURATION_FILE_NAME
    problems = list(curation.check_theme_ids(edits, theme_ids.values()))
    problems += curation.check_strand_ids(edits, strand_ids.values())
    rows = papers.to_dict("records")
    found, unresolved = curation.resolve_papers(
        [(p.ref, p.line) for p in edits.papers], rows, edits.path)
    problems += unresolved
    known = set(theme_ids.values())
    merges = {t.theme_id: t for t in edits.themes
              if t.merge_into and t.theme_id in known and t.merge_into in known}

    def final(theme_id: str) -> str:
        hops = 0
        while theme_id in merges and hops <= len(merges):
            theme_id, hops = merges[theme_id].merge_into, hops + 1
        return theme_id

    renames = [t for t in edits.themes if t.name and t.theme_id in known]
    for edit in list(renames):
        if final(edit.theme_id) != edit.theme_id:
            problems.append(curation.Problem(where, edit.line, (
                f"theme {edit.theme_id!r} is merged into {final(edit.theme_id)!r}, so its name "
                f"{edit.name!r} is not used (name the theme it is merged into)")))
            renames.remove(edit)
    moves = [p for p in edits.papers if p.theme and p.ref in found and p.theme in known]
    moved_to = {found[p.ref]: final(p.theme) for p in moves}
    pins = [p for p in edits.papers if p.representative and p.ref in found]
    for pin in list(pins):
        pid = found[pin.ref]
        if pid not in moved_to and topics[position[pid]] < 0:
            problems.append(curation.Problem(where, pin.line, (
                f"paper {pin.ref!r} is pinned as a representative but is in no theme "
                "(move it to a theme with theme:)")))
            pins.remove(pin)
    strand_renames = [s for s in edits.strands if s.name and s.strand_id in strand_num_of]
    problems += _duplicate_names(where, renames, strand_renames, strand_num_of,
                                 placement.strand_theme, final, theme_ids)
    bad_lines = {p.line for p in problems if p.line}
    renames = [t for t in renames if t.line not in bad_lines]
    strand_renames = [s for s in strand_renames if s.line not in bad_lines]
    try:
        skipped = curation.settle(problems, strict=strict)
    except curation.CurationError as err:
        raise MapCurationError(err.problems) from None
    skipped = list(edits.problems) + retired + skipped
    for problem in skipped:
        warnings.warn(f"curation entry skipped: {problem}", CurationWarning, stacklevel=2)

    applied: list[dict[str, Any]] = []
    unit = _unit_rows(embeddings) if embeddings is not None else None
    similarity = np.asarray(placement.similarity, dtype=np.float64).copy()
    membership = np.asarray(placement.membership).astype(object).copy()
    strand_theme = dict(placement.strand_theme)
    changed = False

    # ---- 1. merge
    for edit in edits.themes:
        if edit.theme_id not in merges:
            continue
        source, target = num_of[edit.theme_id], num_of[final(edit.theme_id)]
        members = np.flatnonzero(topics == source)
        topics[members] = target
        for s, t in list(strand_theme.items()):
            if t == source:
                strand_theme[s] = target
        changed = True
        applied.append({"kind": "merge", "id": edit.theme_id, "value": final(edit.theme_id),
                        "line": edit.line,
                        "paper_ids": sorted(paper_ids[i] for i in members)})
    if changed and unit is not None:
        for target in sorted({num_of[final(e)] for e in merges}):
            members = np.flatnonzero(topics == target)
            similarity[members] = unit[members] @ _centre(unit[members])

    # ---- 2. move
    flags: dict[str, str] = {}
    for edit in moves:
        pid = found[edit.ref]
        i, target = position[pid], num_of[moved_to[pid]]
        topics[i] = target
        membership[i] = CORE
        strands[i] = _nearest_strand(i, target, topics, strands, strand_theme, unit)
        if unit is not None:
            others = np.flatnonzero(topics == target)
            similarity[i] = float(unit[i] @ _centre(unit[others]))
        flags[pid] = MOVED
        changed = True
        applied.append({"kind": "move", "id": moved_to[pid], "value": edit.ref,
                        "line": edit.line, "paper_ids": [pid]})

    # ---- renumber after merges and moves (largest theme first, as placement does)
    if changed:
        topics, strands, theme_map, strand_map = renumber(topics, strands)
        theme_ids = {theme_map[t]: tid for t, tid in theme_ids.items() if t in theme_map}
        strand_ids = {strand_map[s]: sid for s, sid in strand_ids.items() if s in strand_map}
        strand_theme = {strand_map[s]: theme_map[t] for s, t in strand_theme.items()
                        if s in strand_map and t in theme_map}
        names = _remap_names(names, theme_map, strand_map)
        before_map = {**{t: theme_map[t] for t in theme_map},
                      **{num_of[m]: theme_map[num_of[final(m)]] for m in merges}}
        topics_before = np.asarray([before_map.get(int(b), -1) for b in placement.topics_before],
                                   dtype=np.int64)
    else:
        names = _remap_names(names, None, None)
        topics_before = placement.topics_before
    num_of = {tid: t for t, tid in theme_ids.items()}
    strand_num_of = {sid: s for s, sid in strand_ids.items()}

    # ---- 3. rename (curated names win; automatic ones step aside)
    gone = [e for e in renames if e.theme_id not in num_of]
    gone += [e for e in strand_renames if e.strand_id not in strand_num_of]
    for edit in gone:  # every paper moved away: nothing left to name
        ident = getattr(edit, "theme_id", None) or edit.strand_id
        note = curation.Problem(where, edit.line, f"{ident!r} has no papers left after the "
                                                  f"moves; its name {edit.name!r} is not used")
        skipped.append(note)
        warnings.warn(f"curation entry skipped: {note}", CurationWarning, stacklevel=2)
    renames = [e for e in renames if e.theme_id in num_of]
    strand_renames = [e for e in strand_renames if e.strand_id in strand_num_of]
    curated_themes: set[str] = set()
    curated_strand_nums = {strand_num_of[e.strand_id] for e in strand_renames}
    for edit in renames:
        number = num_of[edit.theme_id]
        fallback = other_papers(names.themes.get(number, ""))
        names.themes[number] = edit.name
        for strand, theme in strand_theme.items():  # "<theme>: other papers" follows it
            label = names.strands.get(strand, "")
            if theme == number and strand not in curated_strand_nums \
                    and label.startswith(fallback):
                names.strands[strand] = other_papers(edit.name) + label[len(fallback):]
        curated_themes.add(edit.theme_id)
        applied.append({"kind": "rename", "id": edit.theme_id, "value": edit.name,
                        "line": edit.line, "paper_ids": []})
    names.themes.update(_step_aside(names.themes, {num_of[t] for t in curated_themes}))
    curated_strands: set[str] = set()
    for edit in strand_renames:
        names.strands[strand_num_of[edit.strand_id]] = edit.name
        curated_strands.add(edit.strand_id)
        applied.append({"kind": "strand-rename", "id": edit.strand_id, "value": edit.name,
                        "line": edit.line, "paper_ids": []})
    for theme in sorted(set(strand_theme.values())):
        mine = {s: names.strands.get(s, "") for s, t in strand_theme.items() if t == theme}
        names.strands.update(_step_aside(mine, {strand_num_of[s] for s in curated_strands
                                                if strand_num_of[s] in mine}))

    # ---- 4. pin
    pinned: dict[str, list[str]] = {}
    for edit in pins:
        pid = found[edit.ref]
        i = position[pid]
        theme_id = theme_ids[int(topics[i])]
        pinned.setdefault(theme_id, []).append(pid)
        if strands[i] >= 0:
            pinned.setdefault(strand_ids[int(strands[i])], []).append(pid)
        flags.setdefault(pid, PINNED)
        applied.append({"kind": "pin", "id": theme_id, "value": edit.ref, "line": edit.line,
                        "paper_ids": [pid]})

    if changed:
        placement = _replace_placement(placement, topics, strands, membership, similarity,
                                       topics_before, strand_theme)
    report = {"file": edits.path, "applied": applied, "skipped": [str(p) for p in skipped]}
    return CuratedMap(placement, names, theme_ids, strand_ids, curated_themes, curated_strands,
                      flags, pinned, report, changed, identity, auto_theme_of, auto_strand_of,
                      before)


def follow_retired_ids(edits: curation.Curation, identity: Identity, current: set[str],
                       ) -> tuple[curation.Curation, list[curation.Problem]]:
    """Re-point entries whose theme the refit retired; return the edits and what was done.

    A refit on a grown corpus may merge a theme the curation names into another one
    (``theme_changes``: change ``merged``): its entries then apply to the theme it went
    into, with a warning saying so. An id the map used before but no longer has, and that
    went into no current theme, is reported (a warning with the entry's line) and its
    entries are set aside; the run goes on, since the entry was valid when it was written.
    An id no map ever had is left for ``check_theme_ids`` (a typo: an error when strict).
    """
    where = edits.path or curation.CURATION_FILE_NAME
    changes = identity.changes
    went_into: dict[str, str] = {}
    if changes is not None and len(changes):
        for row in changes.itertuples(index=False):
            previous, now = str(row.previous_theme_id or ""), str(row.theme_id or "")
            if previous and now and previous not in current and now in current:
                went_into.setdefault(previous, now)
    retired = (set(identity.used_ids) | set(went_into)) - current
    notes: list[curation.Problem] = []

    def follow(theme_id: str | None, line: int) -> str | None:
        if theme_id is None or theme_id in current or theme_id not in retired:
            return theme_id
        if theme_id in went_into:
            notes.append(curation.Problem(where, line, (
                f"theme {theme_id!r} was merged into {went_into[theme_id]!r} by this refit; "
                f"the entry applies to {went_into[theme_id]!r}")))
            return went_into[theme_id]
        notes.append(curation.Problem(where, line, (
            f"theme {theme_id!r} is no longer on the map (the refit dissolved it); "
            "the entry is set aside")))
        return ""

    themes: list[curation.ThemeEdit] = []
    for edit in edits.themes:
        theme_id, target = follow(edit.theme_id, edit.line), follow(edit.merge_into, edit.line)
        if theme_id == "" or target == "":
            continue
        if target is not None and target == theme_id:  # already together: nothing to merge
            target = None
            if edit.name is None:
                continue
        if any(t.theme_id == theme_id for t in themes):
            notes.append(curation.Problem(where, edit.line, (
                f"theme {edit.theme_id!r} now is {theme_id!r}, which an earlier entry "
                "already curates; this entry is set aside")))
            continue
        themes.append(dataclasses.replace(edit, theme_id=theme_id, merge_into=target))
    papers = []
    for paper in edits.papers:
        theme = follow(paper.theme, paper.line)
        if theme == "":
            if not paper.representative:
                continue
            theme = None
        papers.append(dataclasses.replace(paper, theme=theme))
    return dataclasses.replace(edits, themes=tuple(themes), papers=tuple(papers)), notes


def _duplicate_names(where: str, renames: Sequence[curation.ThemeEdit],
                     strand_renames: Sequence[curation.StrandEdit],
                     strand_num_of: Mapping[str, int], strand_theme: Mapping[int, int],
                     final: Any, theme_ids: Mapping[int, str]) -> list[curation.Problem]:
    problems = []
    seen: dict[str, curation.ThemeEdit] = {}
    for edit in renames:
        key = edit.name.casefold()
        if key in seen:
            problems.append(curation.Problem(where, edit.line, (
                f"theme {edit.theme_id!r} is named {edit.name!r}, like theme "
                f"{seen[key].theme_id!r} (line {seen[key].line}): curated names must differ")))
        else:
            seen[key] = edit
    strand_seen: dict[tuple[str, str], curation.StrandEdit] = {}
    for edit in strand_renames:
        theme = final(theme_ids.get(strand_theme.get(strand_num_of[edit.strand_id], -1), ""))
        key = (theme, edit.name.casefold())
        if key in strand_seen:
            problems.append(curation.Problem(where, edit.line, (
                f"strand {edit.strand_id!r} is named {edit.name!r}, like strand "
                f"{strand_seen[key].strand_id!r} of the same theme: curated names must differ")))
        else:
            strand_seen[key] = edit
    return problems


def _step_aside(names: Mapping[int, str], curated: set[int]) -> dict[int, str]:
    """Number the automatic names that equal a curated name, or each other after a merge."""
    taken = {names[k].casefold() for k in curated}
    out: dict[int, str] = {}
    for key in sorted(names):
        if key in curated:
            continue
        name, k = names[key], 1
        candidate = name
        while candidate.casefold() in taken:
            k += 1
            candidate = f"{name} ({k})"
        taken.add(candidate.casefold())
        if candidate != name:
            out[key] = candidate
    return out


def _unit_rows(embeddings: np.ndarray) -> np.ndarray:
    matrix = np.asarray(embeddings, dtype=np.float64)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1.0, norms)


def _centre(rows: np.ndarray) -> np.ndarray:
    centre = rows.mean(axis=0)
    norm = np.linalg.norm(centre)
    return centre / norm if norm else centre


def _nearest_strand(i: int, theme: int, topics: np.ndarray, strands: np.ndarray,
                    strand_theme: Mapping[int, int], unit: np.ndarray | None) -> int:
    """The strand of ``theme`` whose centroid is nearest paper ``i`` (else its largest)."""
    mine = sorted(s for s, t in strand_theme.items() if t == theme)
    mine = [s for s in mine if ((strands == s) & (topics == theme)).any()] or mine
    if not mine:
        return -1
    if unit is None:
        return max(mine, key=lambda s: (int(((strands == s) & (topics == theme)).sum()), -s))
    scores = [float(unit[i] @ _centre(unit[(strands == s) & (topics == theme)]))
              if ((strands == s) & (topics == theme)).any() else -2.0 for s in mine]
    return mine[int(np.argmax(scores))]


def _replace_placement(placement: Placement, topics: np.ndarray, strands: np.ndarray,
                       membership: np.ndarray, similarity: np.ndarray,
                       topics_before: np.ndarray, strand_theme: dict[int, int]) -> Placement:
    membership = np.where(topics < 0, UNPLACED, membership).astype(str)
    summary = dict(placement.summary)
    summary.update({
        "n_unplaced": int((topics < 0).sum()),
        "unplaced_share": float((topics < 0).mean()) if len(topics) else 0.0,
        "n_peripheral": int((membership == PERIPHERAL).sum()),
        "n_core": int((membership == CORE).sum()),
    })
    return dataclasses.replace(placement, topics=topics, strands=strands, membership=membership,
                               similarity=similarity, topics_before=topics_before,
                               strand_theme=strand_theme, summary=summary)


# --------------------------------------------------------------------------- tables


def finish_tables(tables: Any, cmap: CuratedMap, papers: pd.DataFrame) -> Any:
    """Add the id, curation and change columns to the stage's tables and put pins first.

    ``topics`` gains ``theme_id``, ``label_source``, ``change``, ``auto_label``,
    ``label_recipe`` (``naming.naming_fingerprint``: the recipe the automatic labels came from);
    ``strands`` gains ``strand_id``, ``theme_id``, ``label_source``, ``auto_label``;
    ``doc_topics`` gains ``theme_id``, ``strand_id``, ``curated``, ``is_new``,
    ``candidate_new_theme``, ``auto_theme_id``, ``auto_strand_id``.
    """
    identity = cmap.identity
    title_of = dict(zip(papers["paper_id"].astype(str), papers["title"].astype(str),
                        strict=True))
    topics = tables.topics.copy()
    topics["theme_id"] = [cmap.theme_ids[int(t)] for t in topics["topic"]]
    topics["label_source"] = [CURATED if tid in cmap.curated_themes else AUTO
                              for tid in topics["theme_id"]]
    topics["change"] = [identity.change.get(tid, "") for tid in topics["theme_id"]]
    topics["auto_label"] = [identity.theme_labels.get(tid, "") for tid in topics["theme_id"]]
    topics["label_recipe"] = naming_fingerprint()
    _pin_first(topics, "theme_id", cmap.pins, title_of)
    strands = tables.strands.copy()
    strands["strand_id"] = _strings(cmap.strand_ids[int(s)] for s in strands["strand"])
    strands["theme_id"] = _strings(cmap.theme_ids[int(t)] for t in strands["topic"])
    strands["label_source"] = _strings(CURATED if sid in cmap.curated_strands else AUTO
                                       for sid in strands["strand_id"])
    strands["auto_label"] = _strings(identity.strand_labels.get(sid, "")
                                     for sid in strands["strand_id"])
    _pin_first(strands, "strand_id", cmap.pins, title_of)
    docs = tables.doc_topics.copy()
    pids = docs["paper_id"].astype(str)
    docs["theme_id"] = [cmap.theme_ids.get(int(t), "") for t in docs["topic"]]
    docs["strand_id"] = [cmap.strand_ids.get(int(s), "") for s in docs["strand"]]
    docs["curated"] = [cmap.flags.get(p, "") for p in pids]
    previous = identity.previous_papers
    docs["is_new"] = [bool(previous is not None and p not in previous) for p in pids]
    docs["candidate_new_theme"] = False
    docs["auto_theme_id"] = [cmap.auto_theme_of.get(p, "") for p in pids]
    docs["auto_strand_id"] = [cmap.auto_strand_of.get(p, "") for p in pids]
    return dataclasses.replace(tables, topics=topics, strands=strands, doc_topics=docs)


def _strings(values: Any) -> np.ndarray:
    """A column of strings by position (an object array, also when empty)."""
    return np.asarray(list(values), dtype=object)


def _pin_first(frame: pd.DataFrame, key: str, pins: Mapping[str, list[str]],
               title_of: Mapping[str, str]) -> None:
    if not pins or "representative_paper_ids" not in frame:
        return
    ids_out, titles_out = [], []
    for gid, reps in zip(frame[key], frame["representative_paper_ids"], strict=True):
        reps = [str(r) for r in reps]
        first = pins.get(gid, [])
        if first:
            reps = (first + [r for r in reps if r not in first])[:max(len(reps), len(first))]
        ids_out.append(reps)
        titles_out.append([title_of.get(r, "") for r in reps])
    frame["representative_paper_ids"] = ids_out
    if "representative_titles" in frame:
        frame["representative_titles"] = titles_out


def write_curation(out_dir: str | Path, cmap: CuratedMap) -> Path:
    """Write ``data/curation.json`` (what was applied and skipped)."""
    return io.write_json(config.data_dir(out_dir) / CURATION_JSON, cmap.report)


def identify(papers: pd.DataFrame, placement: Placement, names: Names, previous: Any, *,
             embeddings: np.ndarray | None = None) -> tuple[Names, Identity]:
    """Give the fitted map its stable ids (``identity.assign_ids``), steady labels kept.

    Returns the names (a theme that stayed keeps its previous automatic label,
    ``keep_previous_labels``) and the identity. ``previous`` is
    ``identity.read_previous(out_dir)``, read before the stage writes.
    """
    from litreview.topics.identity import assign_ids

    paper_ids = papers["paper_id"].astype(str).tolist()
    ids = assign_ids(paper_ids, placement.topics, placement.strands, names.themes,
                     names.strands, previous, embeddings=embeddings)
    steady = keep_previous_labels(names, ids, previous)
    if steady is not names:  # the same matching, with the labels kept: changes say "kept"
        names = steady
        ids = assign_ids(paper_ids, placement.topics, placement.strands, names.themes,
                         names.strands, previous, embeddings=embeddings)
    return names, ids


def identify_and_curate(
    papers: pd.DataFrame, placement: Placement, names: Names, previous: Any,
    edits: curation.Curation, *, embeddings: np.ndarray | None = None, strict: bool = True,
) -> CuratedMap:
    """``identify`` the fitted map, then apply ``edits`` (``apply_curation``)."""
    names, ids = identify(papers, placement, names, previous, embeddings=embeddings)
    return apply_curation(edits, papers, placement, names, ids, embeddings=embeddings,
                          strict=strict)


#: A theme that kept its id and at least this share of its papers (Jaccard) keeps its
#: previous automatic label: a few added papers should not rename a section.
STEADY_OVERLAP = 0.6


def keep_previous_labels(names: Names, ids: Identity, previous: Any,
                         recipe: str | None = None) -> Names:
    """Give themes and strands that stayed (same id, mostly the same papers) their last label.

    Automatic names are recomputed on every fit, and a handful of new papers can tip a
    phrase choice ("Hallucination" to "Hallucinations"), which the researcher would read
    as churn. A theme whose id was kept with a Jaccard overlap of at least
    :data:`STEADY_OVERLAP`, and a strand whose id was kept inside such a theme, take the
    previous automatic label back, unless another group now carries it. Returns ``names``
    itself when nothing changes.

    Only while the naming recipe is the same: labels made by another recipe
    (``previous.label_recipe`` differs from ``recipe``, by default
    ``naming.naming_fingerprint()``; tables from before it was recorded have none) are
    not kept, so a folder named before a change of the naming rules gets the new names.
    Curated names are applied later (``apply_curation``) and always win.
    """
    if previous is None or ids.changes is None or not len(ids.changes):
        return names
    if getattr(previous, "label_recipe", "") != (recipe or naming_fingerprint()):
        return names
    steady: set[str] = set()
    for row in ids.changes.itertuples(index=False):
        if (row.change == "renamed" and row.theme_id == row.previous_theme_id
                and float(row.similarity) >= STEADY_OVERLAP):
            steady.add(str(row.theme_id))
    if not steady:
        return names
    themes = dict(names.themes)
    taken = set(themes.values())
    for number, theme_id in ids.theme_ids.items():
        label = previous.labels.get(theme_id, "")
        if theme_id in steady and label and label not in taken:
            taken.discard(themes.get(number, ""))
            themes[number] = label
            taken.add(label)
    strands = dict(names.strands)
    strand_taken = set(strands.values())
    for number, strand_id in ids.strand_ids.items():
        label = previous.strand_labels.get(strand_id, "")
        if label and previous.strand_theme.get(strand_id, "") in steady \
                and label not in strand_taken:
            strand_taken.discard(strands.get(number, ""))
            strands[number] = label
            strand_taken.add(label)
    if themes == names.themes and strands == names.strands:
        return names
    return dataclasses.replace(names, themes=themes, strands=strands)


def write_outputs(out_dir: str | Path, cmap: CuratedMap) -> None:
    """Write ``data/theme_changes.parquet`` and ``data/curation.json``."""
    from litreview.topics.identity import write_changes

    write_changes(out_dir, cmap.identity)
    write_curation(out_dir, cmap)
