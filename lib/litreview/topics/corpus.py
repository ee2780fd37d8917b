"""Step 1 of stage 02: read the corpus in canonical order and embed every paper.

Papers are sorted by ``paper_id`` (a hash of the paper's identity, see ingest) before
anything is fitted, so the order of records or files in the input cannot change the
themes. The texts the term vectorizer reads are cleaned once here.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from litreview import config, embed, io, labels, two_stage


@dataclasses.dataclass
class Corpus:
    """The papers of one run in canonical order, with the texts each step reads."""

    papers: pd.DataFrame
    paper_ids: list[str]
    #: Title + abstract, as embedded (``embed.paper_texts``).
    texts: list[str]
    #: The same texts cleaned for the term vectorizer (``topic_text``).
    docs: list[str]
    source: Path

    def __len__(self) -> int:
        return len(self.paper_ids)


@dataclasses.dataclass
class CorpusVectors:
    """The papers' embeddings and how they were computed."""

    embeddings: np.ndarray
    model_path: Path
    backend: str
    long_text: str
    cache_dir: Path
    two_stage: two_stage.TwoStageReport | None = None


_POSSESSIVE = re.compile(r"['’]s\b")
_TO_SPACE = str.maketrans({c: " " for c in "-/–—_\n\t"})
_NON_WORD = re.compile(r"[^A-Za-z0-9 ]+")


def topic_text(text: str) -> str:
    """Return the text the term vectorizer reads: ASCII letters, digits and single spaces.

    Hyphens and slashes become spaces (``self-supervised`` → ``self supervised``)
    and possessive ``'s`` is dropped; BERTopic's own clean-up (drop every other
    non-alphanumeric character) then leaves the text unchanged, so terms, NPMI and
    the c-TF-IDF all see the same tokens.
    """
    if "'" in text or "’" in text:
        text = _POSSESSIVE.sub("", text)
    text = _NON_WORD.sub("", text.translate(_TO_SPACE))
    return " ".join(text.split())


def canonical_order(papers: pd.DataFrame) -> pd.DataFrame:
    """Return ``papers`` sorted by ``paper_id`` (stable), with a fresh index."""
    order = np.argsort(papers["paper_id"].astype(str).to_numpy(), kind="stable")
    return papers.iloc[order].reset_index(drop=True)


def load_corpus(out_dir: str | os.PathLike) -> Corpus:
    """Read ``DIR/data/papers.parquet`` in canonical order; refuse an empty table."""
    source = config.data_dir(out_dir) / "papers.parquet"
    papers = canonical_order(io.load_table(out_dir, "papers"))
    if len(papers) == 0:
        raise ValueError(f"{source} has no papers")
    texts = embed.paper_texts(papers)
    return Corpus(papers, papers["paper_id"].astype(str).tolist(), texts,
                  [topic_text(t) for t in texts], source)


def embed_corpus(
    corpus: Corpus,
    out_dir: str | os.PathLike,
    *,
    embedding_model: str = embed.DEFAULT_MODEL,
    embedding_backend: str = "auto",
    long_text: str = "truncate",
    seed: int = 42,
    two_stage_sample_size: int = two_stage.SAMPLE_SIZE,
    batch_size: int = 32,
    show_progress: bool = True,
) -> CorpusVectors:
    """Embed every paper through the cache under ``DIR/models/embeddings``.

    ``embedding_backend`` picks how ("auto": below 10,000 papers torch-bf16 on a CPU
    with bf16 instructions, else torch below 2,000 and onnx-int8 above; two-stage from
    10,000; ``embed.resolve_backend``). ``long_text="windows"``
    reads a text longer than the model's 256 word pieces in sentence windows, each
    starting with the title, and averages them (``embed.sentence_windows``);
    ``"truncate"`` reads only the start.
    """
    if two_stage_sample_size < 1:
        raise ValueError(f"two_stage_sample_size must be at least 1, not {two_stage_sample_size}")
    if long_text not in embed.LONG_TEXT_MODES:
        raise ValueError(f"long_text must be one of {embed.LONG_TEXT_MODES}, not {long_text!r}")
    model_path = embed.resolve_model(embedding_model)
    backend = embed.resolve_backend(embedding_backend, len(set(corpus.texts)), model_path)
    cache = config.models_dir(out_dir) / "embeddings"
    report = None
    if backend == "two-stage":
        vectors, report = two_stage.embed_two_stage(
            corpus.texts, model=model_path, cache_dir=cache, seed=seed,
            sample_size=two_stage_sample_size, batch_size=batch_size,
            show_progress=show_progress, long_text=long_text,
        )
    else:
        vectors = embed.embed_texts(
            corpus.texts, model=model_path, cache_dir=cache, batch_size=batch_size,
            show_progress=show_progress, embedding_backend=backend, long_text=long_text,
        )
    return CorpusVectors(np.asarray(vectors, dtype=np.float32), model_path, backend,
                         long_text, cache, report)


def stop_words() -> list[str]:
    """Return the vectorizer's stop words: scikit-learn's English list plus research filler."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return sorted(ENGLISH_STOP_WORDS | labels.RESEARCH_STOP_WORDS)


def build_vectorizer(docs: Sequence[str]) -> Any:
    """Return the CountVectorizer of ``vectorize_papers`` (uni- and bigrams, fixed vocabulary)."""
    return vectorize_papers(docs)[0]


def vectorize_papers(docs: Sequence[str]) -> tuple[Any, Any]:
    """Return a CountVectorizer with a vocabulary chosen over papers, and the papers' counts.

    BERTopic fits its vectorizer on one joined document per theme, where ``min_df``
    and ``max_df`` would count themes, not papers. So the vocabulary is chosen here
    over the papers — a term must occur in at least ``max(2, n/2000)`` papers (bounds
    memory on large corpora) and in at most half of them (too common to tell themes
    apart) — and handed to BERTopic as a fixed vocabulary. The second value is the
    paper × term count matrix, exactly what the returned vectorizer's ``transform(docs)``
    gives, so term support and NPMI need no second pass over the text.
    """
    from sklearn.feature_extraction.text import CountVectorizer

    n = len(docs)
    stop = stop_words()
    small = n < 30
    selector = CountVectorizer(
        stop_words=stop, ngram_range=(1, 2),
        min_df=1 if small else max(2, round(n / 2000)), max_df=1.0 if small else 0.5,
    )
    try:
        doc_term = selector.fit_transform(docs)
        vocabulary = selector.get_feature_names_out().tolist()
    except ValueError:  # every word is a stop word or too rare / too common
        vocabulary = []
    if vocabulary:
        vectorizer = CountVectorizer(stop_words=stop, ngram_range=(1, 2), vocabulary=vocabulary)
        return vectorizer, doc_term
    fallback = CountVectorizer(ngram_range=(1, 1), token_pattern=r"(?u)\b\w+\b")
    try:
        fallback.fit(docs)
    except ValueError as exc:
        raise ValueError("the papers have no words to describe themes with") from exc
    vectorizer = CountVectorizer(ngram_range=(1, 1), token_pattern=r"(?u)\b\w+\b",
                                 vocabulary=fallback.get_feature_names_out().tolist())
    return vectorizer, vectorizer.fit_transform(docs)
