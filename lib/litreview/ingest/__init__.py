"""Stage 01: read paper listings and exports, clean them and merge duplicates.

``run_ingest`` writes ``DIR/data/papers.parquet`` and ``DIR/data/records.parquet``;
``ingest_paths`` does the same work in memory.
"""

from litreview.ingest.pipeline import INPUT_FORMATS, IngestResult, ingest_paths, run_ingest
from litreview.ingest.records import IngestError
from litreview.ingest.summary import (
    compute_duplicate_table,
    compute_rejects_table,
    compute_source_counts,
    format_summary,
)

__all__ = [
    "INPUT_FORMATS",
    "IngestError",
    "IngestResult",
    "compute_duplicate_table",
    "compute_rejects_table",
    "compute_source_counts",
    "format_summary",
    "ingest_paths",
    "run_ingest",
]
