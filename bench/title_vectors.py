"""Exploration (issue 9): build the theme tree on embeddings mixed with title embeddings.

Titles are written to name topics ("Steering Llama 2 via Contrastive Activation Addition"),
so a tree on ``unit(unit(text) + a * unit(title))`` may gather a research line that the
whole-text embedding spreads by application domain. Placement stays on the text
embeddings, as for the hybrid lexical vectors. Scores the labeled arXiv set's themes and
strands at each weight ``a`` (0 = today's tree). Not part of ``run_bench.py``: it reads
the labeled set's cached vectors (``python bench/run_bench.py quality`` makes them) and
embeds the 7,811 titles once into ``bench/_work/title-embeddings``.

    python bench/title_vectors.py --shared ../shared 0 0.7 1.0
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from labeled import prepare_labeled
from quality import embeddings_for
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from litreview import embed
from litreview.topics import fit, place


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, required=True)
    parser.add_argument("weights", type=float, nargs="+")
    args = parser.parse_args()
    corpus = prepare_labeled(args.shared, None)
    backend = embed.full_model_backend(len(set(corpus.texts)))
    emb, _ = embeddings_for(corpus, "minilm-fp32", threads=None, backend=backend,
                            long_text="truncate")
    titles = [str(t) for t in corpus.papers["title"]]
    work = Path(__file__).resolve().parent / "_work" / "title-embeddings"
    title_emb = np.asarray(embed.embed_texts(titles, cache_dir=work, show_progress=False,
                                             embedding_backend=backend))
    truth = np.asarray(corpus.labels)
    params = fit.TopicParams(min_topic_size=fit.auto_min_topic_size(len(titles)))
    for weight in args.weights:
        tree = _unit(_unit(emb) + weight * _unit(title_emb)) if weight > 0 else emb
        levels = fit.fit_levels(tree, params)
        placed = place.place_papers(emb, levels.themes, levels.strands,
                                    min_topic_size=params.min_topic_size, min_strand_size=3,
                                    threshold=0.0)
        themes, strands = np.asarray(placed.topics), np.asarray(placed.strands)
        print(f"a={weight}: themes {len(set(themes) - {-1})} "
              f"NMI {normalized_mutual_info_score(truth, themes):.3f} "
              f"ARI {adjusted_rand_score(truth, themes):.3f} "
              f"unplaced {(themes == -1).mean():.3f} | strands {len(set(strands) - {-1})} "
              f"NMI {normalized_mutual_info_score(truth, strands):.3f} "
              f"ARI {adjusted_rand_score(truth, strands):.3f}", flush=True)


if __name__ == "__main__":
    main()
