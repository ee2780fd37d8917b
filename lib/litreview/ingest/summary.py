"""Tables and the one-screen text summary of an ingest run, for the CLI and the notebook."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from litreview.ingest.reading import SKIPPED

if TYPE_CHECKING:
    from litreview.ingest.pipeline import IngestResult

_STATUSES = ("kept", "duplicate", "rejected", "excluded")


def compute_source_counts(result: IngestResult) -> pd.DataFrame:
    """Count records per source file: records, kept, duplicate, rejected, excluded (the
    records of papers screened out by the curation file), in input order."""
    records = result.records
    order = list(dict.fromkeys(records["source_file"]))
    counts = (
        pd.crosstab(records["source_file"], records["status"])
        .reindex(index=order, columns=list(_STATUSES), fill_value=0)
        .astype("int64")
    )
    counts.insert(0, "records", counts.sum(axis=1))
    counts.columns.name = None
    return counts.rename_axis("source_file").reset_index()


def compute_duplicate_table(result: IngestResult) -> pd.DataFrame:
    """List each duplicate record with the paper it was merged into and why."""
    duplicates = result.records[result.records["status"] == "duplicate"]
    papers = result.papers.set_index("paper_id")
    return pd.DataFrame(
        {
            "record": [
                f"{f}:{n}"
                for f, n in zip(duplicates["source_file"], duplicates["line"], strict=True)
            ],
            "title": duplicates["title"].to_list(),
            "paper_id": duplicates["paper_id"].to_list(),
            "paper_title": [papers.at[p, "title"] for p in duplicates["paper_id"]],
            "paper_sources": ["; ".join(papers.at[p, "sources"]) for p in duplicates["paper_id"]],
            "reason": duplicates["match"].to_list(),
        },
        columns=["record", "title", "paper_id", "paper_title", "paper_sources", "reason"],
    )


def compute_rejects_table(result: IngestResult) -> pd.DataFrame:
    """List each rejected record: file, line, reason and a short excerpt of its raw text."""
    rejected = result.records[result.records["status"] == "rejected"]
    return pd.DataFrame(
        {
            "file": rejected["source_file"].to_list(),
            "line": rejected["line"].to_list(),
            "reason": rejected["reason"].to_list(),
            "excerpt": rejected["excerpt"].fillna("").to_list(),
        },
        columns=["file", "line", "reason", "excerpt"],
    )


def format_summary(result: IngestResult) -> str:
    """Return a one-screen text summary: counts per file, totals, rejects by reason, hints."""
    counts = compute_source_counts(result)
    width = max([len("file"), len("total"), *(len(s) for s in counts["source_file"])])
    width = min(width, 60)
    header = (f"{'file':<{width}}  {'records':>7}  {'kept':>6}  {'duplicate':>9}  "
              f"{'rejected':>8}  {'excluded':>8}")
    lines = [header, "-" * len(header)]
    for row in counts.itertuples(index=False):
        name = (
            row.source_file
            if len(row.source_file) <= width
            else "…" + row.source_file[-width + 1 :]
        )
        lines.append(
            f"{name:<{width}}  {row.records:>7}  {row.kept:>6}  "
            f"{row.duplicate:>9}  {row.rejected:>8}  {row.excluded:>8}"
        )
    total = counts[["records", *_STATUSES]].sum()
    lines.append("-" * len(header))
    lines.append(
        f"{'total':<{width}}  {total['records']:>7}  {total['kept']:>6}  "
        f"{total['duplicate']:>9}  {total['rejected']:>8}  {total['excluded']:>8}"
    )
    exclusions = result.exclusions
    screened = f" after screening ({len(exclusions)} excluded)" if len(exclusions) else ""
    lines.append(f"{len(result.papers)} unique papers from {len(counts)} file(s){screened}.")
    if not exclusions.empty:
        lines.append(f"Excluded at screening ({len(exclusions)} "
                     f"{'paper' if len(exclusions) == 1 else 'papers'}), by reason:")
        for reason, count in exclusions["reason"].value_counts().items():
            lines.append(f"  {count:>6}  {reason}")
    rejected = result.records[result.records["status"] == "rejected"]
    if not rejected.empty:
        lines.append("Rejected records by reason:")
        for reason, count in rejected["reason_kind"].value_counts().items():
            lines.append(f"  {count:>6}  {reason}")
    skipped = rejected[rejected["format"] == SKIPPED]
    if not skipped.empty:
        lines.append(f"Skipped while finding input files ({len(skipped)}):")
        for name, reason in zip(skipped["source_file"][:20], skipped["reason"][:20], strict=True):
            lines.append(f"  {name}: {reason}")
        if len(skipped) > 20:
            lines.append(f"  … and {len(skipped) - 20} more (status 'rejected', line 0)")
    no_abstract = int((rejected["reason_kind"] == "no abstract").sum())
    if no_abstract and not result.parameters.get("keep_title_only"):
        lines.append(
            f"{no_abstract} {'record' if no_abstract == 1 else 'records'} had no abstract; "
            "pass --keep-title-only "
            "(keep_title_only=True) to keep them"
        )
    # One set of the reject lines, so telling warnings from rejects is linear in both.
    reject_lines = _reject_messages(rejected)
    warnings = [m for m in result.messages if m not in reject_lines]
    if warnings:
        lines.append(f"{len(warnings)} warning(s), first: {warnings[0]}")
    return "\n".join(lines)


def _reject_messages(rejected: pd.DataFrame) -> set[str]:
    """Return the ``file:line: reason`` line of every rejected record (as ingest words them)."""
    return {
        f"{f}:{n}: {r}"
        for f, n, r in zip(
            rejected["source_file"], rejected["line"], rejected["reason"], strict=True
        )
    }
