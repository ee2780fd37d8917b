"""Fixtures shared by every test folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

from litreview import config

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

# Property tests draw the same examples on every run unless HYPOTHESIS_PROFILE=explore:
# a red run then names a case anyone can rerun, and a landing never hangs on a fresh draw.
settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

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
