"""Resources a paper says it introduces: names and kinds from "we introduce X" sentences
and from titles shaped "X: …"."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from litreview.review.model import Resource, Sentence
from litreview.review.roles import _Sentences
from litreview.review.sentences import COMMON_ACRONYMS, normalise_whitespace

# --------------------------------------------------------------------------- resources

_NAME = r"(?:[A-Z][\w\-*]*|[0-9]+[A-Za-z][\w\-]*)(?:\s+(?:[A-Z0-9][\w\-]*))*?"
_VERBS = (
    r"(?:introduce|present|release|propose|construct|build|curate|create|develop|"
    r"contribute|collect|design|offer)"
)
#: "We propose", "we further introduce", "this paper introduces", "our work presents".
_INTRO = (
    rf"(?:\b[Ww]e\s+(?:\w+ly\s+)?(?:also\s+|further\s+|first\s+|then\s+)?{_VERBS}"
    rf"(?:\s+in this \w+)?|\b(?:[Tt]his|[Oo]ur)\s+(?:paper|work|study|article)\s+{_VERBS}s|"
    rf"\bby\s+(?:introducing|proposing|presenting|releasing|developing|constructing|building|"
    rf"creating|curating|designing)|\b[Ww]e\b[^.;]{{0,80}}?\band\s+{_VERBS}|"
    rf"\b[Oo]ur\s+(?:proposed\s+)?(?:approach|method|framework|model|system|benchmark|dataset))"
)
_KINDS = (
    r"(?:benchmarking|benchmark|data ?set|corpus|corpora|framework|toolkit|tool|library|suite|"
    r"model|method|knowledge (?:bank|base|graph)|resource|collection|taxonomy|metric|"
    r"leaderboard|platform|"
    r"testbed|environment|simulator|pipeline|system|database|lexicon|treebank|test set|"
    r"language model|agent|architecture|algorithm|approach|technique|protocol|paradigm|"
    r"mechanism|function|module|strategy|scheme|measure|index|score|workflow|network)"
)
_DATA_KINDS = (
    r"(?:benchmark|data ?set|corpus|toolkit|library|suite|knowledge (?:bank|base|graph)|"
    r"leaderboard|testbed|test set|treebank|lexicon)"
)
_ACR = r"[A-Za-z][A-Za-z0-9\-*]*[A-Z0-9][A-Za-z0-9\-*]*"
_RESOURCE_PATTERNS = (
    # "We present NormBank, a knowledge bank of …" / "We introduce X (Long Name): a new benchmark"
    re.compile(
        rf"{_INTRO}\s+(?:the\s+)?(?P<name>{_NAME})"
        rf"(?:\s*\([^()]{{1,80}}\))?\s*(?:[,:]\s*(?:which\s+(?:serves\s+as|is)\s+)?|"
        rf"\s+as\s+|\s+(?:--|—)\s*)(?:a|an|the first)\s+"
        rf"(?:[\w\-]+\s+){{0,6}}?(?P<kind>{_KINDS})s?\b"
    ),
    # "We introduce a new benchmark, X, …" / "we release a dataset called X"
    re.compile(
        rf"{_INTRO}\s+(?:a|an|the|two|three|several)\s+(?:[\w\-]+\s+){{0,8}}?"
        rf"(?P<kind>{_KINDS})s?(?:\s*,\s*|,?\s+(?:called|named|dubbed|termed|namely)\s+|\s+)"
        rf"(?P<name>{_NAME})(?=\s*[,.;:(]|\s+(?:which|that|to|for|with|of|comprising|containing|"
        rf"and)\b|\s+(?:[\w\-]+\s+){{0,3}}\()"
    ),
    # "We propose Relevance Patching (RelP)", "we propose dynamic safety shaping (DSS), a
    # framework", "the Flexible Activation Steering with Backtracking (FASB) framework"
    re.compile(
        rf"{_INTRO}\s+(?:the\s+|a\s+|an\s+)?(?:(?:novel|new|simple|first)\s+)?"
        rf"(?P<long>(?:[^\s,;:.()]+\s+){{0,9}}?[^\s,;:.()]+)\s*\((?P<name>{_ACR})\)"
        rf"(?:\s+(?P<kind>{_KINDS})s?\b|(?=\s*(?:[,.;:]|--|—|$)|\s+(?:as|that|which|to|for|"
        rf"with|in|on|and)\b))"
    ),
    # 'we propose "SelfCheckGPT", a …' / 'we introduce "Outlandish," a … dataset'
    re.compile(
        rf"{_INTRO}\s+(?:the\s+)?[\"“`']+(?P<name>[A-Z][\w\-]*(?:\s+[\w\-]+){{0,3}}?)[,.]?[\"”']+"
        rf"(?:\s*,?\s*(?:a|an|the)\s+(?:[\w\-]+\s+){{0,6}}?(?P<kind>{_KINDS})s?\b)?"
    ),
    # "…, named Self-Feedback" / "a technique called X" / "our approach SAILOR"
    re.compile(
        rf"\b(?:named|called|termed|dubbed|namely|our (?:proposed )?(?:approach|method|"
        rf"framework|model|system|benchmark|dataset),?)\s+(?P<name>{_NAME})"
        rf"(?=\s*[,.;:(]|\s+(?:which|that|to|for|with|of|and|is|can|consistently)\b|$)"
    ),
    # "We propose CopyPasteLLM, obtained …" / "we introduce the Poisoned Context Testbed, …"
    re.compile(
        rf"{_INTRO}\s+(?:the\s+)?(?P<name>{_NAME})(?=\s*[,.;:]|\s+(?:to|for|that|which)\b)"
    ),
    # "… SafetyBench, a comprehensive benchmark for …" (only in a sentence that introduces)
    re.compile(
        rf"(?:^|(?<=[\s(]))(?P<name>{_NAME}),\s+(?:a|an)\s+(?:[\w\-]+\s+){{0,5}}?"
        rf"(?P<kind>{_DATA_KINDS})s?\b"
    ),
)
_INTRO_RE = re.compile(_INTRO)
_NAME_STOPWORDS = frozenset({
    "a", "an", "the", "this", "that", "these", "our", "we", "in", "it", "to", "for", "on",
    "with", "as", "by", "unlike", "existing", "towards", "toward", "beyond", "rethinking",
    "revisiting", "understanding", "when", "why", "how", "what", "is", "are", "do",
})
#: The six kinds the report names, and the words that map onto them.
RESOURCE_KINDS = ("dataset", "benchmark", "model", "method", "framework", "library")
_KIND_WORDS = {
    "benchmark": "benchmark", "benchmarking": "benchmark", "leaderboard": "benchmark",
    "test set": "benchmark",
    "testbed": "benchmark", "suite": "benchmark", "test suite": "benchmark",
    "dataset": "dataset", "corpus": "dataset", "corpora": "dataset", "knowledge bank": "dataset",
    "knowledge base": "dataset", "knowledge graph": "dataset", "resource": "dataset",
    "collection": "dataset", "database": "dataset", "lexicon": "dataset", "treebank": "dataset",
    "taxonomy": "dataset",
    "model": "model", "language model": "model", "agent": "model", "architecture": "model",
    "network": "model",
    "framework": "framework", "pipeline": "framework", "system": "framework",
    "platform": "framework", "environment": "framework", "simulator": "framework",
    "workflow": "framework",
    "library": "library", "toolkit": "library", "tool": "library",
}


def find_resources(sentence: str, title: str = "") -> list[tuple[str, str]]:
    """Return ``(name, kind)`` for each named resource a sentence says it introduces.

    The sentence must introduce ("we propose / introduce / present / release …",
    "this paper introduces …"). Names must look like names: CamelCase (``NormBank``),
    an acronym given in parentheses (``RelP``), contain a digit, span several
    capitalised words (``Moral Stories``), be quoted (``"SelfCheckGPT"``), or be a
    single capitalised word that the paper's ``title`` also carries (``Beacon``).
    ``kind`` is one of :data:`RESOURCE_KINDS`.
    """
    if not _INTRO_RE.search(sentence):
        return []
    found: list[tuple[str, str]] = []
    for index, pattern in enumerate(_RESOURCE_PATTERNS):
        for match in pattern.finditer(sentence):
            name = match.group("name").strip(" -")
            groups = match.groupdict()
            if index == 2 and _looks_like_name(groups["long"]) and " " not in groups["long"]:
                name = groups["long"]  # "SimpleSafetyTests (SST)": the long form is the name
            ok = _looks_like_name(name) or index in (2, 3) or (
                index in (0, 1) and name in re.findall(r"[\w\-]+", title)
                and name[:1].isupper())
            if index == 2 and not _looks_like_name(name):
                ok = False
            if index == 3 and name.lower() in _NAME_STOPWORDS:
                ok = False
            if index != 2:  # "named Long Name (ACR) Evaluation": the ACR
                after = re.match(rf"(?:[\s\w\-]{{0,50}}?)\((?P<acr>{_ACR})\)",
                                 sentence[match.end("name"):])
                longer = " " in name or (after is not None and after.group(0)[:-len(
                    after.group("acr")) - 2].strip() != "")
                if after and longer and _looks_like_name(after.group("acr")) and not after.group(
                        "acr").endswith("s"):
                    name, ok = after.group("acr"), True
            if not ok or _is_known(name, found, sentence) or _not_a_name(name):
                continue
            kind = _kind_of(groups.get("kind"), sentence, name)
            found.append((name, kind))
            # "… ConvexDA and RewardFusion", "(GraNd) and the Error L2-Norm (EL2N)"
            rest = sentence[match.end():]
            more = re.match(rf"\s*(?:,|and)\s+(?:the\s+)?(?:(?:[^\s,;:.()]+\s+){{0,5}}?"
                            rf"\((?P<acr>{_ACR})\)|(?P<name>{_NAME})(?=[\s,.;:]))", rest)
            if index != 3 and more:
                extra = more.group("acr") or more.group("name")
                if _looks_like_name(extra) and not _is_known(extra, found, sentence) \
                        and not _not_a_name(extra):
                    found.append((extra, kind))
    return found


def _not_a_name(name: str) -> bool:
    """Plural acronyms (GNNs) and everyday acronyms (LLM, OOD) name no new resource."""
    bare = name.rstrip("*")
    return (bare in COMMON_ACRONYMS or bare in {"OOD", "ID", "IID"}
            or bool(re.fullmatch(r"[A-Z][A-Z0-9]*[A-Z]s", bare)))


def _is_known(name: str, found: Sequence[tuple[str, str]], sentence: str) -> bool:
    for other, _ in found:
        a, b = name.lower(), other.lower()
        if a == b or a in b or b in a:
            return True
        if f"{other} ({name})" in sentence or f"{name} ({other})" in sentence:
            return True
    return False


#: A name whose last part is a kind word says what it is ("Poisoned Context Testbed",
#: "GOAT-Bench", "MOSSBench", "Hybrid Internal Model").
_NAME_KIND = re.compile(
    r"(?:(?<=[a-z0-9])|(?<=[\s\-]))(?P<kind>Bench|Benchmark|Testbed|Corpus|Dataset|Suite|"
    r"Bank|Model|Framework|Toolkit|Library)s?$")
_NAME_KIND_WORDS = {"bench": "benchmark"}
#: What stands next to the name as its apposition: "X, a … framework", "X (ACR): a new
#: benchmark", "the X framework", "X is a … model", "X as a new test suite".
_APPOSITIVE_KIND = re.compile(
    rf"^\s*\)?\s*(?:\([^()]{{0,80}}\))?\s*(?:(?P<direct>{_KINDS})s?\b|(?:,|:|--|—|\s+is|\s+as|"
    rf"\s+which\s+(?:serves\s+as|is))\s*(?:a|an|the|our)?\s*(?:first\s+)?"
    rf"(?:(?!(?:which|that|who|where|we|to|uses?|using|with)\b)[\w\-()]+,?\s+){{0,8}}?"
    rf"(?P<kind>{_KINDS})s?\b)", re.I)


def _kind_of(word: str | None, sentence: str, name: str, title: str = "") -> str:
    """One of :data:`RESOURCE_KINDS`: the kind word the pattern matched; else the kind its
    name ends in ("…Bench", "… Testbed"); else the kind word in apposition after the name
    ("X, a benchmark of …"); else the kind word nearest before it ("a method named X");
    else the kind the title names; else ``method``.

    Only the apposition counts after the name: in "dubbed Attend-and-Excite, we guide
    the model …" or "(MGE), which uses a large language model" the model is not what X is.
    """
    if word:
        return _normalise_kind(word)
    own = _NAME_KIND.search(name or "")
    if own:
        kind = own.group("kind").lower()
        return _NAME_KIND_WORDS.get(kind) or _normalise_kind(kind)
    at = sentence.find(name) if name else -1
    if at >= 0:
        apposition = _APPOSITIVE_KIND.match(sentence[at + len(name):])
        if apposition:
            return _normalise_kind(apposition.group("direct") or apposition.group("kind"))
        before = " ".join(sentence[:at].split()[-8:])
        nearest = re.findall(rf"(?<![\w-]){_KINDS}s?\b", before, re.I)
        if nearest:
            return _normalise_kind(nearest[-1])
    elif not name:
        tail = _title_tail_kind(sentence)
        if tail:
            return tail
    if title:
        tail = _title_tail_kind(title.partition(":")[2])
        if tail:
            return tail
    return "method"


#: "NAME: A Benchmark for …", "NAME: A Multi-Modal Observability Dataset …".
_TAIL_KIND = re.compile(
    rf"^\s*(?:[A-Za-z]+ing\s+)?(?:(?:a|an|the)\s+(?:[\w\-]+\s+){{0,4}}?)?(?P<kind>{_KINDS})s?\b",
    re.I)
#: "MoCa: Measuring Human-Language Model Alignment …": a name that measures is a benchmark.
_TAIL_MEASURES = re.compile(r"^\s*(?:measuring|benchmarking|evaluating|quantifying|assessing)\b",
                            re.I)


def _title_tail_kind(tail: str) -> str | None:
    """The kind a title names after its colon, if it names one at the start."""
    match = _TAIL_KIND.match(tail)
    if match:
        return _normalise_kind(match.group("kind"))
    if _TAIL_MEASURES.match(tail):
        return "benchmark"
    return None


def introduced_resources(title: str, sentences: Sequence[str]) -> list[tuple[str, str, str]]:
    """``(name, kind, sentence)`` for each resource a paper introduces, in reading order.

    Sentences first (:func:`find_resources`), then the title: a title shaped
    ``"X: …"`` names a resource when X is one name-like token (``MOSSBench:``,
    ``EgoNormia:``, ``Beacon:``) and the abstract presents it — mentions X or says
    "we propose / introduce / present". Its sentence is the first that mentions X,
    else the title.
    """
    title = normalise_whitespace(title)
    out: list[tuple[str, str, str]] = []
    names: list[tuple[str, str]] = []
    for sentence in sentences:
        for name, kind in find_resources(sentence, title):
            if not _is_known(name, names, sentence):
                names.append((name, kind))
                out.append((name, kind, sentence))
    head, sep, tail = title.partition(":")
    head = head.strip()
    one_token = len(head.split()) == 1 or bool(re.fullmatch(r"\S+ [0-9IVX]+", head))
    if sep and head and one_token and head.lower() not in _NAME_STOPWORDS:
        mentioned = [s for s in sentences if head in s]  # the pattern only where it can match
        if mentioned:
            mention = re.compile(rf"(?<![\w-]){re.escape(head)}(?![\w-])")
            mentioned = [s for s in mentioned if mention.search(s)]
        single_word = " " not in head and head[:1].isupper() and head[1:].islower()
        name_like = _looks_like_name(head) and "(" not in head and len(head) <= 30
        camel = name_like and head[:1].isalpha()  # not "3D-Properties"
        presents = mentioned or (camel and any(_INTRO_RE.search(s) for s in sentences))
        if ((name_like and presents) or (single_word and mentioned)) and not _is_known(
                head, names, title):
            kind = _title_tail_kind(tail) or (
                _kind_of(None, mentioned[0], head) if mentioned else "method")
            out.append((head, kind, mentioned[0] if mentioned else title))
    return out


def _looks_like_name(name: str) -> bool:
    tokens = name.split()
    if not tokens or tokens[0].lower() in _NAME_STOPWORDS or len(name) > 60:
        return False
    if len(tokens) >= 2:
        return all(t[0].isupper() or t[0].isdigit() for t in tokens)
    token = tokens[0]
    letters = [c for c in token if c.isalpha()]
    has_inner_capital = any(c.isupper() for c in token[1:])
    return bool(letters) and (has_inner_capital or any(c.isdigit() for c in token))


def _normalise_kind(kind: str) -> str:
    kind = kind.lower().replace("data set", "dataset")
    if kind not in _KIND_WORDS and kind.endswith("s"):
        kind = kind[:-1]
    return _KIND_WORDS.get(kind, "method")


# --------------------------------------------------------------------------- per paper


def _resources_by_paper(
    sentences: _Sentences, titles: Mapping[str, str], keys: Mapping[str, str],
    paper_ids: Iterable[str],
) -> dict[str, list[Resource]]:
    """Named resources each paper says it introduces (every paper, no cap).

    On a large corpus half of the papers are read in a forked process
    (``forked.in_two_processes``); the result is the same.
    """
    from litreview.review.forked import in_two_processes

    def of_papers(pids: list[str]) -> list[list[Resource]]:
        return [_paper_resources(sentences, titles, keys, pid) for pid in pids]

    pids = list(dict.fromkeys(paper_ids))
    return {pid: found for pid, found in zip(pids, in_two_processes(of_papers, pids),
                                             strict=True) if found}


def _paper_resources(sentences: _Sentences, titles: Mapping[str, str],
                     keys: Mapping[str, str], pid: str) -> list[Resource]:
    abstract = sentences.abstracts.get(pid, "")
    title = titles.get(pid, "")
    if not (":" in title or _INTRO_RE.search(abstract)):
        return []
    seen: set[str] = set()
    found: list[Resource] = []
    for name, kind, text in introduced_resources(title, sentences.split(pid)):
        if name.lower() not in seen:
            seen.add(name.lower())
            found.append(Resource(name, kind, Sentence(text, pid, keys[pid], role="objective")))
    return found


_MAY_INTRODUCE = re.compile(rf"\b[Ww]e\s+(?:also\s+|further\s+)?{_VERBS}\b|,\s+an?\s")
