"""End to end on a hostile corpus: no live markup in any HTML or Markdown output.

`litreview run` (01 -> 02 -> 03 with papermill, smoke parameters) on the seed's smaller
listing plus BibTeX, RIS and listing records whose every field carries script tags,
event handlers, javascript:/data: URLs and Markdown link syntax. Every HTML output is
parsed (html.parser), every Markdown output is rendered with a CommonMark renderer
(markdown-it-py, raw HTML allowed as lenient viewers do) and parsed; nothing is grepped.
About 3 to 5 minutes on 2 cores.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from litreview.report.render import STATIC_DIR

sys.path.insert(0, str(Path(__file__).parent))
import hostile

pytestmark = pytest.mark.slow

SMOKE_PARAMS = Path(__file__).with_name("smoke.yaml")


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    corpus = hostile.write_hostile_corpus(root / "corpus")
    out = root / "outputs"
    proc = subprocess.run(
        [sys.executable, "-m", "litreview.cli", "run", "--corpus", str(corpus),
         "--out", str(out), "--params", str(SMOKE_PARAMS)],
        capture_output=True, text=True, timeout=1500,
    )
    assert proc.returncode == 0, f"litreview run failed:\n{proc.stdout}\n{proc.stderr}"
    return out


def _outputs(out: Path) -> dict[str, list[Path]]:
    found = {
        "report_html": sorted((out / "report").glob("*.html")),
        "report_md": sorted((out / "report").glob("*.md")),
        "notebook_html": sorted((out / "notebooks").glob("*.html")),
    }
    assert found["report_html"] and found["report_md"] and len(found["notebook_html"]) == 3
    return found


def test_hostile_corpus_reaches_the_report(hostile_run: Path) -> None:
    import pandas as pd

    papers = pd.read_parquet(hostile_run / "data" / "papers.parquet")
    hostile_titles = papers["title"].str.contains("<script>|onerror=|javascript:", regex=True)
    assert hostile_titles.sum() >= 20, "the hostile records must survive ingest to test anything"


def test_no_live_markup_in_html_outputs(hostile_run: Path) -> None:
    outputs = _outputs(hostile_run)
    own_js = (STATIC_DIR / "review.js").read_text(encoding="utf-8")
    problems: list[str] = []
    shown = []
    for path in outputs["report_html"]:
        found, text = hostile.scan_html(path.read_text(encoding="utf-8"),
                                        allowed_script=hostile.report_script(own_js),
                                        where=path.name)
        problems += found
        shown.append(text)
    for path in outputs["notebook_html"]:
        found, text = hostile.scan_html(path.read_text(encoding="utf-8"),
                                        allowed_script=hostile.notebook_script,
                                        where=path.name, allowed_relative=hostile.OWN_FIGURE)
        problems += found
        shown.append(text)
    assert not problems, "\n".join(problems[:20])
    # the payloads are there, as text: escaped, not dropped
    report_text = shown[0]
    assert all(marker in report_text for marker in hostile.VISIBLE_MARKERS)
    # The notebooks show only part of the draft (03 renders one theme section), so whether a
    # hostile title appears in them depends on the clustering; `problems` above already
    # holds any live element or link they carry.


def test_no_live_markup_in_markdown_outputs(hostile_run: Path) -> None:
    problems: list[str] = []
    for path in _outputs(hostile_run)["report_md"]:
        html = hostile.render_markdown(path.read_text(encoding="utf-8"))
        found, text = hostile.scan_html(html, allowed_script=lambda attrs, text: False,
                                        where=path.name, allowed_tags=hostile.MARKDOWN_TAGS,
                                        allowed_relative=hostile.OWN_FIGURE)
        problems += found
        assert all(marker in text for marker in hostile.VISIBLE_MARKERS), path.name
    assert not problems, "\n".join(problems[:20])
