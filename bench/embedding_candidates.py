"""Faster embedding paths for large corpora, and the benchmark that compares them.

Each candidate is a self-contained function ``(texts, model_dir, ...) -> (n, dim)``
float32 array of L2-normalised rows, so it can move into ``litreview.embed`` as an
``embedding_backend``:

* ``embed_sentence_transformers`` — the reference path (PyTorch), any token window,
  with or without length-sorted batches;
* ``embed_onnx_int8`` — the library's ``embedding_backend="onnx-int8"`` (the network
  exported once with ``torch.onnx.export``, mean pooling and L2 norm inside the graph,
  per-channel dynamic int8 weights, run by ONNX Runtime); ``embed_onnx`` runs other
  export variants of the same library code (fp32, per-tensor int8, shorter window);
* ``embed_model2vec`` — a static model distilled locally with ``model2vec.distill``;
* ``embed_two_stage`` — the library's ``embedding_backend="two-stage"``: the model on a
  fixed sample, a linear map from TF-IDF/SVD features for every other paper.

Distilled models and the ONNX variants are cached under ``bench/_work/models/``
(git-ignored), named by the source model's identity; the library's own onnx-int8 model
sits in its per-user cache (``litreview.embed.onnx_cache_root()``).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from common import WORK_DIR

MODELS_WORK_DIR = WORK_DIR / "models"
VECTORS_WORK_DIR = WORK_DIR / "embeddings"


def _model_tag(model_dir: Path) -> str:
    """Return a short identity of a model folder (config, tokenizer and weights)."""
    try:
        from litreview.embed import model_identity

        return model_identity(model_dir)[:12]
    except ImportError:  # pragma: no cover - embed.py is part of the library
        digest = hashlib.sha256()
        for name in ("config.json", "tokenizer.json", "model.safetensors"):
            path = Path(model_dir) / name
            if path.exists():
                digest.update(path.read_bytes())
        return digest.hexdigest()[:12]


def _l2(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.clip(norms, 1e-12, None)).astype(np.float32)


def _max_seq_length(model_dir: Path, default: int = 256) -> int:
    path = Path(model_dir) / "sentence_bert_config.json"
    if path.exists():
        return int(json.loads(path.read_text()).get("max_seq_length", default))
    return default


# --------------------------------------------------------------------------- PyTorch


def embed_sentence_transformers(
    texts: Sequence[str], model_dir: Path, max_seq_length: int = 256, batch_size: int = 32,
    *, sort_by_length: bool = True, threads: int | None = None,
) -> np.ndarray:
    """Embed with sentence-transformers (PyTorch) at a given token window.

    ``sort_by_length=False`` feeds batches in input order (each batch padded to its
    longest text) to measure what length-sorted batching saves.
    """
    import torch

    if threads:
        torch.set_num_threads(threads)
    model = _st_model(str(model_dir))
    model.max_seq_length = max_seq_length
    texts = list(texts)
    kwargs: dict[str, Any] = {"batch_size": batch_size, "show_progress_bar": False,
                              "convert_to_numpy": True, "normalize_embeddings": True}
    if sort_by_length:  # encode() sorts by length itself
        return _l2(model.encode(texts, **kwargs))
    parts = [model.encode(texts[i : i + batch_size], **kwargs)
             for i in range(0, len(texts), batch_size)]
    return _l2(np.concatenate(parts)) if parts else np.zeros((0, 384), np.float32)


@functools.lru_cache(maxsize=2)
def _st_model(path: str) -> Any:
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(path, device="cpu")


# --------------------------------------------------------------------------- ONNX Runtime
# The export, quantization and ONNX Runtime encoder live in ``litreview.embed``; the
# variants below (fp32, per-tensor int8, 128 tokens) only pick other options of it.


def embed_onnx_int8(
    texts: Sequence[str], model_dir: Path, max_seq_length: int = 256, batch_size: int = 32,
    *, threads: int | None = None,
) -> np.ndarray:
    """Embed through ``litreview.embed.embed_texts(embedding_backend="onnx-int8")``, uncached.

    The exported model comes from the per-user ONNX cache (``embed.onnx_cache_root()``).
    """
    from litreview.embed import _st_settings, embed_texts

    if max_seq_length != _st_settings(Path(model_dir))[0]:
        raise ValueError("the library's onnx-int8 backend uses the model's own max_seq_length")
    return embed_texts(list(texts), model=model_dir, cache_dir=None, batch_size=batch_size,
                       show_progress=False, num_threads=threads, embedding_backend="onnx-int8")


def build_onnx_int8(model_dir: Path) -> Path:
    """Export and quantize the model into the library's per-user ONNX cache once."""
    from litreview.embed import export_onnx

    return export_onnx(model_dir)


def embed_onnx(
    texts: Sequence[str], model_dir: Path, max_seq_length: int = 256, batch_size: int = 32,
    *, quantized: bool = False, per_channel: bool = False, threads: int | None = None,
    work_dir: Path = MODELS_WORK_DIR,
) -> np.ndarray:
    """Embed with another export variant of the library's ONNX path (fp32, per-tensor, window).

    Length-sorted batches through ``litreview.embed``'s shard loop, no cache.
    """
    from litreview.embed import _encode_in_shards, export_onnx, onnx_batch_encoder, text_key

    path = export_onnx(model_dir, work_dir, quantized=quantized, per_channel=per_channel)
    encode = onnx_batch_encoder(path, model_dir, num_threads=threads,
                                max_seq_length=max_seq_length)
    texts = list(texts)
    by_key = {text_key(t): t for t in texts}
    vectors: dict[str, np.ndarray] = {}
    for keys, part in _encode_in_shards(encode, by_key, batch_size=batch_size,
                                        show_progress=False):
        vectors.update(zip(keys, part, strict=True))
    if not texts:
        return np.zeros((0, 384), np.float32)
    return _l2(np.stack([vectors[text_key(t)] for t in texts]))


# --------------------------------------------------------------------------- model2vec


def distill_model2vec(model_dir: Path, work_dir: Path = MODELS_WORK_DIR,
                      pca_dims: int = 256) -> Path:
    """Distill a static model2vec model from the local model folder once; return its folder."""
    target = work_dir / f"m2v-{_model_tag(model_dir)}-pca{pca_dims}"
    if not (target / "config.json").exists():
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from model2vec.distill import distill

        static = distill(model_name=str(model_dir), pca_dims=pca_dims, device="cpu")
        tmp = target.with_name(target.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        static.save_pretrained(str(tmp))
        shutil.rmtree(target, ignore_errors=True)
        os.replace(tmp, target)
    return target


def embed_model2vec(
    texts: Sequence[str], model_dir: Path, max_seq_length: int = 512, batch_size: int = 1024,
    *, pca_dims: int = 256, threads: int | None = None, work_dir: Path = MODELS_WORK_DIR,
) -> np.ndarray:
    """Embed with a static model2vec model distilled from ``model_dir`` (mean of token vectors)."""
    from model2vec import StaticModel

    static = StaticModel.from_pretrained(str(distill_model2vec(Path(model_dir), work_dir,
                                                               pca_dims)))
    vectors = static.encode(list(texts), max_length=max_seq_length, batch_size=batch_size,
                            use_multiprocessing=False)
    return _l2(vectors)


def embed_library(texts: Sequence[str], model_dir: Path, max_seq_length: int = 256,
                  batch_size: int = 32, *, threads: int | None = None) -> np.ndarray:
    """Embed through ``litreview.embed.embed_texts`` without its cache (the notebooks' path)."""
    from litreview.embed import embed_texts

    return embed_texts(list(texts), model=model_dir, cache_dir=None, batch_size=batch_size,
                       show_progress=False, num_threads=threads)


def embed_two_stage(texts: Sequence[str], model_dir: Path, max_seq_length: int = 256,
                    batch_size: int = 32, *, threads: int | None = None) -> np.ndarray:
    """Embed through ``litreview.two_stage`` (MiniLM on a sample, mapped rest), uncached."""
    from litreview.two_stage import embed_two_stage as two_stage

    vectors, _ = two_stage(list(texts), model=model_dir, cache_dir=None, seed=42,
                           batch_size=batch_size, show_progress=False, num_threads=threads)
    return vectors


# --------------------------------------------------------------------------- registry


def _export(model_dir: Path, *, quantized: bool, per_channel: bool = True) -> Path:
    from litreview.embed import export_onnx

    return export_onnx(model_dir, MODELS_WORK_DIR, quantized=quantized, per_channel=per_channel)


@dataclass(frozen=True)
class Candidate:
    """One embedding path: how to build it (once) and how to embed with it."""

    name: str
    description: str
    embed: Callable[..., np.ndarray]
    build: Callable[[Path], Any] | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)


CANDIDATES: dict[str, Candidate] = {c.name: c for c in [
    Candidate("minilm-fp32", "litreview.embed (PyTorch fp32, 256 tokens, length-sorted)",
              embed_library),
    Candidate("minilm-fp32-unsorted", "PyTorch fp32, 256 tokens, batches in input order",
              embed_sentence_transformers, kwargs={"sort_by_length": False}),
    Candidate("minilm-fp32-128", "PyTorch fp32, 128 tokens, length-sorted",
              embed_sentence_transformers, kwargs={"max_seq_length": 128}),
    Candidate("onnx-fp32", "ONNX Runtime fp32, 256 tokens, length-sorted", embed_onnx,
              build=lambda d: _export(d, quantized=False)),
    Candidate("onnx-int8", "litreview.embed backend onnx-int8 (ONNX Runtime, per-channel int8)",
              embed_onnx_int8, build=build_onnx_int8),
    Candidate("onnx-int8-tensor", "ONNX Runtime dynamic int8 (per-tensor), 256 tokens",
              embed_onnx, build=lambda d: _export(d, quantized=True, per_channel=False),
              kwargs={"quantized": True, "per_channel": False}),
    Candidate("onnx-int8-128", "ONNX Runtime dynamic int8 (per-channel), 128 tokens",
              embed_onnx, build=lambda d: _export(d, quantized=True, per_channel=True),
              kwargs={"quantized": True, "per_channel": True, "max_seq_length": 128}),
    Candidate("model2vec-pca256", "model2vec static model distilled locally (PCA 256)",
              embed_model2vec, build=distill_model2vec),
    Candidate("two-stage", "litreview.two_stage: MiniLM onnx-int8 on 2,000 papers, TF-IDF/SVD "
              "ridge map for the rest", embed_two_stage, build=build_onnx_int8),
]}
REFERENCE = "minilm-fp32"


def embed_with(name: str, texts: Sequence[str], model_dir: Path, *, batch_size: int = 32,
               threads: int | None = None) -> np.ndarray:
    """Embed ``texts`` with the named candidate."""
    if name not in CANDIDATES:
        raise KeyError(f"unknown embedding candidate {name!r}; choose from {', '.join(CANDIDATES)}")
    cand = CANDIDATES[name]
    kwargs = dict(cand.kwargs)
    if cand.embed is not embed_model2vec:
        kwargs.setdefault("batch_size", batch_size)
    return cand.embed(texts, model_dir, threads=threads, **kwargs)


def cached_vectors(name: str, texts: Sequence[str], model_dir: Path, corpus_key: str, *,
                   batch_size: int = 32, threads: int | None = None,
                   folder: Path = VECTORS_WORK_DIR) -> tuple[np.ndarray, float | None]:
    """Return the candidate's vectors for a corpus, from ``folder`` or freshly embedded.

    The second value is the embedding wall time, None when the vectors came from disk.
    """
    path = folder / f"{name}-{_model_tag(model_dir)}-{corpus_key}.npy"
    if path.exists():
        return np.load(path), None
    start = time.perf_counter()
    vectors = embed_with(name, texts, model_dir, batch_size=batch_size, threads=threads)
    seconds = time.perf_counter() - start
    folder.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, vectors)
    os.replace(tmp, path)
    return vectors, seconds


# --------------------------------------------------------------------------- benchmark


def run_candidates(shared: Path, *, limit: int | None = None, names: Sequence[str] | None = None,
                   threads: int | None = None, litreview_assign: bool = True,
                   overrides: dict[str, Any] | None = None, append: bool = True,
                   batch_size: int = 32) -> dict[str, Any]:
    """Time each candidate on the labeled set and score its vectors; print and record them.

    Per candidate: build time (export / quantize / distill, cached afterwards), load
    time (first 16 texts), docs/s over the whole set, mean cosine to the reference
    vectors, NMI/ARI of k-means at the true k and of litreview's own assignment.
    """
    import methods
    from common import append_results, machine_info, machine_line, markdown_table
    from labeled import prepare_labeled
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    from litreview.embed import DEFAULT_MODEL, resolve_model

    corpus = prepare_labeled(shared, limit)
    model_dir = resolve_model(DEFAULT_MODEL)
    texts, truth, k = corpus.texts, corpus.labels, corpus.n_labels
    names = list(dict.fromkeys([REFERENCE, *(names or CANDIDATES)]))
    rows: list[dict[str, Any]] = []
    reference: np.ndarray | None = None
    for name in names:
        cand = CANDIDATES[name]
        print(f"[embeddings] {name}: {cand.description} ...", flush=True)
        build_s = 0.0
        if cand.build is not None:
            start = time.perf_counter()
            cand.build(model_dir)
            build_s = time.perf_counter() - start
        start = time.perf_counter()
        embed_with(name, texts[:16], model_dir, batch_size=batch_size, threads=threads)
        load_s = time.perf_counter() - start
        start = time.perf_counter()
        vectors = embed_with(name, texts, model_dir, batch_size=batch_size, threads=threads)
        seconds = time.perf_counter() - start
        _save_vectors(name, model_dir, corpus.key, vectors)
        if name == REFERENCE:
            reference = vectors
        row: dict[str, Any] = {
            "candidate": name, "dim": int(vectors.shape[1]), "build_s": round(build_s, 2),
            "load_s": round(load_s, 2), "embed_s": round(seconds, 2),
            "docs_per_s": len(texts) / seconds if seconds else None,
        }
        if reference is not None and reference.shape == vectors.shape:
            cos = np.sum(reference * vectors, axis=1)
            row["cos_mean"], row["cos_min"] = float(cos.mean()), float(cos.min())
        pred = KMeans(n_clusters=k, n_init=10, random_state=methods.SEED).fit_predict(vectors)
        row["kmeans_nmi"] = float(normalized_mutual_info_score(truth, pred))
        row["kmeans_ari"] = float(adjusted_rand_score(truth, pred))
        if litreview_assign:
            assign = methods.litreview_assign(vectors, texts, overrides)[0]  # the theme level
            row["litreview_nmi"] = float(normalized_mutual_info_score(truth, assign.labels))
            row["litreview_ari"] = float(adjusted_rand_score(truth, assign.labels))
            row["litreview_themes"] = len({t for t in assign.labels.tolist() if t >= 0})
            row["litreview_outliers"] = float(np.mean(assign.labels < 0))
        rows.append(row)
    ref_row = rows[0]
    for row in rows:
        for key in ("kmeans_nmi", "litreview_nmi"):
            if row.get(key) is not None and ref_row.get(key):
                row[f"{key}_rel"] = row[key] / ref_row[key]
        if row.get("docs_per_s") and ref_row.get("docs_per_s"):
            row["speedup"] = row["docs_per_s"] / ref_row["docs_per_s"]
    info = machine_info()
    columns = ["candidate", "dim", "build_s", "load_s", "docs_per_s", "speedup", "cos_mean",
               "kmeans_nmi", "kmeans_nmi_rel", "litreview_nmi", "litreview_nmi_rel",
               "litreview_themes", "litreview_outliers"]
    headers = {"build_s": "build s", "load_s": "load s", "docs_per_s": "docs/s",
               "speedup": "× ref", "cos_mean": "cos to ref", "kmeans_nmi": "k-means NMI",
               "kmeans_nmi_rel": "÷ ref", "litreview_nmi": "litreview NMI",
               "litreview_nmi_rel": "÷ ref ", "litreview_themes": "themes",
               "litreview_outliers": "outliers"}
    md = "\n".join([
        f"Labeled arXiv set: {len(texts)} papers, {k} labels; threads {threads or 'default'}; "
        f"reference `{REFERENCE}`. Machine: {machine_line(info)}.",
        "",
        markdown_table(rows, [c for c in columns if any(c in r for r in rows)], headers),
        "- target for the scale path: litreview NMI ≥ 0.9 × reference (÷ ref column).",
        *(f"- note: {n}" for n in corpus.notes),
    ])
    print(md)
    record = {"kind": "embeddings", "limit": limit, "n_papers": len(texts), "k": k,
              "threads": threads, "rows": rows, "machine": info}
    append_results(f"Embedding candidates ({len(texts)} papers)", md, record, append=append)
    return record


def _save_vectors(name: str, model_dir: Path, corpus_key: str, vectors: np.ndarray,
                  folder: Path = VECTORS_WORK_DIR) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}-{_model_tag(model_dir)}-{corpus_key}.npy"
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, vectors)
    os.replace(tmp, path)
