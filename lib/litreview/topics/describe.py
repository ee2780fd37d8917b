"""Steps 4-5 of stage 02: key terms (BERTopic representations) and the stage tables.

BERTopic is used here for what it is best at — class-based TF-IDF, KeyBERT-style and
MMR terms, the theme tree's merged-node names, the safetensors model — on the themes
the tree found (``fit``/``place``): its reducer and clusterer are pass-throughs
(``BaseDimensionalityReduction``, ``BaseCluster`` fed the final themes), so BERTopic
decides nothing about membership. Strand terms are class-based TF-IDF over strands.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from litreview import embed, labels, metrics
from litreview.topics.fit import TopicParams, fit_levels
from litreview.topics.place import CORE, place_papers

logger = logging.getLogger(__name__)

OUTLIER_LABEL = "Unplaced"
#: Share of a theme's papers a term must appear in to rank among its top terms.
MIN_TERM_SUPPORT = 0.1
#: Leading terms of a theme kept in consensus order: they make its name.
NAME_TERMS = 2
#: The other top terms are chosen from this many times as many candidates …
COHERENCE_POOL = 3
#: … by rank plus this weight × their mean NPMI with the terms already chosen.
COHERENCE_WEIGHT = 2.0
#: Above this many papers, stability refits run on a fixed sample of this size.
STABILITY_MAX_PAPERS = 5000
#: Share of the papers each stability refit keeps.
STABILITY_FRACTION = 0.9
#: Above ``fit.TREE_MAX_PAPERS`` papers, at most this many seeded refits (each on its own
#: seeded sample of ``STABILITY_MAX_PAPERS`` papers): their cost does not grow with the corpus.
STABILITY_SCALE_SEEDS = 2
#: Representative papers per theme and per strand.
N_REPRESENTATIVE = 5
#: torch threads for the candidate words (and the joined-term strings) that KeyBERT and
#: MMR embed: a batch of 32 words of ~4 word pieces is too small for a second thread to
#: pay for its hand-offs, which cost more than the work whenever the other core is busy.
WORD_THREADS = 1
HIERARCHY_COLUMNS = [
    "parent_id", "parent_name", "topics", "child_left_id", "child_left_name",
    "child_right_id", "child_right_name", "distance",
]


@functools.cache
def _keybert_class() -> type:
    """Build (once) the KeyBERT representation that embeds its candidates in sorted order."""
    from bertopic.representation import KeyBERTInspired

    class SortedKeyBERTInspired(KeyBERTInspired):
        """KeyBERTInspired that embeds its candidate words in sorted order.

        The original collects them in a set, whose order changes with Python's hash
        seed, so the batches (and the last bits of the similarities) changed per process.
        """

        def _extract_embeddings(self, topic_model, topics, representative_docs,
                                repr_doc_indices, repr_embeddings=None):
            if repr_embeddings is None:
                repr_embeddings = topic_model._extract_embeddings(
                    representative_docs, method="document", verbose=False
                )
            topic_embeddings = [
                np.mean(repr_embeddings[i[0] : i[-1] + 1], axis=0) for i in repr_doc_indices
            ]
            vocab = sorted({word for words in topics.values() for word in words})
            word_embeddings = topic_model._extract_embeddings(vocab, method="document",
                                                              verbose=False)
            from sklearn.metrics.pairwise import cosine_similarity

            return cosine_similarity(topic_embeddings, word_embeddings), vocab

    return SortedKeyBERTInspired


def cached_embedder(model: str | os.PathLike, cache_dir: Path, batch_size: int = 32,
                    known: Mapping[str, np.ndarray] | None = None) -> Any:
    """Return a BERTopic embedder backed by litreview's embedding cache (the model itself:
    ``embed.word_backend``).

    BERTopic's representations embed documents and candidate words; through this
    embedder they are read from the disk cache when present, and the model is
    loaded only for texts never seen before. ``known`` maps texts to vectors already
    at hand: KeyBERT's representative documents get the paper's own embedding
    (from its full title and abstract, as clustered) instead of a new one.
    """
    from bertopic.backend import BaseEmbedder

    known = known or {}

    class CachedEmbedder(BaseEmbedder):
        def embed(self, documents: Sequence[str], verbose: bool = False) -> np.ndarray:
            documents = list(documents)
            new = [d for d in documents if d not in known]
            if len(new) == len(documents):
                return self._embed(documents)
            vectors = dict(zip(new, self._embed(new), strict=True)) if new else {}
            return np.stack([known[d] if d in known else vectors[d] for d in documents])

        def _embed(self, texts: list[str]) -> np.ndarray:
            return embed.embed_texts(texts, model=model, cache_dir=cache_dir,
                                     batch_size=batch_size, show_progress=False,
                                     embedding_backend=embed.word_backend(),
                                     num_threads=WORD_THREADS)

    return CachedEmbedder()


def representation_models(params: TopicParams, seed: int) -> dict[str, Any]:
    """Return BERTopic's extra representations: KeyBERT-like terms and MMR-diversified c-TF-IDF.

    The main representation stays c-TF-IDF (distinctive uni- and bigrams, good for names).
    """
    from bertopic.representation import MaximalMarginalRelevance

    n_words = _raw_term_count(params)
    keybert = _keybert_class()(
        top_n_words=n_words, nr_repr_docs=5, nr_candidate_words=100, random_state=seed
    )
    mmr = MaximalMarginalRelevance(diversity=0.3, top_n_words=n_words)
    return {"KeyBERT": keybert, "MMR": mmr}


def _raw_term_count(params: TopicParams) -> int:
    # Ask for more terms than shown: cleaning drops some.
    return max(3 * params.top_n_terms, 30)


def fit_representation(
    embeddings: np.ndarray, docs: Sequence[str], topics: Sequence[int], params: TopicParams,
    *, embedding_model: Any, vectorizer: Any, with_keybert: bool = True,
) -> Any:
    """Fit BERTopic on the given themes (−1 = unplaced) for its terms and model file.

    Theme ids are kept as given when they are numbered by size (as ``place`` numbers them).
    The theme embeddings are the centroids of the members.
    """
    from bertopic import BERTopic
    from bertopic.cluster import BaseCluster
    from bertopic.dimensionality import BaseDimensionalityReduction
    from bertopic.vectorizers import ClassTfidfTransformer

    topics = np.asarray(topics, dtype=int)
    model = BERTopic(
        embedding_model=embedding_model,
        umap_model=BaseDimensionalityReduction(),
        hdbscan_model=BaseCluster(),
        vectorizer_model=vectorizer,
        ctfidf_model=ClassTfidfTransformer(reduce_frequent_words=True),
        representation_model=representation_models(params, params.seed) if with_keybert else None,
        top_n_words=_raw_term_count(params),
        calculate_probabilities=False,
        low_memory=True,
        verbose=False,
    )
    with _quiet_bertopic():
        fitted, _ = model.fit_transform(list(docs), embeddings=embeddings, y=topics)
    if [int(t) for t in fitted] != topics.tolist():
        raise RuntimeError("BERTopic renumbered the themes; they must be numbered by size")
    model.topic_embeddings_ = metrics.centroids(embeddings, topics, sorted(set(topics.tolist())))
    return model


def theme_terms(
    model: Any,
    topic_ids: Sequence[int],
    top_n: int,
    support: Sequence[Mapping[str, float]] | None = None,
    min_support: float = MIN_TERM_SUPPORT,
) -> dict[str, list[list[str]]]:
    """Return the cleaned c-TF-IDF, KeyBERT and MMR terms of each theme, and ``top_terms``.

    ``top_terms`` merge the cleaned c-TF-IDF and KeyBERT rankings by Borda count
    (a term both rank high wins; one only c-TF-IDF likes, often a frequent but
    vague word, sinks), after removing terms shared by most themes. With
    ``support`` (per theme: term -> share of the theme's papers that contain it),
    terms found in fewer than ``min_support`` of the theme's papers go to the end:
    a term from two abstracts names no theme, and it drags NPMI towards -1.
    """
    raw: dict[str, list[list[str]]] = {"ctfidf": [], "keybert": [], "mmr": []}
    aspects = getattr(model, "topic_aspects_", {}) or {}
    for topic in topic_ids:
        raw["ctfidf"].append([w for w, _ in model.get_topic(topic) or [] if w])
        raw["keybert"].append([w for w, _ in aspects.get("KeyBERT", {}).get(topic, []) if w])
        raw["mmr"].append([w for w, _ in aspects.get("MMR", {}).get(topic, []) if w])
    shared = labels.shared_terms([labels.clean_terms(t, max_terms=top_n) for t in raw["ctfidf"]])
    out: dict[str, list[list[str]]] = {"top_terms": []}
    for kind, lists in raw.items():
        out[f"{kind}_terms"] = [labels.clean_terms(t, max_terms=top_n) for t in lists]
    for i, (ctfidf, keybert) in enumerate(zip(raw["ctfidf"], raw["keybert"], strict=True)):
        merged = labels.consensus_terms(
            labels.clean_terms(ctfidf, exclude=shared), labels.clean_terms(keybert, exclude=shared)
        )
        if support is not None:
            share = support[i]
            merged = sorted(merged, key=lambda term: share.get(term, 0.0) < min_support)
        out["top_terms"].append(labels.clean_terms(merged, max_terms=top_n))
    return out


def coherent_terms(
    ranked: Sequence[str], present: Any, vocabulary: Mapping[str, int], top_n: int,
    *, keep: int = NAME_TERMS, weight: float = COHERENCE_WEIGHT,
) -> list[str]:
    """Return ``top_n`` of the ``ranked`` candidate terms, favouring terms that occur together.

    The first ``keep`` terms stay as ranked (they name the theme). Each next term is the
    candidate maximising ``weight`` × its mean NPMI with the terms already chosen minus
    its rank / number of candidates, so a distinctive term that never appears with the
    others (a word from two abstracts) gives way to one the theme's papers use together.
    ``present`` is the binary paper × term matrix (CSC) of ``vocabulary``. On the labeled
    arXiv set (30 candidates, weight 2) this raised the mean NPMI of the top-10 terms from
    0.193 to 0.256 and their diversity from 0.90 to 0.95, with the same theme names.
    """
    ranked = list(dict.fromkeys(ranked))
    if len(ranked) <= keep or top_n <= keep:
        return ranked[:top_n]
    columns = [vocabulary.get(term) for term in ranked]
    known = [i for i, c in enumerate(columns) if c is not None]
    n_docs = max(present.shape[0], 1)
    sub = present[:, [columns[i] for i in known]]
    together = (sub.T @ sub).toarray() / n_docs
    npmi = np.full((len(ranked), len(ranked)), -1.0)
    for a, i in enumerate(known):
        for b, j in enumerate(known):
            npmi[i, j] = metrics.npmi_pair(together[a, a], together[b, b], together[a, b])
    chosen = list(range(keep))
    pool = list(range(keep, len(ranked)))
    while len(chosen) < top_n and pool:
        best = max(pool, key=lambda i: (weight * float(np.mean(npmi[i, chosen]))
                                        - i / len(ranked), -i))
        chosen.append(best)
        pool.remove(best)
    return [ranked[i] for i in chosen]


def term_support(
    doc_term: Any, vocabulary: Mapping[str, int], assignments: np.ndarray,
    topic_ids: Sequence[int], terms: Sequence[Sequence[str]],
) -> list[dict[str, float]]:
    """Return, per theme, the share of its papers containing each of the given terms."""
    present = (doc_term > 0).tocsc()
    out = []
    for topic, topic_terms in zip(topic_ids, terms, strict=True):
        members = np.flatnonzero(assignments == topic)
        shares: dict[str, float] = {}
        for term in topic_terms:
            column = vocabulary.get(term)
            if column is not None and len(members):
                shares[term] = float(present[members, column].sum()) / len(members)
        out.append(shares)
    return out


def hierarchy_table(
    model: Any,
    docs: Sequence[str],
    names: dict[int, str],
    casing: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Return the theme tree with snake_case columns and readable names.

    The tree is Ward's linkage of the theme centroids (the embeddings' view, as the
    themes were found), built by BERTopic's ``hierarchical_topics``. Leaves carry the
    theme names; a merged node is named from its c-TF-IDF terms
    (also kept as ``parent_terms``). Empty, with the same columns, below two themes.
    """
    themes = [t for t in set(model.topics_) if t >= 0]
    if len(themes) < 2:
        return pd.DataFrame({c: pd.Series(dtype=_hier_dtype(c)) for c in HIERARCHY_COLUMNS})
    saved = model.representation_model
    model.representation_model = None  # merged-node names from c-TF-IDF only: fast, stable
    try:
        with _quiet_bertopic():
            raw = model.hierarchical_topics(list(docs), use_ctfidf=False)
    finally:
        model.representation_model = saved
    table = pd.DataFrame({
        "parent_id": raw["Parent_ID"].astype(int),
        "parent_terms": [n.split("_") for n in raw["Parent_Name"]],
        "topics": [[int(t) for t in ts] for ts in raw["Topics"]],
        "child_left_id": raw["Child_Left_ID"].astype(int),
        "child_right_id": raw["Child_Right_ID"].astype(int),
        "distance": raw["Distance"].astype(float),
    })
    n_leaves = len(themes)
    node_names: dict[int, str] = dict(names)
    table = table.sort_values("parent_id").reset_index(drop=True)
    for row in table.itertuples():
        node_names[row.parent_id] = labels.theme_name(
            labels.clean_terms(row.parent_terms), 3, casing=casing
        )

    def name_of(node: int) -> str:
        return node_names.get(node, str(node)) if node >= n_leaves else names.get(node, str(node))

    table["parent_name"] = [node_names[p] for p in table["parent_id"]]
    table["child_left_name"] = [name_of(c) for c in table["child_left_id"]]
    table["child_right_name"] = [name_of(c) for c in table["child_right_id"]]
    table = table.sort_values("parent_id", ascending=False).reset_index(drop=True)  # root first
    return table[[*HIERARCHY_COLUMNS, "parent_terms"]]


def _hier_dtype(column: str) -> str:
    if column.endswith("_id"):
        return "int64"
    return "float64" if column == "distance" else "object"


@contextlib.contextmanager
def _quiet_bertopic() -> Iterator[None]:
    """Silence BERTopic's expected warnings and its unconditional progress bar."""
    import bertopic._bertopic as bertopic_module

    bertopic_logger = logging.getLogger("BERTopic")
    level, progress = bertopic_logger.level, bertopic_module.tqdm
    bertopic_logger.setLevel(logging.ERROR)
    # hierarchical_topics shows a tqdm bar whatever `verbose` says.
    bertopic_module.tqdm = functools.partial(progress, disable=True)
    try:
        yield
    finally:
        bertopic_logger.setLevel(level)
        bertopic_module.tqdm = progress


def save_model(model: Any, folder: Path, embedding_model_path: Path) -> None:
    """Save the model as safetensors (no pickle), replacing ``folder`` only once complete."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        model.save(tmp, serialization="safetensors", save_ctfidf=True,
                   save_embedding_model=str(embedding_model_path))
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)




def strand_terms(
    present: Any, doc_term: Any, vocabulary: Mapping[str, int], strands: np.ndarray,
    strand_ids: Sequence[int], top_n: int, *, exclude: Sequence[Sequence[str]] = (),
) -> list[list[str]]:
    """Return each strand's distinctive terms: class-based TF-IDF over strands, cleaned.

    A term must occur in at least two of the strand's papers (and ``MIN_TERM_SUPPORT``
    of them) to be kept; ``exclude`` (per strand) removes e.g. its theme's name terms.
    """
    from bertopic.vectorizers import ClassTfidfTransformer
    from scipy import sparse

    words = np.empty(len(vocabulary), dtype=object)
    for term, column in vocabulary.items():
        words[column] = term
    index = {s: i for i, s in enumerate(strand_ids)}
    rows = np.asarray([index.get(int(s), -1) for s in strands])
    keep = rows >= 0
    onehot = sparse.csr_matrix((np.ones(int(keep.sum())), (rows[keep], np.flatnonzero(keep))),
                               shape=(len(strand_ids), len(strands)))
    counts = onehot @ sparse.csr_matrix(doc_term)
    support = (onehot @ sparse.csr_matrix(present)).toarray()
    # Only the terms some strand uses: a term of unplaced papers alone has no frequency
    # among strands, and BERTopic's idf would divide by zero for it (a warning, weight 0).
    used = np.flatnonzero(np.asarray(counts.sum(axis=0)).ravel() > 0)
    weights = np.zeros(counts.shape)
    weights[:, used] = ClassTfidfTransformer(reduce_frequent_words=True).fit_transform(
        counts[:, used]).toarray()
    sizes = np.asarray(onehot.sum(axis=1)).ravel()
    out = []
    for i in range(len(strand_ids)):
        need = max(2.0, MIN_TERM_SUPPORT * sizes[i]) if sizes[i] >= 2 else 1.0
        ok = support[i] >= need
        order = [j for j in np.argsort(-weights[i], kind="stable")[: 10 * top_n] if ok[j]]
        ranked = [str(words[j]) for j in order]
        excluded = list(exclude[i]) if i < len(exclude) else []
        out.append(labels.clean_terms(ranked, exclude=excluded, max_terms=top_n,
                                       drop_generic=True))
    return out


def representatives(similarity: np.ndarray, membership: np.ndarray, members: np.ndarray,
                    n: int = N_REPRESENTATIVE) -> np.ndarray:
    """Return up to ``n`` of ``members`` (indices), core papers only, most similar first."""
    core = members[membership[members] == CORE]
    pool = core if len(core) else members
    return pool[np.argsort(-similarity[pool], kind="stable")[:n]]


def _refit(embeddings: np.ndarray, params: TopicParams,
           tree_vectors: np.ndarray | None = None) -> np.ndarray:
    """Return the final themes of a refit (tree on ``tree_vectors``, cut, placement)."""
    levels = fit_levels(embeddings if tree_vectors is None else tree_vectors, params)
    placed = place_papers(embeddings, levels.themes, levels.strands,
                          min_topic_size=params.min_topic_size,
                          min_strand_size=params.min_strand_size,
                          threshold=params.outlier_threshold)
    return placed.topics


def stability(
    embeddings: np.ndarray,
    reference: Sequence[int],
    params: TopicParams,
    n_seeds: int,
    tree_vectors: np.ndarray | None = None,
    *,
    max_papers: int = STABILITY_MAX_PAPERS,
    max_seeds: int = STABILITY_SCALE_SEEDS,
    tree_max_papers: int | None = None,
) -> list[float]:
    """Return the ARI between ``reference`` and refits with seeds seed+1 … seed+n_seeds.

    The tree is seed-free: up to ``fit.TREE_MAX_PAPERS`` papers (``tree_max_papers``) the
    seed changes nothing in the themes, so the refits are identical by construction and each
    scores 1.0 (``test_themes_do_not_depend_on_the_seed`` checks it). Above, the seed draws
    the papers the tree is built on; a refit of the whole corpus costs what the main fit
    costs (a tree, per-theme split trees over every member, placement), so instead each of
    at most ``max_seeds`` refits draws (with seed+k) its own sample of ``max_papers``
    papers, refits it (minimum theme size scaled to the sample) and is compared with the
    main run on those papers: how much the themes depend on which papers they are cut
    from, at a cost that does not grow with the corpus.
    """
    from litreview.topics.fit import TREE_MAX_PAPERS

    if n_seeds <= 0:
        return []
    n = len(embeddings)
    if n <= (TREE_MAX_PAPERS if tree_max_papers is None else tree_max_papers):
        return [1.0] * n_seeds
    reference = np.asarray(reference)
    size = min(n, max_papers)
    sub_params = dataclasses.replace(
        params, min_topic_size=max(2, round(params.min_topic_size * size / n)))
    scores = []
    for k in range(1, min(n_seeds, max_seeds) + 1):
        keep = np.sort(np.random.default_rng(params.seed + k).choice(n, size, replace=False))
        scores.append(round(metrics.adjusted_rand(
            reference[keep],
            _refit(embeddings[keep], dataclasses.replace(sub_params, seed=params.seed + k),
                   None if tree_vectors is None else tree_vectors[keep])), 6))
    return scores


def subsample_stability(
    embeddings: np.ndarray,
    reference: Sequence[int],
    params: TopicParams,
    n_draws: int,
    max_papers: int = STABILITY_MAX_PAPERS,
    fraction: float = STABILITY_FRACTION,
    tree_vectors: np.ndarray | None = None,
) -> list[float]:
    """Return the ARI between ``reference`` and refits on random subsamples, one per draw.

    A harder test than other seeds: each refit keeps a random ``fraction`` of the
    papers (drawn with seed+1 … seed+n_draws), rebuilds the tree, re-chooses the number
    of themes, places the papers, and is compared with the main run on the papers it
    kept (unplaced counted as one more group). Above ``max_papers`` papers the draws are
    made from a fixed sample of that many, which bounds the cost. ``tree_vectors``
    (``fit.hybrid_vectors``) is what the tree is built on, as in the main run.
    """
    reference = np.asarray(reference)
    n = len(embeddings)
    base = np.arange(n)
    if n > max_papers:
        base = np.sort(np.random.default_rng(params.seed).choice(n, max_papers, replace=False))
    scale = len(base) / n
    sub_params = dataclasses.replace(
        params, min_topic_size=max(2, round(params.min_topic_size * scale * fraction)))
    scores = []
    for k in range(1, n_draws + 1):
        rng = np.random.default_rng(params.seed + k)
        keep = np.sort(rng.choice(base, size=max(2, round(len(base) * fraction)), replace=False))
        scores.append(round(metrics.adjusted_rand(
            reference[keep], _refit(embeddings[keep], sub_params,
                                    None if tree_vectors is None else tree_vectors[keep])), 6))
    return scores


#: Above this many papers BERTopic's c-TF-IDF counts come from the papers' own counts.
PRECOUNT_MIN_PAPERS = 12_000


def precounted_vectorizer(vectorizer: Any, doc_term: Any, topics: Sequence[int]) -> Any:
    """Return ``vectorizer`` (fixed vocabulary) whose first ``fit_transform`` of BERTopic's
    joined theme documents gives the sum of ``doc_term``'s rows per theme instead.

    BERTopic counts the terms of each theme by tokenising one joined document per theme:
    a second pass over every abstract (a minute on 75k papers) after ``vectorize_papers``
    counted them per paper. The sums differ from that pass only where BERTopic's cleaning
    (letters and digits only: "state-of-the-art" becomes one word) or a bigram across two
    joined papers changes a count; the vocabulary was chosen over the papers as they are,
    so the sums are the counts of the same tokens. Later transforms (representative
    documents, the hierarchy) tokenise as before. Hand-written because BERTopic offers no
    way to hand it class counts.
    """
    from scipy import sparse
    from sklearn.feature_extraction.text import CountVectorizer

    labels_ = np.asarray(topics, dtype=np.int64)
    classes = sorted(set(labels_.tolist()))  # BERTopic's order: groupby on the theme id
    row = {t: i for i, t in enumerate(classes)}
    indicator = sparse.csr_matrix(
        (np.ones(len(labels_), dtype=np.int64), ([row[t] for t in labels_.tolist()],
                                                 np.arange(len(labels_)))),
        shape=(len(classes), len(labels_)))
    counts = sparse.csr_matrix(indicator @ sparse.csr_matrix(doc_term, dtype=np.int64))

    class PrecountedVectorizer(CountVectorizer):
        def fit_transform(self, raw_documents: Any, y: Any = None) -> Any:
            pending = getattr(self, "precounted_", None)
            if pending is not None and len(raw_documents) == pending.shape[0]:
                self.precounted_ = None  # once: BERTopic's fit of the class documents
                self._validate_vocabulary()
                return pending
            return super().fit_transform(raw_documents, y)

    out = PrecountedVectorizer(**vectorizer.get_params())
    out.precounted_ = counts
    return out


@dataclasses.dataclass
class Terms:
    """Key terms of every theme and strand, with the BERTopic model that ranked them."""

    model: Any
    vectorizer: Any
    #: Binary paper × term matrix (CSC) of ``vectorizer``.
    present: Any
    theme_ids: list[int]
    #: ``top_terms``, ``ctfidf_terms``, ``keybert_terms``, ``mmr_terms``: one list per theme.
    themes: dict[str, list[list[str]]]
    strand_ids: list[int]
    strands: list[list[str]]
    casing: dict[str, str]


def find_terms(
    docs: Sequence[str], texts: Sequence[str], embeddings: np.ndarray, topics: np.ndarray,
    strands: np.ndarray, params: TopicParams, *, embedding_model: Any,
    with_keybert: bool = True, precount_min_papers: int | None = None,
) -> Terms:
    """Rank the key terms of every theme (c-TF-IDF + KeyBERT, coherent) and strand.

    Above ``precount_min_papers`` papers (default ``PRECOUNT_MIN_PAPERS``) BERTopic's
    class counts are the sums of the papers' counts (``precounted_vectorizer``) instead of
    a second pass over the joined theme texts.

    A theme's ``top_terms`` merge its c-TF-IDF and KeyBERT rankings (``theme_terms``),
    demote terms found in under ``MIN_TERM_SUPPORT`` of its papers and then prefer terms
    its papers use together (``coherent_terms``). Strand terms come from c-TF-IDF over
    the strands (``strand_terms``), leaving out the two terms that name the theme.
    """
    from litreview.topics.corpus import vectorize_papers

    top_n = params.top_n_terms
    if precount_min_papers is None:
        precount_min_papers = PRECOUNT_MIN_PAPERS
    vectorizer, doc_term = vectorize_papers(docs)
    if len(docs) > precount_min_papers:
        vectorizer = precounted_vectorizer(vectorizer, doc_term, topics)
    model = fit_representation(embeddings, docs, topics, params, embedding_model=embedding_model,
                               vectorizer=vectorizer, with_keybert=with_keybert)
    theme_ids = sorted(t for t in set(topics.tolist()) if t >= 0)
    present = (doc_term > 0).tocsc().astype(np.float64)
    candidates = theme_terms(model, theme_ids, top_n * 3)
    support = term_support(present, vectorizer.vocabulary_, topics, theme_ids,
                           candidates["top_terms"])
    terms = theme_terms(model, theme_ids, top_n, support)
    pools = theme_terms(model, theme_ids, COHERENCE_POOL * top_n, support)["top_terms"]
    terms["top_terms"] = [coherent_terms(pool, present, vectorizer.vocabulary_, top_n)
                          for pool in pools]
    strand_ids = sorted(s for s in set(strands.tolist()) if s >= 0)
    theme_of = {int(s): int(t) for s, t in zip(strands, topics, strict=True) if s >= 0}
    name_terms = dict(zip(theme_ids, (t[:NAME_TERMS] for t in terms["top_terms"]), strict=True))
    s_terms = strand_terms(present, doc_term, vectorizer.vocabulary_, strands, strand_ids, top_n,
                           exclude=[name_terms[theme_of[s]] for s in strand_ids])
    return Terms(model, vectorizer, present, theme_ids, terms, strand_ids, s_terms,
                 labels.learn_casing(texts))


def naming_request(terms: Terms, topics: np.ndarray, strands: np.ndarray,
                   similarity: np.ndarray, titles: Sequence[str], texts: Sequence[str],
                   *, clustered: bool = True) -> Any:
    """Collect what ``naming.name_topics`` reads; members are listed most central first."""
    from litreview.topics.naming import NamingRequest

    order = np.argsort(-similarity, kind="stable")

    def members(labels_: np.ndarray, ids: Sequence[int]) -> dict[int, list[int]]:
        out: dict[int, list[int]] = {int(i): [] for i in ids}
        for i in order:
            if labels_[i] >= 0:
                out[int(labels_[i])].append(int(i))
        return out

    by_theme, by_strand = members(topics, terms.theme_ids), members(strands, terms.strand_ids)
    theme_of = {int(s): int(t) for s, t in zip(strands, topics, strict=True) if s >= 0}
    return NamingRequest(
        theme_ids=list(terms.theme_ids), theme_terms=terms.themes["top_terms"],
        strand_ids=list(terms.strand_ids), strand_theme=theme_of, strand_terms=terms.strands,
        theme_titles={t: [titles[i] for i in m] for t, m in by_theme.items()},
        strand_titles={s: [titles[i] for i in m] for s, m in by_strand.items()},
        theme_texts={t: [texts[i] for i in m] for t, m in by_theme.items()},
        strand_texts={s: [texts[i] for i in m] for s, m in by_strand.items()},
        casing=terms.casing, clustered=clustered,
    )


@dataclasses.dataclass
class Tables:
    """The stage's tables, in memory."""

    doc_topics: pd.DataFrame
    topics: pd.DataFrame
    strands: pd.DataFrame
    similarity: pd.DataFrame
    hierarchy: pd.DataFrame
    npmi: list[float]
    silhouette: float
    strand_silhouette: float


def nearest_themes(embeddings: np.ndarray, centroids: np.ndarray, theme_ids: Sequence[int],
                   *, besides: np.ndarray | None = None,
                   similarities: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Each paper's nearest theme centroid and its cosine similarity to it.

    For a placed paper this is usually its own theme; for a paper in no theme it says
    where it came closest (the report lists it beside the paper), and a placed paper
    whose nearest theme is another one was moved there by curation. ``besides`` (each
    paper's theme) leaves that theme out: the nearest *other* theme, where a paper at
    the edge of its theme could also belong (for a paper in no theme, the nearest).
    −1 and NaN where there is no such theme. ``similarities`` (papers × themes cosines,
    as computed here) spares a caller that asks twice the second product.
    """
    n = len(embeddings)
    none = (np.full(n, -1, dtype=np.int64), np.full(n, np.nan, dtype=float))
    if not len(theme_ids) or not n:
        return none
    sims = similarities if similarities is not None else (
        metrics._unit(np.asarray(embeddings, dtype=np.float64)) @ centroids.T)
    ids = np.asarray(theme_ids, dtype=np.int64)
    if besides is not None:
        if len(ids) < 2:
            return none
        sims = np.where(ids[None, :] == np.asarray(besides, dtype=np.int64)[:, None],
                        -np.inf, sims)
    best = sims.argmax(axis=1)
    return (np.asarray(theme_ids, dtype=np.int64)[best],
            np.clip(sims[np.arange(len(sims)), best], -1.0, 1.0).astype(float))


def build_tables(
    corpus: Any, embeddings: np.ndarray, placement: Any, terms: Terms, names: Any,
    coords: np.ndarray, *, seed: int = 42,
) -> Tables:
    """Build doc_topics, topics, strands, topic_similarity and topic_hierarchy.

    Representative papers are the core papers nearest their theme's (strand's) centroid.
    """
    n = len(corpus)
    topics, strands = placement.topics, placement.strands
    membership, similarity = placement.membership, placement.similarity
    casing = terms.casing
    titles = corpus.papers["title"].astype(str).tolist()
    ids = corpus.paper_ids
    npmi = metrics.npmi_coherence(terms.themes["top_terms"], terms.present,
                                  terms.vectorizer.vocabulary_)
    n_strands = {t: 0 for t in terms.theme_ids}
    for s in terms.strand_ids:
        n_strands[placement.strand_theme[s]] += 1
    theme_rows = []
    for topic, topic_terms, score in zip(terms.theme_ids, terms.themes["top_terms"], npmi,
                                         strict=True):
        members = np.flatnonzero(topics == topic)
        reps = representatives(similarity, membership, members)
        theme_rows.append({
            "topic": topic, "label": names.themes[topic], "size": len(members),
            "share": len(members) / n,
            "top_terms": getattr(names, "theme_terms", {}).get(topic, topic_terms),
            "display_terms": getattr(names, "theme_display_terms", {}).get(
                topic, [labels.format_term(term, casing=casing) for term in topic_terms]),
            "representative_paper_ids": [ids[i] for i in reps],
            "npmi": score, "density": metrics.density(embeddings[members]),
            "representative_titles": [titles[i] for i in reps],
            "n_strands": n_strands[topic],
            "n_core": int((membership[members] == CORE).sum()),
            "n_peripheral": int((membership[members] != CORE).sum()),
        })
    topics_df = pd.DataFrame(theme_rows)
    for kind in ("keybert", "ctfidf", "mmr"):
        topics_df[f"{kind}_terms"] = terms.themes[f"{kind}_terms"]
    strand_rows = []
    for strand, s_terms in zip(terms.strand_ids, terms.strands, strict=True):
        members = np.flatnonzero(strands == strand)
        reps = representatives(similarity, membership, members)
        strand_rows.append({
            "strand": strand, "topic": placement.strand_theme[strand],
            "label": names.strands[strand], "size": len(members),
            "top_terms": names.strand_terms.get(strand, s_terms),
            "display_terms": names.strand_display_terms.get(
                strand, [labels.format_term(term, casing=casing) for term in s_terms]),
            "representative_paper_ids": [ids[i] for i in reps],
            "representative_titles": [titles[i] for i in reps],
            "n_core": int((membership[members] == CORE).sum()),
        })
    strands_df = pd.DataFrame(strand_rows, columns=[
        "strand", "topic", "label", "size", "top_terms", "representative_paper_ids",
        "display_terms", "representative_titles", "n_core"])
    centre = metrics.centrality(embeddings, topics)
    doc_topics = pd.DataFrame({
        "paper_id": ids,
        "topic": topics.astype("int64"),
        "topic_label": [names.themes.get(int(t), OUTLIER_LABEL) for t in topics],
        "probability": np.where(topics >= 0, np.clip(similarity, 0.0, 1.0), 0.0).astype(float),
        "x": coords[:, 0].astype(float),
        "y": coords[:, 1].astype(float),
        "topic_before_reduction": placement.topics_before.astype("int64"),
        "centrality": centre.astype(float),
        "strand": strands.astype("int64"),
        "strand_label": [names.strands.get(int(s), OUTLIER_LABEL) for s in strands],
        "membership": membership.astype(str),
        "similarity": similarity.astype(float),
    })
    topic_centroids = metrics.centroids(embeddings, topics, terms.theme_ids)
    paper_theme = metrics._unit(np.asarray(embeddings, dtype=np.float64)) @ topic_centroids.T
    doc_topics["nearest_topic"], doc_topics["nearest_similarity"] = nearest_themes(
        embeddings, topic_centroids, terms.theme_ids, similarities=paper_theme)
    doc_topics["second_topic"], doc_topics["second_similarity"] = nearest_themes(
        embeddings, topic_centroids, terms.theme_ids, besides=topics, similarities=paper_theme)
    sim = topic_centroids @ topic_centroids.T
    similarity_df = pd.DataFrame([
        {"topic_a": a, "topic_b": b, "similarity": float(np.clip(sim[i, j], -1, 1))}
        for i, a in enumerate(terms.theme_ids) for j, b in enumerate(terms.theme_ids)
    ], columns=["topic_a", "topic_b", "similarity"])
    terms.model.set_topic_labels({t: names.themes.get(t, OUTLIER_LABEL)
                                  for t in sorted(set(topics.tolist()))})
    hierarchy = hierarchy_table(terms.model, corpus.docs, names.themes, casing)
    return Tables(doc_topics, topics_df, strands_df, similarity_df, hierarchy, npmi,
                  metrics.silhouette(embeddings, topics, seed=seed),
                  metrics.silhouette(embeddings, strands, seed=seed))
