"""Stage 01: read paper listings and exports, clean them and merge duplicates.

``run_ingest`` writes ``DIR/data/papers.parquet`` and ``DIR/data/records.parquet``, and
the screening's ``exclusions.parquet`` and ``screening_flow.parquet``; ``ingest_paths``
does the reading, cleaning and merging in memory.
"""

from litreview.ingest.pipeline import INPUT_FORMATS, IngestResult, ingest_paths, run_ingest
from litreview.ingest.records import IngestError
from litreview.ingest.screening import (
    EXCLUSIONS_TABLE,
    FLOW_FIGURE,
    FLOW_TABLE,
    apply_screening,
    compute_screening_flow,
)
from litreview.ingest.summary import (
    compute_duplicate_table,
    compute_rejects_table,
    compute_source_counts,
    format_summary,
)

__all__ = [
    "EXCLUSIONS_TABLE",
    "FLOW_FIGURE",
    "FLOW_TABLE",
    "INPUT_FORMATS",
    "IngestError",
    "IngestResult",
    "apply_screening",
    "compute_duplicate_table",
    "compute_rejects_table",
    "compute_screening_flow",
    "compute_source_counts",
    "format_summary",
    "ingest_paths",
    "run_ingest",
]
