"""Parse CSV and tab-delimited exports (Scopus, Web of Science, IEEE, generic)."""

from __future__ import annotations

import contextlib
import csv
import io

from litreview.ingest.metadata import split_keyword_field
from litreview.ingest.records import MAX_FIELD_CHARS, RawRecord, excerpt_of

FORMAT = "csv"
#: Header names per field, most specific first, compared case-insensitively.
COLUMNS: dict[str, tuple[str, ...]] = {
    "title": ("title", "document title", "article title", "paper title", "ti"),
    "abstract": ("abstract", "ab", "summary", "description"),
    "doi": ("doi", "di"),
    "year": ("year", "publication year", "py", "pubyear"),
    "authors": ("authors", "author", "author full names", "au", "af"),
    "venue": ("source title", "publication title", "journal", "venue", "so"),
    "url": ("link", "pdf link", "url"),
    "source_id": ("eid", "ut", "ut (unique wos id)", "id", "accession number"),
    "arxiv_id": ("arxiv_id", "arxiv id", "arxiv"),
    "month": ("month", "publication date", "pd"),
    "pmid": ("pubmed id", "pmid", "pm"),
    "keywords": ("author keywords", "keywords", "de"),
    "cited_by": ("cited by", "times cited", "article citation count", "tc", "cited_by"),
    "document_type": ("document type", "dt", "type"),
}
_NO_ABSTRACT = {"[no abstract available]", "no abstract available", "n/a"}


def parse(text: str, source: str) -> tuple[list[RawRecord], list[str]]:
    """Return one record per data row; a table without a title column is one rejected record."""
    header_line = text.split("\n", 1)[0]
    delimiter = "\t" if header_line.count("\t") > header_line.count(",") else ","
    with _field_size_limit(MAX_FIELD_CHARS * 10):
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        try:
            header = next(reader)
        except (StopIteration, csv.Error) as exc:
            return [
                RawRecord(
                    source,
                    1,
                    FORMAT,
                    reject_reason=f"unreadable CSV header ({exc})",
                    excerpt=excerpt_of(header_line),
                )
            ], []
        columns = _map_columns(header)
        if "title" not in columns:
            return [
                RawRecord(
                    source,
                    1,
                    FORMAT,
                    reject_reason="no title column (expected one of: Title, Document Title, TI)",
                    excerpt=excerpt_of(header_line),
                )
            ], []
        records: list[RawRecord] = []
        previous_end = reader.line_num
        while True:
            start = previous_end + 1
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                records.append(
                    RawRecord(source, start, FORMAT, reject_reason=f"bad CSV row ({exc})")
                )
                previous_end = reader.line_num
                continue
            previous_end = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            values = {
                name: (row[index].strip() if index < len(row) and row[index].strip() else None)
                for name, index in columns.items()
            }
            abstract = values.get("abstract")
            if abstract and abstract.strip().lower() in _NO_ABSTRACT:
                abstract = None
            records.append(
                RawRecord(
                    source_file=source,
                    line=start,
                    format=FORMAT,
                    title=values.get("title"),
                    abstract=abstract,
                    doi=values.get("doi"),
                    arxiv_id=values.get("arxiv_id"),
                    source_id=values.get("source_id"),
                    year=values.get("year"),
                    authors=values.get("authors"),
                    venue=values.get("venue"),
                    url=values.get("url"),
                    excerpt=excerpt_of(delimiter.join(row)),
                    month=values.get("month"),
                    pmid=values.get("pmid"),
                    keywords=split_keyword_field(values.get("keywords")),
                    cited_by=values.get("cited_by"),
                    document_type=values.get("document_type"),
                )
            )
    return records, []


def _map_columns(header: list[str]) -> dict[str, int]:
    positions = {
        cell.strip().lstrip("\ufeff").lower(): i for i, cell in reversed(list(enumerate(header)))
    }
    columns: dict[str, int] = {}
    for name, candidates in COLUMNS.items():
        for candidate in candidates:
            if candidate in positions:
                columns[name] = positions[candidate]
                break
    return columns


@contextlib.contextmanager
def _field_size_limit(limit: int):
    previous = csv.field_size_limit(limit)
    try:
        yield
    finally:
        csv.field_size_limit(previous)
