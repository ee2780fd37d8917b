"""What stage 03 reads: the stage 01/02 tables under ``DIR/data``, the topic metrics and
the manifest, loaded once and hashed for the Method section."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from litreview import config, io, manifest
from litreview.review import living

#: The data files this stage reads (without ``.parquet``), all under ``DIR/data``.
INPUT_TABLES = (
    "papers", "records", "doc_topics", "topics", "topic_similarity", "topic_hierarchy",
)
METRICS_FILE = "topic_metrics.json"
STRANDS_TABLE = "strands"
#: The papers the ingest stage screened out (absent in outputs of earlier versions).
EXCLUSIONS_TABLE = "exclusions"


# --------------------------------------------------------------------------- loading


@dataclass
class _Inputs:
    papers: pd.DataFrame
    records: pd.DataFrame
    doc_topics: pd.DataFrame
    topics: pd.DataFrame
    similarity: pd.DataFrame
    hierarchy: pd.DataFrame
    metrics: dict[str, Any]
    manifest: dict[str, Any]
    hashes: dict[str, str]
    strands: pd.DataFrame | None = None  # data/strands.parquet when stage 02 wrote it
    #: data/exclusions.parquet: paper_id, ref, reason, line, title (one row per paper)
    exclusions: pd.DataFrame | None = None
    curation: dict[str, Any] | None = None  # data/curation.json (what curation applied)
    theme_changes: pd.DataFrame | None = None  # data/theme_changes.parquet


def _load_inputs(out_dir: str | os.PathLike) -> _Inputs:
    tables = {name: io.load_table(out_dir, name) for name in INPUT_TABLES}
    metrics_path = config.data_dir(out_dir) / METRICS_FILE
    if not metrics_path.exists():
        raise FileNotFoundError(
            f"{metrics_path} is missing: run the topics stage first "
            f"(`litreview run --out {out_dir}`)."
        )
    hashes = {
        os.fspath(path): manifest.sha256_file(path) for path in input_paths(out_dir)
        if path.exists()  # strands/exclusions are absent in outputs of earlier versions
    }
    papers = tables["papers"].copy()
    papers["paper_id"] = papers["paper_id"].astype(str)
    doc_topics = tables["doc_topics"].copy()
    doc_topics["paper_id"] = doc_topics["paper_id"].astype(str)
    topics = tables["topics"].sort_values(["size", "topic"], ascending=[False, True])
    strands_path = config.data_dir(out_dir) / f"{STRANDS_TABLE}.parquet"
    strands = io.load_table(out_dir, STRANDS_TABLE) if strands_path.exists() else None
    exclusions_path = config.data_dir(out_dir) / f"{EXCLUSIONS_TABLE}.parquet"
    exclusions = (io.load_table(out_dir, EXCLUSIONS_TABLE) if exclusions_path.exists()
                  else pd.DataFrame(columns=["paper_id", "ref", "reason", "line", "title"]))
    curation, theme_changes = living.load(out_dir)
    return _Inputs(
        strands=strands, curation=curation, theme_changes=theme_changes,
        exclusions=exclusions,
        papers=papers.set_index("paper_id", drop=False),
        records=tables["records"],
        doc_topics=doc_topics,
        topics=topics.reset_index(drop=True),
        similarity=tables["topic_similarity"],
        hierarchy=tables["topic_hierarchy"],
        metrics=io.read_json(metrics_path),
        manifest=manifest.read_manifest(out_dir),
        hashes=hashes,
    )


def input_paths(out_dir: str | os.PathLike) -> list[Path]:
    """The files the review stage reads."""
    folder = config.data_dir(out_dir)
    optional = [folder / living.CURATION_FILE, folder / f"{living.CHANGES_TABLE}.parquet"]
    return ([folder / f"{name}.parquet" for name in INPUT_TABLES] + [folder / METRICS_FILE]
            + [folder / f"{STRANDS_TABLE}.parquet", folder / f"{EXCLUSIONS_TABLE}.parquet"]
            + [p for p in optional if p.exists()])
