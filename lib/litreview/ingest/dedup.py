"""Group records of the same paper: same DOI, PMID or arXiv id, same normalized title, fuzzy title.

Fuzzy matching never loops over all pairs in Python: titles are blocked by their rarest
words, and within a block ``rapidfuzz.process.cdist`` scores the pairs in C++.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process

from litreview.ingest.clean import fuzzy_title_form

#: Strength of each kind of evidence; a duplicate reports the strongest link it has.
_RANK = {"same DOI": 0, "same PMID": 1, "same arXiv id": 2, "same normalized title": 3, "fuzzy": 4}
_BLOCK_KEYS_PER_TITLE = 3
_MAX_BLOCK = 2000
_STOPWORDS = frozenset(
    {
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "by",
        "for",
        "from",
        "in",
        "into",
        "is",
        "of",
        "on",
        "or",
        "the",
        "to",
        "via",
        "with",
        "using",
        "towards",
        "toward",
        "we",
        "our",
        "its",
        "their",
        "based",
    }
)


@dataclass
class DedupKeys:
    """What dedup looks at in one record."""

    doi: str | None
    arxiv_id: str | None
    title: str | None
    pmid: str | None = None


@dataclass
class DedupResult:
    """``group[i]`` is the index of the first record of record i's paper; ``match[i]`` why."""

    group: list[int]
    match: list[str | None]


class _UnionFind:
    def __init__(self, keys: Sequence[DedupKeys]) -> None:
        self.parent = list(range(len(keys)))
        self.dois = [{k.doi} if k.doi else set() for k in keys]
        self.arxiv = [{k.arxiv_id} if k.arxiv_id else set() for k in keys]
        self.pmids = [{k.pmid} if k.pmid else set() for k in keys]

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def conflicts(self, a: int, b: int) -> bool:
        ra, rb = self.find(a), self.find(b)
        return bool(
            (self.dois[ra] and self.dois[rb] and not self.dois[ra] & self.dois[rb])
            or (self.arxiv[ra] and self.arxiv[rb] and not self.arxiv[ra] & self.arxiv[rb])
            or (self.pmids[ra] and self.pmids[rb] and not self.pmids[ra] & self.pmids[rb])
        )

    def union(self, a: int, b: int) -> None:
        ra, rb = sorted((self.find(a), self.find(b)))  # the earlier record stays the root
        if ra != rb:
            self.parent[rb] = ra
            self.dois[ra] |= self.dois[rb]
            self.arxiv[ra] |= self.arxiv[rb]
            self.pmids[ra] |= self.pmids[rb]


def find_duplicates(keys: Sequence[DedupKeys], fuzzy_threshold: float = 92.0) -> DedupResult:
    """Group records of the same paper; title matches never join records with different DOIs."""
    uf = _UnionFind(keys)
    best: list[tuple[int, float, str] | None] = [None] * len(keys)

    def link(a: int, b: int, kind: str, score: float = 100.0, *, check: bool) -> None:
        if check and uf.conflicts(a, b):
            return
        uf.union(a, b)
        label = f"fuzzy title match {score:.1f}" if kind == "fuzzy" else kind
        for i in (a, b):
            candidate = (_RANK[kind], -score, label)
            if best[i] is None or candidate < best[i]:
                best[i] = candidate

    for attr, kind in (("doi", "same DOI"), ("pmid", "same PMID"), ("arxiv_id", "same arXiv id")):
        first: dict[str, int] = {}
        for i, k in enumerate(keys):
            value = getattr(k, attr)
            if value:
                if value in first:
                    link(first[value], i, kind, check=False)
                else:
                    first[value] = i

    all_forms = [fuzzy_title_form(k.title) for k in keys]
    title_keys = ["".join(form.split()) for form in all_forms]
    first_by_title: dict[str, int] = {}
    for i, key in enumerate(title_keys):
        if not key:
            continue
        if key in first_by_title:
            link(first_by_title[key], i, "same normalized title", check=True)
        else:
            first_by_title[key] = i

    if fuzzy_threshold <= 100:
        representatives = list(first_by_title.values())
        forms = [all_forms[i] for i in representatives]
        for a, b, score in fuzzy_title_pairs(forms, fuzzy_threshold):
            ra, rb = representatives[a], representatives[b]
            if _numbers(forms[a]) == _numbers(forms[b]):
                link(ra, rb, "fuzzy", score, check=True)
        # Records sharing a representative's exact title follow it through the union-find.

    group = [uf.find(i) for i in range(len(keys))]
    match = [None if group[i] == i else (best[i][2] if best[i] else None) for i in range(len(keys))]
    return DedupResult(group=group, match=match)


def fuzzy_title_pairs(forms: Sequence[str], threshold: float) -> list[tuple[int, int, float]]:
    """Return ``(i, j, score)`` with i < j for title forms whose token-sort ratio ≥ threshold."""
    blocks = _blocks(forms)
    pairs: dict[tuple[int, int], float] = {}
    for members in blocks:
        for chunk_start in range(0, len(members), _MAX_BLOCK):
            rows = members[chunk_start : chunk_start + _MAX_BLOCK]
            cols = members[chunk_start:]
            scores = process.cdist(
                [forms[i] for i in rows],
                [forms[j] for j in cols],
                scorer=fuzz.token_sort_ratio,
                score_cutoff=threshold,
                workers=1,
                dtype=np.float32,
            )
            for r, c in zip(*np.nonzero(scores), strict=True):
                i, j = rows[r], cols[c]
                if i < j:
                    pairs[(i, j)] = float(scores[r, c])
    return [(i, j, score) for (i, j), score in sorted(pairs.items())]


def _blocks(forms: Sequence[str]) -> list[list[int]]:
    """Group titles by their rarest words: near-identical titles share their rare words."""
    tokens = [
        [t for t in set(form.split()) if t not in _STOPWORDS and len(t) > 1] for form in forms
    ]
    frequency = Counter(t for ts in tokens for t in ts)
    blocks: dict[str, list[int]] = defaultdict(list)
    for i, ts in enumerate(tokens):
        if not ts:
            continue
        for token in sorted(ts, key=lambda t: (frequency[t], t))[:_BLOCK_KEYS_PER_TITLE]:
            blocks[token].append(i)
    return [members for _, members in sorted(blocks.items()) if len(members) > 1]


def _numbers(form: str) -> list[str]:
    """Numbers in a title: "Llama 2" and "Llama 3" differ by one character yet are not one paper."""
    return sorted(re.findall(r"\d+", form))
