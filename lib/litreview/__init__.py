"""litreview: a literature-review workbook (ingest -> topics -> thematic review)."""

__version__ = "0.1.0"
