"""Render a :class:`litreview.review.Review` as HTML, PDF and Markdown."""

from litreview.report.render import (
    PDF_PAPER_LIMIT,
    render_html,
    render_markdown,
    render_print_html,
    write_report,
)

__all__ = [
    "PDF_PAPER_LIMIT",
    "render_html",
    "render_markdown",
    "render_print_html",
    "write_report",
]
