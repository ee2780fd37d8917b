"""The review stage's fast paths: the PDF written by a background process, figures drawn
only when their data changed. Each keeps the report's bytes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from litreview import review
from litreview.report import pdf

from .conftest import make_output_dir

pytest.importorskip("fcntl")


def _report_bytes(root: Path) -> dict[str, bytes]:
    """HTML and Markdown without the Generated line, figures as they are."""
    found = {}
    for name in ("review.html", "review.md"):
        text = (root / "report" / name).read_text(encoding="utf-8")
        found[name] = "\n".join(line for line in text.splitlines()
                                if "Generated 20" not in line).encode()
    for path in sorted((root / "figures").glob("review_*")):
        found[path.name] = path.read_bytes()
    return found


def test_second_run_redraws_no_figure_and_writes_the_same_report(tmp_path: Path) -> None:
    root = make_output_dir(tmp_path / "run")
    review.run_review(root, title="One")  # the fixture's manifest gets the real packages
    review.run_review(root, title="One")
    first = _report_bytes(root)
    figures = sorted((root / "figures").glob("review_*"))
    assert figures and (root / "report" / "review.pdf").stat().st_size > 1000
    stamps = {p.name: p.stat().st_mtime_ns for p in figures}

    review.run_review(root, title="One")
    assert _report_bytes(root) == first
    assert {p.name: p.stat().st_mtime_ns for p in figures} == stamps  # left alone
    assert not [p.name for p in (root / "report").iterdir() if p.name.startswith(".")]

    # a figure changed by hand is drawn again, back to the bytes the data give
    target = root / "figures" / "review_strategic_diagram.svg"
    target.write_text("<svg/>", encoding="utf-8")
    review.run_review(root, title="Two")
    assert _report_bytes(root)["review_strategic_diagram.svg"] == \
        first["review_strategic_diagram.svg"]
    assert "Two" in (root / "report" / "review.html").read_text(encoding="utf-8")


def test_background_pdf_is_collected_and_failures_are_named(tmp_path: Path) -> None:
    folder = tmp_path / "report"
    folder.mkdir()
    target = folder / "review.pdf"
    assert pdf.start_pdf("<html><body><p>Hello</p></body></html>", target)
    assert pdf.pending(folder)
    result = pdf.wait_pdf(folder)
    assert result is not None and result.path == target
    assert target.read_bytes().startswith(b"%PDF")
    assert not pdf.pending(folder) and sorted(os.listdir(folder)) == ["review.pdf"]
    assert pdf.wait_pdf(folder) is None  # nothing left to collect

    # a writer that reported a failure, and one that vanished without a word
    (folder / pdf.JOB_NAME).write_text("999999999\n", encoding="utf-8")
    (folder / pdf.STATUS_NAME).write_text(json.dumps({"ok": False, "error": "OSError: disk"}),
                                          encoding="utf-8")
    with pytest.raises(pdf.PdfFailed, match="OSError: disk"):
        pdf.wait_pdf(folder)
    (folder / pdf.JOB_NAME).write_text("999999999\n", encoding="utf-8")
    with pytest.raises(pdf.PdfFailed, match="without reporting"):
        pdf.wait_pdf(folder)
    assert not pdf.pending(folder)


def test_deferred_pdf_is_left_for_the_runner(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_output_dir(tmp_path / "run")
    monkeypatch.setenv(pdf.DEFER_ENV, "1")
    review.run_review(root, title="Deferred", formats=("html", "pdf"))
    folder = root / "report"
    assert (folder / "review.html").exists()
    assert pdf.pending(folder)  # the stage returned before the PDF: the runner waits
    assert pdf.wait_pdf(folder) is not None
    assert (folder / "review.pdf").read_bytes().startswith(b"%PDF")


_PAGE = "<html><head><title>T</title></head><body><h1>Hello</h1><p>A <i>page</i>.</p></body></html>"


def test_prepared_writer_warms_up_first_and_writes_the_same_bytes(tmp_path: Path) -> None:
    folder = tmp_path / "report"
    folder.mkdir()
    target = folder / "review.pdf"
    assert pdf.start_pdf(_PAGE, target)  # a writer started cold, for reference
    pdf.wait_pdf(folder)
    cold = target.read_bytes()
    target.unlink()

    assert pdf.prepare_pdf(target)
    assert pdf.pending(folder) and not target.exists()  # waiting for its HTML
    assert pdf.start_pdf(_PAGE, target)  # handed to the prepared writer
    result = pdf.wait_pdf(folder)
    assert result is not None and result.path == target
    assert target.read_bytes() == cold
    assert sorted(os.listdir(folder)) == ["review.pdf"]


def test_prepared_writer_never_handed_its_html_is_stopped_or_says_so(tmp_path: Path) -> None:
    folder = tmp_path / "report"
    folder.mkdir()
    target = folder / "review.pdf"
    assert pdf.prepare_pdf(target)
    pdf.cancel_pdf(folder)  # the stage failed before its HTML was ready
    assert not pdf.pending(folder) and os.listdir(folder) == []

    assert pdf.prepare_pdf(target)
    pdf._STARTED[folder.resolve()].stdin.close()  # its parent went away without a job
    with pytest.raises(pdf.PdfFailed, match="no HTML was handed"):
        pdf.wait_pdf(folder, timeout=120)
    assert not target.exists() and os.listdir(folder) == []


def _figure_job_inputs(root: Path):
    from litreview.review.compose import figure_data
    from litreview.review.inputs import _load_inputs

    inputs = _load_inputs(root)
    return figure_data(inputs), len(inputs.papers)


def _figure_files(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((root / "figures").glob("review_*"))}


@pytest.mark.skipif(os.cpu_count() == 1, reason="the figures' child needs a second CPU")
def test_figures_drawn_in_a_forked_child_are_the_bytes_drawn_here(tmp_path: Path) -> None:
    from litreview.review import stage

    here = make_output_dir(tmp_path / "here", with_figures=False)
    data, n = _figure_job_inputs(here)
    drawn_here = stage._draw_figures(here, data)

    forked = make_output_dir(tmp_path / "forked", with_figures=False)
    data, n = _figure_job_inputs(forked)
    job = stage._FigureJob(forked, data, n)
    assert job._call is not None  # a child draws them
    paths = job.result()
    assert [p.name for p in paths] == [p.name for p in drawn_here]
    assert all(p.is_file() and p.parent == forked / "figures" for p in paths)
    assert _figure_files(forked) == _figure_files(here)

    # up to date (the edit loop): no child is started, the same files are returned
    again = stage._FigureJob(forked, data, n)
    assert again._call is None
    assert sorted(p.name for p in again.result()) == sorted(p.name for p in paths)


@pytest.mark.skipif(os.cpu_count() == 1, reason="the figures' child needs a second CPU")
def test_a_failing_figures_child_is_replaced_by_drawing_here(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from litreview.review import stage

    root = make_output_dir(tmp_path / "run", with_figures=False)
    data, n = _figure_job_inputs(root)

    def broken(out_dir, data):  # what a child that dies without a word leaves
        os._exit(3)

    monkeypatch.setattr(stage, "_draw_in_child", broken)
    job = stage._FigureJob(root, data, n)
    assert job._call is not None
    with caplog.at_level("WARNING", logger=stage.__name__):
        paths = job.result()
    assert paths and all(p.is_file() for p in paths)
    assert "drawing them here" in caplog.text
    assert job._call is None  # reaped
