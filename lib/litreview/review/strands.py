"""Strands (sub-themes) of each theme and their write-up: what the strand works on, every
paper's contribution grouped by kind, what is found and what remains open."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from litreview.review.helpers import _as_list, _join, _text, _unit
from litreview.review.inputs import _Inputs
from litreview.review.kinds import contribution_kind, sentence_kind
from litreview.review.kinds import is_survey as is_survey  # re-exported
from litreview.review.model import (
    CONTRIBUTION_KINDS,
    METHOD_RESOURCE_KINDS,
    Contribution,
    Resource,
    Sentence,
    Strand,
    theme_anchor,
)
from litreview.review.quoter import REDUNDANCY_THRESHOLD
from litreview.review.roles import (
    _LIMITATION,
    _MEASURED,
    RoledSentence,
    _Sentences,
    is_boilerplate,
    is_stock_opening,
)
from litreview.review.sentences import authors_clause, normalise_whitespace, quotable

#: A sentence about the paper's own model or framework ("The model learns to extract …")
#: says what it does, not what the strand works on.
_OWN_WORK = re.compile(
    r"(?:the|our|this|the proposed)\s+(?:proposed\s+|new\s+|novel\s+)?(?:model|framework|"
    r"method|approach|system|network|architecture|algorithm|idea|technique|agent|pipeline|"
    r"tool|dataset|benchmark)s?\b(?:\s+of\s+the\s+\w+)?\s+(?!of\b)", re.I)
#: A result sentence that reports no finding: it validates or stresses one stated elsewhere.
_NO_FINDING = re.compile(
    r"\b(?:validate|confirm|support|corroborate)s?\s+(?:our|these|the)\s+(?:findings|results|"
    r"claims|theory|analysis)\b|\bis particularly important\b|\bsubsequently used\b|"
    r"^(?:recent|prior|previous|existing|earlier|many|several)\s+(?:\w+\s+)?(?:studies|works?|"
    r"research|findings|papers)\b", re.I)
#: Most strands a theme is split into when stage 02 recorded none.
MAX_STRANDS = 6
#: Most central core papers per strand whose sentences compete as problem, finding or open issue.
STRAND_CANDIDATES = 60
#: A strand's sentences are ranked (TF-IDF centroid, redundancy, ordering by similarity)
#: among its this many most central papers' contributions; every paper's contribution is
#: still listed. Below it (every strand of the seed corpus) nothing changes; above it the
#: write-up's vector work grows with the number of strands, not of papers.
STRAND_RANK_PAPERS = 400
N_PROBLEM_SENTENCES = 2
N_OPEN_SENTENCES = 2


# --------------------------------------------------------------------------- strands


@dataclass
class _StrandSpec:
    strand: int
    label: str
    top_terms: list[str]
    members: list[str]  # most central first
    core: list[str]  # members that may represent the strand (not peripheral)


def _strand_specs(
    inputs: _Inputs, members: Mapping[int, pd.DataFrame], texts: Mapping[str, str],
    theme_terms: Mapping[int, Sequence[str]],
) -> dict[int, list[_StrandSpec]]:
    """Strands of every theme: stage 02's when ``doc_topics`` has a ``strand`` column,
    otherwise a deterministic sub-clustering of each theme's papers on their TF-IDF rows."""
    doc = inputs.doc_topics
    if "strand" in doc.columns:
        return _recorded_strands(doc, inputs.strands, members)
    return _subcluster_strands(members, texts, theme_terms)


def _recorded_strands(
    doc: pd.DataFrame, table: pd.DataFrame | None, members: Mapping[int, pd.DataFrame]
) -> dict[int, list[_StrandSpec]]:
    info: dict[int, dict[str, Any]] = {}
    if table is not None and not table.empty:
        for row in table.to_dict("records"):
            info[int(row["strand"])] = row
    strand_of = dict(zip(doc["paper_id"].astype(str), pd.to_numeric(
        doc["strand"], errors="coerce").fillna(-1).astype(int), strict=True))
    membership = (dict(zip(doc["paper_id"].astype(str), doc["membership"].astype(str),
                           strict=True)) if "membership" in doc.columns else {})
    labels = (dict(zip(doc["paper_id"].astype(str), doc["strand_label"], strict=True))
              if "strand_label" in doc.columns else {})
    if "similarity" in doc.columns:
        similarity = dict(zip(doc["paper_id"].astype(str), pd.to_numeric(
            doc["similarity"], errors="coerce").fillna(-1.0), strict=True))
    else:
        similarity = {}
    specs: dict[int, list[_StrandSpec]] = {}
    for topic, frame in members.items():
        ids = list(frame["paper_id"])
        by_strand: dict[int, list[str]] = {}
        for pid in ids:
            by_strand.setdefault(strand_of.get(pid, -1), []).append(pid)
        out = []
        for strand, pids in by_strand.items():
            rank = {p: i for i, p in enumerate(pids)}
            pids = sorted(pids, key=lambda p: (-similarity.get(p, -1.0), rank[p])) \
                if similarity else pids
            row = info.get(strand, {})
            label = normalise_whitespace(_text(row.get("label")) or _text(labels.get(pids[0])))
            if strand < 0:
                label = "Other papers of this theme"
            shown = row.get("display_terms")  # as the corpus writes them ("RAG", "fMRI")
            terms = [str(t) for t in _as_list(
                shown if shown is not None and len(_as_list(shown)) else row.get("top_terms"))]
            core = [p for p in pids if membership.get(p, "core") != "peripheral"] or pids
            out.append(_StrandSpec(strand, label or f"Strand {strand}", terms, pids, core))
        specs[topic] = _ordered(_gather_unnamed(out, similarity))
    return specs


#: How stage 02 names a strand whose papers share no phrase (``naming.other_papers``).
_UNNAMED = re.compile(r": other papers(?: \(\d+\))?$")


def _gather_unnamed(specs: list[_StrandSpec], similarity: Mapping[str, float]
                    ) -> list[_StrandSpec]:
    """Write a theme's unnamed strands as one "Other papers of this theme" subsection.

    Stage 02 keeps every strand the tree cut, and names one "<theme>: other papers (2)"
    when its papers share no phrase. Three such headings in a row tell a reader nothing;
    one closing subsection of the papers that share no named research line does, the way
    a survey ends a section with its remaining work. Needs a named strand to remain.
    """
    unnamed = [s for s in specs if s.strand < 0 or _UNNAMED.search(s.label)]
    if not unnamed or len(unnamed) == len(specs):
        return specs
    members = [p for s in unnamed for p in s.members]
    order = {p: i for i, p in enumerate(members)}
    members.sort(key=lambda p: (-similarity.get(p, -1.0), order[p]))
    core = [p for s in unnamed for p in s.core]
    core.sort(key=lambda p: (-similarity.get(p, -1.0), order[p]))
    # no key terms either: those of small unnamed groups read as fragments ("trained predict")
    gathered = _StrandSpec(-1, "Other papers of this theme", [], members, core or members)
    return [s for s in specs if all(s is not u for u in unnamed)] + [gathered]


def _ordered(specs: list[_StrandSpec]) -> list[_StrandSpec]:
    """Largest strand first; "other papers" (strand -1) last."""
    return sorted(specs, key=lambda s: (s.strand < 0, -len(s.members), s.label, s.strand))


def _subcluster_strands(
    members: Mapping[int, pd.DataFrame], texts: Mapping[str, str],
    theme_terms: Mapping[int, Sequence[str]],
) -> dict[int, list[_StrandSpec]]:
    """Ward clustering of each theme's papers (TF-IDF, reduced by a seeded SVD).

    The number of strands is round(sqrt(n / 5)), between 1 and :data:`MAX_STRANDS`;
    themes above 2,000 papers use seeded k-means instead of Ward (quadratic memory).
    Each strand is named by the three terms most over-represented in it relative to
    its theme.
    """
    from sklearn.cluster import AgglomerativeClustering, KMeans
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import normalize

    ids = [pid for frame in members.values() for pid in frame["paper_id"]]
    specs: dict[int, list[_StrandSpec]] = {}
    if not ids:
        return specs
    vectorizer = TfidfVectorizer(stop_words="english", sublinear_tf=True, ngram_range=(1, 2),
                                 min_df=2, max_features=50_000)
    try:
        matrix = vectorizer.fit_transform([texts.get(pid, "") for pid in ids])
    except ValueError:
        matrix = None
    row_of = {pid: i for i, pid in enumerate(ids)}
    vocab = vectorizer.get_feature_names_out() if matrix is not None else np.array([])
    for topic, frame in members.items():
        pids = list(frame["paper_id"])
        k = int(min(MAX_STRANDS, max(1, round(math.sqrt(len(pids) / 5)))))
        if matrix is None or k == 1 or len(pids) < 6:
            labels = np.zeros(len(pids), dtype=int)
        else:
            rows = matrix[[row_of[p] for p in pids]]
            n_comp = int(min(50, rows.shape[1] - 1, len(pids) - 1))
            reduced = (normalize(TruncatedSVD(n_comp, random_state=0).fit_transform(rows))
                       if n_comp >= 2 else rows.toarray())
            if len(pids) > 2000:
                labels = KMeans(k, n_init=3, random_state=0).fit_predict(reduced)
            else:
                labels = AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(reduced)
        theme_rows = matrix[[row_of[p] for p in pids]] if matrix is not None else None
        theme_mean = (np.asarray(theme_rows.mean(axis=0)).ravel()
                      if theme_rows is not None else None)
        skip = {str(t).lower() for t in theme_terms.get(topic, [])}
        out = []
        for label in sorted(set(labels.tolist())):
            group = [p for p, lab in zip(pids, labels, strict=True) if lab == label]
            terms: list[str] = []
            if theme_rows is not None and len(set(labels.tolist())) > 1:
                mean = np.asarray(matrix[[row_of[p] for p in group]].mean(axis=0)).ravel()
                lift = mean - theme_mean
                for j in np.lexsort((vocab, -lift))[:40]:
                    term = str(vocab[j])
                    if lift[j] <= 0 or term in skip or any(term in t or t in term for t in terms):
                        continue
                    terms.append(term)
                    if len(terms) == 3:
                        break
            terms = [_display_case(t, [texts.get(p, "") for p in group[:50]]) for t in terms]
            name = _join(terms) if terms else "All papers of this theme"
            out.append(_StrandSpec(int(label), name[:1].upper() + name[1:], terms, group, group))
        out = _ordered(out)
        specs[topic] = [
            _StrandSpec(i, s.label, s.top_terms, s.members, s.core) for i, s in enumerate(out)
        ]
    return specs


def _display_case(term: str, texts: Sequence[str]) -> str:
    """The spelling a lower-cased vocabulary term most often has in the texts (RAG, not rag)."""
    pattern = re.compile(rf"\b{re.escape(term)}\b", re.I)
    spellings: dict[str, int] = {}
    for text in texts:
        for match in pattern.findall(text):
            spellings[match] = spellings.get(match, 0) + 1
    # Only a spelling with capitals inside a word (RAG, SFT, CIFAR, GPT-4) wins over the
    # lower-case term: "Guidance" at the start of a name is not how the field writes it.
    marked = {w: n for w, n in spellings.items() if any(c.isupper() for c in w[1:])}
    if not marked:
        return term
    return min(marked, key=lambda w: (-marked[w], w))


# --------------------------------------------------------------------------- writing

class _StrandWriter:
    """Write each strand: problem, every paper's contribution, findings, open issues."""

    def __init__(self, sentences: _Sentences, keys: Mapping[str, str],
                 titles: Mapping[str, str], rank_papers: int = STRAND_RANK_PAPERS) -> None:
        self.sentences = sentences
        self.keys = keys
        self.titles = titles
        self.rank_papers = rank_papers
        #: Contributions and contribution kinds worked out ahead (``precompute``), by paper.
        self.precomputed: dict[str, Sentence] = {}
        self.precomputed_kinds: dict[str, str] = {}

    def precompute(self, paper_ids: Sequence[str],
                   resources_of: Mapping[str, list[Resource]]) -> None:
        """Work out every listed paper's contribution ahead of the strands; on a large
        corpus half of them in a forked process (``forked.in_two_processes``)."""
        from litreview.review.forked import in_two_processes

        def of_papers(pids: list[str]) -> list[tuple[Sentence, str]]:
            out = []
            for pid in pids:
                out.append(self.contribution_and_kind(pid, resources_of.get(pid, [])))
            return out

        pids = list(dict.fromkeys(paper_ids))
        done = in_two_processes(of_papers, pids)
        self.precomputed = {pid: sentence for pid, (sentence, _) in zip(pids, done, strict=True)}
        self.precomputed_kinds = {pid: kind for pid, (_, kind) in zip(pids, done, strict=True)}

    def kind(self, pid: str, resources: Sequence[Resource] = ()) -> str:
        """The paper's contribution kind (``kinds.contribution_kind``: its whole title and
        abstract, and the resources it introduces)."""
        return contribution_kind(self.titles.get(pid, ""), self.sentences.abstracts.get(pid, ""),
                                 resources, self.sentences.split(pid))

    def contribution_and_kind(self, pid: str, resources: Sequence[Resource] = ()
                              ) -> tuple[Sentence, str]:
        """The paper's contribution sentence and kind, the sentence one that states a
        contribution of that kind when the paper has one (``agreeing``)."""
        kind = self.kind(pid, resources)
        return self.agreeing(pid, self.contribution(pid, resources), kind, resources), kind

    def agreeing(self, pid: str, sentence: Sentence, kind: str,
                 resources: Sequence[Resource] = ()) -> Sentence:
        """``sentence``, or the paper's first quotable sentence that states a contribution
        of ``kind`` when ``sentence`` states another kind (``kinds.sentence_kind``).

        A paper filed as a study (it investigates first, proposes a fix later) is quoted by
        what it investigates, not by "we propose DeHallucinator, a method …" under
        "Studies and analyses"; a dataset paper by the dataset, not by a finding.
        """
        said = sentence_kind(sentence.text) if sentence.role != "title" else None
        if said is None:  # "we developed a set of prompts, termed StressPrompt, …"
            said = next(("method" if r.kind in METHOD_RESOURCE_KINDS else "resource"
                         for r in resources if r.name in sentence.text), None)
        if said is None or said == kind:
            return sentence
        for s in self.sentences.roled(pid):
            if (s.text == sentence.text or s.role in ("background", "conclusion", "limitation")
                    or is_boilerplate(s.text)):
                continue
            # the sentence, or its "we …" clause after an opening phrase that leans on the
            # sentence before ("To fill this gap, we conduct an in-depth study to …")
            text = s.text if s.quotable else authors_clause(s.text)
            if (text and text != sentence.text and sentence_kind(text) == kind
                    and (s.quotable or quotable(text, known_acronyms=self.sentences.known))):
                return Sentence(text, pid, self.keys[pid], role=s.role)
        return sentence

    def contribution(self, pid: str, resources: Sequence[Resource] = ()) -> Sentence:
        """The sentence that introduces the paper's resource, if it stands alone up to the
        resource's name; else its contribution sentence; else its title."""
        for resource in resources:
            whole = resource.sentence.text
            # the sentence, or its "we …" clause after an opening phrase ("Furthermore, we
            # curate HILT, a publicly available dataset …")
            for text in (whole, authors_clause(whole)):
                if not text:
                    continue
                named = text.find(resource.name)
                # the sentence that names what the paper introduces may lean on the one
                # before after the name ("We develop BLIND-ACT, a benchmark … these three
                # patterns.")
                if text != self.titles.get(pid) and quotable(
                        text, known_acronyms=self.sentences.known,
                        leaning_after=named + len(resource.name) if named >= 0 else None):
                    return Sentence(text, pid, self.keys[pid], role="objective")
        found = self.sentences.contribution(pid)
        if found is not None:
            return Sentence(found.text, pid, self.keys[pid], role=found.role,
                            glosses=found.glosses)
        return Sentence(self.titles.get(pid, ""), pid, self.keys[pid], role="title")

    def write(self, topic: int, spec: _StrandSpec, index: int,
              resources_of: Mapping[str, list[Resource]]) -> Strand:
        from sklearn.feature_extraction.text import TfidfVectorizer

        worked = {pid: (self.precomputed[pid], self.precomputed_kinds[pid])
                  if pid in self.precomputed
                  else self.contribution_and_kind(pid, resources_of.get(pid, []))
                  for pid in spec.members}
        contributions = {pid: sentence for pid, (sentence, _) in worked.items()}
        candidates: list[tuple[str, RoledSentence]] = []
        for pid in spec.core[:STRAND_CANDIDATES]:
            for s in self.sentences.roled(pid):
                if s.quotable and s.role in ("background", "result", "limitation") \
                        and s.text != contributions[pid].text \
                        and not (s.role == "background" and (_MEASURED.search(s.text)
                                                             or _OWN_WORK.match(s.text))) \
                        and not (s.role == "result" and (is_boilerplate(s.text)
                                                         or _NO_FINDING.search(s.text))):
                    candidates.append((pid, s))
        # The most central papers' contributions (all of them up to ``rank_papers``).
        ranked = list(contributions.values())[: self.rank_papers]
        capped = len(ranked) < len(contributions)
        texts = [c.text for c in ranked] + [s.text for _, s in candidates]
        vectors = None
        if texts:
            try:
                vectors = TfidfVectorizer(stop_words="english", sublinear_tf=True).fit_transform(
                    texts)
            except ValueError:
                vectors = None
        n_c = len(ranked)
        problem = findings = open_issues = []
        # The papers that share no named research line share no problem or finding either:
        # one quoted from a few of them would speak for all (a safety paper's opening for
        # a group of neuroscience papers); the group lists each paper's contribution only.
        gathered = spec.strand < 0
        if vectors is not None and candidates and not gathered:
            centroid = _unit(np.asarray(vectors.mean(axis=0)).ravel())
            scores = np.asarray(vectors[n_c:] @ centroid).ravel()
            on_topic = strand_term_pattern(spec.label, spec.top_terms)
            specific = [on_topic is not None and on_topic.search(s.text) is not None
                        for _, s in candidates]
            stock = [is_stock_opening(s.text) for _, s in candidates]
            rank = sorted(range(len(candidates)), key=lambda i: (
                stock[i], not specific[i], -scores[i], candidates[i][0],
                candidates[i][1].position))
            problem = self._pick(rank, candidates, vectors[n_c:], "background",
                                 N_PROBLEM_SENTENCES, one_first_line=True)
            n_findings = int(min(4, 1 + len(spec.members) // 5))
            findings = self._pick(rank, candidates, vectors[n_c:], "result", n_findings)
            # What remains open: only sentences that say so ("remains unclear", "future
            # work"), not ones the role reader filed as limitations for a "not" or "fail".
            # and only from the second half of an abstract: a gap stated at its start is
            # the one the paper sets out to fill, not one it leaves open
            stated = [i for i in rank if _LIMITATION.search(candidates[i][1].text)
                      and 2 * candidates[i][1].position >= candidates[i][1].n_sentences]
            open_issues = self._pick(stated, candidates, vectors[n_c:], "limitation",
                                     N_OPEN_SENTENCES)
        # Above the cap the papers keep their centrality order within a kind (no vectors
        # for the others to chain by similarity).
        ordered = self._group(spec.members, contributions, None if capped else vectors,
                              {pid: kind for pid, (_, kind) in worked.items()})
        resources = [r for pid in spec.members for r in resources_of.get(pid, [])]
        return Strand(
            strand=spec.strand, label=spec.label,
            anchor=f"{theme_anchor(topic)}-strand-{index + 1}", size=len(spec.members),
            top_terms=spec.top_terms, problem=problem, contributions=ordered,
            findings=findings, open_issues=open_issues, resources=resources,
        )

    def _pick(self, rank: list[int], candidates: list[tuple[str, RoledSentence]], vectors: Any,
              role: str, n: int, *, one_first_line: bool = False) -> list[Sentence]:
        chosen: list[int] = []
        for i in rank:
            pid, s = candidates[i]
            if len(chosen) >= n:
                break
            if s.role != role or any(candidates[j][0] == pid for j in chosen):
                continue
            if one_first_line and s.position == 0 and any(
                    candidates[j][1].position == 0 for j in chosen):
                continue
            if any(float(vectors[i].multiply(vectors[j]).sum()) > REDUNDANCY_THRESHOLD
                   for j in chosen):
                continue
            chosen.append(i)
        return [Sentence(candidates[i][1].text, candidates[i][0], self.keys[candidates[i][0]],
                         role=role) for i in chosen]

    def _group(self, members: list[str], contributions: Mapping[str, Sentence], vectors: Any,
               kind_of: Mapping[str, str]) -> list[Contribution]:
        """Contributions by kind; within a kind, each next to its most similar neighbour."""
        row = {pid: i for i, pid in enumerate(contributions)}
        out: list[Contribution] = []
        for kind in CONTRIBUTION_KINDS:
            group = [p for p in members if kind_of[p] == kind]
            for pid in _chain(group, row, vectors):
                out.append(Contribution(pid, self.keys[pid], contributions[pid], kind))
        return out


#: Words too broad to show that a sentence is about one strand rather than the whole corpus.
_BROAD_WORDS = frozenset({
    "model", "models", "language", "languages", "large", "llm", "llms", "ai", "learning",
    "data", "paper", "papers", "approach", "method", "methods", "task", "tasks", "results",
    "performance", "system", "systems", "human", "humans", "neural", "network", "networks",
    "other", "work", "study", "studies", "new", "based", "using",
})


def strand_term_pattern(label: str, terms: Sequence[str]) -> re.Pattern[str] | None:
    """Return a pattern matching a sentence that names the strand's own subject.

    The subject is the strand's label phrases (split on "and" and commas) and its key
    terms, less words every paper of a computing corpus uses ("language models", "AI").
    A sentence that matches is about this strand ("While activation steering in large
    language models…"); one that does not is usually the field's stock opening ("Large
    language models have achieved remarkable performance…"), so the writer quotes the
    matching ones first. Plurals match singular terms and the other way round.
    """
    phrases: list[str] = []
    label = re.sub(r":\s*other papers.*$", "", label or "", flags=re.I)
    for part in re.split(r",|\band\b|&", label) + [str(t) for t in terms]:
        words = re.findall(r"[\w-]+", part.lower())
        if not words or all(w in _BROAD_WORDS for w in words):
            continue
        stem = re.escape(" ".join(words)).replace(r"\ ", r"\s+")
        stem = stem[:-1] if stem.endswith("s") and len(words[-1]) > 3 else stem
        phrases.append(stem)
    if not phrases:
        return None
    unique = sorted(set(phrases), key=lambda t: (-len(t), t))
    return re.compile(r"(?<![\w-])(?:" + "|".join(unique) + r")(?:e?s)?(?![\w-])", re.I)


def _chain(group: list[str], row: Mapping[str, int], vectors: Any, limit: int = 400) -> list[str]:
    """Order papers so that each follows the most similar one not yet placed.

    Starts from the most central paper (the group's first); above ``limit`` papers
    the quadratic walk is skipped and centrality order is kept.
    """
    if vectors is None or len(group) <= 2 or len(group) > limit:
        return list(group)
    sub = vectors[[row[p] for p in group]]
    sim = (sub @ sub.T).toarray()
    placed = [0]
    left = set(range(1, len(group)))
    while left:
        last = placed[-1]
        nxt = min(left, key=lambda j: (-sim[last, j], j))
        placed.append(nxt)
        left.remove(nxt)
    return [group[i] for i in placed]
