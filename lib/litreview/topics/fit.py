"""Step 2 of stage 02: one tree of the corpus, cut at two levels — themes and strands.

The model is Ward's agglomerative clustering (``scipy.cluster.hierarchy``) on the
unit-length embeddings projected on their first ``TREE_DIMENSIONS`` (100) principal
components (``tree_space``): deterministic and seed-free, so the same vectors always give
the same tree, and with papers in canonical order (``corpus.canonical_order``) the
same corpus always gives the same themes. Measured on the labeled arXiv set
(``bench/RESULTS.md``), Ward's partition at the true number of classes is level with
k-means, which UMAP + HDBSCAN was not, and it costs no UMAP fit or numba compilation.

Both levels are cuts of that one tree: themes (the report's sections) where a merge
costs much more than the one before it, within bounds that grow with the logarithm of
the corpus size (``theme_count_bounds``), and strands (the research lines inside a
theme) by the same rule further down the tree, so strands nest inside themes. The
theme cut is then settled by a few k-means rounds started from its own centroids
(``refine_themes``, no random start); a paper that moves takes the nearest strand of
its new theme. On the labeled set this lifts the themes above k-means at the true k
(NMI 0.516 / ARI 0.389 against 0.508 / 0.373, ``bench/RESULTS.md``). Last, a theme whose
two halves are further apart than a typical pair of themes is split, or its small loose
half (strays Ward glued to a research line) detached and placed by similarity
(``split_far_halves``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np

from litreview import metrics

#: Below this many papers no clustering is attempted: one theme holds every paper.
MIN_PAPERS_TO_CLUSTER = 15
#: Above this many papers the tree is built on a fixed random sample of this size (Ward
#: needs n² / 2 distances: 0.6 GB at 12,000 papers); every other paper joins its nearest strand.
TREE_MAX_PAPERS = 12_000
#: Principal components the tree is built on (``tree_space``).
TREE_DIMENSIONS = 100
#: A cut whose step (``cut_step``) is below this is no clear number of themes: the map then
#: takes the most themes ``theme_count_bounds`` allows (merging two is one curation entry,
#: splitting one is a move per paper), says so and points to ``nr_topics``. The chosen
#: steps on the labeled arXiv sets are 1.11 (300 papers, at the true count) and 1.15
#: (7,811), on the scale set 1.11, and on the seed corpus (trending papers of many
#: fields) 1.07.
CLEAR_STEP = 1.10
#: A clear step must also hold on trees of subsamples (``subsample_step``): the top merges
#: of a corpus without sharp sections are near ties, whose order a perturbation as small as
#: bfloat16 instead of fp32 vectors (cosine 0.99997) reverses, turning a 1.07 step into a
#: 1.12 one. The mean over ``CLEAR_STEP_DRAWS`` trees, each of ``CLEAR_STEP_SHARE`` of the
#: papers (at most ``CLEAR_STEP_MAX_PAPERS``), must be clear too.
CLEAR_STEP_DRAWS = 8
CLEAR_STEP_SHARE = 0.9
CLEAR_STEP_MAX_PAPERS = 2000
#: The draws' fixed seed: the tree, and so the themes, stay independent of ``seed``.
CLEAR_STEP_SEED = 0
#: Rounds of moving papers to the nearest theme centroid after the cut (``refine_themes``).
THEME_REFINE_ITERATIONS = 10
#: Rounds when the themes start from a previous map: enough to settle, so a re-run of a
#: settled map leaves it unchanged.
ANCHORED_REFINE_ITERATIONS = 100
#: Smallest research line worth a strand.
MIN_STRAND_SIZE = 3
#: Weight of the lexical part of the tree's vectors (``hybrid_vectors``). Off (0) by default:
#: 0.3 lifted the labeled set only within noise and read no better on the seed corpus
#: (``bench/RESULTS.md``, "Hybrid tree vectors").
LEXICAL_WEIGHT = 0.0
#: Split a theme whose two halves are further apart than a typical pair of themes, or
#: detach its small stray half (``split_far_halves``).
SPLIT_FAR_HALVES = True
#: Regroup each theme's strands by a tree of the theme's own papers (``regroup_strands``).
LOCAL_STRANDS = True
#: Principal components of a theme's own papers its strands are regrouped on.
LOCAL_DIMENSIONS = 20
#: Dimensions the TF-IDF part is reduced to (``hybrid_vectors``).
LEXICAL_DIMENSIONS = 100
#: How many times a title is counted in the TF-IDF text (titles are written to name topics).
TITLE_WEIGHT = 2


@dataclasses.dataclass(frozen=True)
class TopicParams:
    """Every setting that decides the themes; ``run_topics`` records them all."""

    seed: int = 42
    #: Smallest theme; ``run_topics`` resolves 0 with ``auto_min_topic_size``.
    min_topic_size: int = 0
    #: Number of themes; 0 chooses it from the tree.
    nr_topics: int = 0
    min_strand_size: int = MIN_STRAND_SIZE
    #: Minimum similarity to a theme's centroid; 0 takes it from the corpus (``place``).
    outlier_threshold: float = 0.0
    top_n_terms: int = 10
    umap_n_neighbors: int = 15


@dataclasses.dataclass
class Levels:
    """The tree's two cuts: a theme and a strand per paper (before placement)."""

    themes: np.ndarray
    #: −1 where the paper was detached from its theme (``split_far_halves``): placement
    #: places it by similarity like a paper of a dissolved theme.
    strands: np.ndarray
    #: Strand -> its theme.
    strand_theme: dict[int, int]
    n_themes_bounds: tuple[int, int]
    clustered: bool
    notes: list[str]
    #: Papers the tree was built on (all of them below ``TREE_MAX_PAPERS``).
    tree_papers: np.ndarray
    #: Merge height (Ward) at which the theme cut was made, and the next one.
    cut_heights: tuple[float, float] | None = None
    #: The number of themes the tree's cut chose and that cut's step (``cut_step``); None
    #: when it did not choose (``nr_topics`` set, a previous map, too few papers).
    count_cut: int | None = None
    count_step: float | None = None
    #: That step's mean over trees of subsamples (``subsample_step``; computed only when the
    #: whole tree's step is clear) and whether the count was clear (both ≥ ``CLEAR_STEP``).
    count_support: float | None = None
    count_clear: bool | None = None


def auto_min_topic_size(n_papers: int) -> int:
    """Return the smallest theme size for a corpus of ``n_papers``: max(3, round(√n / 2)).

    Square-root growth keeps themes worth a section: about 8 papers at 281 papers,
    35 at 5,000, 136 at 74,000. Smaller groups the tree finds are dissolved and their
    papers placed by similarity (``place.place_papers``).
    """
    return max(3, round(math.sqrt(max(n_papers, 0)) / 2))


def theme_count_bounds(n_papers: int) -> tuple[int, int]:
    """Return the fewest and most themes the cut may give: (round(0.75·log₂ n), twice that).

    6–12 themes at 281 papers, 10–20 at 7,811, 12–24 at 74,000: a survey's sections
    grow slowly with the size of the field. Never more than a third of the papers.
    """
    low = max(2, round(0.75 * math.log2(max(n_papers, 2))))
    high = 2 * low
    cap = max(2, n_papers // 3)
    return min(low, cap), min(high, cap)


def tree_space(unit: np.ndarray, dimensions: int = TREE_DIMENSIONS) -> np.ndarray:
    """Return unit-length vectors projected on their first ``dimensions`` principal components.

    The leading components carry what separates research lines; the 300-odd trailing
    ones of a sentence embedding are mostly wording noise that Ward's sums of squares
    weigh as much. Measured on the labeled arXiv set and read on the seed corpus
    (``bench/RESULTS.md``): themes cut from the projected tree match the labels better
    and split fewer research lines. The projection is exact (an eigendecomposition of
    the 384 × 384 covariance, LAPACK), so it is deterministic; with ``dimensions`` or
    fewer papers (or dimensions) the vectors are returned as they are.
    """
    from sklearn.decomposition import PCA

    unit = np.asarray(unit, dtype=np.float64)
    if dimensions <= 0 or min(unit.shape) <= dimensions:
        return unit
    return PCA(n_components=dimensions, svd_solver="covariance_eigh").fit_transform(unit)


def hybrid_vectors(embeddings: np.ndarray, docs: Sequence[str], titles: Sequence[str], *,
                   weight: float = LEXICAL_WEIGHT, dimensions: int = LEXICAL_DIMENSIONS,
                   title_weight: int = TITLE_WEIGHT) -> np.ndarray:
    """Return the vectors the tree is built on: unit embedding + a weighted lexical part.

    The lexical part is TF-IDF (uni- and bigrams, the stage's stop words, sublinear tf,
    in >= 2 and <= half of the papers) of each paper's cleaned text with its title
    counted ``title_weight`` extra times, reduced by TruncatedSVD (randomized with a
    fixed ``random_state``: deterministic; ARPACK was not, across calls) to
    ``dimensions``, scaled to unit length and appended ``weight`` times to the unit
    embedding; the result is scaled to unit length. Papers that share method terms in
    their titles ("activation steering", "equivariant") come together, which a sentence
    embedding, clustering by application domain, does not ensure. Only the tree reads
    these vectors; placement and the update snapshot stay on the embeddings. Measured on
    the labeled arXiv set (``bench/RESULTS.md``). ``docs`` must already be cleaned
    (``corpus.topic_text``). With ``weight`` 0 or too few papers the embeddings are
    returned as given; with no vocabulary, at unit length.
    """
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    from litreview.topics.corpus import stop_words, topic_text

    if weight <= 0 or len(embeddings) < MIN_PAPERS_TO_CLUSTER:
        return np.asarray(embeddings)  # as given: the tree is then exactly the plain one
    unit = metrics._unit(np.asarray(embeddings, dtype=np.float64))
    texts = [" ".join([topic_text(str(t))] * title_weight + [str(d)])
             for t, d in zip(titles, docs, strict=True)]
    vectorizer = TfidfVectorizer(stop_words=stop_words(), ngram_range=(1, 2), min_df=2,
                                 max_df=0.5, sublinear_tf=True, dtype=np.float64)
    try:
        counts = vectorizer.fit_transform(texts)
    except ValueError:  # every word is a stop word, too rare or too common
        return unit
    k = min(dimensions, min(counts.shape) - 1)
    if k < 1:
        return unit
    lexical = TruncatedSVD(n_components=k, algorithm="randomized", random_state=0
                           ).fit_transform(counts)
    return metrics._unit(np.hstack([unit, weight * metrics._unit(lexical)]))


def tree_sample(n_papers: int, size: int, seed: int) -> np.ndarray:
    """Return the sorted rows of the fixed seeded sample a large corpus's tree (and its
    2-D map, ``layout.map_sample``) is fitted on."""
    return np.sort(np.random.default_rng(seed).choice(n_papers, size=size, replace=False))


def ward_tree(unit: np.ndarray) -> np.ndarray:
    """Return the Ward linkage matrix of unit-length vectors (euclidean ≈ cosine)."""
    from scipy.cluster.hierarchy import linkage

    return linkage(np.asarray(unit, dtype=np.float64), method="ward")


def cut_step(tree: np.ndarray, k: int) -> float:
    """How much the merge from ``k`` to ``k − 1`` groups costs against the merge before it
    (Ward heights ``h[n − k] / h[n − k − 1]``): the step ``choose_cut`` maximises."""
    n = len(tree) + 1
    heights = tree[:, 2]
    return float(heights[n - k]) / max(float(heights[n - k - 1]), 1e-12)


def subsample_step(space: np.ndarray, k: int, *, draws: int = CLEAR_STEP_DRAWS,
                   share: float = CLEAR_STEP_SHARE, max_papers: int = CLEAR_STEP_MAX_PAPERS,
                   seed: int = CLEAR_STEP_SEED) -> float:
    """Return the mean ``cut_step`` at ``k`` over Ward trees of random subsamples of ``space``.

    A step that a real gap between sections makes survives leaving out a tenth of the
    papers; one made by the order of two near-tied merges does not. Rows are drawn by
    position, so ``space`` must be in the corpus's canonical order (as ``fit_levels``
    gets it). Written here because scipy offers a tree's heights, not their stability.
    """
    m = len(space)
    size = min(int(share * m), max_papers)
    if size <= k + 1:
        return 0.0
    rng = np.random.default_rng(seed)
    steps = [cut_step(ward_tree(space[np.sort(rng.choice(m, size, replace=False))]), k)
             for _ in range(draws)]
    return float(np.mean(steps))


def choose_cut(tree: np.ndarray, low: int, high: int) -> int:
    """Return the number of clusters in ``[low, high]`` after which merging costs most.

    For k clusters the next merge (to k − 1) has Ward height ``h[n − k]``; the cut is made
    where ``h[n − k] / h[n − k − 1]`` is largest — the merge that would join the two
    most distinct groups relative to the merges before it. Ties go to fewer clusters.
    """
    n = len(tree) + 1
    best, best_ratio = low, -1.0
    for k in range(max(2, low), min(high, n - 1) + 1):
        ratio = cut_step(tree, k)
        if ratio > best_ratio + 1e-12:
            best, best_ratio = k, ratio
    return best


def _relabel_by_size(labels: np.ndarray) -> np.ndarray:
    """Renumber labels 0.. by size (largest first), ties by first occurrence."""
    values, first, counts = np.unique(labels, return_index=True, return_counts=True)
    order = sorted(range(len(values)), key=lambda i: (-counts[i], first[i]))
    mapping = {int(values[i]): rank for rank, i in enumerate(order)}
    return np.asarray([mapping[int(v)] for v in labels], dtype=np.int64)


def fit_levels(embeddings: np.ndarray, params: TopicParams, *,
               anchor: np.ndarray | None = None) -> Levels:
    """Build the tree of ``embeddings`` and cut it into themes and strands.

    ``params.nr_topics`` fixes the number of themes; 0 lets ``choose_cut`` pick it within
    ``theme_count_bounds``. Strands are the cut of the same tree with between 3 and 6
    times as many groups (at most one per ``2 × min_strand_size`` papers), chosen by the
    same rule; each lies inside one theme. Fewer than ``MIN_PAPERS_TO_CLUSTER`` papers
    give one theme and one strand, with a note. Last, ``split_far_halves`` splits a theme
    made of two far-apart groups and detaches small stray groups (strand −1; not with a
    fixed number of themes or a previous map, which it only detaches from), and
    ``regroup_strands`` regroups each theme's papers into its number of strands by what
    sets them apart inside the theme.

    ``anchor`` (a refit with a previous map: each paper's previous theme, −1 for new or
    unplaced papers) starts the themes from the previous map instead of the tree's cut
    (``anchored_themes``); the k-means rounds then settle them on the grown corpus, so
    added papers do not reshuffle an outline the researcher has read and curated.
    """
    from scipy.cluster.hierarchy import cut_tree

    n = len(embeddings)
    unit = metrics._unit(embeddings)
    if n < MIN_PAPERS_TO_CLUSTER:
        note = (f"only {n} paper(s): below {MIN_PAPERS_TO_CLUSTER} no clustering is attempted; "
                "all papers form one theme")
        zeros = np.zeros(n, dtype=np.int64)
        return Levels(zeros, zeros.copy(), {0: 0}, (1, 1), False, [note], np.arange(n))
    notes: list[str] = []
    if n > TREE_MAX_PAPERS:
        tree_papers = tree_sample(n, TREE_MAX_PAPERS, params.seed)
        notes.append(f"the theme tree was built on a fixed sample of {TREE_MAX_PAPERS:,} of "
                     f"{n:,} papers; every other paper joined its nearest strand")
    else:
        tree_papers = np.arange(n)
    space = tree_space(unit[tree_papers])
    tree = ward_tree(space)
    m = len(tree_papers)
    low, high = theme_count_bounds(n)
    fixed = max(1, min(params.nr_topics, m))
    n_themes = fixed if params.nr_topics else choose_cut(tree, low, high)
    count_cut = count_step = count_support = count_clear = None
    if not params.nr_topics and anchor is None and 2 <= n_themes < m - 1:
        count_cut, count_step = n_themes, cut_step(tree, n_themes)
        if count_step >= CLEAR_STEP:
            count_support = subsample_step(space, n_themes)
        count_clear = count_step >= CLEAR_STEP and (count_support or 0.0) >= CLEAR_STEP
        if not count_clear:
            n_themes = max(n_themes, min(high, m - 2))
            strongest = (f"its strongest step, at {count_cut} themes, costs {count_step:.2f}× "
                         "the merge before it")
            if count_support is not None:
                strongest += (f" but only {count_support:.2f}× on average on trees of "
                              f"{CLEAR_STEP_SHARE:.0%} of the papers")
            notes.append(
                f"the tree shows no clear number of themes between {low} and {high}: "
                f"{strongest} (a clear step is {CLEAR_STEP:.2f}× or more, on both), so the "
                f"map takes the finest outline the bounds allow, {n_themes} themes: two "
                "themes are joined by one merge in the curation file, while a theme is split "
                "only by moving its papers; set nr_topics for another count")
    s_low = min(m, 3 * n_themes)
    s_high = max(s_low, min(6 * n_themes, m // max(1, 2 * params.min_strand_size)))
    n_strands = choose_cut(tree, s_low, s_high) if s_high > s_low else s_low
    n_strands = max(n_strands, n_themes)
    cuts = cut_tree(tree, n_clusters=[n_themes, n_strands])
    themes_s = _relabel_by_size(cuts[:, 0])
    strands_s = cuts[:, 1].astype(np.int64)
    cut_heights = None
    if 1 < n_themes < m:
        cut_heights = (float(tree[m - n_themes - 1, 2]), float(tree[m - n_themes, 2]))
    if m < n:  # the others join the nearest strand centroid of the sample
        strand_ids = sorted(set(strands_s.tolist()))
        centres = metrics.centroids(unit[tree_papers], strands_s, strand_ids)
        nearest = np.asarray(strand_ids)[(unit @ centres.T).argmax(axis=1)]
        nearest[tree_papers] = strands_s
        strand_of_theme = {int(s): int(t) for s, t in zip(strands_s, themes_s, strict=True)}
        strands_all = nearest
        themes_all = np.asarray([strand_of_theme[int(s)] for s in strands_all], dtype=np.int64)
    else:
        strands_all, themes_all = strands_s, themes_s
    start = anchored_themes(unit, anchor) if anchor is not None else None
    if start is not None:
        notes.append(f"the themes started from the previous map's {len(np.unique(start))} "
                     "themes (new papers at their nearest), then settled by k-means rounds")
        themes_all = _relabel_by_size(start)
    if THEME_REFINE_ITERATIONS or start is not None:
        rounds = ANCHORED_REFINE_ITERATIONS if start is not None else THEME_REFINE_ITERATIONS
        themes_all = _relabel_by_size(refine_themes(unit, themes_all, rounds))
        strands_all = _follow_themes(unit, themes_all, strands_all)
    if SPLIT_FAR_HALVES:
        # A fixed number of themes, or a previous map's outline, is never split; stray
        # groups are detached all the same, so a refit keeps them out as the first fit did.
        fixed_count = bool(params.nr_topics) or start is not None
        themes_all, strands_all, split_notes = split_far_halves(
            unit, themes_all, strands_all,
            min_size=params.min_topic_size or auto_min_topic_size(n),
            max_themes=len(np.unique(themes_all)) if fixed_count else high,
            tree_papers=tree_papers if m < n else None)
        notes.extend(split_notes)
    if LOCAL_STRANDS:
        strands_all = regroup_strands(unit, themes_all, strands_all, tree_papers,
                                      min_strand_size=params.min_strand_size)
    strands_all = _number_strands(themes_all, strands_all)
    strand_theme = {int(s): int(t) for s, t in zip(strands_all, themes_all, strict=True)
                    if s >= 0}
    return Levels(themes_all, strands_all, strand_theme, (low, high), True, notes,
                  tree_papers, cut_heights, count_cut, count_step, count_support,
                  count_clear)


def anchored_themes(unit: np.ndarray, anchor: np.ndarray) -> np.ndarray | None:
    """Initial themes from a previous map: its themes, each other paper at the nearest.

    ``anchor`` holds each paper's previous theme (−1: new, or in no theme before). None
    when fewer than two previous themes have papers left (nothing to start from).
    """
    anchor = np.asarray(anchor, dtype=np.int64)
    known = anchor >= 0
    ids = np.unique(anchor[known])
    if len(ids) < 2:
        return None
    labels = anchor.copy()
    if (~known).any():
        centres = metrics.centroids(unit, anchor, ids.tolist())
        labels[~known] = ids[(unit[~known] @ centres.T).argmax(axis=1)]
    return labels


def refine_themes(unit: np.ndarray, themes: np.ndarray, iterations: int) -> np.ndarray:
    """Move papers to their most similar theme centroid until none moves (at most ``iterations``).

    Ward merges greedily, so a paper joined early to one group can end closer to
    another theme's centre; these k-means rounds (cosine, centroids from the tree's
    cut, no random start) settle such papers. Deterministic: no seed, ties go to the
    lower theme id.
    """
    labels = np.asarray(themes, dtype=np.int64).copy()
    for _ in range(iterations):
        ids = np.unique(labels)
        centres = metrics.centroids(unit, labels, ids.tolist())
        moved = ids[(unit @ centres.T).argmax(axis=1)]
        if np.array_equal(moved, labels):
            break
        labels = moved
    return labels


def _follow_themes(unit: np.ndarray, themes: np.ndarray, strands: np.ndarray) -> np.ndarray:
    """Keep strands inside themes after ``refine_themes`` moved some papers.

    A strand belongs to the theme most of its papers are now in (ties: lower theme id);
    a paper whose theme is not its strand's joins the most similar strand of its theme,
    or, in a theme that kept no strand, a new one for that theme.
    """
    strands = np.asarray(strands, dtype=np.int64).copy()
    ids = np.unique(strands)
    home = {}
    for s in ids.tolist():
        values, counts = np.unique(themes[strands == s], return_counts=True)
        home[s] = int(values[counts.argmax()])
    strayed = np.flatnonzero(np.asarray([home[int(s)] for s in strands]) != themes)
    if not len(strayed):
        return strands
    centres = metrics.centroids(unit, strands, ids.tolist())
    sims = unit[strayed] @ centres.T
    next_id = int(ids.max()) + 1
    new_of_theme: dict[int, int] = {}
    for row, i in enumerate(strayed):
        theme = int(themes[i])
        mine = [j for j, s in enumerate(ids.tolist()) if home[s] == theme]
        if mine:
            strands[i] = int(ids[mine[int(sims[row, mine].argmax())]])
        else:
            if theme not in new_of_theme:
                new_of_theme[theme] = next_id
                next_id += 1
            strands[i] = new_of_theme[theme]
    return strands


def _number_strands(themes: np.ndarray, strands: np.ndarray) -> np.ndarray:
    """Renumber strands 0.. by theme, then size (largest first), then first occurrence.

    A detached paper (strand −1, ``split_far_halves``) keeps −1.
    """
    has = strands >= 0
    values, first, counts = np.unique(strands[has], return_index=True, return_counts=True)
    index = np.flatnonzero(has)
    order = sorted(range(len(values)),
                   key=lambda i: (int(themes[index[first[i]]]), -counts[i], first[i]))
    mapping = {int(values[i]): rank for rank, i in enumerate(order)}
    return np.asarray([mapping.get(int(v), -1) for v in strands], dtype=np.int64)


def _unit_mean(vectors: np.ndarray) -> np.ndarray:
    return metrics._unit(np.asarray(vectors, dtype=np.float64).mean(axis=0)[None])[0]


def regroup_strands(unit: np.ndarray, themes: np.ndarray, strands: np.ndarray,
                    tree_papers: np.ndarray, *, min_strand_size: int = MIN_STRAND_SIZE,
                    dimensions: int = LOCAL_DIMENSIONS) -> np.ndarray:
    """Regroup each theme's papers into as many strands as the corpus tree gave it.

    The corpus tree's finer cut is drawn on what separates the whole corpus, so inside a
    theme it often follows a direction shared with other themes (steering, prompting)
    instead of the theme's own research lines: on the seed corpus 5 of its 13
    hallucination-detection papers sat in two other strands of the Hallucination theme.
    Here each theme's members (those of ``tree_papers`` with a strand; −1 stays −1) are
    taken relative to the theme's centroid (the shared part removed, renormalised),
    projected on their first ``dimensions`` principal components and cut by a Ward tree
    of their own into the same number of strands as before. Themes with one strand or
    fewer than ``2 × min_strand_size`` members keep theirs; papers outside
    ``tree_papers`` (a corpus above ``TREE_MAX_PAPERS``) join the most similar new
    strand of their theme. Strand ids are renumbered by the caller.
    """
    from scipy.cluster.hierarchy import cut_tree

    strands = np.asarray(strands, dtype=np.int64).copy()
    in_tree = np.zeros(len(strands), dtype=bool)
    in_tree[np.asarray(tree_papers, dtype=np.int64)] = True
    next_id = int(strands.max()) + 1 if len(strands) else 0
    for t in np.unique(themes).tolist():
        placed = (themes == t) & (strands >= 0)
        members = np.flatnonzero(placed & in_tree)
        k = len(np.unique(strands[members]))
        if k < 2 or len(members) < 2 * min_strand_size:
            continue
        residual = metrics._unit(unit[members] - unit[members].mean(axis=0))
        centred = residual - residual.mean(axis=0)
        _, _, components = np.linalg.svd(centred, full_matrices=False)
        local = metrics._unit(residual @ components[: min(dimensions, len(members) - 1)].T)
        cut = cut_tree(ward_tree(local), n_clusters=k)[:, 0].astype(np.int64)
        strands[members] = next_id + cut
        others = np.flatnonzero(placed & ~in_tree)
        if len(others):
            ids = list(range(next_id, next_id + k))
            centres = metrics.centroids(unit[members], strands[members], ids)
            strands[others] = np.asarray(ids)[(unit[others] @ centres.T).argmax(axis=1)]
        next_id += k
    return strands


def _cohesion(vectors: np.ndarray) -> float:
    """Mean cosine of unit ``vectors`` to their own centroid."""
    return float((vectors @ _unit_mean(vectors)).mean())


def _halves(unit: np.ndarray, members: np.ndarray, in_sample: np.ndarray | None) -> np.ndarray:
    """0/1 per member: the top merge of a Ward tree of the members (of those in the sample,
    the others at the nearer half's centroid, when ``in_sample`` marks one)."""
    from scipy.cluster.hierarchy import cut_tree

    sampled = members if in_sample is None else members[in_sample[members]]
    if len(sampled) < 2 * MIN_STRAND_SIZE or len(sampled) == len(members):
        return cut_tree(ward_tree(tree_space(unit[members])), n_clusters=2)[:, 0]
    cut = cut_tree(ward_tree(tree_space(unit[sampled])), n_clusters=2)[:, 0]
    centres = np.stack([_unit_mean(unit[sampled[cut == h]]) for h in (0, 1)])
    halves = (unit[members] @ centres.T).argmax(axis=1)
    halves[in_sample[members]] = cut
    return halves


def split_far_halves(unit: np.ndarray, themes: np.ndarray, strands: np.ndarray, *,
                     min_size: int, max_themes: int, tree_papers: np.ndarray | None = None,
                     ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Split a theme made of two far-apart groups, or detach its small stray group.

    Each theme's members are split in two by a Ward tree of their own (the top merge,
    ``tree_space`` of the members). When the two halves' centroids are less similar
    (cosine) than the median similarity of two themes' centroids in this corpus — the
    halves are further apart than a typical pair of the map's sections — the theme is
    not one section: with both halves at least ``min_size`` papers (and fewer than
    ``max_themes`` themes) it becomes two themes; otherwise, when the less cohesive
    half (the strays; a tight half is a research line, left to be a strand) is too
    small for a theme, it is **detached**: those papers keep the theme for the size rule but get
    strand −1, which ``place.place_papers`` reads as "not a member": they are placed by
    similarity to the cleaned centroids (or stay unplaced below the corpus's cut-off)
    instead of being glued to the theme by Ward's greedy merges. The reference is the corpus's own
    distribution, no constant; with fewer than three themes nothing is compared. After a
    split the themes are settled again by ``refine_themes`` (detached papers take no
    part). Returns themes (by size), strands and a note per change.

    ``tree_papers`` (the main tree's fixed sample, above ``TREE_MAX_PAPERS`` papers): each
    theme's tree is built on its members in that sample and every other member joins the
    half whose centroid is more similar (ties: the first half), so the split trees cost
    what the main tree costs, whatever the corpus size. None (every smaller corpus): all
    members build the tree.
    """

    themes = np.asarray(themes, dtype=np.int64).copy()
    strands = np.asarray(strands, dtype=np.int64).copy()
    ids = np.unique(themes)
    if len(ids) < 3:
        return themes, strands, []
    centres = metrics._unit(metrics.centroids(unit, themes, ids.tolist()))
    between = (centres @ centres.T)[np.triu_indices(len(ids), 1)]
    reference = float(np.median(between))
    notes: list[str] = []
    n_themes, next_id, split = len(ids), int(ids.max()) + 1, False
    in_sample = None
    if tree_papers is not None:
        in_sample = np.zeros(len(unit), dtype=bool)
        in_sample[np.asarray(tree_papers)] = True
    for t in ids.tolist():
        members = np.flatnonzero(themes == t)
        if len(members) < max(min_size, 2 * MIN_STRAND_SIZE):  # dissolved by placement
            continue
        halves = _halves(unit, members, in_sample)
        a, b = members[halves == 0], members[halves == 1]
        similarity = float(_unit_mean(unit[a]) @ _unit_mean(unit[b]))
        if similarity >= reference:
            continue
        # The strays are the looser half; a tight small half is a research line (a strand).
        loose = min((a, b), key=lambda g: (_cohesion(unit[g]), -len(g), int(g[0])))
        why = (f"halves' similarity {similarity:.2f} below the median between-theme "
               f"similarity {reference:.2f}")
        if min(len(a), len(b)) >= min_size and n_themes < max_themes:
            small = min((a, b), key=lambda g: (len(g), int(g[0])))
            themes[small] = next_id
            next_id, n_themes, split = next_id + 1, n_themes + 1, True
            notes.append(f"a theme of {len(members)} papers was split in two "
                         f"({len(members) - len(small)} + {len(small)}): {why}")
        elif len(loose) < min_size:
            strands[loose] = -1
            notes.append(f"{len(loose)} of a theme's {len(members)} papers were detached "
                         f"from it and placed by similarity: {why}")
    keep = strands >= 0
    if split:
        themes[keep] = refine_themes(unit[keep], themes[keep], THEME_REFINE_ITERATIONS)
        strands[keep] = _follow_themes(unit[keep], themes[keep], strands[keep])
    return _relabel_by_size(themes), strands, notes
