"""Fixtures shared by every test folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from litreview import config

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

#: ``../shared`` beside the checkout exists for developers and CI, not in a user's clone.
SHARED_DIR = config.PROJECT_ROOT.parent / "shared"


@pytest.fixture(scope="session")
def seed_corpus_dir() -> Path:
    """The bundled default corpus, ``data/corpus/``."""
    return config.DEFAULT_CORPUS_DIR


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared``, or skip when this clone has none beside it."""
    if not SHARED_DIR.is_dir():
        pytest.skip("../shared is not beside this checkout (only developers and CI have it)")
    return SHARED_DIR
