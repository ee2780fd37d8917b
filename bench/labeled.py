"""The labeled arXiv set prepared as litreview would read it: ingested, with labels per paper."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from common import LABELED_FILE, WORK_DIR, data_file, load_jsonl_gz, write_jsonl_gz


@dataclass
class LabeledCorpus:
    """Papers of the labeled set after litreview's ingest, their texts and true labels."""

    out_dir: Path
    papers: pd.DataFrame
    texts: list[str]
    labels: np.ndarray
    n_input: int
    notes: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        """Return a short hash of the texts (names per-corpus caches)."""
        digest = hashlib.sha256("\n".join(self.texts).encode("utf-8")).hexdigest()
        return digest[:12]

    @property
    def n_labels(self) -> int:
        """Return the number of distinct true labels."""
        return len(set(self.labels.tolist()))


def prepare_labeled(shared: Path, limit: int | None = None, *,
                    work_dir: Path = WORK_DIR) -> LabeledCorpus:
    """Ingest the labeled set (or a fixed sample of ``limit`` documents) into a work folder.

    The papers go through ``litreview.ingest.run_ingest`` exactly as ``litreview run``
    would read a ``.jsonl.gz``; each paper gets the label of the record it came from.
    """
    from litreview import embed

    source = data_file(shared, LABELED_FILE)
    docs = load_jsonl_gz(source, limit=limit)
    tag = f"n{len(docs)}"
    out_dir = work_dir / f"labeled-{tag}"
    subset = write_jsonl_gz(docs, work_dir / "inputs" / f"labeled-{tag}.jsonl.gz")
    label_of = {d.id: d.label for d in docs}
    notes: list[str] = []
    try:
        from litreview.ingest import run_ingest
    except ImportError:  # the ingest stage is not in this checkout yet
        run_ingest = None
    if run_ingest is not None:
        result = run_ingest([subset], out_dir, input_format="jsonl")
        papers = result.papers.reset_index(drop=True)
        records = result.records
        used = records[records["status"].isin(["kept", "duplicate"])]
        paper_label: dict[str, str] = {}
        for source_id, paper_id in zip(used["source_id"], used["paper_id"], strict=True):
            if paper_id not in paper_label and source_id in label_of:
                paper_label[str(paper_id)] = str(label_of[source_id])
        n_dup = int((records["status"] == "duplicate").sum())
        n_rej = int((records["status"] == "rejected").sum())
        if n_dup or n_rej:
            notes.append(f"ingest merged {n_dup} duplicate and rejected {n_rej} record(s)")
    else:
        from litreview import io

        notes.append("litreview.ingest.run_ingest missing: papers written directly")
        papers = pd.DataFrame({"paper_id": [d.id for d in docs], "title": [d.title for d in docs],
                               "abstract": [d.abstract for d in docs]})
        io.save_table(papers, out_dir, "papers")
        paper_label = {d.id: str(d.label) for d in docs}
    missing = [p for p in papers["paper_id"].astype(str) if p not in paper_label]
    if missing:
        raise RuntimeError(f"{len(missing)} ingested paper(s) have no label, e.g. {missing[:3]}")
    labels = np.asarray([paper_label[p] for p in papers["paper_id"].astype(str)])
    return LabeledCorpus(out_dir, papers, embed.paper_texts(papers), labels, len(docs), notes)
