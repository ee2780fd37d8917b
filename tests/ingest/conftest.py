"""Paths to the seed corpus and export fixtures used by the ingest tests."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SEED_DIR = REPO / "data" / "corpus"
SEED_213 = SEED_DIR / "000_06277f12b8a26c99.txt"
SEED_80 = SEED_DIR / "001_206916e277d3519c.txt"
EXPORTS = REPO / "tests" / "fixtures" / "exports"
#: Full exports live next to the checkout in the shared workspace; a user's clone has none.
FULL_EXPORTS = REPO.parent / "shared" / "fixtures" / "exports"


@pytest.fixture
def write(tmp_path: Path):
    """Write text (or bytes) to a file in tmp_path and return its path."""

    def _write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", newline="")
        return path

    return _write


def abstract_text(topic: str = "graphs") -> str:
    """Return a plausible multi-sentence abstract."""
    return (
        f"We study {topic} in large language models. Our method improves accuracy on three "
        "benchmarks by a wide margin. We release code and data for future work on this topic."
    )
