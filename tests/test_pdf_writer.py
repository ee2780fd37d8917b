"""The background PDF writer collects garbage less often than Python's defaults
(``pdf.GC_THRESHOLDS``): its PDF has the bytes an in-process ``write_pdf`` gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from litreview.report import pdf

pytest.importorskip("fcntl")
pytest.importorskip("weasyprint")

#: Enough boxes (a few pages of paragraphs and a table) for the collector to run often.
_PAGES = ("<html><head><title>T</title></head><body>"
          + "".join(f"<h2>Part {i}</h2><p>Some <i>text</i> and <b>more</b> text, {i}.</p>"
                    f"<table><tr><td>{i}</td><td>cell</td></tr></table>" for i in range(120))
          + "</body></html>")


def test_writer_thresholds_are_rarer_than_the_defaults() -> None:
    defaults = (700, 10, 10)  # CPython's, which this process keeps
    assert all(t >= d for t, d in zip(pdf.GC_THRESHOLDS, defaults, strict=True))
    assert pdf.GC_THRESHOLDS[0] > defaults[0]


def test_background_writer_gives_the_in_process_bytes(tmp_path: Path) -> None:
    here = tmp_path / "here"
    folder = tmp_path / "report"
    folder.mkdir()
    pdf.write_pdf(_PAGES, here / "review.pdf", here)  # this process, its own thresholds
    assert pdf.start_pdf(_PAGES, folder / "review.pdf")
    result = pdf.wait_pdf(folder)
    assert result is not None
    assert (folder / "review.pdf").read_bytes() == (here / "review.pdf").read_bytes()
