"""The ingest summary of thousands of rejects and warnings is complete."""

from __future__ import annotations

import pandas as pd

from litreview.ingest import compute_rejects_table, format_summary
from litreview.ingest.pipeline import PAPER_COLUMNS, RECORD_COLUMNS, IngestResult


def _result_with_rejects(n: int) -> IngestResult:
    records = pd.DataFrame(
        {
            "source_file": ["big.csv"] * n,
            "line": list(range(2, n + 2)),
            "source_id": [None] * n,
            "status": ["rejected"] * n,
            "paper_id": [None] * n,
            "reason": ["no abstract"] * n,
            "title": [f"Title {i}" for i in range(n)],
            "format": ["csv"] * n,
            "reason_kind": ["no abstract"] * n,
            "match": [None] * n,
            "excerpt": [f"Title {i}" for i in range(n)],
        },
        columns=RECORD_COLUMNS,
    )
    messages = [f"big.csv:{line}: no abstract" for line in records["line"]]
    messages.append("big.csv:5: a warning that is not a reject")
    return IngestResult(
        papers=pd.DataFrame(columns=PAPER_COLUMNS),
        records=records,
        inputs=[],
        messages=messages,
    )


def test_summary_of_8000_rejects_is_complete():
    result = _result_with_rejects(8000)
    text = format_summary(result)
    assert "8000 records had no abstract" in text
    assert "1 warning(s), first: big.csv:5: a warning that is not a reject" in text
    assert len(compute_rejects_table(result)) == 8000
