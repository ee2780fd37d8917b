"""Screening: the curation file's ``exclude`` and ``include_only`` applied to the ingested
papers, and the PRISMA-style flow of the records from identification to inclusion.

An excluded paper leaves ``papers.parquet`` (so every later table, count and figure),
its records stay in ``records.parquet`` with status ``excluded`` and the reason, and it is
listed in ``data/exclusions.parquet``. A reference that matches no paper stops the stage
(strict) or is skipped with a warning naming the file and line (lenient).

The flow (:func:`compute_screening_flow`) counts records the way a PRISMA 2020 flow
diagram does: identified (per source file) = duplicates removed + rejected + excluded at
screening + included; a later stage adds placed in themes / unplaced from ``doc_topics``.
"""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from litreview import curation as curation_module
from litreview.curation import Curation, Problem
from litreview.ingest.records import IngestError

if TYPE_CHECKING:
    from litreview.ingest.pipeline import IngestResult

#: Record status and reason kind of a record whose paper was screened out.
EXCLUDED = "excluded"
SCREENING = "screening"
#: Reason of a paper left out because an ``include_only`` list does not name it.
NOT_LISTED = "not in include_only"
#: Tables (under ``DIR/data``) and the figure (under ``DIR/figures``) of the screening.
EXCLUSIONS_TABLE = "exclusions"
FLOW_TABLE = "screening_flow"
FLOW_FIGURE = "screening_flow"
EXCLUSION_COLUMNS = ["paper_id", "ref", "reason", "line", "title"]
FLOW_COLUMNS = ["step", "label", "count", "detail"]
#: The steps of the flow, in order, with the label each row carries.
FLOW_STEPS = {
    "identified": "Records identified",
    "duplicates": "Duplicates removed",
    "rejected": "Rejected (unreadable or invalid)",
    "excluded": "Excluded at screening",
    "included": "Papers included",
    "placed": "Placed in themes",
    "unplaced": "In no theme",
}


class CurationWarning(UserWarning):
    """A curation entry that was skipped (lenient run): the message names file and line."""


def empty_exclusions() -> pd.DataFrame:
    """The exclusions table with no rows (its columns typed as when it has rows)."""
    return _typed_exclusions(pd.DataFrame(columns=EXCLUSION_COLUMNS))


def _typed_exclusions(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.reset_index(drop=True)
    for column in ("paper_id", "ref", "reason", "title"):
        frame[column] = frame[column].astype("str")
    frame["line"] = frame["line"].astype("int64")
    return frame


def apply_screening(result: IngestResult, curation: Curation, *,
                    strict: bool = True) -> IngestResult:
    """Remove the papers ``curation`` excludes (or does not include) from ``result``.

    Every ``exclude`` and ``include_only`` reference is resolved against the
    deduplicated papers and against the identifiers of each paper's duplicate records
    (a preprint's arXiv id names the merged paper too).

    Parameters
    ----------
    result
        What :func:`litreview.ingest.ingest_paths` returned; not modified.
    curation
        The loaded curation file (:func:`litreview.curation.load_curation`).
    strict
        True: a reference that matches no paper raises
        :class:`~litreview.curation.CurationError` (nothing is written yet). False: it is
        skipped with a :class:`CurationWarning` and listed in ``messages``.

    Returns
    -------
    IngestResult
        A copy with the screened-out papers gone from ``papers``, their records marked
        ``excluded`` (reason kind ``screening``) and ``exclusions`` filled.

    Raises
    ------
    IngestError
        When screening would leave no paper at all.
    """
    messages = list(result.messages)
    messages.extend(str(p) for p in curation.problems)  # entries a lenient read dropped
    if not curation.exclude and curation.include_only is None:
        return dataclasses.replace(result, messages=messages,
                                   exclusions=empty_exclusions())
    where = curation.path or curation_module.CURATION_FILE_NAME
    shown = Path(where).name
    candidates = result.papers.to_dict("records") + result.record_ids.to_dict("records")
    refs = [(e.ref, e.line) for e in curation.exclude]
    refs += [(i.ref, i.line) for i in curation.include_only or ()]
    found, problems = curation_module.resolve_papers(refs, candidates, where)
    for problem in curation_module.settle(problems, strict=strict):
        _warn(problem)
        messages.append(str(problem))

    titles = dict(zip(result.papers["paper_id"], result.papers["title"], strict=True))
    rows: list[dict[str, object]] = []
    record_reason: dict[str, str] = {}
    for exclusion in curation.exclude:
        paper_id = found.get(exclusion.ref)
        if paper_id is None or paper_id in record_reason:
            continue  # unmatched (warned above), or a second name of an excluded paper
        record_reason[paper_id] = f"excluded: {exclusion.reason} ({shown}:{exclusion.line})"
        rows.append({"paper_id": paper_id, "ref": exclusion.ref, "reason": exclusion.reason,
                     "line": exclusion.line, "title": titles.get(paper_id, "")})
    if curation.include_only is not None:
        wanted = {found[i.ref] for i in curation.include_only if i.ref in found}
        for paper_id in result.papers["paper_id"]:
            if paper_id not in wanted and paper_id not in record_reason:
                record_reason[paper_id] = f"{NOT_LISTED} ({shown})"
                rows.append({"paper_id": paper_id, "ref": "", "reason": NOT_LISTED,
                             "line": 0, "title": titles.get(paper_id, "")})

    papers = result.papers[~result.papers["paper_id"].isin(record_reason)]
    if papers.empty:
        raise IngestError(f"screening by {where} leaves no paper: every paper of the corpus "
                          "is excluded or not in include_only")
    records = result.records.copy()
    hit = records["paper_id"].isin(record_reason) & records["status"].isin(("kept", "duplicate"))
    records.loc[hit, "status"] = EXCLUDED
    records.loc[hit, "reason_kind"] = SCREENING
    records.loc[hit, "reason"] = records.loc[hit, "paper_id"].map(record_reason)
    exclusions = (_typed_exclusions(pd.DataFrame(rows, columns=EXCLUSION_COLUMNS))
                  if rows else empty_exclusions())
    return dataclasses.replace(result, papers=papers.reset_index(drop=True), records=records,
                               messages=messages, exclusions=exclusions)


def _warn(problem: Problem) -> None:
    warnings.warn(f"curation entry skipped: {problem}", CurationWarning, stacklevel=3)


def compute_screening_flow(records: pd.DataFrame, exclusions: pd.DataFrame,
                           doc_topics: pd.DataFrame | None = None) -> pd.DataFrame:
    """The PRISMA-style flow of the records: ``step, label, count, detail``.

    One row per source file for ``identified`` (detail: the file), one per reason kind for
    ``rejected`` and per reason for ``excluded`` (a single row with count 0 when there are
    none), one row each for ``duplicates`` and ``included``; with ``doc_topics`` (the
    topics stage's table) also ``placed`` and ``unplaced``. Summing ``count`` per step,
    identified = duplicates + rejected + excluded + included, and included = placed +
    unplaced.

    ``records`` and ``exclusions`` are ``data/records.parquet`` and
    ``data/exclusions.parquet`` (``exclusions`` has one row per excluded paper).
    """
    status = (records["status"] if "status" in records else pd.Series("kept", records.index)
              ).astype(str)
    rows: list[tuple[str, str, int, str]] = []
    label = FLOW_STEPS
    sources = (records["source_file"] if "source_file" in records
               else pd.Series("", records.index)).astype(str)
    for source, count in sources.groupby(sources, sort=False).size().items():
        rows.append(("identified", label["identified"], int(count), str(source)))
    # An excluded paper's duplicate records are excluded too; they were duplicates first.
    excluded_records = int((status == EXCLUDED).sum())
    duplicates = int((status == "duplicate").sum()) + excluded_records - len(exclusions)
    rows.append(("duplicates", label["duplicates"], duplicates, ""))
    kind = "reason_kind" if "reason_kind" in records else "reason"  # older tables: reason
    rejected = (records.loc[status == "rejected", kind].astype(str) if kind in records
                else pd.Series(["rejected"] * int((status == "rejected").sum()), dtype=str))
    rows += _by_detail("rejected", rejected)
    rows += _by_detail("excluded", exclusions["reason"].astype(str))
    rows.append(("included", label["included"], int((status == "kept").sum()), ""))
    if doc_topics is not None:
        placed = int((pd.to_numeric(doc_topics["topic"]) >= 0).sum())
        rows.append(("placed", label["placed"], placed, ""))
        rows.append(("unplaced", label["unplaced"], len(doc_topics) - placed, ""))
    flow = pd.DataFrame(rows, columns=FLOW_COLUMNS)
    flow["count"] = flow["count"].astype("int64")
    return flow


def _by_detail(step: str, values: pd.Series) -> list[tuple[str, str, int, str]]:
    """One row per distinct value, most frequent first (ties by value): deterministic."""
    if values.empty:
        return [(step, FLOW_STEPS[step], 0, "")]
    counts = values.value_counts()
    ordered = sorted(counts.items(), key=lambda item: (-int(item[1]), str(item[0])))
    return [(step, FLOW_STEPS[step], int(count), str(value)) for value, count in ordered]


def flow_totals(flow: pd.DataFrame) -> dict[str, int]:
    """The count of each step of a flow table (steps in flow order)."""
    totals = flow.groupby("step", sort=False)["count"].sum()
    return {str(step): int(count) for step, count in totals.items()}
