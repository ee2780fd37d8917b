"""The 2-D document map: UMAP (cosine, fixed seed), cached with a checksum.

Only the map uses UMAP; the themes come from the tree (``fit``). A reduction is cached
under ``DIR/models/umap/<key>.npy`` with a ``<key>.json`` beside it holding the file's
SHA-256 and shape. A cached file whose checksum, shape or values do not match is
reported (``UMAPCacheWarning``, also logged) and the map is recomputed and rewritten.

Compiled once, not in every run: umap-learn declares most of its numba functions without
``cache=True``, so each new process spent ~8-15 s CPU compiling them before its first
fit (a second fit in the same process takes 0.4 s). When this module is imported it
arranges (:func:`cache_umap_compilation`, through a one-shot import hook, because
bertopic imports umap before the map is drawn) that the functions umap defines are
compiled with numba's on-disk cache; the machine code, and so the map, is the same.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.abc
import json
import logging
import sys
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from litreview import background, io, metrics

logger = logging.getLogger(__name__)

#: Below this many papers the map is a PCA (UMAP needs a neighbourhood graph).
MIN_PAPERS_FOR_UMAP = 15
#: Above this many papers UMAP is fitted on a fixed seeded sample of this size (the same
#: papers as the theme tree's sample, ``fit.TREE_MAX_PAPERS``, for the same seed) and every
#: other paper is placed from its nearest sample papers (:func:`neighbour_positions`).
MAP_MAX_FIT_PAPERS = 12_000
#: How many nearest sample papers place a paper outside the sample.
MAP_SAMPLE_NEIGHBOURS = 10
#: Rows of the similarity matrix computed at a time when placing papers.
NEIGHBOUR_BLOCK_ROWS = 2048
#: From this many papers :func:`start_map` computes the map in a separate process while
#: the stage fits and names its themes (below it the map is computed when it is needed).
MAP_BACKGROUND_MIN_PAPERS = 20_000


class UMAPCacheWarning(UserWarning):
    """A cached UMAP reduction was unusable (corrupt, wrong shape) and was recomputed."""


#: Packages whose numba functions get ``cache=True`` (when they do not say otherwise).
NUMBA_CACHED_PACKAGES = frozenset({"umap"})


def cache_umap_compilation() -> bool:
    """Make ``numba.njit`` / ``numba.jit`` default to ``cache=True`` for functions defined
    in umap-learn (:data:`NUMBA_CACHED_PACKAGES`); every other function is compiled as
    before. Must run before umap is imported; returns whether the defaults are in place.

    Hand-written because neither numba nor umap-learn offers a switch for it; it only sets
    a keyword umap-learn leaves out, so a numba without the hook point is left as it is.
    """
    if getattr(sys.modules.get("numba"), "_litreview_cache_defaults", False):
        return True
    if "umap" in sys.modules:
        return False  # too late: its functions are decorated already
    import numba

    def cached(original: Any) -> Any:
        @functools.wraps(original)
        def decorator(*args: Any, **kwargs: Any) -> Any:
            if args and callable(args[0]):  # bare @numba.njit, or numba.njit(f, ...)
                return _decorate(original, args[0], args[1:], kwargs)
            return lambda function: _decorate(original, function, args, kwargs)

        return decorator

    numba.njit, numba.jit = cached(numba.njit), cached(numba.jit)
    numba._litreview_cache_defaults = True
    return True


def _decorate(original: Any, function: Any, args: tuple[Any, ...],
              kwargs: dict[str, Any]) -> Any:
    module = str(getattr(function, "__module__", "") or "").partition(".")[0]
    if module in NUMBA_CACHED_PACKAGES and "cache" not in kwargs:
        kwargs = {**kwargs, "cache": True}
    return original(*args, **kwargs)(function)


class _BeforeUmapImport(importlib.abc.MetaPathFinder):
    """Runs :func:`cache_umap_compilation` when umap is first imported, then steps aside."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name == "umap":
            with contextlib.suppress(ValueError):
                sys.meta_path.remove(self)
            try:
                cache_umap_compilation()
            except Exception as err:  # never stop umap from importing
                logger.debug("numba cache defaults not set: %s", err)
        return None  # the usual finders import it


if "umap" not in sys.modules and not any(isinstance(f, _BeforeUmapImport)
                                         for f in sys.meta_path):
    sys.meta_path.insert(0, _BeforeUmapImport())

# bertopic imports plotly, whose renderers import nbformat, whose validator imports
# jsonschema's format checkers; the optional IRI one imports ``rfc3987_syntax``, which
# builds a grammar at import (~1.5-3 s CPU of the stage). Nothing here validates IRIs, and
# jsonschema skips the check when the module is absent, which a None in sys.modules says.
if "jsonschema" not in sys.modules:
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


@functools.cache
def _umap_class() -> type:
    """Build (once) the UMAP subclass that times its fit and reuses a checksummed cache."""
    import umap

    class CachedUMAP(umap.UMAP):
        """UMAP that times its fit and, given ``cache_dir_``, reuses an identical earlier fit."""

        cache_dir_: Path | None = None

        def fit_transform(self, X, y=None, **kwargs):
            start = time.perf_counter()
            try:
                if self.cache_dir_ is None or y is not None:
                    return super().fit_transform(X, y=y, **kwargs)
                path = Path(self.cache_dir_) / f"{reduction_key(X, self.get_params())}.npy"
                cached = load_reduction(path, (len(X), self.n_components))
                if cached is not None:
                    # Same input and settings give the same bytes (fixed random_state).
                    self.embedding_ = cached
                    return cached
                reduced = super().fit_transform(X, **kwargs)
                save_reduction(path, np.asarray(reduced))
                return reduced
            finally:
                self.fit_seconds_ = time.perf_counter() - start

    return CachedUMAP


def make_umap(n_papers: int, *, seed: int, n_neighbors: int = 15, n_components: int = 2,
              min_dist: float = 0.1, cache_dir: Path | None = None) -> Any:
    """Return the map's UMAP; neighbours and components are capped below the number of papers.

    Small corpora use a random start because the spectral one fails on tiny graphs.
    """
    reducer = _umap_class()(
        n_neighbors=max(2, min(n_neighbors, n_papers - 1)),
        n_components=max(1, min(n_components, n_papers - 2)),
        min_dist=min_dist,
        metric="cosine",
        random_state=seed,
        low_memory=True,
        n_jobs=1,  # what a fixed random_state forces anyway; saying so avoids a warning
        init="spectral" if n_papers >= 100 else "random",
    )
    reducer.cache_dir_ = cache_dir
    return reducer


def reduction_key(vectors: np.ndarray, settings: Mapping[str, Any]) -> str:
    """Return the cache key of a UMAP fit: SHA-256 of the vectors' bytes and the settings."""
    digest = hashlib.sha256()
    array = np.ascontiguousarray(vectors)
    digest.update(f"{array.dtype.str}{array.shape}".encode())
    digest.update(array.tobytes())
    digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:32]


def _sidecar(path: Path) -> Path:
    return path.with_suffix(".json")


def save_reduction(path: Path, reduced: np.ndarray) -> None:
    """Write a reduction and then its checksum record, each atomically."""
    with io.atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.save(fh, np.asarray(reduced), allow_pickle=False)
        digest = hashlib.sha256(tmp.read_bytes()).hexdigest()
    io.write_json(_sidecar(path), {"sha256": digest, "shape": list(np.shape(reduced))})


def _warn(message: str) -> None:
    logger.warning(message)
    warnings.warn(message, UMAPCacheWarning, stacklevel=3)


def load_reduction(path: Path, shape: tuple[int, int]) -> np.ndarray | None:
    """Return a cached reduction if its checksum, shape and values are sound, else None."""
    if not path.exists():
        return None
    why = None
    try:
        record = io.read_json(_sidecar(path))
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != record.get("sha256"):
            why = "checksum mismatch"
        else:
            cached = np.load(path, allow_pickle=False)
            if tuple(cached.shape) != tuple(shape) or not np.isfinite(cached).all():
                why = f"shape {cached.shape}, expected {shape}, or non-finite values"
    except (OSError, ValueError, AttributeError, json.JSONDecodeError) as err:
        why = f"unreadable ({err})"
    if why is not None:
        _warn(f"UMAP cache {path} is not used: {why}; recomputing the map")
        path.unlink(missing_ok=True)
        _sidecar(path).unlink(missing_ok=True)
        return None
    return cached


def map_coordinates(
    embeddings: np.ndarray, seed: int, n_neighbors: int = 15,
    reduction_cache: Path | None = None, max_fit_papers: int = MAP_MAX_FIT_PAPERS,
) -> np.ndarray:
    """Return 2-D map coordinates: UMAP (cosine, fixed seed); PCA for tiny corpora.

    Above ``max_fit_papers`` papers UMAP is fitted on a fixed seeded sample of that many
    (:func:`map_sample`) and the others are placed from their nearest sample papers
    (:func:`neighbour_positions`); at or below it the map is UMAP of every paper.
    """
    n = len(embeddings)
    if n < MIN_PAPERS_FOR_UMAP:
        if n < 2:
            return np.zeros((n, 2))
        from sklearn.decomposition import PCA

        coords = PCA(n_components=min(2, n), svd_solver="full").fit_transform(embeddings)
        return np.pad(coords, ((0, 0), (0, 2 - coords.shape[1])))
    if n > max_fit_papers:
        return _sampled_map(embeddings, seed, n_neighbors, reduction_cache, max_fit_papers)
    reducer = make_umap(n, seed=seed, n_neighbors=n_neighbors, cache_dir=reduction_cache)
    return np.asarray(reducer.fit_transform(embeddings), dtype=float)


def map_sample(n_papers: int, size: int, seed: int) -> np.ndarray:
    """Return the sorted rows of the fixed seeded sample the map is fitted on: the theme
    tree's sample (``fit.tree_sample``), so with the same seed and size both are fitted on
    the same papers."""
    from litreview.topics.fit import tree_sample

    return tree_sample(n_papers, size, seed)


def _sampled_map(embeddings: np.ndarray, seed: int, n_neighbors: int,
                 reduction_cache: Path | None, size: int) -> np.ndarray:
    sample = map_sample(len(embeddings), size, seed)
    reducer = make_umap(size, seed=seed, n_neighbors=n_neighbors, cache_dir=reduction_cache)
    xy_sample = np.asarray(reducer.fit_transform(embeddings[sample]), dtype=float)
    coords = np.zeros((len(embeddings), 2), dtype=float)
    coords[sample] = xy_sample
    rest = np.setdiff1d(np.arange(len(embeddings)), sample, assume_unique=True)
    coords[rest] = neighbour_positions(embeddings[rest], embeddings[sample], xy_sample)
    return coords


def neighbour_positions(
    queries: np.ndarray, reference: np.ndarray, reference_xy: np.ndarray,
    k: int = MAP_SAMPLE_NEIGHBOURS, block_rows: int = NEIGHBOUR_BLOCK_ROWS,
) -> np.ndarray:
    """Return, per query vector, the similarity-weighted mean 2-D position of its ``k``
    most cosine-similar reference vectors.

    This is how UMAP's own ``transform`` starts a new point, without its optimisation
    epochs (which cost ~as much as the fit itself on 60k points and depend on its random
    state). Written by hand (numpy) because neither UMAP nor scikit-learn offers this
    weighting; the similarities are computed ``block_rows`` queries at a time so memory
    stays bounded. Neighbours are ordered by similarity, then by reference row, so ties
    resolve the same way every run.
    """
    reference_xy = np.asarray(reference_xy, dtype=float)
    out = np.zeros((len(queries), 2), dtype=float)
    if not len(queries) or not len(reference):
        return out
    k = max(1, min(k, len(reference)))
    ref_unit = metrics._unit(np.asarray(reference, dtype=np.float64)).astype(np.float32)
    for start in range(0, len(queries), block_rows):
        block = metrics._unit(np.asarray(queries[start:start + block_rows], dtype=np.float64))
        sims = block.astype(np.float32) @ ref_unit.T
        if k < sims.shape[1]:
            candidates = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        else:
            candidates = np.broadcast_to(np.arange(sims.shape[1]), sims.shape).copy()
        values = np.take_along_axis(sims, candidates, axis=1).astype(np.float64)
        order = np.lexsort((candidates, -values), axis=1)
        nearest = np.take_along_axis(candidates, order, axis=1)
        weights = np.clip(np.take_along_axis(values, order, axis=1), 1e-6, None)
        out[start:start + len(block)] = (weights[:, :, None] * reference_xy[nearest]).sum(
            axis=1) / weights.sum(axis=1, keepdims=True)
    return out


# --------------------------------------------------------------------------- background


@dataclass
class MapJob:
    """A 2-D map being computed in another process (:func:`start_map`)."""

    call: background.Call
    embeddings: np.ndarray
    seed: int
    n_neighbors: int
    reduction_cache: Path | None
    max_fit_papers: int


def start_map(
    embeddings: np.ndarray, seed: int, n_neighbors: int = 15,
    reduction_cache: Path | None = None, *, max_fit_papers: int = MAP_MAX_FIT_PAPERS,
    min_papers: int | None = None,
) -> MapJob | None:
    """Start :func:`map_coordinates` in a fresh Python process (``background.start_call``);
    collect it with :func:`finish_map`. None (nothing started) below ``min_papers`` papers
    (default :data:`MAP_BACKGROUND_MIN_PAPERS`) or on one CPU.

    The map depends on the embeddings only, so on a large corpus it is worked out on the
    second core while the stage fits, places and names its themes on the first.
    """
    limit = MAP_BACKGROUND_MIN_PAPERS if min_papers is None else min_papers
    if len(embeddings) < limit:
        return None
    call = background.start_call(f"{__name__}:map_coordinates", embeddings, seed,
                                 n_neighbors, reduction_cache, max_fit_papers)
    if call is None:
        return None
    return MapJob(call, embeddings, int(seed), int(n_neighbors), reduction_cache,
                  int(max_fit_papers))


def finish_map(job: MapJob) -> np.ndarray:
    """Wait for a map :func:`start_map` started and return its coordinates; should the
    process have failed, the map is computed here."""
    try:
        coords = np.asarray(background.finish_call(job.call))
        if coords.shape == (len(job.embeddings), 2):
            return coords
        logger.warning("the background map has shape %s; computing it here", coords.shape)
    except background.BackgroundFailed as err:
        logger.warning("%s; computing the map here", err)
    return map_coordinates(job.embeddings, job.seed, job.n_neighbors, job.reduction_cache,
                           job.max_fit_papers)


def cancel_map(job: MapJob | None) -> None:
    """Stop a background map that is no longer wanted and remove its files."""
    if job is not None:
        background.cancel_call(job.call)
