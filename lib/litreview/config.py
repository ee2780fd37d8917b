"""Paths, names and the run environment shared by every stage (the bottom layer).

Nothing here imports another litreview module, so any module may import it.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
#: Repository root when installed editable from a checkout (``pip install -e .``).
PROJECT_ROOT = PACKAGE_DIR.parent.parent
DEFAULT_CORPUS_DIR = PROJECT_ROOT / "data" / "corpus"
DEFAULT_OUT_DIR = PROJECT_ROOT / "outputs"
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"

#: Environment every notebook kernel inherits: no hub access, quiet tokenizers.
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
}

STAGES = ("ingest", "topics", "review")
STAGE_NOTEBOOKS = {
    "ingest": "01_ingest.ipynb",
    "topics": "02_topics.ipynb",
    "review": "03_review.ipynb",
}


def data_dir(out_dir: str | os.PathLike) -> Path:
    """Tables and JSON written by the stages: ``DIR/data``."""
    return Path(out_dir) / "data"


def figures_dir(out_dir: str | os.PathLike) -> Path:
    """Figures (PNG, SVG, HTML): ``DIR/figures``."""
    return Path(out_dir) / "figures"


def models_dir(out_dir: str | os.PathLike) -> Path:
    """Fitted topic model and embedding cache: ``DIR/models``."""
    return Path(out_dir) / "models"


def report_dir(out_dir: str | os.PathLike) -> Path:
    """The review report (HTML, PDF, Markdown): ``DIR/report``."""
    return Path(out_dir) / "report"


def manifest_path(out_dir: str | os.PathLike) -> Path:
    """The run manifest: ``DIR/manifest.json``."""
    return Path(out_dir) / "manifest.json"


def default_offline_env() -> None:
    """Set ``OFFLINE_ENV`` wherever the environment does not already say otherwise.

    For library use outside ``litreview run`` (a notebook opened by hand, the benchmarks):
    models load from disk and nothing is asked of a hub.
    """
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)


#: What each stage reads and writes under the output folder (paths relative to it): the
#: stage contracts ``litreview run`` hashes and checks (``pipeline.check_upstream``).
#: A stage's ``reads`` must all be ``writes`` of an earlier stage.
STAGE_READS: dict[str, tuple[str, ...]] = {
    "ingest": (),
    "topics": ("data/papers.parquet",),
    "review": (
        "data/papers.parquet", "data/records.parquet", "data/doc_topics.parquet",
        "data/topics.parquet", "data/strands.parquet", "data/topic_similarity.parquet",
        "data/topic_hierarchy.parquet", "data/topic_metrics.json", "data/exclusions.parquet",
    ),
}
STAGE_WRITES: dict[str, tuple[str, ...]] = {
    "ingest": ("data/papers.parquet", "data/records.parquet", "data/exclusions.parquet",
               "data/screening_flow.parquet"),
    "topics": (
        "data/doc_topics.parquet", "data/topics.parquet", "data/strands.parquet",
        "data/topic_similarity.parquet", "data/topic_hierarchy.parquet",
        "data/topic_metrics.json", "data/theme_changes.parquet", "data/curation.json",
    ),
    # which of these exist depends on ``formats``
    "review": ("report/review.html", "report/review.pdf", "report/review.md"),
}
#: Files a stage also reads when they exist (the optional strands table, the topics figures
#: the report embeds): not required by the contracts, but hashed into the stage's skip
#: check (``litreview run`` re-runs the review when one of them changed).
STAGE_ALSO_READS: dict[str, tuple[str, ...]] = {
    "ingest": (),
    "topics": (),
    "review": ("data/strands.parquet", "data/theme_changes.parquet", "data/curation.json",
               "figures/topics_map.html", *(
        f"figures/topics_{name}.png" for name in ("map", "sizes", "similarity", "hierarchy"))),
}
