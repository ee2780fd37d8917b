"""Parse CSV and tab-delimited exports (Scopus, Web of Science, IEEE, generic)."""

from __future__ import annotations

import contextlib
import csv
import re

from litreview.ingest.metadata import split_keyword_field
from litreview.ingest.records import MAX_FIELD_CHARS, RawRecord, excerpt_of, message

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
    """Return one record per data row; a table without a title column is one rejected record.

    Every data row becomes exactly one record (kept, or rejected with its line and reason),
    so a file's records add up to its data rows. A row whose cells do not match the header,
    or whose quotes do not balance, is rejected; when the row's own line, read with its
    quotes as plain characters, has exactly the header's cells, it is repaired instead and a
    warning names the line. A quote that never closes costs one row, not the rest of the file.
    """
    lines = text.split("\n")
    header_line = lines[0]
    delimiter = "\t" if header_line.count("\t") > header_line.count(",") else ","
    messages: list[str] = []
    with _field_size_limit(MAX_FIELD_CHARS * 10):
        header, header_end, error = _read_row(lines, 0, delimiter)
        if error is not None or not header:
            return [
                RawRecord(
                    source,
                    1,
                    FORMAT,
                    reject_reason=f"unreadable CSV header ({error or 'empty'})",
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
        width = len(header)
        numbered = _numbered_column(header)
        realigned_lines: list[int] = []
        records: list[RawRecord] = []
        position = header_end
        while position < len(lines):
            if not lines[position].strip():
                position += 1
                continue
            start = position
            row, end, error = _read_row(lines, start, delimiter)
            problem = error
            if row is not None:
                fitted = _fit(row, header)
                if fitted is not None:
                    position = end
                    if any(cell.strip() for cell in fitted):
                        records.append(_record(fitted, columns, source, start + 1, delimiter))
                    continue
                realigned = _realign(row, header, numbered)
                if realigned is not None:
                    realigned_lines.append(start + 1)
                    position = end
                    records.append(_record(realigned, columns, source, start + 1, delimiter))
                    continue
                problem = f"row has {_cells(len(row))}, the header has {width}"
            # Only a quoting error is repaired: when the quotes balance, a literal reading
            # would split quoted delimiters ("a,b") and could fit by accident. A row that
            # spans lines and does not fit counts as one: a stray quote may have glued the
            # lines after it on (the quotes then balance by accident further down).
            glued = error is None and end - start > 1
            repaired = (_read_literally(lines[start], header, delimiter)
                        if error or glued else None)
            if repaired is not None:
                messages.append(
                    message(
                        source,
                        start + 1,
                        f"{problem}; row read with its quotes as plain text "
                        f"({width} cells, as in the header)",
                    )
                )
                records.append(_record(repaired, columns, source, start + 1, delimiter))
                position = start + 1
                continue
            if error is None and not glued:
                # Quotes balance, the cells do not: the row is what the quotes say, all of it.
                span = lines[start:end]
                position = end
            else:
                # Quotes do not balance (or balance only across lines that do not make a
                # row): only this line is known to be bad; read on from the next.
                span = lines[start : start + 1]
                position = start + 1
            records.append(
                RawRecord(
                    source,
                    start + 1,
                    FORMAT,
                    reject_reason=problem,
                    excerpt=excerpt_of(" ".join(span)),
                )
            )
    if realigned_lines:
        messages.insert(
            0,
            message(
                source,
                realigned_lines[0],
                f"{len(realigned_lines)} row(s) have more cells than the header; the extra "
                f"cells were read as repeats of column {header[numbered or 0].strip()!r} "
                "(Scopus writes one header cell for several funding texts)",
            ),
        )
    return records, messages


def _cells(n: int) -> str:
    return f"{n} cell" if n == 1 else f"{n} cells"


def _numbered_column(header: list[str]) -> int | None:
    """Return the one header cell named ``"<name> 1"`` with no ``"<name> 2"`` after it.

    Scopus exports name the column ``Funding Text 1`` but write as many funding texts as a
    paper has, so rows with two or more carry extra cells right after that column.
    """
    names = [cell.strip().lower() for cell in header]
    found = [
        i
        for i, name in enumerate(names)
        if re.fullmatch(r".*\S\s+1", name) and f"{name[:-1].rstrip()} 2" not in names
    ]
    return found[0] if len(found) == 1 else None


def _realign(row: list[str], header: list[str], numbered: int | None) -> list[str] | None:
    """Fold the extra cells of a row into the repeated numbered column (see above)."""
    extra = len(row) - len(header)
    if numbered is None or extra <= 0:
        return None
    return row[: numbered + 1] + row[numbered + 1 + extra :]


def _read_row(
    lines: list[str], start: int, delimiter: str
) -> tuple[list[str] | None, int, str | None]:
    """Read one row beginning at ``lines[start]``: ``(cells, end, problem)``.

    ``end`` is the index after the row's last line. csv does the quoting (strict, so a quote
    that never closes or text after a closing quote is an error rather than silently glued
    text); a fresh reader per row lets the caller resume on any line after a bad one.
    """
    feed = (lines[i] + "\n" for i in range(start, len(lines)))
    reader = csv.reader(feed, delimiter=delimiter, strict=True)
    try:
        row = next(reader)
    except StopIteration:
        return None, len(lines), "no row"
    except csv.Error as exc:
        end = start + max(reader.line_num, 1)
        return None, end, _describe(str(exc), start + 1, end)
    return row, start + reader.line_num, None


def _describe(error: str, line: int, last_line: int) -> str:
    if "unexpected end of data" in error:
        return "unbalanced quote (a quote opened in this row never closes)"
    if "expected after" in error and last_line > line:
        return f"unbalanced quote (a quote opened in this row runs on to line {last_line})"
    if "expected after" in error:
        return "stray quote (text follows a closing quote)"
    if "field larger than field limit" in error:
        return f"cell longer than {MAX_FIELD_CHARS * 10} characters (a quote that never closes?)"
    return f"bad CSV row ({error})"


def _fit(row: list[str], header: list[str]) -> list[str] | None:
    """Return ``row`` with exactly the header's cells, or None when its cells do not match.

    Empty cells past the header's end (a trailing delimiter) are dropped, and cells missing
    at the end are allowed only under header cells that have no name.
    """
    width = len(header)
    if len(row) > width and not any(cell.strip() for cell in row[width:]):
        row = row[:width]
    if len(row) < width and not any(name.strip() for name in header[len(row) :]):
        row = row + [""] * (width - len(row))
    return row if len(row) == width else None


def _read_literally(line: str, header: list[str], delimiter: str) -> list[str] | None:
    """Split one line with quotes as plain characters; the cells if they match the header."""
    if '"' not in line:
        return None
    cells = next(csv.reader([line], delimiter=delimiter, quoting=csv.QUOTE_NONE), [])
    fitted = _fit(cells, header)
    if fitted is None:
        return None
    return [_unquote(cell) for cell in fitted]


def _unquote(cell: str) -> str:
    text = cell.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1].replace('""', '"')
    if text.count('"') % 2:  # the stray quote itself, at either end
        if text.startswith('"'):
            return text[1:]
        if text.endswith('"'):
            return text[:-1]
    return text


def _record(
    row: list[str], columns: dict[str, int], source: str, line: int, delimiter: str
) -> RawRecord:
    values = {
        name: (row[index].strip() if index < len(row) and row[index].strip() else None)
        for name, index in columns.items()
    }
    abstract = values.get("abstract")
    if abstract and abstract.strip().lower() in _NO_ABSTRACT:
        abstract = None
    return RawRecord(
        source_file=source,
        line=line,
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
