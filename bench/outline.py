"""The seed corpus's map against a survey author's outline (``run_bench.py outline``).

``tests/fixtures/outline/seed_outline.csv`` places every seed paper in one of 12 sections a
survey author drew from the titles and abstracts alone (or "off-topic"), with a strand in
each. This runs stages ingest and topics on ``data/corpus/`` into a fresh work folder with
the notebook defaults and scores the themes and strands against the sections and strands
(NMI, ARI), beside k-means and Ward on the same vectors at the outline's number of sections
and at litreview's, and says where the off-topic papers went. It is one reader's outline,
not ground truth: the number to watch is the gap to the baselines.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from typing import Any

import numpy as np
import pandas as pd
from common import REPO_ROOT, WORK_DIR, append_results, machine_info, machine_line, markdown_table

OUTLINE = REPO_ROOT / "tests" / "fixtures" / "outline" / "seed_outline.csv"


def run_outline(*, append: bool = True, overrides: dict[str, Any] | None = None
                ) -> dict[str, Any]:
    """Map the seed corpus afresh, score it against the outline, print and record the table."""
    from sklearn.cluster import AgglomerativeClustering, KMeans
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    from litreview import metrics
    from litreview.topics import embed_corpus, load_corpus

    out = WORK_DIR / "outline"
    if out.exists():
        shutil.rmtree(out)
    command = [sys.executable, "-m", "litreview.cli", "run", "--out", str(out),
               "--stages", "ingest,topics"]
    for key, value in (overrides or {}).items():
        command += ["-p", key, str(value)]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    corpus = load_corpus(out)
    vectors = embed_corpus(corpus, out, show_progress=False)
    unit = metrics._unit(np.asarray(vectors.embeddings, dtype=np.float64))
    outline = pd.read_csv(OUTLINE, dtype=str).set_index("paper_id")
    doc = pd.read_parquet(out / "data" / "doc_topics.parquet").set_index("paper_id")
    ids = [p for p in corpus.paper_ids if p in outline.index]
    rows_of = {p: i for i, p in enumerate(corpus.paper_ids)}
    sections = outline.loc[ids, "section"].to_numpy()
    strands = (outline.loc[ids, "section"] + "/" + outline.loc[ids, "strand"].fillna("")
               ).to_numpy()
    vecs = unit[[rows_of[p] for p in ids]]

    def row(method: str, level: str, truth: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
        return {"method": method, "level": level, "groups": len(set(labels.tolist()) - {-1}),
                "nmi": float(normalized_mutual_info_score(truth, labels)),
                "ari": float(adjusted_rand_score(truth, labels))}

    themes = doc.loc[ids, "topic"].to_numpy()
    strand_ids = doc.loc[ids, "strand"].to_numpy()
    n_sections = len(set(sections) - {"off-topic"})
    table = [row("litreview themes", "sections", sections, themes),
             row("litreview strands", "strands", strands, strand_ids)]
    for k in sorted({n_sections, len(set(themes.tolist()) - {-1})}):
        table.append(row(f"k-means (k={k})", "sections", sections,
                         KMeans(k, n_init=10, random_state=42).fit_predict(vecs)))
        table.append(row(f"Ward (k={k})", "sections", sections,
                         AgglomerativeClustering(k, linkage="ward").fit_predict(vecs)))
    off = themes[sections == "off-topic"]
    info = machine_info()
    lines = [f"Seed corpus ({len(ids)} papers) against `tests/fixtures/outline/seed_outline.csv` "
             f"({n_sections} sections, {len(set(strands))} strands, {len(off)} off-topic); "
             f"command: `python bench/run_bench.py outline`. Machine: {machine_line(info)}.",
             "", markdown_table(table),
             f"- off-topic papers in no theme: {int((off == -1).sum())} of {len(off)}"]
    text = "\n".join(lines)
    print(text)
    record = {"rows": table, "off_topic_unplaced": int((off == -1).sum()),
              "off_topic": len(off), "machine": info}
    append_results("Seed corpus against a survey author's outline", text, record,
                   append=append)
    return record
