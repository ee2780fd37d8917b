"""The raw record every format parser yields, and the errors of the ingest stage."""

from __future__ import annotations

from dataclasses import dataclass, field

#: A field longer than this is not a title or an abstract but a pasted dump: the record is
#: rejected (not truncated, so junk never reaches the topic model silently).
MAX_FIELD_CHARS = 100_000
EXCERPT_CHARS = 120


class IngestError(Exception):
    """Nothing usable was found in the inputs; the message names the files and why."""


@dataclass
class RawRecord:
    """One record as read from a file, before cleaning; ``line`` is 1-based (0 = whole file).

    ``authors`` is one string (``"A; B"``, BibTeX ``"A and B"``) or a list of names;
    ``year``/``month`` may be any text holding them (``"2021 Mar"``, ``"2021-03-04"``).
    """

    source_file: str
    line: int
    format: str
    title: str | None = None
    abstract: str | None = None
    doi: str | None = None
    arxiv_id: str | None = None
    source_id: str | None = None
    year: object = None
    authors: str | list[str] | None = None
    venue: str | None = None
    url: str | None = None
    reject_reason: str | None = None
    excerpt: str = ""
    month: object = None
    pmid: str | None = None
    keywords: list[str] = field(default_factory=list)
    cited_by: object = None
    document_type: str | None = None


def excerpt_of(text: str | None) -> str:
    """Return a short one-line excerpt of raw text for the rejects table."""
    if not text:
        return ""
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= EXCERPT_CHARS else one_line[: EXCERPT_CHARS - 1] + "…"


def message(source: str, line: int, text: str) -> str:
    """Format a one-line warning ``"file:line: text"``."""
    return f"{source}:{line}: {text}"
