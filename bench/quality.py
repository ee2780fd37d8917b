"""Theme quality on the labeled arXiv set: litreview against four baselines, same embeddings.

litreview runs as notebook 02 does (``run_topics`` with the notebook's defaults, its
own number of themes), then at the coarse level of its theme tree; the baselines are
BERTopic with its defaults (raw and after ``reduce_outliers``), k-means on the
embeddings, NMF on tf-idf and LDA on counts, the last three told the true k.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import methods
import numpy as np
from common import append_results, machine_info, machine_line, markdown_table
from embedding_candidates import REFERENCE, cached_vectors
from labeled import prepare_labeled

COLUMNS = ["method", "nmi", "ari", "v_measure", "themes", "outliers", "npmi", "diversity",
           "seconds"]
HEADERS = {"v_measure": "V", "outliers": "outlier share", "seconds": "wall s"}


def embeddings_for(corpus: Any, embedding: str, *, threads: int | None,
                   batch_size: int = 32) -> tuple[np.ndarray, float | None]:
    """Return the corpus embeddings of a candidate and the seconds spent (None if cached).

    The reference path goes through ``litreview.embed.embed_texts`` with the cache
    folder ``run_topics`` uses, so litreview's run reads the very same vectors.
    """
    from litreview import config, embed

    model_dir = embed.resolve_model(embed.DEFAULT_MODEL)
    if embedding != REFERENCE:
        return cached_vectors(embedding, corpus.texts, model_dir, corpus.key,
                              batch_size=batch_size, threads=threads)
    cache = config.models_dir(corpus.out_dir) / "embeddings"
    was_cached = (cache / "index.json").exists()
    start = time.perf_counter()
    vectors = embed.embed_texts(corpus.texts, model=model_dir, cache_dir=cache,
                                batch_size=batch_size, show_progress=False, num_threads=threads)
    seconds = time.perf_counter() - start
    return vectors, (None if was_cached else seconds)


def litreview_two_stage(corpus: Any, overrides: dict[str, Any] | None) -> methods.Assignment:
    """Run notebook 02's defaults with the two-stage embedding, in a folder of its own.

    This is what ``embedding_backend="auto"`` does from 10,000 papers: MiniLM (onnx-int8)
    on a 2,000-paper sample, every other paper mapped from its TF-IDF/SVD features. Its
    sample vectors are cached there, so only the first run pays for them.
    """
    out_dir = corpus.out_dir.with_name(f"{corpus.out_dir.name}-two-stage")
    (out_dir / "data").mkdir(parents=True, exist_ok=True)
    shutil.copy2(corpus.out_dir / "data" / "papers.parquet", out_dir / "data" / "papers.parquet")
    params = {**(overrides or {}), "embedding_backend": "two-stage"}
    assignment, result = methods.litreview_run_topics(out_dir, params)
    fit = result.metrics.get("two_stage") or {}
    assignment.method = "litreview, two-stage embedding"
    assignment.notes.append(
        f"two-stage: {fit.get('n_sampled')} papers embedded with MiniLM "
        f"({fit.get('sample_backend')}), held-out cosine of the map "
        f"{fit.get('held_out_cosine') or float('nan'):.3f}; embedding step "
        f"{result.timings.get('embedding', float('nan')):.1f} s")
    return assignment


def run_quality(shared: Path, *, limit: int | None = None, embedding: str = REFERENCE,
                threads: int | None = None, overrides: dict[str, Any] | None = None,
                append: bool = True) -> dict[str, Any]:
    """Run every method on one set of embeddings, print the table, record the results."""
    corpus = prepare_labeled(shared, limit)
    truth, k = corpus.labels, corpus.n_labels
    print(f"[quality] {len(corpus.texts)} papers ({corpus.n_input} records), {k} labels; "
          f"embedding {embedding} ...", flush=True)
    emb, embed_s = embeddings_for(corpus, embedding, threads=threads)
    docs = methods.topic_docs(corpus.texts)
    assignments: list[methods.Assignment] = []
    notes = list(corpus.notes)
    timings: dict[str, Any] = {}

    print("[quality] litreview ...", flush=True)
    if embedding == REFERENCE:
        # Pin the backend: "auto" would switch to onnx-int8 at this size and re-embed,
        # and every method must read the same vectors.
        pinned = {"embedding_backend": "torch", **(overrides or {})}
        main, result = methods.litreview_run_topics(corpus.out_dir, pinned)
        timings = main.extra["timings"]
        assignments.append(main)
        hierarchy = result.hierarchy
        for n_groups, name in ((None, "litreview coarse (tree cut, own choice)"),
                               (k, f"litreview coarse (tree cut at true k={k})")):
            coarse, groups = methods.hierarchy_cut(hierarchy, main.labels, n_groups)
            if groups != len({t for t in main.labels.tolist() if t >= 0}):
                terms = methods.ctfidf_terms(docs, coarse) if groups else []
                assignments.append(methods.Assignment(name, coarse, terms, 0.0,
                                                      ["terms by c-TF-IDF per group"]))
        print("[quality] litreview, two-stage embedding ...", flush=True)
        assignments.append(litreview_two_stage(corpus, overrides))
    else:
        notes.append("litreview assigned with its step functions on the candidate's vectors")
        assignments.append(methods.litreview_assign(emb, corpus.texts, overrides))

    print("[quality] BERTopic defaults ...", flush=True)
    assignments.extend(methods.bertopic_default(emb, docs))
    print("[quality] k-means, NMF, LDA ...", flush=True)
    assignments.append(methods.kmeans(emb, docs, k))
    assignments.append(methods.nmf(docs, k))
    assignments.append(methods.lda(docs, k))

    rows = [methods.score(a, truth, docs) for a in assignments]
    verdict = targets(rows)
    info = machine_info()
    md = "\n".join([
        f"Labeled arXiv set: {len(corpus.texts)} papers, {k} labels, embedding `{embedding}`"
        f" ({'cached' if embed_s is None else f'{embed_s:.1f} s, {len(docs) / embed_s:.1f} docs/s'}"
        f"). Machine: {machine_line(info)}.",
        "",
        markdown_table(rows, COLUMNS, HEADERS),
        *(f"- {line}" for line in verdict["lines"]),
        *(f"- note: {n}" for n in notes),
        *(f"- litreview step timings (s): {timings}" for _ in [0] if timings),
    ])
    print(md)
    record = {"kind": "quality", "limit": limit, "n_papers": len(docs), "k": k,
              "embedding": embedding, "embed_seconds": embed_s, "rows": rows,
              "targets": verdict, "notes": notes, "litreview_timings": timings,
              "litreview_params": assignments[0].extra.get("params"), "machine": info}
    append_results(f"Quality ({len(docs)} papers, {embedding})", md, record, append=append)
    return record


def targets(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Check litreview against the issue's targets; return pass/fail and readable lines."""
    lit = next((r for r in rows if r["method"].startswith("litreview")), None)
    if lit is None:
        return {"passed": None, "lines": ["litreview row missing"]}
    lines, passed = [], True
    beat = [r for r in rows if r["method"].startswith(("BERTopic", "NMF", "LDA"))]
    for metric in ("nmi", "ari", "npmi"):
        best = max(beat, key=lambda r, m=metric: r[m] if r[m] == r[m] else -9)
        ok = lit[metric] > best[metric]
        passed &= ok
        lines.append(f"{'PASS' if ok else 'FAIL'} litreview {metric.upper()} {lit[metric]:.3f} "
                     f"> best of BERTopic/NMF/LDA ({best['method']}: {best[metric]:.3f})")
    km = next((r for r in rows if r["method"].startswith("k-means")), None)
    if km is not None:
        for metric in ("nmi", "ari"):
            ok = lit[metric] >= km[metric] - 0.01
            passed &= ok
            lines.append(f"{'PASS' if ok else 'FAIL'} litreview {metric.upper()} "
                         f"{lit[metric]:.3f} level with k-means at true k ({km[metric]:.3f}, "
                         "tolerance 0.01)")
    ok = lit["outliers"] <= 0.10
    passed &= ok
    lines.append(f"{'PASS' if ok else 'FAIL'} litreview outlier share {lit['outliers']:.1%} "
                 "≤ 10 %")
    fast = next((r for r in rows if r["method"] == "litreview, two-stage embedding"), None)
    if fast is not None and lit["nmi"] > 0:
        ratio = fast["nmi"] / lit["nmi"]
        ok = ratio >= 0.9
        passed &= ok
        lines.append(f"{'PASS' if ok else 'FAIL'} two-stage embedding keeps {ratio:.2f} × "
                     f"litreview's NMI on full MiniLM vectors (≥ 0.9 ×)")
    return {"passed": passed, "lines": lines}
