"""Readable theme names from topic term lists: clean the terms, then name the theme.

Pure functions on lists of strings; nothing here knows about BERTopic.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

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


def singular(word: str) -> str:
    """Return a crude singular form used only to compare terms (``"networks"`` → ``"network"``)."""
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
) -> list[str]:
    """Return the informative terms of one theme, best first.

    Drops empty terms and terms made only of stop words (``RESEARCH_STOP_WORDS``
    plus ``stop_words``), terms in ``exclude`` (e.g. ones shared by most themes),
    a later repeat of a term in another number (``network``/``networks``), and a
    unigram when a bigram containing it is present — the bigram takes the
    better of the two ranks.
    """
    stop = RESEARCH_STOP_WORDS | {w.lower() for w in stop_words}
    excluded = {_term_key(t.lower()) for t in exclude}
    candidates: list[str] = []
    seen: set[str] = set()
    for raw in terms:
        term = re.sub(r"\s+", " ", str(raw)).strip().lower()
        if not term or all(w in stop or singular(w) in stop for w in term.split()):
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
    counts = Counter(names)
    seen: Counter[str] = Counter()
    for i, name in enumerate(names):
        if counts[name] > 1:
            seen[name] += 1
            names[i] = f"{name} ({seen[name]})"
    return names
