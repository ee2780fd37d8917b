"""Readable theme names.

Two ways in:

* ``name_groups`` names groups of papers (themes, or strands inside a theme) from
  the papers' own titles and abstracts: a label is a whole phrase the papers use
  ("Activation steering", "Theory of mind"), or two joined by "and", with key terms
  of the same kind. Nothing here knows about BERTopic or embeddings.
* The older helpers (``clean_terms``, ``theme_name``, ``unique_theme_names`` ...)
  clean and join term lists that a topic model produced.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

#: Words that say nothing about a theme in a corpus of research abstracts.
RESEARCH_STOP_WORDS = frozenset(
    (
        "abstract", "achieve", "achieves", "achieved", "address", "addresses", "across",
        "also", "analysis", "analyze", "approach", "approaches", "based", "benchmark",
        "benchmarks", "better", "can", "capabilities", "capability", "challenge", "challenges",
        "demonstrate", "demonstrates", "different", "effective", "effectively", "empirical",
        "enable", "enables", "evaluate", "evaluated", "evaluation", "existing", "experiment",
        "experiments", "extensive", "finally", "findings", "framework", "furthermore",
        "further", "however", "improve", "improved", "improves", "improving", "including",
        "introduce", "introduces", "key", "large", "language", "llm", "llms", "lm", "lms",
        "method", "methods", "model", "models", "moreover", "novel", "outperform",
        "outperforms", "paper", "performance", "present", "presents", "prior", "problem",
        "problems", "propose", "proposed", "proposes", "provide", "provides", "recent",
        "research", "result", "results", "shows", "show", "shown", "significant",
        "significantly", "specific", "state", "study", "studies", "task", "tasks", "technique",
        "techniques", "use", "used", "uses", "using", "via", "well", "wide", "widely", "work",
        "works", "new", "data", "art", "various", "high", "highly", "existing", "available",
        "make", "makes", "allow", "allows", "able", "way", "ways", "therefore", "thus",
        "first", "second", "one", "two", "three", "code",
    )
)

#: Spellings kept as written when a term is shown (keys are lower-case).
SPECIAL_CASE = {
    "ai": "AI", "api": "API", "apis": "APIs", "asr": "ASR", "bert": "BERT", "cnn": "CNN",
    "cnns": "CNNs", "cot": "CoT", "dpo": "DPO", "gnn": "GNN", "gnns": "GNNs", "gpt": "GPT",
    "kv": "KV", "llm": "LLM", "llms": "LLMs", "lora": "LoRA", "lm": "LM", "lms": "LMs",
    "ml": "ML", "mlp": "MLP", "moe": "MoE", "nlp": "NLP", "ood": "OOD", "ppo": "PPO",
    "qa": "QA", "rag": "RAG", "rl": "RL", "rlhf": "RLHF", "rnn": "RNN", "rnns": "RNNs",
    "sae": "SAE", "saes": "SAEs", "tts": "TTS", "vlm": "VLM", "vlms": "VLMs", "vqa": "VQA",
    "2d": "2D", "3d": "3D", "ner": "NER", "mt": "MT", "nli": "NLI", "icl": "ICL",
    "mllm": "MLLM", "mllms": "MLLMs", "lvlm": "LVLM", "lvlms": "LVLMs", "gan": "GAN",
    "gans": "GANs", "vae": "VAE", "vaes": "VAEs", "ssm": "SSM", "ssms": "SSMs",
}

FALLBACK_NAME = "All papers"
_IRREGULAR_SINGULAR = {
    "bias": "bias", "biases": "bias", "analyses": "analysis", "hypotheses": "hypothesis",
    "aliases": "alias", "atlas": "atlas", "data": "data", "criteria": "criterion",
}


@functools.lru_cache(maxsize=1 << 18)
def singular(word: str) -> str:
    """Return a crude singular form used only to compare terms (``"networks"`` → ``"network"``).

    Cached: a 75k-paper corpus asks for 15 million words' forms, of a few hundred thousand
    distinct words.
    """
    if word in _IRREGULAR_SINGULAR:
        return _IRREGULAR_SINGULAR[word]
    if len(word) <= 3:
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is", "ics")):
        return word[:-1]
    return word


def _term_key(term: str) -> str:
    return " ".join(singular(w) for w in term.split())


def clean_terms(
    terms: Iterable[str],
    *,
    stop_words: Iterable[str] = (),
    exclude: Iterable[str] = (),
    max_terms: int | None = None,
    drop_generic: bool = False,
) -> list[str]:
    """Return the informative terms of one theme, best first.

    Drops empty terms and terms made only of stop words (``RESEARCH_STOP_WORDS``
    plus ``stop_words``), terms that start or end with a filler word
    (``FILLER_WORDS``, scikit-learn's stop words, an "-ly" adverb: "empirically",
    "overlook", "single"), with ``drop_generic`` a single generic word
    (``GENERIC_WORDS``: "level", "machine"), terms in ``exclude`` (e.g. ones shared
    by most themes), a later repeat of a term in another number
    (``network``/``networks``), and a unigram when a bigram containing it is present
    — the bigram takes the better of the two ranks.
    """
    stop = RESEARCH_STOP_WORDS | {w.lower() for w in stop_words}
    edge = _edge_stop_words()
    excluded = {_term_key(t.lower()) for t in exclude}
    candidates: list[str] = []
    seen: set[str] = set()
    for raw in terms:
        term = re.sub(r"\s+", " ", str(raw)).strip().lower()
        if not term or all(w in stop or singular(w) in stop for w in term.split()):
            continue
        words = term.split()
        if any(w in edge or singular(w) in edge or (len(w) >= 8 and w.endswith("ly"))
               for w in {words[0], words[-1]}):
            continue
        if any(w.isdigit() for w in words) or _acronym_tail(words):
            continue
        if drop_generic and len(words) == 1 and (term in GENERIC_WORDS
                                                 or singular(term) in GENERIC_WORDS):
            continue
        key = _term_key(term)
        if key in seen or key in excluded:
            continue
        seen.add(key)
        candidates.append(term)

    unigram_rank = {singular(t): r for r, t in enumerate(candidates) if " " not in t}
    in_bigrams = {singular(w) for t in candidates if " " in t for w in t.split()}
    ranked: list[tuple[int, int, str]] = []
    for rank, term in enumerate(candidates):
        words = [singular(w) for w in term.split()]
        if len(words) == 1:
            if words[0] not in in_bigrams:
                ranked.append((rank, rank, term))
            continue
        # A bigram takes the rank of the best unigram it absorbs.
        best = min([rank, *(unigram_rank[w] for w in words if w in unigram_rank)])
        ranked.append((best, rank, term))
    result = [term for _, _, term in sorted(ranked)]
    return result[:max_terms] if max_terms is not None else result


def _acronym_tail(words: Sequence[str]) -> bool:
    """Whether a term is the end of a phrase and its acronym: "generation rag", "learning rl".

    A bag-of-words vectorizer makes these from "retrieval-augmented generation (RAG)"; the
    acronym's last letter starts the word before it.
    """
    if len(words) != 2:
        return False
    first, last = words
    return (last in SPECIAL_CASE and SPECIAL_CASE[last].isupper() and len(last) >= 2
            and first.startswith(last[-1]) and not first.startswith(last))


def consensus_terms(*ranked_lists: Sequence[str]) -> list[str]:
    """Merge ranked term lists by Borda count: a term scores ``len(list) - rank`` per list.

    Terms are matched ignoring number (``emotion``/``emotions``); ties keep the
    order of the first list, then the second, and so on. Each term keeps the
    spelling of the list where it ranks best.
    """
    scores: dict[str, float] = {}
    first_seen: dict[str, tuple[int, int]] = {}
    best: dict[str, tuple[int, str]] = {}
    for list_index, terms in enumerate(ranked_lists):
        length = len(terms)
        for rank, term in enumerate(terms):
            key = _term_key(term)
            if key in scores and first_seen[key][0] == list_index:
                continue  # a repeat within the same list
            scores[key] = scores.get(key, 0.0) + (length - rank)
            first_seen.setdefault(key, (list_index, rank))
            if key not in best or rank < best[key][0]:
                best[key] = (rank, term)
    order = sorted(scores, key=lambda k: (-scores[k], first_seen[k]))
    return [best[k][1] for k in order]


def shared_terms(topic_terms: Sequence[Sequence[str]], max_share: float = 0.5) -> set[str]:
    """Return the terms found in more than ``max_share`` of the themes' lists.

    With fewer than three themes nothing is shared "by most", so the set is empty.
    """
    if len(topic_terms) < 3:
        return set()
    counts = Counter(_term_key(t.lower()) for terms in topic_terms for t in set(terms))
    limit = max_share * len(topic_terms)
    return {term for term, n in counts.items() if n > limit}


_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")


def learn_casing(texts: Iterable[str], *, min_count: int = 2) -> dict[str, str]:
    """Learn how the corpus writes its acronyms and names: ``{"fmri": "fMRI", "gpt": "GPT"}``.

    A word gets the form it most often takes when that form has a capital after the
    first letter (``fMRI``, ``LLMs``, ``NormBank``); Title-case forms are left out
    because they are mostly sentence starts.
    """
    form_counts: Counter[str] = Counter()
    for text in texts:
        form_counts.update(_WORD.findall(text))
    best: dict[str, tuple[int, str]] = {}  # lower-case word -> (count, form) of its top form
    for form, count in form_counts.items():
        lower = form.lower()
        if lower not in best or (count, form) > best[lower]:
            best[lower] = (count, form)
    return {lower: form for lower, (count, form) in best.items()
            if count >= min_count and any(c.isupper() for c in form[1:])}


def display_word(word: str, casing: Mapping[str, str] | None = None) -> str:
    """Return a word as shown in a name: in the corpus's usual case, known acronyms, else lower."""
    lower = word.lower()
    if casing and lower in casing:
        return casing[lower]
    if lower in SPECIAL_CASE:
        return SPECIAL_CASE[lower]
    return lower


def format_term(
    term: str, *, capitalize: bool = False, casing: Mapping[str, str] | None = None
) -> str:
    """Return a term in sentence case, keeping acronyms: ``"rag pipeline"`` → ``"RAG pipeline"``."""
    words = [display_word(w, casing) for w in term.split()]
    if capitalize and words and words[0] == words[0].lower():
        words[0] = words[0][:1].upper() + words[0][1:]
    return " ".join(words)


def theme_name(
    terms: Sequence[str], n_terms: int = 2, *, casing: Mapping[str, str] | None = None
) -> str:
    """Return a short name from the best terms: ``"Hallucination detection & RAG"``.

    Takes ``n_terms`` terms (a third when the first two are short single words),
    skipping a term that repeats a word already in the name
    (``"safety alignment"`` then ``"alignment faking"``).
    """
    chosen: list[str] = []
    used: set[str] = set()
    for term in terms:
        words = {singular(w) for w in term.split()}
        if words & used:
            continue
        chosen.append(term)
        used |= words
        short_pair = (n_terms == 2 and len(chosen) == 2
                      and all(" " not in t for t in chosen) and len("".join(chosen)) < 16)
        if len(chosen) >= n_terms + (1 if short_pair else 0):
            break
    if not chosen:
        return FALLBACK_NAME
    shown = [format_term(t, capitalize=(i == 0), casing=casing) for i, t in enumerate(chosen)]
    if len(shown) == 1:
        return shown[0]
    return ", ".join(shown[:-1]) + " & " + shown[-1]


def unique_theme_names(
    topic_terms: Sequence[Sequence[str]],
    n_terms: int = 2,
    *,
    casing: Mapping[str, str] | None = None,
) -> list[str]:
    """Name every theme; themes whose names collide get one more term until unique."""
    sizes = [n_terms] * len(topic_terms)
    names = [theme_name(terms, n, casing=casing)
             for terms, n in zip(topic_terms, sizes, strict=True)]
    for _ in range(4):
        counts = Counter(names)
        clashes = [i for i, name in enumerate(names) if counts[name] > 1]
        if not clashes:
            break
        for i in clashes:
            if sizes[i] <= len(topic_terms[i]):
                sizes[i] += 1
                names[i] = theme_name(topic_terms[i], sizes[i], casing=casing)
    # Still equal (identical term lists): number them.
    return number_duplicates(names)


def number_duplicates(names: Sequence[str]) -> list[str]:
    """Return ``names`` with every name that occurs more than once numbered: ``"X (1)"``."""
    counts = Counter(names)
    seen: Counter[str] = Counter()
    out = list(names)
    for i, name in enumerate(out):
        if counts[name] > 1:
            seen[name] += 1
            out[i] = f"{name} ({seen[name]})"
    return out


# ---------------------------------------------------------------------------
# Phrase labels: name groups of papers with phrases the papers themselves use
# ---------------------------------------------------------------------------

#: Content nouns that scikit-learn's English stop-word list carries but research phrases end on.
_NOT_STOP = frozenset((
    "system", "computer", "interest", "fire", "bill", "detail", "amount", "name", "front",
    "side", "part", "top", "bottom", "mill", "move", "call", "back", "full", "empty",
))

#: Words that never start or end a label phrase: verbs, adjectives and adverbs of research
#: prose (``"novel"``, ``"using"``, ``"desired"``), besides scikit-learn's stop words.
FILLER_WORDS = frozenset((
    "abstract", "achieve", "achieves", "achieved", "achieving", "address", "addresses",
    "addressing", "analyze", "analyzing", "analyse", "approach", "approaches", "art", "assess",
    "assessing", "available", "based", "best", "better", "beyond", "boosting", "can",
    "comprehensive", "crucial", "demonstrate", "demonstrates", "desired", "different",
    "diverse", "effective", "effectively", "efficiently", "empirical", "empirically",
    "empowering", "enable", "enables", "enabling", "enhance", "enhanced", "enhancing",
    "ensure", "ensuring", "evaluate", "evaluated", "evaluating", "existing", "explore",
    "exploring", "extensive", "finally", "findings", "furthermore", "given", "good",
    "harnessing", "high", "highly", "important", "improve", "improved", "improves",
    "improving", "including", "introduce", "introduces", "introducing", "investigate",
    "investigating", "key", "large", "leverage", "leveraging", "like", "make", "makes",
    "making", "multiple", "new", "novel", "outperform", "outperforms", "overall", "paper",
    "powerful", "present", "presents", "prior", "propose", "proposed", "proposes",
    "proposing", "provide", "provides", "recent", "recently", "rethinking", "revisiting",
    "significant", "significantly", "simple", "specific", "strong", "study", "studies",
    "studying", "substantial", "towards", "toward", "understand", "unlocking", "use", "used",
    "uses", "using", "various", "versus", "vs", "way", "ways", "well", "wide", "widely",
    "work", "works", "allow", "allows", "able", "result", "results", "shown", "shows",
    "second", "yield", "yields", "across", "et", "al", "suggest", "suggests", "reveal",
    "reveals", "indicate", "indicates", "remain", "remains", "require", "requires", "lead",
    "leads", "obtain", "obtains", "perform", "performs", "offer", "offers", "find", "finds",
    "often", "typically", "usually", "generally", "particularly", "notably", "specifically",
    "additionally", "consequently", "importantly", "especially", "largely", "mainly",
    "capable", "consider", "considers", "considered", "called", "known", "according",
    "mitigating", "mitigate", "measuring", "measure", "detecting", "quantifying", "predicting",
    "identifying", "analysing", "benchmarking", "towards", "incorrect", "correct", "inherent",
    "competitive", "demonstrated", "precise", "nuanced", "individual", "certain",
    # verbs and adjectives read off the seed corpus's labels and key terms
    "does", "do", "did", "doing", "fail", "fails", "failed", "failing", "comparing",
    "compare", "compared", "reducing", "reduce", "reduces", "generating", "generated",
    "answering", "learned", "learns", "efficient", "similar", "smooth", "false", "true",
    "experimental", "experimentally", "observed", "grounded", "physical", "aware", "handling",
    "overlook", "overlooks", "aligning", "controlling", "understanding", "building",
    "eliciting", "exploiting", "integrating", "preserving",
    "pursuing", "restoring", "unveiling", "examining", "tracing", "auditing", "extending",
    "selecting", "charting", "pushing", "turning", "speaking", "walking", "looking",
    "trapping", "decomposing", "localizing", "revealing", "questioning", "diminished",
    "persistent", "surprising", "troubling", "sufficient", "necessary", "robust", "reliable",
    "flexible", "adaptive", "scalable", "faithful", "accurate", "limited", "open", "real",
    "current", "possible", "safe", "unsafe", "inverse", "contains", "contain", "low",
    "lower", "higher", "little", "much", "many", "several", "small", "smaller", "larger",
    "potential", "relevant", "related",
    # read off the seed corpus's key-term lists
    "single", "linear", "nonlinear", "independently", "meaningfully", "sufficiently",
    "prefer", "prefers", "resolve", "resolves", "rejected", "distinct", "aim", "aims",
    "promise", "promising", "help", "helps", "driven", "collected", "induce", "induces",
    "expected", "equivalent", "estimates", "challenging", "influences", "fully", "tend",
    "tends", "positive",
))

#: Generic nouns: fine as the head of a longer phrase ("reward models", "text classification"),
#: never a key term or a label on their own.
GENERIC_WORDS = frozenset((
    "analysis", "application", "applications", "benchmark", "benchmarks", "capabilities",
    "capability", "challenge", "challenges", "code", "data", "dataset", "datasets",
    "evaluation", "experiment", "experiments", "framework", "frameworks", "language",
    "learning", "llm", "llms", "lm", "lms", "method", "methods", "model", "models",
    "people", "performance", "problem", "problems", "research", "state", "system",
    "systems", "task", "tasks", "technique", "techniques", "text", "texts", "understanding",
    "ai", "network", "networks", "neural", "deep", "machine", "human", "humans", "user",
    "users", "information", "training", "trained", "tool", "tools", "set", "sets", "level",
    "time", "number", "quality", "process", "processing", "function", "functions", "case",
    "cases", "question", "questions", "input", "inputs", "output", "outputs", "step",
    "steps", "type", "types", "setting", "settings", "role", "impact", "effect", "effects",
    "ability", "abilities", "behavior", "behaviour", "behaviors", "response", "responses",
    "need", "needs", "insight", "insights", "area", "areas", "support", "standard",
    "standards", "foundation", "connection", "mechanism", "mechanisms", "example", "examples",
    "accuracy", "error", "errors", "feature", "features", "interaction", "interactions",
    "space", "strategy", "strategies", "domain", "domains", "variable", "variables",
    "component", "components", "aspect", "aspects", "factor", "factors", "context",
    "generation", "detection", "prediction", "predictions", "representation",
    "representations", "theory", "distribution", "distributions", "sequence", "sequences",
    "query", "queries", "prompt", "prompts", "word", "words", "baseline", "baselines",
    "token", "tokens", "scale", "rate", "rates", "score", "scores", "class", "classes",
    "category", "categories", "addition", "form", "forms", "solution", "solutions",
    "algorithm", "algorithms", "observation", "observations", "classification",
    # nouns too vague for a name on their own, read off the seed corpus's labels
    "improvement", "improvements", "support", "structure", "structures", "attribute",
    "attributes", "choice", "choices", "change", "changes", "effectiveness", "meaning",
    "experience", "limitation", "limitations", "evidence", "vector", "vectors", "decision",
    "decisions", "engineering", "content", "property", "properties", "operation",
    "operations", "group", "groups", "shift", "shifts", "condition", "conditions",
    "intelligence", "society", "technology", "technologies", "community", "communities",
    "perspective", "perspectives", "loss", "image", "images", "sample", "samples",
    "survey", "surveys", "english", "american", "architecture", "architectures",
    "efficiency", "issue", "issues", "goal", "goals", "action", "actions", "agent", "agents",
    "reward", "rewards", "risk", "risks", "frontier", "frontiers", "lens", "power", "nature",
    "approach", "view", "part", "parts", "limit", "limits", "principle", "principles",
    "instruction", "instructions", "guide", "guideline", "guidelines", "recipe", "toolbox",
    "lesson", "lessons", "potential", "path", "journey", "future", "world", "life",
    "modeling", "modelling", "feedback", "bound", "bounds", "advantage", "advantages",
    "inference", "lie",
    # read off the seed corpus's key-term lists; model names are no topic either
    "answer", "answers", "level", "levels", "years", "year", "rule", "rules", "return",
    "returns", "metric", "metrics", "comparison", "comparisons", "review", "reviews",
    "relationship", "relationships", "extension", "significance", "log", "random",
    "positives", "weight", "weights", "gpt", "chatgpt", "llama", "sonnet", "claude",
    "gemini", "meta", "post", "posts",
))

_POSSESSIVE = re.compile(r"['’]s\b")
#: A word (Unicode letters/digits), a hyphen between two words, or one break character.
_TOKEN = re.compile(r"[^\W_]+|(?<=[^\W_])-(?=[^\W_])|[^\w\s]|_")
_DOC_END, _ABSTRACT_START = "\ue001", "\ue002"  # private-use characters, removed from input

MIN_LABEL_SUPPORT = 3
_MAX_PHRASE_WORDS = 5
_FRAGMENT_SHARE = 0.6   # a phrase this often extended by the same word is a piece of a longer one
_ABSORB_SHARE = 0.7     # in a group, a longer phrase carried by this share of a piece's papers wins
_IDIOM_SHARE = 0.75     # ... or followed by the same word, even a stop word ("with respect" to)
_DANGLING_SHARE = 0.8  # a word this often followed by another content word is a modifier
_DANGLING_ADJECTIVE = 0.55 # the same for words with an adjective's ending
_ADJECTIVE_ENDINGS = ("al", "ive", "ous", "ful", "ic", "ariant", "able", "ible", "ary",
                      "less", "ed")
_TAIL_SHARE = 0.5       # a phrase opening with a generic word this often after another word
_VERB_SHARE = 0.15      # a word this often after "to", "can", "we" ... is a verb
_VERB_CONTEXT = ("to", "can", "cannot", "may", "might", "could", "would", "should", "will",
                 "must", "not", "we", "they", "often")
_COVER = 0.6            # a label phrase carried by fewer of the group's papers gets a partner,
_FIRST_POOL = 3         # ... chosen among the best this many phrases,
_PAIR_PRECISION = 0.5   # ... a partner mostly found in the group, that adds papers,
_PAIR_TITLES = 0.3      # ... both in titles (a one-word partner in two, and this share of them,
_PAIR_DISTINCT = 0.8    # ... unless this share of its papers are in the group)
_WEAK = 0.3             # score factor of a generic word ("prediction"), a label of last resort
_POOL = 48              # candidate phrases kept per group
_PAIR_POOL = 16         # of which the best this many are tried in pairs
#: A theme's label covers this share of its papers (its phrases together), its main phrase
#: ``MAIN_COVERAGE``; below that, one phrase names a minority ("Fairness" for 5 of 41
#: papers on invariance, OOD generalization, causal inference and fairness). Read off the
#: seed corpus: its honest theme labels cover 32-64 %, the minority ones 12-29 %.
THEME_COVERAGE = 0.3
MAIN_COVERAGE = 0.25
_WHOLE_COVERAGE = 0.5   # a theme label this broad may come from one strand alone
_SPREAD_SHARE = 0.25    # ... else it reaches two strands (this share of each, two papers)
#: A strand of this many papers left unnamed chooses its label first (``name_groups``).
LARGE_GROUP = 8
_SHARED_COVERAGE = 0.5  # a label shared with another theme's strand covers this share


@functools.lru_cache(maxsize=1)
def _edge_stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset((set(ENGLISH_STOP_WORDS) - _NOT_STOP) | FILLER_WORDS)


class _PieceTable(dict):
    """Distinct white-space-separated strings -> id, splitting each into pieces once."""

    def __init__(self) -> None:
        super().__init__()
        self.lengths: list[int] = []
        self.pieces: list[str] = []

    def __missing__(self, text: str) -> int:
        index = self[text] = len(self)
        pieces = ([text] if text.isalnum() or text in (_DOC_END, _ABSTRACT_START)
                  else _TOKEN.findall(text))
        self.lengths.append(len(pieces))
        self.pieces.extend(pieces)
        return index


class _Tokens:
    """The corpus as flat arrays, one entry per word (or break).

    ``key`` is the id of the word's singular form (-1 at a break: punctuation,
    the end of a title or of a paper), ``word`` the id of its lower-case form,
    ``joined`` whether a hyphen ties it to the word before, ``doc`` the paper,
    ``title`` whether it stands in the paper's title. The text is split on white
    space and looked up in a table (C speed); only each distinct string that is not
    a plain word goes through the regular expression, once, and the pieces are
    expanded back with array operations.
    """

    def __init__(self, titles: Sequence[str], abstracts: Sequence[str], chunk: int = 4000):
        import numpy as np

        table = _PieceTable()
        lookup = table.__getitem__
        chunks = []
        for start in range(0, len(titles), chunk):
            text = "".join(
                f"{_clean_field(t)} {_ABSTRACT_START} {_clean_field(a)} {_DOC_END} "
                for t, a in zip(titles[start:start + chunk], abstracts[start:start + chunk],
                                strict=True))
            text = _POSSESSIVE.sub("", text.lower())
            chunks.append(np.fromiter(map(lookup, text.split()), dtype=np.int64))
        codes = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int64)
        lengths = np.asarray(table.lengths, dtype=np.int64)
        # kind: 0 hyphen, 1 end of paper, 2 start of abstract, 3 word, 4 other break
        piece_kind = np.asarray([0 if q == "-" else 1 if q == _DOC_END else
                                 2 if q == _ABSTRACT_START else 3 if q.isalnum() else 4
                                 for q in table.pieces], dtype=np.int8)
        word_ids: dict[str, int] = {}
        piece_word = np.asarray([word_ids.setdefault(q, len(word_ids)) if k == 3 else -1
                                 for q, k in zip(table.pieces, piece_kind, strict=True)],
                                dtype=np.int64)
        offsets = np.concatenate(([0], np.cumsum(lengths)[:-1])) if len(lengths) else lengths
        reps = lengths[codes]
        run_start = np.repeat(np.cumsum(reps) - reps, reps)
        idx = np.repeat(offsets[codes], reps) + (np.arange(int(reps.sum())) - run_start)
        kinds, ids = piece_kind[idx], piece_word[idx]
        hyphen, word = kinds == 0, kinds == 3
        doc_end, abstract_start = kinds == 1, kinds == 2
        ended = np.cumsum(doc_end) - doc_end
        in_title = (np.cumsum(abstract_start) - abstract_start) == ended
        # A hyphen joins two words; any other hyphen is a break.
        join = (hyphen & np.concatenate(([False], word[:-1]))
                & np.concatenate((word[1:], [False])))
        keep = ~join
        self.words = list(word_ids)
        key_ids: dict[str, int] = {}
        word_key = np.asarray([key_ids.setdefault(singular(w), len(key_ids)) for w in self.words]
                              + [-1], dtype=np.int64)
        self.keys = list(key_ids)
        self.word = ids[keep]
        self.key = word_key[self.word]  # -1 indexes the appended -1
        self.joined = np.concatenate(([False], join[:-1]))[keep]
        self.doc = ended[keep].astype(np.int64)
        self.title = in_title[keep]


def _clean_field(value: object) -> str:
    """A title or abstract as text, without the two characters that mark its ends."""
    text = "" if value is None or (isinstance(value, float) and value != value) else str(value)
    if _DOC_END in text or _ABSTRACT_START in text:
        text = text.replace(_DOC_END, " ").replace(_ABSTRACT_START, " ")
    return text


class _Phrases:
    """Every phrase of 1–5 words that stands whole in the corpus, and which papers carry it.

    Hand-written on numpy rather than scikit-learn's ``CountVectorizer`` because the
    vectorizer joins words across punctuation and hyphen compounds ("generation RAG"
    from "generation (RAG)", "augmented generation" from "retrieval-augmented
    generation"), does not tell a title from an abstract, and needs minutes for 74k
    abstracts; here every step is one array operation over all words.

    Candidates are the phrases some title in the corpus uses (titles are written to
    name topics), counted wherever they stand whole, in titles and abstracts: no
    break inside, not cutting a hyphen compound, neither starting nor ending with a
    stop or filler word (unless that word is hyphen-bound, as in "in-context
    learning"), holding at least one word that is not generic. Phrases are keyed by
    their words' singular forms.
    """

    def __init__(self, tok: _Tokens, *, max_words: int = _MAX_PHRASE_WORDS,
                 min_count: int = MIN_LABEL_SUPPORT):
        import numpy as np
        import pandas as pd

        self.tok = tok
        key, joined = tok.key, tok.joined
        n_tok, n_keys = len(key), max(len(tok.keys), 1)
        stop = {singular(w) for w in _edge_stop_words()} | set(_edge_stop_words())
        generic = {singular(w) for w in GENERIC_WORDS} | set(GENERIC_WORDS)
        known = set(tok.keys)
        bad = np.asarray([k in stop or k.isdigit() or len(k) < 2 or _adverb(k, known)
                          for k in tok.keys] + [True])
        index = {k: i for i, k in enumerate(tok.keys)}
        self.verb_context = np.asarray([index[w] for w in _VERB_CONTEXT if w in index],
                                       dtype=np.int64)
        content = np.asarray([not b and k not in generic
                              for k, b in zip(tok.keys, bad[:-1], strict=True)] + [False])
        self.bad = bad
        self.generic_key = np.asarray([k in generic for k in tok.keys] + [False])
        self.stop_keys = frozenset(stop)
        bad_tok, content_tok = bad[key], content[key]
        content_tok = content_tok | _long_compounds(tok)
        content_sum = np.concatenate(([0], np.cumsum(content_tok)))
        joined_pad = np.concatenate((joined, [False], [False]))
        title = tok.title
        positions, gids, self.level, self.first = [], [], [], []
        offset = 0
        weak = np.zeros(0, dtype=np.int64)
        # A phrase may start only at a word that may start one (or is hyphen-bound).
        can_start = (key >= 0) & (~bad_tok | joined_pad[1:n_tok + 1])
        prev = np.where(can_start, key, -1)
        for n in range(1, max_words + 1):
            span = n_tok - n + 1
            if span <= 0:
                break
            if n == 1:
                value = prev
            else:
                value = np.full(span, -1, dtype=np.int64)
                ok = (prev[:span] >= 0) & (key[n - 1:] >= 0)
                value[ok] = prev[:span][ok] * n_keys + key[n - 1:][ok]
            # Only phrases some title uses; codes numbered by the title occurrences.
            vocab = pd.unique(value[(value >= 0) & title[:span]])
            n_codes = len(vocab)
            code = np.full(n_tok, -1, dtype=np.int64)
            live = np.flatnonzero(value >= 0)
            if n == 1:
                lookup = np.full(n_keys, -1, dtype=np.int64)
                lookup[vocab] = np.arange(n_codes)
                code[live] = lookup[value[live]]
            elif n_codes:
                code[live] = pd.Index(vocab).get_indexer(value[live])
            if not n_codes:
                break
            counts = np.bincount(code[code >= 0], minlength=n_codes)
            code = np.where((code >= 0) & (counts[np.maximum(code, 0)] >= min_count), code, -1)
            start = np.flatnonzero(code >= 0)
            first = np.full(n_codes, -1, dtype=np.int64)
            first[code[start]] = start  # any occurrence will do: all spell the same key
            prev = code
            end = start + n - 1
            whole = ~joined[start] & ~joined_pad[end + 1]
            if n == 1:
                # Generic words ("prediction") stay, marked weak: a last resort for a label.
                whole &= ~bad_tok[start]
                weak = np.unique(code[start[whole & ~content_tok[start]]])
            else:
                whole &= content_sum[end + 1] - content_sum[start] > 0
                whole &= (~bad_tok[start] | joined[start + 1]) & (~bad_tok[end] | joined[end])
            start = start[whole]
            positions.append(start)
            gids.append(code[start] + offset)
            self.level.append(np.full(n_codes, n, dtype=np.int64))
            self.first.append(first)
            offset += n_codes
        self.level = np.concatenate(self.level) if self.level else np.zeros(0, dtype=np.int64)
        self.first = np.concatenate(self.first) if self.first else np.zeros(0, dtype=np.int64)
        self.n_grams = offset
        self.weak = weak
        self.pos = np.concatenate(positions) if positions else np.zeros(0, dtype=np.int64)
        self.gid = np.concatenate(gids) if gids else np.zeros(0, dtype=np.int64)
        n_docs = int(tok.doc.max()) + 1 if len(tok.doc) else 1
        self.n_docs = n_docs
        pair = pd.unique(self.gid * n_docs + tok.doc[self.pos])
        self.pair_gid, self.pair_doc = pair // n_docs, pair % n_docs
        in_title = tok.title[self.pos]
        title_pair = pd.unique(self.gid[in_title] * n_docs + tok.doc[self.pos[in_title]])
        self.title_gid, self.title_doc = title_pair // n_docs, title_pair % n_docs

    def key_text(self, gid: int) -> str:
        """The phrase's words in singular form, space-separated (the comparison key)."""
        start, n = int(self.first[gid]), int(self.level[gid])
        return " ".join(self.tok.keys[k] for k in self.tok.key[start:start + n])

    def unfit(self, gids: Any) -> set[int]:
        """The phrases among ``gids`` that do not stand as a name on their own.

        Read from how the corpus uses each phrase, at all its occurrences:

        * a *fragment*: at least ``_FRAGMENT_SHARE`` of its occurrences are preceded,
          or followed, by the same word that may start or end a phrase ("augmented
          generation" after "retrieval", "large language" before "models");
        * a *dangling modifier*: a word, or a phrase ending in an adjective, almost
          always followed by another word that may end a phrase ("social", "moral",
          "retrieval-augmented"), a lower bar for words with an adjective's ending
          ("equivariant");
        * a *verb*: often after "to", "can", "we", ... ("mitigate", "steer");
        * a *tail*: opens with a generic word that another generic word precedes at
          least ``_TAIL_SHARE`` of the time ("model hallucinations").
        """
        import numpy as np
        import pandas as pd

        if not len(gids):
            return set()
        sel = np.isin(self.gid, gids)
        gid, pos = self.gid[sel], self.pos[sel]
        n = self.level[gid]
        key = self.tok.key
        total = pd.Series(1, index=gid).groupby(level=0).sum()
        best = pd.Series(0, index=total.index)
        followed = same_next = preceded = pd.Series(0, index=total.index)
        for side, neighbour in (("left", pos - 1), ("right", pos + n)):
            inside = (neighbour >= 0) & (neighbour < len(key))
            g, nb = gid[inside], key[neighbour[inside]]
            usable = (nb >= 0) & ~self.bad[nb]
            if side == "left":
                verbish = np.isin(nb, self.verb_context)
                verb = pd.Series(verbish.astype(int), index=g).groupby(level=0).sum()
            if not usable.any():
                continue
            if side == "left":
                after_generic = usable & self.generic_key[nb]
                preceded = pd.Series(1, index=g[after_generic]).groupby(level=0).sum()
            pairs = pd.DataFrame({"g": g[usable], "k": nb[usable]}).value_counts()
            top = pairs.groupby(level="g").max()
            best = best.combine(top, max, fill_value=0)
            if side == "right":
                followed = pd.Series(1, index=g[usable]).groupby(level=0).sum() - 1
                any_word = nb >= 0
                same_next = pd.DataFrame({"g": g[any_word], "k": nb[any_word]}).value_counts()
                same_next = same_next.groupby(level="g").max()
        total_f = total.astype(float)
        fragment = ((best.reindex(total.index, fill_value=0) / total_f >= _FRAGMENT_SHARE)
                    | (same_next.reindex(total.index, fill_value=0) / total_f >= _IDIOM_SHARE))
        ids = total.index.to_numpy()
        last = self.tok.key[self.first[ids] + self.level[ids] - 1]
        adjective = np.asarray([self.tok.keys[k].endswith(_ADJECTIVE_ENDINGS) for k in last])
        bar = np.where(adjective, _DANGLING_ADJECTIVE, _DANGLING_SHARE)
        dangling = followed.reindex(total.index, fill_value=0) / total_f >= bar
        # A noun compound used as a modifier ("mental health support", "mental health
        # communities") still names its topic: only a single word or a phrase ending in
        # an adjective dangles; a piece always followed by the same word is a fragment.
        one_word = np.asarray([bool(self.tok.joined[int(self.first[g]) + 1:int(self.first[g])
                                                     + int(self.level[g])].all())
                               for g in ids], dtype=bool)  # "out-of-distribution" is one word
        dangling &= one_word | adjective
        verb = verb.reindex(total.index, fill_value=0) / total_f >= _VERB_SHARE
        # A phrase without inner stop words that opens with a generic word after another
        # generic word is the tail of a compound ("model hallucinations" in "language
        # model hallucinations").
        generic_first = self.generic_key[self.tok.key[self.first[ids]]] & (self.level[ids] > 1)
        generic_first &= ~np.asarray([bool(set(self.key_text(int(g)).split()[1:-1])
                                           & self.stop_keys) for g in ids], dtype=bool)
        tail = generic_first & (preceded.reindex(total.index, fill_value=0).to_numpy()
                                / total_f.to_numpy() >= _TAIL_SHARE)
        unfit = fragment | dangling | verb | tail
        return {int(g) for g in total.index[unfit.to_numpy()]}

    def surfaces(self, gids: Iterable[int]) -> dict[int, str]:
        """Each phrase as the corpus most often writes it (lower case, hyphens kept)."""
        import numpy as np
        import pandas as pd

        gids = np.asarray(sorted(set(gids)), dtype=np.int64)
        if not len(gids):
            return {}
        sel = np.isin(self.gid, gids)
        gid, pos = self.gid[sel], self.pos[sel]
        n = self.level[gid]
        word, joined = self.tok.word, self.tok.joined
        code = word[pos].copy()
        width = 2 * (len(self.tok.words) + 1)
        for k in range(1, int(n.max())):
            more = n > k
            idx = np.where(more, pos + k, pos)
            step = np.where(more, word[idx] * 2 + joined[idx] + 1, 0)
            code = pd.factorize(code * width + step)[0].astype(np.int64)
        frame = pd.DataFrame({"g": gid, "s": code, "p": pos})
        forms = frame.groupby(["g", "s"]).agg(count=("p", "size"), pos=("p", "min")).reset_index()
        out: dict[int, tuple[int, str]] = {}
        for g, count, start in zip(forms["g"], forms["count"], forms["pos"], strict=True):
            text = self._written(int(start), int(self.level[g]))
            if g not in out or (-count, text) < (-out[g][0], out[g][1]):
                out[int(g)] = (int(count), text)
        return {g: text for g, (_, text) in out.items()}

    def _written(self, start: int, n: int) -> str:
        words = self.tok.words
        text = words[self.tok.word[start]]
        for i in range(start + 1, start + n):
            text += ("-" if self.tok.joined[i] else " ") + words[self.tok.word[i]]
        return text


#: Hyphen compounds of three or more words that say nothing about a topic.
_FILLER_COMPOUNDS = frozenset((
    "state-of-the-art", "end-to-end", "off-the-shelf", "plug-and-play", "up-to-date",
    "easy-to-use", "one-to-one", "one-to-many", "many-to-many", "out-of-the-box",
    "day-to-day", "step-by-step", "real-to-sim", "first-of-its-kind", "hard-to-detect",
))


def _long_compounds(tok: _Tokens) -> Any:
    """Per word, whether it stands in a hyphen compound of three or more words.

    Such a compound names a thing ("out-of-distribution detection", "in-context
    learning", "text-to-image") even when each of its words is a stop or generic word,
    so it counts as a content word; ``_FILLER_COMPOUNDS`` ("state-of-the-art") do not.
    """
    import numpy as np

    n = len(tok.key)
    if not n:
        return np.zeros(0, dtype=bool)
    compound = np.cumsum(~tok.joined) - 1
    length = np.bincount(compound)
    long = (length[compound] >= 3) & (tok.key >= 0)
    if long.any():
        starts = np.flatnonzero(long & ~tok.joined)
        for start in starts:
            stop = start + int(length[compound[start]])
            text = "-".join(tok.words[w] for w in tok.word[start:stop])
            if text in _FILLER_COMPOUNDS:
                long[start:stop] = False
    return long


_NOT_ADVERBS = frozenset(("assembly", "monopoly", "butterfly", "underbelly", "anomaly"))


def _adverb(word: str, known: set[str]) -> bool:
    """Whether ``word`` is an "-ly" adverb of a word the corpus also uses ("naturally")."""
    if len(word) < 6 or not word.endswith("ly"):
        return False
    if len(word) >= 8 and word not in _NOT_ADVERBS:
        return True
    return any(base in known for base in (word[:-2], word[:-3] + "y", word[:-4] + "le",
                                          word[:-4]))


def _phrase_key(text: str) -> str:
    """The comparison key of a written phrase: its words' singular forms."""
    words = _TOKEN.findall(_POSSESSIVE.sub("", _clean_field(text).lower()))
    return " ".join(singular(w) for w in words if w[0].isalnum())


@functools.lru_cache(maxsize=1)
def _generic_or_stop() -> frozenset[str]:
    return frozenset({singular(w) for w in GENERIC_WORDS} | set(GENERIC_WORDS)
                     | _edge_stop_words())


def _boilerplate_tail(key_text: str) -> bool:
    """Whether a phrase ends in a preposition and generic words ("... in large language models")."""
    words = key_text.split()
    stop = _edge_stop_words()
    if not words or words[0] in stop:  # a hyphen compound: "out-of-distribution detection"
        return False
    generic = _generic_or_stop()
    inner = [i for i, w in enumerate(words[1:-1], start=1) if w in stop]
    return bool(inner) and all(w in generic for w in words[inner[-1] + 1:])


def alike_phrases(a: str, b: str) -> bool:
    """Whether two label phrases (``_phrase_key`` form) read as one line of work.

    True when one holds the other as whole words ("value" in "human value") or both end
    on the same head word ("social norm", "moral norm"): two sibling strands so named
    look like duplicates to a reader.
    """
    wa, wb = a.split(), b.split()
    if not wa or not wb:
        return False
    if wa[-1] == wb[-1]:
        return True
    short, long = (wa, wb) if len(wa) <= len(wb) else (wb, wa)
    return any(long[i:i + len(short)] == short for i in range(len(long) - len(short) + 1))


def _label_words(key_text: str) -> set[str]:
    """The words two labels must not share: content words, not adjectives ("social")."""
    return {w for w in _content_words(key_text) if not w.endswith(_ADJECTIVE_ENDINGS)}


def _content_words(key_text: str) -> set[str]:
    stop = _edge_stop_words()
    return {w for w in key_text.split() if w not in stop}


def _shown(written: str, casing: Mapping[str, str] | None, *, capitalize: bool = False) -> str:
    """A phrase in the corpus's casing: ``"retrieval-augmented generation (rag)"`` words kept."""
    pieces = re.split(r"([ -])", written)
    shown = [p if p in (" ", "-") else display_word(p, casing) for p in pieces]
    if capitalize and shown and shown[0] and shown[0] == shown[0].lower():
        shown[0] = shown[0][:1].upper() + shown[0][1:]
    return "".join(shown)


#: A one-word label needs this many of the group's titles, or this share of its papers
#: (against the reference set) with one title.
_SINGLE_TITLES = 2
_SINGLE_PRECISION = 0.6
#: An abstract-only phrase names a group only when this share of its papers is in it.
_ABSTRACT_PRECISION = 0.5
#: A label from titles shared by three papers wins over a better-scored one when it
#: scores at least this share of the best option.
_TITLE_FIRST = 0.8


def _label_tier(option: tuple[Any, ...], stats: Mapping[int, tuple[int, int, int, bool]],
                size: int, best: float) -> int:
    """How well an option may serve as a label: 0 from titles, 1 good, 2 last resort, 3 never.

    Tier 0: every phrase stands in at least three of the group's titles (all of them in a
    smaller group) and the option scores at least ``_TITLE_FIRST`` of the best option.
    Tier 1: every phrase is in some title of the group and is not a generic word; a
    single word needs ``_SINGLE_TITLES`` titles, or one title and ``_SINGLE_PRECISION``
    of its papers in the group. Tier 2: an abstract-only phrase or a word in one title.
    Tier 3, never a label: a generic word ("Models", "Challenges").
    """
    score, gids = option[0], option[1]
    parts = [stats.get(gid) for gid in gids]
    if any(p is None or p[3] for p in parts):
        return 3
    words = [len(k.split()) for k in option[3]]
    ok = all(t >= 1 if n > 1 else (t >= _SINGLE_TITLES or d >= _SINGLE_PRECISION * ref)
             and t >= 1 for (d, t, ref, _), n in zip(parts, words, strict=True))
    if not ok:
        # A word no title of the group uses, mostly carried by papers outside it, would
        # name the group after a word of its neighbours ("Attention" for brain papers).
        if all(t == 0 and d < _ABSTRACT_PRECISION * ref for (d, t, ref, _) in parts):
            return 3
        return 2
    titled = all(t >= min(MIN_LABEL_SUPPORT, size) for _, t, _, _ in parts)
    if titled and score >= _TITLE_FIRST * best:
        return 0
    return 1


@functools.lru_cache(maxsize=1)
def _tokens(titles: tuple[str, ...], abstracts: tuple[str, ...]) -> _Tokens:
    """``_Tokens`` of the last papers asked for: ``naming`` names strands, themes and
    strands again over the same placed papers (at 75k papers a tokenisation is ~15 s).
    Nothing writes to a ``_Tokens`` after it is built."""
    return _Tokens(titles, abstracts)


def clear_tokens() -> None:
    """Drop the cached ``_Tokens`` (hundreds of MB at 75k papers) once naming is done."""
    _tokens.cache_clear()


def name_groups(
    papers: Any,
    *,
    parent: Mapping[int, int] | None = None,
    parent_labels: Mapping[int, str] | None = None,
    n_terms: int = 10,
    casing: Mapping[str, str] | None = None,
    min_coverage: float = 0.0,
    protected: Mapping[int, Iterable[str]] | None = None,
    unique_per_parent: bool = False,
) -> Any:
    """Name each group of papers with a phrase its papers use, and list its key terms.

    ``papers`` has columns ``paper_id``, ``title``, ``abstract`` and ``group`` (int;
    -1 = unplaced, ignored). Returns one row per group (sorted by group): ``group``,
    ``label``, ``top_terms`` (lower case, as written), ``display_terms`` (in the
    corpus's casing), ``label_support`` (papers of the group carrying the label's
    phrase, or either phrase of an "A and B" label) and ``size``.

    Candidates are the whole phrases of ``_Phrases`` that at least
    ``MIN_LABEL_SUPPORT`` papers of the group carry (all of them in a group smaller
    than that) and that are not fragments of a longer phrase. A phrase scores
    by how well the papers carrying it coincide with the group — the Jaccard index
    of the two sets among the reference papers (all placed papers; for a strand, its
    parent's papers), a c-TF-IDF-like contrast — times a title weight: half for a
    phrase only abstracts use, full for one in every carrier's title. Inside a group
    a phrase gives way to a longer one that contains it and covers most of its
    papers ("activation steering" over "steering"). When two phrases together match
    the group clearly better than one ("Hallucination and retrieval-augmented
    generation"), the label joins them with "and". A strand's label avoids its
    parent's phrases; labels are unique across the groups named in one call, and
    sibling strands (one parent) never take phrases that read alike
    (``alike_phrases``: one holds the other, or the same head word). Groups choose in
    the order of their best score; a strand of ``LARGE_GROUP`` papers left unnamed by
    such a clash chooses first in a second round, kept when it names more papers than
    it unnames. Equal scores go to the phrase fewer papers of the corpus carry, then to
    the phrase's text, so the result does not depend on row order.

    With ``min_coverage`` (themes: ``THEME_COVERAGE``) a label must say what most of
    the group shares: its phrases together are carried by at least that share of the
    group's papers, its main phrase by at least ``MAIN_COVERAGE``, and, when
    ``papers`` has a ``subgroup`` column (the strands) and the group more than one
    subgroup, it reaches two of them unless it covers ``_WHOLE_COVERAGE`` of the group;
    a group no option covers gets the fallback name (``naming`` composes a broad one).
    ``protected`` (per group, phrases as ``_phrase_key`` writes them: its subgroups'
    own labels) keeps such a phrase out of the group's label unless it reaches two
    subgroups, so a theme does not take the one good name of one of its strands.
    ``label_coverage`` is the share of the group's papers the label's phrases cover.
    """
    import numpy as np
    import pandas as pd
    from scipy import sparse

    columns = ["group", "label", "top_terms", "display_terms", "label_support", "size",
               "label_coverage"]
    placed = papers[papers["group"].astype(int) >= 0]
    if placed.empty:
        return pd.DataFrame(columns=columns)
    groups = sorted({int(g) for g in placed["group"]})
    group_index = {g: i for i, g in enumerate(groups)}
    tok = _tokens(tuple(placed["title"].tolist()), tuple(placed["abstract"].tolist()))
    phrases = _Phrases(tok)
    doc_group = np.asarray([group_index[int(g)] for g in placed["group"]], dtype=np.int64)
    n_groups, n_grams = len(groups), max(phrases.n_grams, 1)
    size = np.bincount(doc_group, minlength=n_groups)

    # Reference set of each group: its parent's papers when the parent has two or more
    # named groups, else every placed paper.
    parent = parent or {}
    parent_of = np.asarray([parent.get(g, -1) if parent.get(g) is not None else -1
                            for g in groups], dtype=np.int64)
    siblings = Counter(int(p) for p in parent_of if p >= 0)
    use_parent = np.asarray([p >= 0 and siblings[int(p)] >= 2 for p in parent_of])
    parent_ids = sorted(siblings)
    parent_index = np.asarray([parent_ids.index(int(p)) if u else -1
                               for p, u in zip(parent_of, use_parent, strict=True)],
                              dtype=np.int64)


    # Papers per (group, phrase), in the titles per (group, phrase), per (parent, phrase).
    pair_group = doc_group[phrases.pair_doc]
    cell, d = np.unique(pair_group * n_grams + phrases.pair_gid, return_counts=True)
    title_cell, t_counts = np.unique(doc_group[phrases.title_doc] * n_grams + phrases.title_gid,
                                     return_counts=True)
    t = np.zeros(len(cell), dtype=np.int64)
    t[np.searchsorted(cell, title_cell)] = t_counts
    g_of, gid_of = cell // n_grams, cell % n_grams
    total = np.bincount(phrases.pair_gid, minlength=n_grams)
    ref = total[gid_of].astype(np.int64)
    in_parent = use_parent[g_of]
    if in_parent.any():
        _, p_inverse = np.unique(parent_index[g_of[in_parent]] * n_grams + gid_of[in_parent],
                                 return_inverse=True)
        p_counts = np.bincount(p_inverse, weights=d[in_parent])
        ref[in_parent] = p_counts[p_inverse].astype(np.int64)
    min_support = np.minimum(MIN_LABEL_SUPPORT, size)
    jaccard = d / (size[g_of] + ref - d)
    score = jaccard * (0.5 + 0.5 * t / d)
    weak = np.isin(gid_of, phrases.weak)
    score[weak] *= _WEAK
    keep = d >= min_support[g_of]
    # The best _POOL candidates of each group (all ties at the cut kept).
    rows = np.flatnonzero(keep)
    rows = rows[np.lexsort((-score[rows], g_of[rows]))]
    rank = np.arange(len(rows)) - np.searchsorted(g_of[rows], g_of[rows])
    cut = np.full(n_groups, -np.inf)
    at_cut = rows[rank == 2 * _POOL - 1]
    cut[g_of[at_cut]] = score[at_cut]
    rows = rows[score[rows] >= cut[g_of[rows]]]
    pooled = np.unique(gid_of[rows])
    fragments = phrases.unfit(pooled)
    key_text = {int(g): phrases.key_text(int(g)) for g in pooled}

    excluded: dict[int, set[str]] = {}
    for g, p in zip(groups, parent_of, strict=True):
        label = (parent_labels or {}).get(int(p)) if p >= 0 else None
        if label:
            keys = {_phrase_key(label)} | {_phrase_key(part) for part in re.split(
                r"\s+(?:and|&)\s+|,\s*", label)}
            keys |= {"".join(w[0] for w in re.split(r"[ -]", k)) for k in keys
                     if len(re.split(r"[ -]", k)) > 1}  # and their acronyms ("RAG")
            excluded[g] = {k for k in keys if k}

    # Which pooled phrase each placed paper carries (for "A and B" unions).
    pool_index = {int(g): i for i, g in enumerate(pooled)}
    in_pool = np.isin(phrases.pair_gid, pooled)
    carries = sparse.csr_matrix(
        (np.ones(int(in_pool.sum())), (phrases.pair_doc[in_pool],
                                       np.searchsorted(pooled, phrases.pair_gid[in_pool]))),
        shape=(len(placed), len(pooled)))
    carries_csc = carries.tocsc()

    options: dict[int, list[tuple[float, str, int, list[str]]]] = {}
    stats: dict[int, dict[int, tuple[int, int, int, bool]]] = {}
    weak_gids = set(phrases.weak.tolist())
    terms: dict[int, list[int]] = {}
    for gi, g in enumerate(groups):
        mine = rows[g_of[rows] == gi]
        cands = [(float(score[r]), key_text[int(gid_of[r])], int(gid_of[r]), int(d[r]),
                  int(t[r]), int(ref[r])) for r in mine
                 if int(gid_of[r]) not in fragments
                 and key_text[int(gid_of[r])] not in excluded.get(g, ())
                 and not _boilerplate_tail(key_text[int(gid_of[r])])]
        support = {c[1]: c[3] for c in cands}
        cands = [c for c in cands if not any(
            len(other) > len(c[1]) and f" {c[1]} " in f" {other} "
            and n >= _ABSORB_SHARE * c[3] for other, n in support.items())]
        cands.sort(key=lambda c: (-c[0], c[1]))
        stats[g] = {c[2]: (c[3], c[4], c[5], c[2] in weak_gids) for c in cands}
        weak_ids = set(phrases.weak[np.isin(phrases.weak, [c[2] for c in cands])].tolist())
        # Key terms: specific first (share of the phrase's papers in the group), then common.
        terms[g] = [c[2] for c in sorted(cands, key=lambda c: (
            -(c[3] / (c[5] + 2)) * (c[3] / size[gi]) ** 0.5 * (0.5 + 0.5 * c[4] / c[3]), c[1]))
            if c[2] not in weak_ids]
        singles = [(s, [gid], dd, [kt]) for s, kt, gid, dd, _, _ in cands[:_POOL]]
        pairs = []
        top = [c for c in cands if c[2] not in weak_ids][:_PAIR_POOL]
        n = int(size[gi])
        if len(top) >= 2 and top[0][3] < _COVER * n:
            cols = [pool_index[c[2]] for c in top]
            members = np.flatnonzero(doc_group == gi)
            x = carries[members][:, cols]
            inside = (x.T @ x).toarray()
            if use_parent[gi]:
                ref_docs = np.flatnonzero(parent_index[doc_group] == parent_index[gi])
                xr = carries[ref_docs][:, cols]
            else:
                xr = carries_csc[:, cols]
            outside = (xr.T @ xr).toarray()
            for ia, ca in enumerate(top[:_FIRST_POOL]):
                single = ca[3] / (n + ca[5] - ca[3])
                for ib, cb in enumerate(top):
                    if (ib == ia or cb[3] < _PAIR_PRECISION * cb[5] or min(ca[4], cb[4]) < 1
                            or (" " not in cb[1] and cb[4] < _PAIR_TITLES * cb[3]
                                and cb[3] < _PAIR_DISTINCT * cb[5])
                            or (" " not in cb[1] and cb[4] < 2 and cb[3] < _PAIR_DISTINCT * cb[5])
                            or _content_words(ca[1]) & _content_words(cb[1])):
                        continue
                    union = ca[3] + cb[3] - inside[ia, ib]
                    union_ref = ca[5] + cb[5] - outside[ia, ib]
                    joint = union / (n + union_ref - union)
                    if union - ca[3] < max(2, 0.1 * n) or joint <= single:
                        continue
                    weight = 0.5 + 0.5 * (ca[4] + cb[4]) / (ca[3] + cb[3])
                    first, second = sorted((ca, cb), key=lambda c: (-c[3], c[1]))
                    pairs.append((joint * weight, [first[2], second[2]], int(union),
                                  [first[1], second[1]]))
        ranked = sorted(singles + pairs, key=lambda o: (-o[0], " and ".join(o[3])))
        options[g] = ranked

    used_gids = {gid for g in groups for gid in terms[g][:n_terms]}
    used_gids |= {gid for g in groups for o in options[g] for gid in o[1]}
    written = phrases.surfaces(used_gids)

    subgroup = (placed["subgroup"].to_numpy(dtype=np.int64) if "subgroup" in placed.columns
                else None)
    protected = {g: {_phrase_key(k) for k in keys} for g, keys in (protected or {}).items()}

    def covers(g: int, option: tuple[Any, ...]) -> bool:
        """Whether an option's phrases cover enough of group ``g`` (see ``min_coverage``)."""
        gi = group_index[g]
        n = int(size[gi])
        _, gids, support, _ = option
        if support < min_coverage * n or stats[g][gids[0]][0] < MAIN_COVERAGE * n:
            return False
        if subgroup is None:
            return True
        members = np.flatnonzero(doc_group == gi)
        subs, sub_size = np.unique(subgroup[members], return_counts=True)
        real = subs >= 0
        if real.sum() < 2:
            return True

        def reached(cols: list[int]) -> int:
            hit = np.asarray(carries[members][:, cols].sum(axis=1)).ravel() > 0
            return sum(int((hit & (subgroup[members] == sub)).sum()) >= max(2, _SPREAD_SHARE * c)
                       for sub, c in zip(subs[real], sub_size[real], strict=True))

        # A phrase that names one of the group's subgroups stays that subgroup's unless
        # it reaches a second one or speaks for most of the group ("mental health", 3 of
        # 22 papers, is the strand's, not the theme's).
        mine = (protected or {}).get(g, ())
        for gid, key in zip(gids, option[3], strict=True):
            if (key in mine and stats[g][gid][0] < _WHOLE_COVERAGE * n
                    and reached([pool_index[gid]]) < 2):
                return False
        return support >= _WHOLE_COVERAGE * n or reached([pool_index[x] for x in gids]) >= 2

    # A strand also avoids a phrase made only of words of the themes' labels (a
    # "Hallucination" strand beside a "Hallucination" theme reads as a duplicate), but
    # only softly; a longer phrase that adds a word of its own is fresh
    # ("Activation steering" inside "Activation and brain").
    theme_words = {w for lab in (parent_labels or {}).values() if lab
                   for w in _label_words(_phrase_key(lab))}
    # A strand's label is never any theme's label.
    avoid = {lab.lower() for lab in (parent_labels or {}).values() if lab}

    def stale(key: str, used: set[str], scope: object) -> bool:
        words = _label_words(key)
        if words & used:
            return True
        return scope != "themes" and bool(words) and words <= theme_words

    def scope_of(g: int) -> object:
        p = parent.get(g)
        return int(p) if p is not None and p >= 0 else "themes"

    tiers: dict[int, dict[int, int]] = {}
    # Papers of the whole corpus that carry an option's phrases (ties go to the rarer).
    spread = {id(o): int(sum(int(total[gid]) for gid in o[1]))
              for g in groups for o in options[g]}
    for g in groups:
        tiers[g] = {id(o): _label_tier(o, stats[g], int(size[group_index[g]]),
                                       options[g][0][0] if options[g] else 0.0)
                    for o in options[g]}
        if min_coverage > 0:
            for o in options[g]:
                if tiers[g][id(o)] < 3 and not covers(g, o):
                    tiers[g][id(o)] = 3

    def assign(order: Sequence[int]) -> dict[int, tuple[str, int]]:
        """Label the groups greedily in ``order``; the first to choose wins a phrase."""
        labels: dict[int, tuple[str, int]] = {}
        taken: set[str] = set()
        taken_in: dict[object, set[str]] = {}  # per theme, its strands' labels
        # Content words already used by a label, per scope: the themes together, or the
        # strands of one theme together with the theme's own label; and the phrases
        # sibling strands took (``alike_phrases`` keeps a strand off them).
        scope_words: dict[object, set[str]] = {}
        scope_keys: dict[object, list[str]] = {}
        for g in order:
            scope = scope_of(g)
            used_words = scope_words.setdefault(scope, set())
            sibling_keys = scope_keys.setdefault(scope, [])
            tier = tiers[g]
            chosen = _pick_label(options[g], tier, spread, taken, avoid, scope, sibling_keys,
                                 used_words, stale, written, casing)
            if unique_per_parent and scope != "themes":
                # A strand of another theme took the phrase its titles share: this strand
                # may carry it too ("Alignment" under Safety and under Bias) rather than
                # fall back to a last-resort word of its abstracts ("Conflict"), when the
                # phrase is in its titles (tier 0-1) and speaks for half its papers.
                shared = _pick_label(options[g], tier, spread, taken_in.get(scope, set()),
                                     avoid, scope, sibling_keys, used_words, stale, written,
                                     casing)
                if (shared and (chosen is None or chosen[3] >= 2) and shared[3] < 2
                        and shared[1] >= _SHARED_COVERAGE * size[group_index[g]]):
                    chosen = shared
            if chosen:
                labels[g] = chosen[:2]
                for k in chosen[2]:
                    used_words |= _label_words(k)
                sibling_keys.extend(chosen[2])
            else:
                text = f"{FALLBACK_NAME} ({g})" if len(groups) > 1 else FALLBACK_NAME
                labels[g] = (text, 0)
            taken.add(labels[g][0].lower())
            taken_in.setdefault(scope, set()).add(labels[g][0].lower())
        return labels

    def unnamed_large(labels: Mapping[int, tuple[str, int]]) -> list[int]:
        """Strands of ``LARGE_GROUP`` papers or more left without a name they could have."""
        return [g for g in order if scope_of(g) != "themes" and labels[g][1] == 0
                and int(size[group_index[g]]) >= LARGE_GROUP
                and any(t <= 2 for t in tiers[g].values())]

    def named_papers(labels: Mapping[int, tuple[str, int]]) -> int:
        return sum(int(size[group_index[g]]) for g in groups if labels[g][1] > 0)

    # Groups with a strong phrase choose first. A large strand left unnamed because a
    # sibling (or another group) took the phrase it needed chooses first instead and the
    # others choose again, so a research line of a dozen papers is not left nameless for
    # a phrase a four-paper strand took ("Values" over "Human values"); kept when it
    # leaves no more papers in unnamed groups than before.
    order = sorted(groups, key=lambda g: (-(options[g][0][0] if options[g] else -1.0), g))
    labels = assign(order)
    first: list[int] = []
    for _ in range(3):
        needy = [g for g in unnamed_large(labels) if g not in first]
        if not needy:
            break
        first += needy
        trial = assign(first + [g for g in order if g not in first])
        if any(trial[g][1] == 0 for g in needy) or named_papers(trial) < named_papers(labels):
            break  # promoting them leaves more papers in unnamed strands than before
        labels = trial

    out = []
    for gi, g in enumerate(groups):
        top_terms = [written[gid] for gid in terms[g][:n_terms]]
        out.append({
            "group": g, "label": labels[g][0], "top_terms": top_terms,
            "display_terms": [_shown(w, casing) for w in top_terms],
            "label_support": labels[g][1], "size": int(size[gi]),
            "label_coverage": labels[g][1] / int(size[gi]),
        })
    return pd.DataFrame(out, columns=columns)


def _pick_label(options: Sequence[tuple[Any, ...]], tier: Mapping[int, int],
                spread: Mapping[int, int], taken: set[str], avoid: set[str], scope: object,
                sibling_keys: Sequence[str], used_words: set[str], stale: Any,
                written: Mapping[int, str], casing: Mapping[str, str] | None,
                ) -> tuple[str, int, list[str], int] | None:
    """The first option of a group that passes ``name_groups``' rules: (text, support,
    phrase keys, tier), or None."""
    # Themes: a fresh word matters more than the tier; strands: the other way round.
    passes = (((1, True), (2, True), (1, False), (2, False)) if scope == "themes" else
              ((1, True), (1, False), (2, True), (2, False)))
    for max_tier, fresh_words in passes:
        # Equal scores: the phrase fewer papers of the corpus carry is the more telling
        # ("toxicity" before "norms"), then the text.
        ranked = sorted((o for o in options if tier[id(o)] <= max_tier),
                        key=lambda o: (tier[id(o)], -o[0], spread[id(o)], " and ".join(o[3])))
        for option in ranked:
            _, gids, support, keys = option
            if scope != "themes" and any(alike_phrases(k, other) for k in keys
                                         for other in sibling_keys):
                continue
            if fresh_words and any(stale(k, used_words, scope) for k in keys):
                continue
            text = _shown(written[gids[0]], casing, capitalize=True)
            if len(gids) > 1:
                text += " and " + _shown(written[gids[1]], casing)
            if text.lower() not in taken and text.lower() not in avoid:
                return (text, support, keys, tier[id(option)])
    return None


# ---------------------------------------------------------------------------
# Label coverage: how many of a group's papers a label speaks for
# ---------------------------------------------------------------------------

_LABEL_PARTS = re.compile(r",\s*|\s+(?:and|&)\s+")


def keyed_text(title: object, abstract: object) -> str:
    """A paper's title and abstract as singular word keys, padded: ``" activation steer ... "``.

    Words are split at spaces, hyphens and punctuation, so "retrieval-augmented" and
    "retrieval augmented" read alike, and compared in singular form (``singular``), as
    the phrase index compares them.
    """
    text = _POSSESSIVE.sub("", f"{_clean_field(title)} . {_clean_field(abstract)}".lower())
    return " " + " ".join(map(singular, _WORD_KEY.findall(text))) + " "


_WORD_KEY = re.compile(r"[^\W_]+")


def label_parts(label: str) -> list[str]:
    """The phrases a label joins: ``"Invariance, generalization and fairness"`` → three."""
    return [p for p in (q.strip() for q in _LABEL_PARTS.split(label)) if p]


def label_carriers(keyed: Sequence[str], label: str) -> list[bool]:
    """Per paper (``keyed_text``), whether its title or abstract holds one of the label's phrases.

    A phrase matches in singular or plural and with hyphens or spaces between its words.
    A fallback name (``FALLBACK_NAME``, "<theme>: other papers") covers nothing.
    """
    if not label or label.startswith(FALLBACK_NAME) or label.endswith(
            ("other papers",)) or ": other papers (" in label:
        return [False] * len(keyed)
    keys = [" " + " ".join(singular(w) for w in _WORD_KEY.findall(
        _POSSESSIVE.sub("", part.lower()))) + " " for part in label_parts(label)]
    keys = [k for k in keys if k.strip()]
    return [any(k in text for k in keys) for text in keyed]


def label_coverage(keyed: Sequence[str], label: str) -> float:
    """The share of papers (``keyed_text``) that carry one of the label's phrases (0 if none)."""
    if not len(keyed):
        return 0.0
    return sum(label_carriers(keyed, label)) / len(keyed)
