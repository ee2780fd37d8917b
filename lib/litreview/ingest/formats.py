"""The database-export formats (MEDLINE, Web of Science, OpenAlex, CSL-JSON): parsers and detection.

``reading.detect_format`` asks :func:`detect_export` first; ``pipeline.PARSERS`` includes
:data:`EXPORT_PARSERS`.
"""

from __future__ import annotations

from collections.abc import Callable

from litreview.ingest import csljson, medline, openalex, wos
from litreview.ingest.records import RawRecord

Parser = Callable[[str, str], tuple[list[RawRecord], list[str]]]
EXPORT_PARSERS: dict[str, Parser] = {
    medline.FORMAT: medline.parse,
    wos.FORMAT: wos.parse,
    openalex.FORMAT: openalex.parse,
    csljson.FORMAT: csljson.parse,
}
#: Extensions that name one of these formats when the content does not.
EXPORT_EXTENSIONS = {".nbib": medline.FORMAT, ".medline": medline.FORMAT}


def detect_export(text: str) -> str | None:
    """Return the export format ``text`` is written in, judged by its content, or None."""
    head = text[:65536].lstrip("\ufeff")
    if medline.looks_like_medline(head):
        return medline.FORMAT
    if wos.looks_like_wos(head):
        return wos.FORMAT
    if openalex.looks_like_openalex(head):
        return openalex.FORMAT
    if csljson.looks_like_csljson(head):
        return csljson.FORMAT
    return None
