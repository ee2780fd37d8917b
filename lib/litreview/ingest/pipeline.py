"""The ingest stage: read every input, clean the records, merge duplicates, write the tables."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from litreview import io, manifest
from litreview.curation import load_curation
from litreview.ingest import (
    bibtex,
    clean,
    dedup,
    hfpapers,
    jsonl,
    metadata,
    reading,
    ris,
    screening,
    tabular,
)
from litreview.ingest.formats import EXPORT_PARSERS
from litreview.ingest.records import MAX_FIELD_CHARS, IngestError, RawRecord, message

PARSERS = {
    "hfpapers": hfpapers.parse,
    "bibtex": bibtex.parse,
    "ris": ris.parse,
    "csv": tabular.parse,
    "jsonl": jsonl.parse,
    **EXPORT_PARSERS,
}
INPUT_FORMATS = ("auto", *PARSERS)
PAPER_COLUMNS = [
    "paper_id",
    "title",
    "abstract",
    "year",
    "authors",
    "doi",
    "arxiv_id",
    "urls",
    "code_urls",
    "sources",
    "venue",
    "url",
    "source_ids",
    "n_records",
    *metadata.METADATA_COLUMNS,
]
RECORD_COLUMNS = [
    "source_file",
    "line",
    "source_id",
    "status",
    "paper_id",
    "reason",
    "title",
    "format",
    "reason_kind",
    "match",
    "excerpt",
]

_PAPER_TEXT = [
    "paper_id",
    "title",
    "abstract",
    "doi",
    "arxiv_id",
    "venue",
    "url",
    "pmid",
    "document_type",
]
_RECORD_TEXT = [c for c in RECORD_COLUMNS if c != "line"]
RECORD_ID_COLUMNS = ["paper_id", "doi", "arxiv_id", "pmid"]


@dataclass
class IngestResult:
    """Papers, per-record accounting, files read and warnings of one ingest run."""

    papers: pd.DataFrame
    records: pd.DataFrame
    inputs: list[Path]
    messages: list[str]
    parameters: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    #: The papers screened out by the curation file (``screening.EXCLUSION_COLUMNS``).
    exclusions: pd.DataFrame = field(default_factory=screening.empty_exclusions)
    #: ``paper_id, doi, arxiv_id, pmid`` of every usable record (duplicates included), so
    #: a curation entry may name a paper by any of its records' identifiers.
    record_ids: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=RECORD_ID_COLUMNS))


def ingest_paths(
    paths: Sequence[str | os.PathLike],
    *,
    input_format: str = "auto",
    fuzzy_threshold: float = 92.0,
    keep_title_only: bool = False,
) -> IngestResult:
    """Parse, clean and deduplicate the records of every input; write nothing.

    Raises IngestError when an argument is invalid or no paper at all can be kept.
    """
    if input_format not in INPUT_FORMATS:
        raise IngestError(f"unknown input format {input_format!r}; use one of {INPUT_FORMATS}")
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    timer = manifest.Timer()
    messages: list[str] = []
    raw: list[RawRecord] = []
    read: list[Path] = []
    with timer("read_parse"):
        scan = reading.scan_inputs(paths)
        files = scan.files
        if not files and not scan.skipped:
            raise IngestError(f"no input files found in {', '.join(map(str, paths))}")
        if scan.hidden:
            messages.append(
                f"{scan.hidden} hidden file(s) or folder(s) (names starting with '.') not read"
            )
        # Every entry skipped while looking for files is a rejected record of its own.
        raw.extend(
            RawRecord(name, 0, reading.SKIPPED, reject_reason=why) for name, why in scan.skipped
        )
        for path, name in files:
            records, readable = _read_file(path, name, input_format, messages)
            if readable:  # the manifest hashes what was read; an unreadable file cannot be
                read.append(path)
            raw.extend(records)
    with timer("clean"):
        cleaned = [_clean(record, keep_title_only) for record in raw]
    with timer("dedup"):
        papers, records = _merge(cleaned, fuzzy_threshold)
    for row in cleaned:
        messages.extend(row["warnings"])
        if row["reject_reason"]:
            messages.append(message(row["source_file"], row["line"], row["reject_reason"]))
    result = IngestResult(
        papers=papers,
        records=records,
        inputs=read,
        messages=messages,
        parameters={
            "input_format": input_format,
            "fuzzy_threshold": fuzzy_threshold,
            "keep_title_only": keep_title_only,
        },
        timings=dict(timer.timings),
        record_ids=_record_ids(cleaned, records),
    )
    if papers.empty:
        raise IngestError(_nothing_usable(result))
    return result


def run_ingest(
    paths: Sequence[str | os.PathLike],
    out_dir: str | os.PathLike,
    *,
    input_format: str = "auto",
    fuzzy_threshold: float = 92.0,
    keep_title_only: bool = False,
    curation_file: str | os.PathLike | None = None,
    curation_strict: bool = True,
) -> IngestResult:
    """Ingest ``paths``, screen them and write the tables and the manifest entry.

    Writes ``DIR/data/{papers,records,exclusions,screening_flow}.parquet``. The curation
    file's ``exclude`` / ``include_only`` (:mod:`litreview.ingest.screening`) are applied
    before anything is written: with ``curation_strict`` a reference that matches no paper
    raises :class:`~litreview.curation.CurationError` and the folder is left as it was.
    """
    curation = load_curation(curation_file, strict=curation_strict)
    result = ingest_paths(
        paths,
        input_format=input_format,
        fuzzy_threshold=fuzzy_threshold,
        keep_title_only=keep_title_only,
    )
    timer = manifest.Timer()
    with timer("screening"):
        result = screening.apply_screening(result, curation, strict=curation_strict)
        flow = screening.compute_screening_flow(result.records, result.exclusions)
    result.parameters["curation_file"] = (
        None if curation_file is None else os.fspath(curation_file))
    with timer("write"):
        io.save_table(result.papers, out_dir, "papers")
        io.save_table(result.records, out_dir, "records")
        io.save_table(result.exclusions, out_dir, screening.EXCLUSIONS_TABLE)
        io.save_table(flow, out_dir, screening.FLOW_TABLE)
    result.timings.update(timer.timings)
    counts = result.records["status"].value_counts()
    manifest.record_stage(
        out_dir,
        "ingest",
        parameters={**result.parameters, "paths": [os.fspath(p) for p in paths]},
        inputs=result.inputs,
        timings=result.timings,
        extra={
            "counts": {
                "records": len(result.records),
                "papers": len(result.papers),
                **{
                    status: int(counts.get(status, 0))
                    for status in ("kept", "duplicate", "rejected", screening.EXCLUDED)
                },
                "excluded_papers": len(result.exclusions),
            },
            "messages": len(result.messages),
        },
    )
    return result


def _read_file(
    path: Path, name: str, input_format: str, messages: list[str]
) -> tuple[list[RawRecord], bool]:
    """Return the file's records and whether its bytes could be read at all."""
    source = reading.read_source(path, name)
    messages.extend(source.messages)
    if source.text is None:
        reason = source.problem or "unreadable file"
        readable = not reason.startswith(reading.UNREAD_PROBLEMS)
        return [RawRecord(name, 0, input_format, reject_reason=reason)], readable
    fmt = reading.detect_format(source.text, path) if input_format == "auto" else input_format
    try:
        records, parse_messages = PARSERS[fmt](source.text, name)
    except Exception as exc:  # a parser bug must not hide the other files' records
        return [RawRecord(name, 0, fmt, reject_reason=f"{fmt} parser failed: {exc!r}")], True
    messages.extend(parse_messages)
    if not records:
        return [RawRecord(name, 0, fmt, reject_reason=f"no {fmt} records found")], True
    return records, True


def _record_ids(cleaned: list[dict[str, Any]], records: pd.DataFrame) -> pd.DataFrame:
    """Identifiers of each usable record with the paper it became (rows align with
    ``records``: one per cleaned record, in order)."""
    usable = [i for i, status in enumerate(records["status"]) if status != "rejected"]
    paper_ids = records["paper_id"].to_list()
    return pd.DataFrame(
        [{"paper_id": paper_ids[i], **{c: cleaned[i][c] for c in RECORD_ID_COLUMNS[1:]}}
         for i in usable],
        columns=RECORD_ID_COLUMNS,
    )


def _clean(record: RawRecord, keep_title_only: bool) -> dict[str, Any]:
    reason = record.reject_reason
    too_long = [
        name
        for name in ("title", "abstract")
        if getattr(record, name) and len(getattr(record, name)) > MAX_FIELD_CHARS
    ]
    if reason is None and too_long:
        reason = f"{too_long[0]} longer than {MAX_FIELD_CHARS} characters"
    latex = record.format in clean.LATEX_FORMATS
    title = clean.clean_text(record.title, latex=latex) if not too_long else None
    abstract = clean.clean_text(record.abstract, latex=latex) if not too_long else None
    if reason is None and not title:
        reason = "no title"
    if reason is None and not abstract and not keep_title_only:
        reason = "no abstract"
    # Identifiers are kept only when they are one well-formed id; a bad one is dropped with a
    # warning and the record keeps its other fields.
    doi, doi_problem = clean.check_doi(record.doi)
    arxiv_id, arxiv_problem = clean.check_arxiv_id(record.arxiv_id)
    arxiv_id = arxiv_id or clean.arxiv_id_from_doi(doi)
    warnings = [
        message(record.source_file, record.line, problem)
        for problem in (doi_problem, arxiv_problem)
        if problem and reason is None
    ]
    urls = clean.extract_urls(abstract)
    return {
        "source_file": record.source_file,
        "line": record.line,
        "format": record.format,
        "source_id": clean.clean_text(record.source_id, latex=latex),
        "title": title if title else clean.clean_text((record.title or "")[:500], latex=latex),
        "abstract": abstract,
        "doi": doi,
        "arxiv_id": arxiv_id,
        **metadata.clean_metadata(record, arxiv_id),
        "venue": clean.clean_text(record.venue, latex=latex),
        "url": clean.clean_text(record.url, latex=latex),
        "urls": urls,
        "code_urls": [u for u in urls if clean.is_code_url(u)],
        "reject_reason": reason,
        "excerpt": record.excerpt,
        "warnings": warnings,
    }


def _merge(rows: list[dict[str, Any]], fuzzy_threshold: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    candidates = [i for i, row in enumerate(rows) if not row["reject_reason"]]
    keys = [
        dedup.DedupKeys(rows[i]["doi"], rows[i]["arxiv_id"], rows[i]["title"], rows[i]["pmid"])
        for i in candidates
    ]
    found = dedup.find_duplicates(keys, fuzzy_threshold)
    members: dict[int, list[int]] = {}
    for position, root in enumerate(found.group):
        members.setdefault(candidates[root], []).append(candidates[position])

    papers: list[dict[str, Any]] = []
    paper_of: dict[int, str] = {}
    used_ids: set[str] = set()
    for root in sorted(members):
        paper = _combine([rows[i] for i in members[root]])
        paper_id = _paper_id(paper, used_ids)
        paper["paper_id"] = paper_id
        papers.append(paper)
        for i in members[root]:
            paper_of[i] = paper_id

    match_of = {candidates[p]: m for p, m in enumerate(found.match)}
    roots = set(members)
    record_rows = []
    for i, row in enumerate(rows):
        if row["reject_reason"]:
            status, reason, kind, match = (
                "rejected",
                row["reject_reason"],
                row["reject_reason"],
                None,
            )
        elif i in roots:
            status, reason, kind, match = "kept", None, None, None
        else:
            match = match_of[i] or "same paper"
            status, reason, kind = "duplicate", f"duplicate of {paper_of[i]} ({match})", "duplicate"
        record_rows.append(
            {
                "source_file": row["source_file"],
                "line": row["line"],
                "source_id": row["source_id"],
                "status": status,
                "paper_id": paper_of.get(i),
                "reason": reason,
                "title": row["title"],
                "format": row["format"],
                "reason_kind": _reason_kind(kind),
                "match": match,
                "excerpt": row["excerpt"] or None,
            }
        )
    papers_df = pd.DataFrame(papers, columns=PAPER_COLUMNS)
    for column in ("year", "month", "cited_by"):
        papers_df[column] = papers_df[column].astype("Int64")
    papers_df["n_records"] = papers_df["n_records"].astype("int64")
    records_df = pd.DataFrame(record_rows, columns=RECORD_COLUMNS)
    records_df["line"] = records_df["line"].astype("int64")
    # All-null columns would otherwise be object dtype and change type from run to run.
    for frame, columns in ((papers_df, _PAPER_TEXT), (records_df, _RECORD_TEXT)):
        for column in columns:
            frame[column] = frame[column].astype("str")
    return papers_df, records_df


def _combine(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Merge the records of one paper, preferring the record with the richest metadata.

    The first record names the paper (its title). The others are ranked by how many metadata
    fields they carry (input order breaks ties): year/month, DOI, venue ... come from the
    best-ranked record that has them, the
    abstract and the author list are the longest, keywords and URLs the union, ``cited_by``
    the largest count.
    """
    ranked = sorted(rows, key=metadata.richness, reverse=True)  # stable: ties keep input order

    def first(name: str) -> Any:
        return next((r[name] for r in ranked if r[name] is not None), None)

    def longest(name: str) -> Any:
        values = [r[name] for r in rows if r[name]]
        return max(values, key=len) if values else None

    def union(name: str) -> list[str]:
        return list(dict.fromkeys(v for r in rows for v in r[name]))

    dated = next((r for r in ranked if r["year"] is not None), None)
    counts = [r["cited_by"] for r in rows if r["cited_by"] is not None]
    return {
        "title": next((r["title"] for r in rows if r["title"] is not None), None),
        "abstract": longest("abstract"),
        "year": dated["year"] if dated else None,
        "month": dated["month"] if dated else None,
        "authors": longest("authors") or [],
        "pmid": first("pmid"),
        "keywords": keyword_union(rows),
        "cited_by": max(counts) if counts else None,
        "document_type": first("document_type"),
        "doi": first("doi"),
        "arxiv_id": first("arxiv_id"),
        "urls": union("urls"),
        "code_urls": union("code_urls"),
        "sources": [f"{r['source_file']}:{r['line']}" for r in rows],
        "venue": first("venue"),
        "url": first("url"),
        "source_ids": list(dict.fromkeys(r["source_id"] for r in rows if r["source_id"])),
        "n_records": len(rows),
    }


def keyword_union(rows: list[dict[str, Any]]) -> list[str]:
    """Keywords of all records of one paper, case-insensitive duplicates dropped."""
    return metadata.keyword_list(k for r in rows for k in r["keywords"])


def _paper_id(paper: dict[str, Any], used: set[str]) -> str:
    """Return ``p-`` + 12 hex of the SHA-1 of the paper's identity (DOI, arXiv id or title)."""
    if paper["doi"]:
        identity = "doi:" + paper["doi"]
    elif paper["arxiv_id"]:
        identity = "arxiv:" + paper["arxiv_id"]
    elif paper["pmid"]:
        identity = "pmid:" + paper["pmid"]
    else:
        identity = "title:" + clean.normalize_title_key(paper["title"])
    paper_id = "p-" + hashlib.sha1(identity.encode("utf-8")).hexdigest()[:12]
    suffix = 2
    candidate = paper_id
    while candidate in used:  # two papers with one identity (kept apart by conflicting DOIs)
        candidate = f"{paper_id}-{suffix}"
        suffix += 1
    used.add(candidate)
    return candidate


def _reason_kind(reason: str | None) -> str | None:
    """Group reasons for counting: drop the details after the first colon or parenthesis."""
    if reason is None:
        return None
    return reason.split(":", 1)[0].split(" (", 1)[0].strip()


def _nothing_usable(result: IngestResult) -> str:
    lines = ["no usable paper found in the inputs:"]
    for source, group in result.records.groupby("source_file", sort=False):
        reasons = group["reason_kind"].value_counts()
        detail = ", ".join(f"{count} × {reason}" for reason, count in reasons.items())
        lines.append(f"  {source}: {len(group)} record(s) rejected ({detail})")
    if (result.records["reason_kind"] == "no abstract").any():
        lines.append("records without an abstract are kept with --keep-title-only")
    return "\n".join(lines)
