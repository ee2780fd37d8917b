"""Stage 02: map the field — themes (the review's sections) and strands (its research lines).

The stage is a short chain of public steps, each in its own module, which notebook 02
narrates one per cell and ``bench/`` calls directly:

1. ``load_corpus`` / ``embed_corpus`` (``corpus``): papers in canonical order, embedded
   from their whole title and abstract (sentence windows, cached);
2. ``fit_levels`` (``fit``): one Ward tree of the embeddings, cut into themes and strands;
3. ``place_papers`` (``place``): core, peripheral or unplaced, by a cut-off taken from
   the corpus's own similarity distribution;
4. ``find_terms`` + ``name_topics`` (``describe``, ``naming``): key terms and names;
5. ``build_tables`` (``describe``): the tables, the 2-D map (``layout``), quality measures;
6. ``write_tables`` / ``write_model`` / ``write_figures`` (``write``).

``run_topics`` composes them and is the one path that writes the stage's outputs.
Heavy libraries (bertopic, umap, torch) are imported inside functions.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from litreview import background, config, curation, embed, metrics, two_stage
from litreview.manifest import Timer, record_stage
from litreview.topics import curate, identity
from litreview.topics import update as map_update
from litreview.topics.corpus import (
    Corpus,
    CorpusVectors,
    build_vectorizer,
    canonical_order,
    embed_corpus,
    load_corpus,
    stop_words,
    topic_text,
    vectorize_papers,
)
from litreview.topics.describe import (
    COHERENCE_POOL,
    COHERENCE_WEIGHT,
    HIERARCHY_COLUMNS,
    MIN_TERM_SUPPORT,
    NAME_TERMS,
    OUTLIER_LABEL,
    STABILITY_MAX_PAPERS,
    STABILITY_SCALE_SEEDS,
    Tables,
    Terms,
    build_tables,
    cached_embedder,
    coherent_terms,
    find_terms,
    fit_representation,
    hierarchy_table,
    naming_request,
    save_model,
    stability,
    strand_terms,
    subsample_stability,
    term_support,
    theme_terms,
)
from litreview.topics.fit import (
    MIN_PAPERS_TO_CLUSTER,
    Levels,
    TopicParams,
    auto_min_topic_size,
    choose_cut,
    fit_levels,
    hybrid_vectors,
    theme_count_bounds,
    tree_space,
    ward_tree,
)
from litreview.topics.layout import (
    MapJob,
    UMAPCacheWarning,
    cancel_map,
    finish_map,
    load_reduction,
    make_umap,
    map_coordinates,
    reduction_key,
    start_map,
)
from litreview.topics.naming import Names, NamingRequest, label_quality, name_levels, name_topics
from litreview.topics.place import CORE, PERIPHERAL, UNPLACED, Placement, fence, place_papers
from litreview.topics.write import make_figures, write_figures, write_model, write_tables

logger = logging.getLogger(__name__)

__all__ = [
    "COHERENCE_POOL",
    "COHERENCE_WEIGHT",
    "CORE",
    "HIERARCHY_COLUMNS",
    "MIN_PAPERS_TO_CLUSTER",
    "MIN_TERM_SUPPORT",
    "NAME_TERMS",
    "OUTLIER_LABEL",
    "PERIPHERAL",
    "STABILITY_MAX_PAPERS",
    "STABILITY_SCALE_SEEDS",
    "UNPLACED",
    "Corpus",
    "CorpusVectors",
    "Levels",
    "MapJob",
    "Names",
    "NamingRequest",
    "Placement",
    "Tables",
    "Terms",
    "TopicParams",
    "TopicsResult",
    "UMAPCacheWarning",
    "auto_min_topic_size",
    "build_tables",
    "build_vectorizer",
    "cached_embedder",
    "cancel_map",
    "canonical_order",
    "choose_cut",
    "coherent_terms",
    "embed_corpus",
    "fence",
    "find_terms",
    "finish_map",
    "fit_levels",
    "fit_representation",
    "fit_settings",
    "hierarchy_table",
    "hybrid_vectors",
    "load_corpus",
    "load_reduction",
    "make_figures",
    "make_umap",
    "map_coordinates",
    "map_step",
    "map_update",
    "name_levels",
    "name_topics",
    "naming_request",
    "place_papers",
    "previous_anchor",
    "reduction_key",
    "run_topics",
    "save_model",
    "stability",
    "stability_scores",
    "stability_step",
    "start_map",
    "start_map_step",
    "start_stability_step",
    "stop_words",
    "strand_terms",
    "subsample_stability",
    "summarize",
    "term_support",
    "theme_count_bounds",
    "theme_terms",
    "topic_text",
    "tree_space",
    "vectorize_papers",
    "ward_tree",
    "write_figures",
    "write_model",
    "write_tables",
]


@dataclasses.dataclass
class TopicsResult:
    """What ``run_topics`` wrote, in memory, plus the fitted model for notebook use."""

    doc_topics: pd.DataFrame
    topics: pd.DataFrame
    strands: pd.DataFrame
    similarity: pd.DataFrame
    hierarchy: pd.DataFrame
    metrics: dict[str, Any]
    model: Any
    embeddings: np.ndarray
    timings: dict[str, float]
    figures: dict[str, Any] = dataclasses.field(default_factory=dict)


def previous_anchor(previous: identity.PreviousMap | None, paper_ids: Sequence[str]
                    ) -> np.ndarray | None:
    """Each paper's theme in the previous map (−1 when new or in no theme), for a refit.

    None when there is no previous map. Starting from the previous map is also what
    keeps a re-run idempotent: the k-means rounds that settled that map leave it where
    it is when nothing changed.
    """
    if previous is None or len(previous.themes) < 2:
        return None
    of: dict[str, int] = {}
    for number, theme_id in enumerate(sorted(previous.themes)):
        for paper in previous.themes[theme_id]:
            of[paper] = number
    return np.asarray([of.get(str(p), -1) for p in paper_ids], dtype=np.int64)


def resolve_params(n_papers: int, *, seed: int = 42, min_topic_size: int = 0,
                   nr_topics: int = 0, min_strand_size: int = 3, outlier_threshold: float = 0.0,
                   top_n_terms: int = 10, umap_n_neighbors: int = 15) -> TopicParams:
    """Check the settings and return them with ``min_topic_size`` resolved for the corpus."""
    for name, value, least in (("min_topic_size", min_topic_size, 0), ("nr_topics", nr_topics, 0),
                               ("min_strand_size", min_strand_size, 1),
                               ("top_n_terms", top_n_terms, 1),
                               ("umap_n_neighbors", umap_n_neighbors, 2)):
        if value < least:
            raise ValueError(f"{name} must be at least {least}, not {value}")
    if not 0.0 <= outlier_threshold < 1.0:
        raise ValueError(f"outlier_threshold must be in [0, 1), not {outlier_threshold}")
    return TopicParams(seed=seed, min_topic_size=min_topic_size or auto_min_topic_size(n_papers),
                       nr_topics=nr_topics, min_strand_size=min_strand_size,
                       outlier_threshold=outlier_threshold, top_n_terms=top_n_terms,
                       umap_n_neighbors=umap_n_neighbors)


def summarize(
    corpus: Corpus, vectors: CorpusVectors, levels: Levels, placement: Placement,
    tables: Tables, params: TopicParams, stability_ari: Sequence[float], stability_seeds: int,
    embedding_model: str, subsample_ari: Sequence[float] = (),
) -> dict[str, Any]:
    """Return topic_metrics.json: sizes, membership, quality, stability and how it was run."""
    n = len(corpus)
    notes = list(levels.notes)
    report = vectors.two_stage
    if report is not None and report.n_sampled < report.n_texts:
        fit_quality = report.held_out_cosine
        notes.append(
            f"two-stage embedding: {report.n_sampled:,} of {report.n_texts:,} papers embedded "
            f"with the model ({report.sample_backend}), the others mapped into its space from "
            "their TF-IDF features"
            + ("" if fit_quality is None else f" (held-out cosine {fit_quality:.2f})"))
    place = placement.summary
    if levels.clustered and place["unplaced_share"] > 0.10:
        notes.append(f"{place['unplaced_share']:.0%} of papers fit no theme")
    if levels.clustered and stability_seeds > 0 and len(levels.tree_papers) == n:
        notes.append("the theme tree is seed-free: refits with other seeds give the same "
                     "themes (stability ARI 1 by construction); subsample_ari compares refits "
                     "on random 90 % subsamples")
    elif levels.clustered and stability_seeds > 0:
        notes.append(
            f"at {n:,} papers the stability refits are bounded: stability_ari compares "
            f"{min(stability_seeds, STABILITY_SCALE_SEEDS)} refit(s), each on its own seeded "
            f"sample of {min(n, STABILITY_MAX_PAPERS):,} papers (as the seed draws the tree's "
            f"sample in the main fit), with the main run on those papers; subsample_ari refits "
            f"random 90 % subsamples of one fixed {min(n, STABILITY_MAX_PAPERS):,}-paper sample")
    elif stability_seeds > 0:
        notes.append("stability not measured: the corpus was not clustered")
    n_unplaced = int((placement.topics < 0).sum())
    before = placement.topics_before
    return {
        "n_papers": n,
        "n_themes": len(tables.topics),
        "n_strands": len(tables.strands),
        "n_themes_bounds": list(levels.n_themes_bounds),
        "theme_cut_heights": list(levels.cut_heights) if levels.cut_heights else None,
        "theme_count_cut": levels.count_cut,
        "theme_count_step": levels.count_step,
        "theme_count_support": levels.count_support,
        "theme_count_clear": levels.count_clear,
        "outlier_share_before": float(np.mean(before < 0)) if n else 0.0,
        "outlier_share_after": n_unplaced / n,
        "n_reassigned": place["n_reassigned"],
        "n_outliers_remaining": n_unplaced,
        "membership": {"core": place["n_core"], "peripheral": place["n_peripheral"],
                       "unplaced": place["n_unplaced"]},
        "placement": place,
        "npmi_mean": _mean(tables.npmi),
        "npmi_per_theme": {str(t): _none_if_nan(s)
                           for t, s in zip(tables.topics["topic"], tables.npmi, strict=True)},
        "diversity": _none_if_nan(metrics.topic_diversity(
            list(tables.topics["top_terms"]), params.top_n_terms)) if len(tables.topics) else None,
        "silhouette": _none_if_nan(tables.silhouette),
        "label_quality": label_quality(  # naming.label_quality: how much each label covers
            corpus.papers, placement.topics, placement.strands,
            dict(zip(tables.topics["topic"], tables.topics["label"], strict=True)),
            dict(zip(tables.strands["strand"], tables.strands["label"], strict=True))),
        "strand_silhouette": _none_if_nan(tables.strand_silhouette),
        "stability_ari": list(stability_ari),
        "stability_ari_mean": _mean(stability_ari),
        "stability_seed_free": bool(levels.clustered and stability_seeds > 0
                                    and len(levels.tree_papers) == n),
        "stability_seeds": stability_seeds,
        "subsample_ari": list(subsample_ari),
        "subsample_ari_mean": _mean(subsample_ari),
        "seed": params.seed,
        "min_topic_size_used": params.min_topic_size,
        "min_strand_size": params.min_strand_size,
        "embedding_model": embedding_model,
        "embedding_model_identity": embed.model_identity(vectors.model_path),
        "embedding_backend": vectors.backend,
        "long_text": vectors.long_text,
        "two_stage": dataclasses.asdict(report) if report else None,
        "clustering": ("ward tree on the unit embeddings' first 100 principal components "
                       "(scipy), themes and strands cut from it, themes settled by k-means "
                       "rounds from the cut's centroids"),
        "notes": notes,
    }


def run_topics(
    out_dir: str | os.PathLike,
    *,
    embedding_model: str = embed.DEFAULT_MODEL,
    embedding_backend: str = "auto",
    two_stage_sample_size: int = two_stage.SAMPLE_SIZE,
    long_text: str = "truncate",
    seed: int = 42,
    min_topic_size: int = 0,
    nr_topics: int = 0,
    min_strand_size: int = 3,
    outlier_threshold: float = 0.0,
    umap_n_neighbors: int = 15,
    stability_seeds: int = 3,
    top_n_terms: int = 10,
    batch_size: int = 32,
    show_progress: bool = True,
    figures: bool = True,
    update: bool = False,
    curation_file: str | os.PathLike | None = None,
    curation_strict: bool = True,
    refit_from_previous: bool = True,
) -> TopicsResult:
    """Map ``DIR/data/papers.parquet`` into themes and strands and write the stage's outputs.

    Writes doc_topics, topics, strands, topic_similarity, topic_hierarchy (parquet),
    topic_metrics.json, the model under ``DIR/models/bertopic``, the caches under
    ``DIR/models/`` and, with ``figures``, every figure under ``DIR/figures/``; records the
    stage in the manifest with timings per step. ``min_topic_size=0`` picks it from the
    corpus size, ``nr_topics=0`` picks the number of themes from the tree, and
    ``outlier_threshold=0`` takes the membership cut-off from the corpus.
    ``update`` places papers new since the map snapshot onto it instead of refitting
    (``topics.update``; a full fit without a snapshot).
    Themes and strands keep their ids across runs (``identity``, matched against the
    previous run in ``out_dir``) and ``curation_file`` (review.yaml) is applied
    (``curate``); ``curation_strict`` stops on an entry that matches nothing.
    ``refit_from_previous``: with a previous map in ``out_dir`` (and ``nr_topics`` 0) the
    themes start from it (``previous_anchor``, ``fit.anchored_themes``), so a grown
    corpus does not reshuffle the outline.
    """
    timer = Timer()
    previous = identity.read_previous(out_dir)  # before anything here overwrites it
    edits = curation.load_curation(curation_file or None, strict=curation_strict)
    with timer("load"):
        corpus = load_corpus(out_dir)
    params = resolve_params(len(corpus), seed=seed, min_topic_size=min_topic_size,
                            nr_topics=nr_topics, min_strand_size=min_strand_size,
                            outlier_threshold=outlier_threshold, top_n_terms=top_n_terms,
                            umap_n_neighbors=umap_n_neighbors)
    with timer("embedding"):
        vectors = embed_corpus(corpus, out_dir, embedding_model=embedding_model,
                               embedding_backend=embedding_backend, long_text=long_text,
                               seed=seed, two_stage_sample_size=two_stage_sample_size,
                               batch_size=batch_size, show_progress=show_progress)
    emb = vectors.embeddings
    state = map_update.begin(out_dir, corpus.paper_ids, emb, params, update=update,
                             settings=fit_settings(embedding_model, vectors))
    anchor = previous_anchor(previous, corpus.paper_ids) \
        if refit_from_previous and not nr_topics and not state.updating else None
    map_job = start_map_step(state, emb, seed, params, out_dir)
    with timer("tree"):
        tree_vectors = hybrid_vectors(emb, corpus.docs, corpus.papers["title"].astype(str))
        levels = state.levels if state.updating else fit_levels(tree_vectors, params,
                                                                anchor=anchor)
    with timer("placement"):
        placement = state.placement if state.updating else place_papers(
            emb, levels.themes, levels.strands,
            min_topic_size=params.min_topic_size if levels.clustered else 1,
            min_strand_size=params.min_strand_size, threshold=params.outlier_threshold)
    with timer("terms"):
        terms = terms_step(corpus, vectors, placement, params, batch_size=batch_size)
    stability_job = start_stability_step(levels, state, emb, placement.topics, params,
                                         stability_seeds, tree_vectors)
    with timer("naming"):
        names = name_step(corpus, terms, placement, levels)
    names, ids = curate.identify(corpus.papers, placement, names, previous, embeddings=emb)
    fitted, fitted_names = placement, names
    with timer("curation"):
        cmap = curate.apply_curation(edits, corpus.papers, placement, names, ids,
                                     embeddings=emb, strict=curation_strict)
        placement, names = cmap.placement, cmap.names
    if cmap.membership_changed:
        with timer("terms"):
            terms = terms_step(corpus, vectors, placement, params, batch_size=batch_size)
    with timer("map_2d"):
        coords = map_step(state, corpus.paper_ids, emb, seed, params, out_dir, map_job)
    with timer("describe"):
        tables = build_tables(corpus, emb, placement, terms, names, coords, seed=seed)
        tables = curate.finish_tables(tables, cmap, corpus.papers)
    with timer("stability"):
        scores, draws = stability_step(levels, state, emb, fitted.topics, params,
                                       stability_seeds, tree_vectors, stability_job)
    summary = summarize(corpus, vectors, levels, placement, tables, params, scores,
                        0 if state.updating else stability_seeds, embedding_model, draws)
    map_update.finish(out_dir, state, emb, fitted, tables, summary, levels=levels,
                      snapshot_tables=map_update.auto_map_tables(
                          corpus.paper_ids, tables.doc_topics, fitted, fitted_names.themes,
                          fitted_names.strands, cmap.identity.theme_ids,
                          cmap.identity.strand_ids))
    curate.write_outputs(out_dir, cmap)
    made = write_stage(
        out_dir, corpus, vectors, terms, tables, summary, timer, figures=figures,
        parameters={**dataclasses.asdict(params), "requested_min_topic_size": min_topic_size,
                    "embedding_model": embedding_model, "stability_seeds": stability_seeds,
                    "batch_size": batch_size, "requested_embedding_backend": embedding_backend,
                    "two_stage_sample_size": two_stage_sample_size, "long_text": long_text,
                    "update": update, "map_mode": state.mode})
    return TopicsResult(tables.doc_topics, tables.topics, tables.strands, tables.similarity,
                        tables.hierarchy, summary, terms.model, emb, dict(timer.timings), made)


#: From this many papers the stability refits run in a background process
#: (:func:`start_stability_step`) while the themes are named and described.
STABILITY_BACKGROUND_MIN_PAPERS = 20_000


def stability_scores(embeddings: np.ndarray, reference: Sequence[int], params: TopicParams,
                     n_seeds: int, tree_vectors: np.ndarray | None = None,
                     ) -> tuple[list[float], list[float]]:
    """The ARIs of the seeded refits (``stability``) and of the subsample refits
    (``subsample_stability``) against ``reference``, the fitted themes."""
    return (stability(embeddings, reference, params, n_seeds, tree_vectors),
            subsample_stability(embeddings, reference, params, n_seeds,
                                tree_vectors=tree_vectors))


def _refits(levels: Levels, state: map_update.MapState, n_seeds: int) -> bool:
    return levels.clustered and n_seeds > 0 and not state.updating


def start_stability_step(levels: Levels, state: map_update.MapState, embeddings: np.ndarray,
                         reference: Sequence[int], params: TopicParams, n_seeds: int,
                         tree_vectors: np.ndarray | None = None) -> background.Call | None:
    """Start :func:`stability_scores` in a background process on a large corpus (from
    :data:`STABILITY_BACKGROUND_MIN_PAPERS` papers); None when it runs later, here, or
    not at all (an update, an unclustered corpus, no seeds)."""
    if not _refits(levels, state, n_seeds) or len(embeddings) < STABILITY_BACKGROUND_MIN_PAPERS:
        return None
    return background.start_call(f"{__name__}:stability_scores", embeddings,
                                 np.asarray(reference), params, n_seeds, tree_vectors)


def stability_step(levels: Levels, state: map_update.MapState, embeddings: np.ndarray,
                   reference: Sequence[int], params: TopicParams, n_seeds: int,
                   tree_vectors: np.ndarray | None = None,
                   job: background.Call | None = None) -> tuple[list[float], list[float]]:
    """The stability scores: from ``job`` (:func:`start_stability_step`) when one was
    started, else worked out here; two empty lists when the map is not refitted."""
    if job is not None:
        try:
            scores, draws = background.finish_call(job)
            return list(scores), list(draws)
        except background.BackgroundFailed as err:
            logger.warning("%s; refitting here", err)
    if not _refits(levels, state, n_seeds):
        return [], []
    return stability_scores(embeddings, reference, params, n_seeds, tree_vectors)


def start_map_step(state: map_update.MapState, embeddings: np.ndarray, seed: int,
                   params: TopicParams, out_dir: str | os.PathLike) -> MapJob | None:
    """Start the 2-D map of a large corpus in the background (``layout.start_map``); None
    when it is computed later (a small corpus) or an update places the papers instead."""
    if state.updating and state.current is not None:
        return None
    return start_map(embeddings, seed, params.umap_n_neighbors,
                     config.models_dir(out_dir) / "umap")


def map_step(state: map_update.MapState, paper_ids: list[str], embeddings: np.ndarray,
             seed: int, params: TopicParams, out_dir: str | os.PathLike,
             job: MapJob | None = None) -> np.ndarray:
    """The 2-D map: the update's positions, else the background map ``job`` started by
    :func:`start_map_step`, else UMAP now (``layout.map_coordinates``)."""
    coords = map_update.map_coordinates_for(state, paper_ids, embeddings)
    if coords is not None:
        cancel_map(job)
        return coords
    if job is not None:
        return finish_map(job)
    return map_coordinates(embeddings, seed, params.umap_n_neighbors,
                           config.models_dir(out_dir) / "umap")


def fit_settings(embedding_model: str, vectors: CorpusVectors) -> dict[str, Any]:
    """The settings besides ``TopicParams`` that decide a full fit (its snapshot fingerprint)."""
    return {"embedding_model": embedding_model, "backend": vectors.backend,
            "long_text": vectors.long_text}


def terms_step(corpus: Corpus, vectors: CorpusVectors, placement: Placement,
               params: TopicParams, *, batch_size: int = 32) -> Terms:
    """Rank every theme's and strand's key terms (``find_terms``) through the embedding cache.

    KeyBERT embeds candidate words through the same cache; representative documents
    reuse the papers' own vectors.
    """
    known: dict[str, np.ndarray] = {}
    for doc, vector in zip(corpus.docs, vectors.embeddings, strict=True):
        known.setdefault(doc, vector)
    word_embedder = cached_embedder(vectors.model_path, vectors.cache_dir, batch_size, known)
    return find_terms(corpus.docs, corpus.texts, vectors.embeddings, placement.topics,
                      placement.strands, params, embedding_model=word_embedder)


def name_step(corpus: Corpus, terms: Terms, placement: Placement, levels: Levels) -> Names:
    """Name every theme and strand with the phrases their papers use (``naming.name_levels``).

    An unclustered corpus (one theme) falls back to ``naming.name_topics``.
    """
    if levels.clustered:
        return name_levels(corpus.papers, placement.topics, placement.strands, terms.casing)
    return name_topics(naming_request(
        terms, placement.topics, placement.strands, placement.similarity,
        corpus.papers["title"].astype(str).tolist(), corpus.texts, clustered=levels.clustered))


def write_stage(
    out_dir: str | os.PathLike, corpus: Corpus, vectors: CorpusVectors, terms: Terms,
    tables: Tables, summary: dict[str, Any], timer: Timer, *, parameters: dict[str, Any],
    figures: bool = True,
) -> dict[str, Any]:
    """Write tables, metrics, model and (with ``figures``) figures; record the stage."""
    for note in summary["notes"]:
        logger.info(note)
    with timer("save"):
        write_tables(out_dir, tables, summary)
        write_model(out_dir, terms.model, vectors.model_path)
    made: dict[str, Any] = {}
    if figures:
        with timer("figures"):
            made = write_figures(out_dir, tables, corpus.papers)
    record_stage(
        out_dir, "topics",
        parameters={**parameters, "embedding_backend": vectors.backend},
        inputs=[corpus.source],
        timings=timer.timings,
        extra={"n_themes": summary["n_themes"], "n_strands": summary["n_strands"],
               "notes": summary["notes"]},
    )
    return made


def _mean(values: Sequence[float]) -> float | None:
    finite = [v for v in values if v is not None and not math.isnan(v)]
    return float(np.mean(finite)) if finite else None


def _none_if_nan(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else float(value)
