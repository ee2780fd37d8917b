"""Key sentences, gists and representative papers of a theme, by TF-IDF centrality (the
layout of a theme that has no strands)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from litreview.review.citations import _code_urls
from litreview.review.helpers import _NO_MEMBERS, _as_list, _is_missing, _unit, _year
from litreview.review.model import RepresentativePaper, Resource, Sentence
from litreview.review.resources import _MAY_INTRODUCE, find_resources
from litreview.review.sentences import _is_quotable, normalise_whitespace, split_sentences

#: Most central papers per theme whose sentences compete to be key sentences.
CANDIDATE_PAPERS_PER_THEME = 200
#: Most central papers per theme scanned for "we introduce X" resources.
RESOURCE_SCAN_PER_THEME = 500
MAX_RESOURCES_PER_THEME = 8
#: Sentences closer than this (TF-IDF cosine) to an already chosen one are redundant.
REDUNDANCY_THRESHOLD = 0.5
#: How much of a sentence's similarity to the whole corpus is subtracted from its score.
BACKGROUND_PENALTY = 0.5


# --------------------------------------------------------------------------- quoting


class _Quoter:
    """Choose key sentences, gists and resources for themes using TF-IDF centrality."""

    def __init__(
        self,
        abstracts: Mapping[str, str],
        keys: Mapping[str, str],
        topics: pd.DataFrame,
        members: Mapping[int, pd.DataFrame],
    ) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.abstracts = abstracts
        self.keys = keys
        self.members = members
        candidates: dict[int, list[str]] = {}
        for row in topics.itertuples(index=False):
            top = list(members.get(int(row.topic), _NO_MEMBERS)["paper_id"][
                :CANDIDATE_PAPERS_PER_THEME])
            reps = [str(p) for p in _as_list(row.representative_paper_ids)]
            candidates[int(row.topic)] = list(dict.fromkeys(top + reps))
        self.candidates = candidates
        self.sentences: dict[str, list[str]] = {}
        flat: list[str] = []
        self.rows: dict[str, range] = {}
        for paper_ids in candidates.values():
            for pid in paper_ids:
                if pid in self.rows or pid not in abstracts:
                    continue
                sentences = split_sentences(abstracts[pid])
                self.sentences[pid] = sentences
                self.rows[pid] = range(len(flat), len(flat) + len(sentences))
                flat.extend(sentences)
        self.matrix = None
        if flat:
            vectorizer = TfidfVectorizer(
                stop_words="english", sublinear_tf=True, ngram_range=(1, 2)
            )
            try:
                self.matrix = vectorizer.fit_transform(flat)
            except ValueError:  # only stop words
                self.matrix = None
        # One unit-length row per paper: the sum of its sentences' rows. Kept sparse:
        # the uni+bigram vocabulary of a large corpus has ~10^6 columns.
        self.paper_row = {pid: i for i, pid in enumerate(self.rows)}
        self.paper_matrix = None
        if self.matrix is not None:
            from scipy import sparse
            from sklearn.preprocessing import normalize

            owner = np.repeat(np.arange(len(self.rows)), [len(r) for r in self.rows.values()])
            gather = sparse.csr_matrix(
                (np.ones(len(owner)), (owner, np.arange(len(owner)))),
                shape=(len(self.rows), self.matrix.shape[0]),
            )
            self.paper_matrix = normalize(gather @ self.matrix)
        # Sentences typical of the whole corpus ("LLMs have achieved remarkable…") match
        # every theme; subtracting part of their similarity to the corpus favours
        # sentences that say what is specific to a theme.
        self.background = (
            _unit(np.asarray(self.matrix.mean(axis=0)).ravel()) if self.matrix is not None
            else None
        )

    def _weights(self, topic: int) -> dict[str, float]:
        frame = self.members.get(topic, _NO_MEMBERS)
        return {
            pid: float(np.clip(c, 0.05, 1.0)) if not _is_missing(c) else 0.05
            for pid, c in zip(frame["paper_id"], frame["centrality"], strict=True)
        }

    def _paper_vector(self, pid: str) -> Any:
        """Return the paper's unit TF-IDF row (1 × vocabulary, sparse), or None."""
        if self.paper_matrix is None or not self.rows.get(pid):
            return None
        row = self.paper_row[pid]
        return self.paper_matrix[row : row + 1]

    def _centroid(self, topic: int) -> np.ndarray | None:
        weights = self._weights(topic)
        with_text = [pid for pid in self.candidates.get(topic, []) if self.rows.get(pid)]
        if self.paper_matrix is None or not with_text:
            return None
        rows = self.paper_matrix[[self.paper_row[pid] for pid in with_text]]
        weighted = np.asarray([weights.get(pid, 0.05) for pid in with_text]) @ rows
        return _unit(np.asarray(weighted).ravel())

    def _sentence_vectors(self, pid: str) -> Any:
        # Sparse rows: the uni+bigram vocabulary of a large corpus has ~10^6 columns, and
        # dense copies of every candidate sentence took gigabytes at 75k papers.
        rows = self.rows[pid]
        return self.matrix[rows.start : rows.stop]

    def key_sentences(self, topic: int, n: int) -> list[Sentence]:
        """Pick up to ``n`` central, self-contained, non-redundant sentences (one per paper)."""
        centroid = self._centroid(topic)
        if centroid is None or n <= 0:
            return []
        weights = self._weights(topic)
        scored: list[tuple[float, str, int, Any]] = []
        for pid in self.candidates[topic]:
            if pid not in self.rows or not self.rows[pid]:
                continue
            vectors = self._sentence_vectors(pid)
            boost = 0.5 + 0.5 * weights.get(pid, 0.05)
            specific = np.asarray(
                vectors @ centroid - BACKGROUND_PENALTY * (vectors @ self.background)
            ).ravel()
            for i, score in enumerate(specific):  # the row is taken only if it is read
                scored.append((float(score) * boost, pid, i, vectors))
        scored.sort(key=lambda item: (-item[0], item[1], item[2]))
        chosen: list[tuple[Sentence, np.ndarray]] = []
        for strict in (True, False):
            for score, pid, i, vectors in scored:
                if len(chosen) >= n or (not strict and len(chosen) >= min(2, n)):
                    break
                text = self.sentences[pid][i]
                if score <= 0 or not _is_quotable(text, strict=strict):
                    continue
                if any(s.paper_id == pid for s, _ in chosen):
                    continue
                vector = vectors[i]
                if any(float(vector.multiply(v).sum()) > REDUNDANCY_THRESHOLD
                       for _, v in chosen):
                    continue
                chosen.append((Sentence(text, pid, self.keys[pid], round(score, 4)), vector))
        return [s for s, _ in chosen]

    def gist(self, pid: str) -> Sentence | None:
        """The sentence of a paper's abstract closest to its own abstract centroid."""
        sentences = self.sentences.get(pid) or split_sentences(self.abstracts.get(pid, ""))
        if not sentences:
            return None
        own = self._paper_vector(pid) if pid in self.rows else None
        scores = (
            (self._sentence_vectors(pid) @ own.T).toarray().ravel() if own is not None
            else np.zeros(len(sentences))
        )
        order = sorted(range(len(sentences)), key=lambda i: (-scores[i], i))
        for strict in (True, False):
            for i in order:
                if _is_quotable(sentences[i], strict=strict):
                    return Sentence(sentences[i], pid, self.keys[pid], round(float(scores[i]), 4))
        return Sentence(sentences[order[0]], pid, self.keys[pid], round(float(scores[order[0]]), 4))

    def representatives(
        self, topic: int, listed: Iterable[Any], n: int, papers: pd.DataFrame,
        exclude: set[str] | frozenset[str] = frozenset(),
    ) -> list[RepresentativePaper]:
        """The theme's ``n`` most representative papers (stage 02's order, then centrality),
        never one of ``exclude`` (papers stage 02 marked peripheral)."""
        ranked = [str(p) for p in listed] + list(self.members.get(topic, _NO_MEMBERS)["paper_id"])
        chosen = [pid for pid in dict.fromkeys(ranked)
                  if pid in papers.index and pid not in exclude][:n]
        result = []
        for pid in chosen:
            paper = papers.loc[pid]
            code = _code_urls(paper)
            result.append(
                RepresentativePaper(
                    paper_id=pid,
                    key=self.keys[pid],
                    title=normalise_whitespace(paper["title"]),
                    year=_year(paper["year"]),
                    gist=self.gist(pid),
                    code_url=code[0] if code else None,
                )
            )
        return result

    def resources(self, topic: int) -> list[Resource]:
        """Named resources introduced by the theme's most central papers."""
        found: list[Resource] = []
        seen: set[str] = set()
        frame = self.members.get(topic, _NO_MEMBERS)
        for pid in frame["paper_id"][:RESOURCE_SCAN_PER_THEME]:
            abstract = self.abstracts.get(pid, "")
            if not _MAY_INTRODUCE.search(abstract):
                continue
            for sentence in self.sentences.get(pid) or split_sentences(abstract):
                for name, kind in find_resources(sentence):
                    if name.lower() in seen:
                        continue
                    seen.add(name.lower())
                    found.append(Resource(name, kind, Sentence(sentence, pid, self.keys[pid])))
            if len(found) >= MAX_RESOURCES_PER_THEME:
                break
        return found[:MAX_RESOURCES_PER_THEME]
