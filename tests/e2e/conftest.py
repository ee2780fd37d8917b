"""The one end-to-end review run the e2e tests share (about two minutes on 2 cores)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SMOKE_PARAMS = Path(__file__).with_name("smoke.yaml")


@pytest.fixture(scope="session")
def review_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Run the whole review once on the seed corpus into a temporary DIR and return DIR."""
    out = tmp_path_factory.mktemp("review") / "outputs"
    proc = subprocess.run(
        [sys.executable, "-m", "litreview.cli", "run", "--out", str(out),
         "--params", str(SMOKE_PARAMS)],
        capture_output=True, text=True, timeout=1200,
    )
    assert proc.returncode == 0, f"litreview run failed:\n{proc.stdout}\n{proc.stderr}"
    return out
