"""Theme quality on the labeled arXiv set: litreview at both levels against baselines.

litreview runs as notebook 02 does (``run_topics`` with the notebook's defaults: its
own number of themes, never told k) and is scored at the theme and at the strand
level; the baselines, on the very same vectors, are BERTopic with its defaults (raw
and after ``reduce_outliers``), k-means and Ward on the embeddings, NMF on tf-idf and
LDA on counts, the last four told the true k; k-means and Ward are also cut at
litreview's number of strands, the strand level's own baseline. The backend and the
long-text mode come from the notebook defaults unless ``-p embedding_backend …`` /
``-p long_text …`` say otherwise; ``auto`` is pinned to what it resolves to at this
size (onnx-int8).
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
                   batch_size: int = 32, backend: str = "torch", long_text: str = "truncate"
                   ) -> tuple[np.ndarray, float | None]:
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
    start = time.perf_counter()
    before = sum(1 for _ in cache.rglob("shard-*.npz")) if cache.exists() else 0
    vectors = embed.embed_texts(corpus.texts, model=model_dir, cache_dir=cache,
                                batch_size=batch_size, show_progress=False, num_threads=threads,
                                embedding_backend=backend, long_text=long_text)
    seconds = time.perf_counter() - start
    after = sum(1 for _ in cache.rglob("shard-*.npz"))
    return vectors, (None if after == before else seconds)


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
    from litreview import embed

    overrides = dict(overrides or {})
    # The two-stage row costs a second stage-02 run and a cold 2,000-paper embedding:
    # opt in with -p two_stage true (the default run stays within ~15 min on 2 cores).
    run_two_stage = bool(overrides.pop("two_stage", False))
    corpus = prepare_labeled(shared, limit)
    truth, k = corpus.labels, corpus.n_labels
    nb = {**methods.notebook_topic_parameters(), **(overrides or {})}
    backend = embed.full_model_backend(len(set(corpus.texts))) \
        if nb.get("embedding_backend", "auto") == "auto" else nb["embedding_backend"]
    long_text = nb.get("long_text", "truncate")
    print(f"[quality] {len(corpus.texts)} papers ({corpus.n_input} records), {k} labels; "
          f"embedding {embedding} ({backend}, long texts: {long_text}) ...", flush=True)
    emb, embed_s = embeddings_for(corpus, embedding, threads=threads, backend=backend,
                                  long_text=long_text)
    docs = methods.topic_docs(corpus.texts)
    assignments: list[methods.Assignment] = []
    notes = list(corpus.notes)
    timings: dict[str, Any] = {}

    print("[quality] litreview ...", flush=True)
    if embedding == REFERENCE:
        # Pin the backend: every method must read the same vectors.
        pinned = {**(overrides or {}), "embedding_backend": backend, "long_text": long_text}
        main, _ = methods.litreview_run_topics(corpus.out_dir, pinned)
        timings = main.extra["timings"]
        assignments.append(main)
        assignments.append(methods.Assignment(
            "litreview strands", main.extra["strand_labels"], main.extra["strand_terms"], 0.0,
            ["the strand level of the same run"]))
        if backend != "two-stage" and run_two_stage:
            print("[quality] litreview, two-stage embedding ...", flush=True)
            assignments.append(litreview_two_stage(corpus, {**(overrides or {}),
                                                            "long_text": long_text}))
    else:
        notes.append("litreview assigned with its step functions on the candidate's vectors")
        assignments.extend(methods.litreview_assign(emb, corpus.texts, overrides))

    print("[quality] BERTopic defaults ...", flush=True)
    assignments.extend(methods.bertopic_default(emb, docs))
    print("[quality] k-means, Ward, NMF, LDA ...", flush=True)
    assignments.append(methods.kmeans(emb, docs, k))
    assignments.append(methods.ward(emb, docs, k))
    strand_rows = [a for a in assignments if a.method.startswith("litreview strands")]
    if strand_rows:  # the strand level against the same baselines at its own count
        n_strands = len({int(s) for s in strand_rows[0].labels if s >= 0})
        for make in (methods.kmeans, methods.ward):
            base = make(emb, docs, n_strands)
            base.method = base.method.replace(f"true k={n_strands}",
                                              f"k={n_strands}, litreview's strands")
            assignments.append(base)
    assignments.append(methods.nmf(docs, k))
    assignments.append(methods.lda(docs, k))

    rows = [methods.score(a, truth, docs) for a in assignments]
    verdict = targets(rows)
    info = machine_info()
    md = "\n".join([
        f"Labeled arXiv set: {len(corpus.texts)} papers, {k} labels, embedding `{embedding}`"
        f" with `{backend}`, long texts `{long_text}` "
        f"({'cached' if embed_s is None else f'{embed_s:.1f} s, {len(docs) / embed_s:.1f} docs/s'}"
        f"). Machine: {machine_line(info)}.",
        "",
        markdown_table(rows, COLUMNS, HEADERS),
        *(f"- {line}" for line in verdict["lines"]),
        *(f"- note: {n}" for n in notes),
        *(f"- litreview step timings (s): {timings}" for _ in [0] if timings),
    ])
    print(md)
    record = {"kind": "quality", "limit": limit, "n_papers": len(docs), "k": k,
              "embedding": embedding, "backend": backend, "long_text": long_text,
              "embed_seconds": embed_s, "rows": rows,
              "targets": verdict, "notes": notes, "litreview_timings": timings,
              "litreview_params": assignments[0].extra.get("params"), "machine": info}
    append_results(f"Quality ({len(docs)} papers, {embedding}, {backend}, {long_text})", md,
                   record, append=append)
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
