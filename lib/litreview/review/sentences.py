"""Sentences of an abstract: splitting, acronyms and whether one can be quoted alone.

A sentence may be quoted only if it stands alone: no dangling connector or
unresolved "this/these/it" opening, no acronym left unexpanded, no statistic on
its own. The rules are hand-written cue lists on purpose (see :mod:`litreview.review.roles`):
few, explicit and testable on an untrusted, unlabelled, offline corpus.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterable, Sequence

MIN_SENTENCE_WORDS = 8
MAX_SENTENCE_WORDS = 50


# --------------------------------------------------------------------------- splitting

_ABBREVIATIONS = frozenset({
    "al", "vs", "cf", "fig", "figs", "eq", "eqs", "sec", "secs", "approx", "resp", "viz", "dr",
    "mr", "mrs", "ms", "prof", "st", "jr", "sr", "inc", "ltd", "ref", "refs", "vol", "pp", "ch",
    "no", "nos"
})
_BOUNDARY = re.compile(r"""[.!?]+["'”’)\]]*\s+(?=["'“‘(\[]?[A-Z0-9])""")
_DOTTED_ACRONYM = re.compile(r"^(?:[A-Za-z]\.){2,}$")  # e.g. i.e. U.S.


def normalise_whitespace(text: str | None) -> str:
    """Collapse runs of whitespace to single spaces and strip the ends."""
    return " ".join(str(text or "").split())


def split_sentences(text: str | None) -> list[str]:
    """Split an abstract into sentences.

    Splits after ``.``, ``!`` or ``?`` followed by whitespace and a capital or
    digit, except after abbreviations (``e.g.``, ``i.e.``, ``et al.``, ``vs.``,
    ``Fig.``), dotted acronyms (``U.S.``) and initials (``J. Smith``). Decimals
    never split because no space follows their dot. Each returned sentence is
    a substring of the whitespace-normalised text.
    """
    text = normalise_whitespace(text)
    if not text:
        return []
    sentences: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        if _is_abbreviation(text[start : match.start() + 1]):
            continue
        end = match.end() - len(match.group()) + len(match.group().rstrip())
        sentence = text[start:end].strip()
        if sentence:
            sentences.append(sentence)
        start = match.end()
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


def _is_abbreviation(before: str) -> bool:
    """Whether the text up to a candidate boundary ends in an abbreviation."""
    if not before.endswith("."):
        return False
    token = before.rsplit(" ", 1)[-1].lstrip("([\"'“‘")
    if _DOTTED_ACRONYM.match(token):
        return True
    word = token[:-1]
    if len(word) == 1 and word.isupper():  # an initial
        return True
    return word.lower() in _ABBREVIATIONS


# --------------------------------------------------------------------------- standing alone

_OPENERS = re.compile(
    # "This paper / study proposes …" names the paper itself, not an earlier sentence
    r"^(?:this(?! (?:paper|work|study|article|survey|review|chapter|thesis|report)\b)|"
    r"these|that|those|it|its|they|their|them|such|he|she|his|her|here|there|"
    r"however|moreover|furthermore|additionally|in addition|also|thus|therefore|hence|"
    r"still|finally|then|besides|nevertheless|nonetheless|consequently|accordingly|"
    r"similarly|likewise|instead|rather|in contrast|by contrast|conversely|meanwhile|"
    r"on the other hand|on the one hand|in fact|indeed|in turn|in particular|in short|"
    r"in summary|in conclusion|to (?:summari[sz]e|conclude)|contrary to (?:the|this|these|that)|"
    r"as a consequence|to further|in doing so|by doing so|in response|in this sense|"
    r"overall|altogether|specifically|to this end|to that end|as a result|"
    r"as such|for example|for instance|for this|first(?:ly)?|second(?:ly)?|third(?:ly)?|"
    r"lastly|next|both|yet|but|and|or|so|other|another|the latter|the former|the same|"
    r"to do so|to begin(?: with)?|namely|in another|in one|for (?:low|high|small|large) values|"
    r"the resulting|the above|the proposed|the former|the remaining|each of|all of|"
    r"further|unlike (?:them|these|those|this|it|prior|previous|existing)|"
    r"along with (?:the|this|these|that|those|our|it|them)\b|"
    r"to (?:bridge|address|fill|tackle|close|overcome|mitigate|solve|remedy|alleviate) "
    r"(?:this|these|the|such|that|those)|previous|prior work|recent work|building on|"
    r"based on (?:this|these|that|those|our|the)|using (?:this|these|that|those|our|the|them|it)|"
    r"with (?:this|these|that|those)|through (?:this|these|that|those)|"
    r"we (?:instead|also|further|then|additionally|therefore|thus|hence|finally|next|"
    r"now|again|similarly|likewise)|our (?:results|findings|analysis|experiments|"
    r"evaluation|approach|method|study) (?:also|further)|one|some of|"
    r"some (?=is|are|was|were|has|have|can|may|do|does)\w+)\b",
    re.IGNORECASE,
)
# A connective set off by commas early on: "Data augmentation, on the other hand, …"
_INNER_CONNECTIVE = re.compile(
    r"^(?:\S+\s+){1,5}?\S+,\s+(?:on the other hand|however|in contrast|by contrast|"
    r"instead|in turn|therefore|thus|hence|moreover|furthermore|in fact|conversely|"
    r"meanwhile|as a result|in particular|for example|for instance|too|also|"
    r"though|nevertheless|nonetheless),",
    re.IGNORECASE,
)
_BACK_REFERENCE = re.compile(
    r"\b(?:this|these|such|those|that) (?:problem|problems|gap|gaps|issue|issues|challenge|"
    r"challenges|limitation|limitations|fact|finding|findings|approach|approaches|method|"
    r"methods|setting|settings|dataset|datasets|benchmark|framework|model|models|task|tasks|"
    r"resource|corpus|analysis|question|questions|phenomenon|behaviou?r|observation|"
    r"observations|insight|insights|end|idea|technique|techniques|strategy|strategies|"
    r"property|properties|result|results|effect|effects|trend|line|direction|shortcoming|"
    r"shortcomings|concern|concerns|need|difficulty|difficulties|discrepancy|bottleneck|"
    r"trade-off|tradeoff|pipeline|metric|measure|system|systems|process|mechanism|"
    r"mechanisms|hypothesis|claim|assumption|paradigm)\b|^motivated by\b|"
    r"\b(?:the|these|those) (?:above|aforementioned|former|latter)\b|"
    # an ordinal that counts items the abstract listed before ("the second goal")
    r"\bthe (?:second|third|fourth|fifth|sixth) (?!time\b|order\b|half\b)[a-z]|"
    r"\b(?:study|experiment) \d\b|"
    r"\b(?:above|aforementioned)\b|"
    # "this" refers back unless it names the paper itself ("In this paper, we …")
    r"\bthis\b(?! (?:paper|work|study|article|survey|review|chapter|thesis|"
    r"report|note|position paper|tutorial)\b)|"
    r"\b(?:these|those)\b(?! (?:of|who|that|which|in|with|whose)\b)|^(?:\S+\s+){0,7}?they\b|"
    r"\bsuch (?!as\b|that\b)[a-z]|\bthem\.$|"
    r"^(?:background|methods?|results?|conclusions?|objectives?|purpose|findings)\s*:|"
    r"^(?:\S+\s+){0,11}?them\b|\b(?:one|two|three|four|five|several|many|all|any|other) such\b|"
    # "Despite its success, it …" leans back; "We review X, its role …" refers to its X
    r"^(?!we\s)[^,]{0,60},\s+(?:it|its|their|such|that|they|\w+ing (?:it|them|their|its))\b|"
    r"^(?:\S+\s+){0,2}?(?:their|its|them)\b|\balso\b|"
    r"\bwe (?:further|additionally|then|instead|again|likewise|similarly)\b|"
    r"\b(?:validate|evaluate|demonstrate|show|test|assess|confirm|eliminate)s? (?:its|their|"
    r"the effect|the effects)\b|\b(?:it|they) (?:does|do|did)\b|\b(?:hence|thus|therefore)\b",
    re.IGNORECASE,
)
_NOT_THEMATIC = re.compile(
    r"https?://|www\.|github|\bcode (?:is|and|will|are)|available at|"
    # "the code is publicly available", not "a publicly available dataset of …"
    r"publicly available(?! (?:dataset|benchmark|corpus|collection|resource|suite)s?\b)|"
    r"\b(?:is|are|will be) (?:made |freely |openly )?(?:available|released)\b|"
    r"\b(?:table|figure|fig\.|section|appendix|eq\.) ?\d|"
    r"\((?:1|i|a)\)|\b(?:1|i)\)",  # enumerations read badly out of their abstract
    re.I,
)
# Case-folded twins of the two costliest patterns: matching lower-cased text without
# re.IGNORECASE is 2-3x faster, which counts at 75k abstracts.
_NOT_THEMATIC_LOWER = re.compile(_NOT_THEMATIC.pattern)
_BACK_REFERENCE_LOWER = re.compile(_BACK_REFERENCE.pattern)

#: Acronyms a reader of any computing paper knows without an expansion.
COMMON_ACRONYMS = frozenset({
    "AI", "AGI", "API", "APIs", "NLP", "ML", "LLM", "LLMs", "LM", "LMs", "GPT", "BERT", "RL",
    "RLHF", "QA", "CNN", "CNNs", "RNN", "RNNs", "LSTM", "GPU", "GPUs", "CPU", "US", "USA", "UK",
    "EU", "UN", "PDF", "HTML", "SQL", "IT", "TV", "PhD", "OK", "VLM", "VLMs",
    "MLLM", "MLLMs", "NLI", "MRI", "fMRI", "EEG", "DNA", "RNA", "COVID", "ChatGPT", "SOTA",
    "IQ", "ASR", "TTS", "OCR", "RAG", "CoT", "AUC", "ROC", "F1", "BLEU", "ROUGE", "MMLU", "SFT",
    "DPO", "PPO", "KL", "RGB", "3D", "2D", "ToM", "NER", "POS", "MT", "IR", "CV", "GAN", "GANs",
    "VAE", "MLP", "MLPs", "XAI", "HCI", "URL", "URLs", "JSON", "XML", "CSV",
})
_ACRONYM = re.compile(r"(?<![\w-])([A-Z][A-Za-z0-9-]*[A-Z][A-Za-z0-9-]*?)(s?)(?![\w-])")
_STATISTIC = re.compile(
    r"\b[pr]\s*[<=>≤≥]\s*0?\.\d|[±]|\bCI\b|\bSD\b|\b(?:correlation|accuracy|F1)\s*[=:]\s*-?\d",
    re.I)


_SLASHED = re.compile(r"(?<![\w/])[A-Z](?:/[A-Z])+(?![\w/])")


def acronyms(sentence: str) -> list[str]:
    """Tokens written as acronyms (two or more capitals, few lower-case letters): RPR, A/H."""
    found = _SLASHED.findall(sentence)
    for match in _ACRONYM.finditer(sentence):
        token = match.group(1) + match.group(2)
        core = match.group(1)
        capitals = sum(c.isupper() for c in core)
        lowers = sum(c.islower() for c in core)
        if capitals >= 2 and lowers <= capitals // 2 + (1 if len(core) > 4 else 0):
            found.append(token)
    return found


@functools.lru_cache(maxsize=65536)
def _expansion_pattern(acronym: str) -> re.Pattern[str]:
    """One pattern for the four ways a sentence defines ``acronym`` (an alternation matches
    where any of them would). One compile per acronym and a cache that holds a 75k-paper
    corpus's acronyms: four patterns each in a 4,096-entry cache were recompiled for most
    sentences (a third of the write-up's time)."""
    bare = re.escape(acronym)
    return re.compile(
        rf"\({bare}s?\)|\({bare}s?[,;]"
        rf"|\b{bare}s?\s*\([^()]{{6,}}\)"
        rf"|\b{bare}s?\s*[,:]\s+(?:a|an|the first)\s"
        rf"|\b(?:called|named|dubbed|termed)\s+{bare}\b"
    )


_NAMING_WORDS = ("called", "named", "dubbed", "termed")


def _expanded(acronym: str, sentence: str) -> bool:
    """Whether the sentence defines ``acronym``: "Long Name (LN)", "LN (long name)", "LN, a …".

    Plain string tests first: "(LN)" / "(LN," answer yes at once, and a sentence with no
    "(", "," or ":" after the acronym and no "called"/"named"/… cannot match the pattern,
    so most sentences of a large corpus never compile one (a 75k-paper corpus has ~25k
    acronyms; compiling their patterns was a third of what is left of the write-up).
    """
    for tail in (")", "s)", ",", "s,", ";", "s;"):
        if f"({acronym}{tail}" in sentence:
            return True
    if not any(word in sentence for word in _NAMING_WORDS) and not _followed_by_mark(
            acronym, sentence):
        return False
    return _expansion_pattern(acronym).search(sentence) is not None


def _followed_by_mark(acronym: str, sentence: str) -> bool:
    """Whether ``acronym`` occurs followed (after an optional "s" and white space) by "(",
    "," or ":" anywhere in ``sentence`` (what the pattern's last three forms need)."""
    at = sentence.find(acronym)
    while at >= 0:
        end = at + len(acronym)
        if sentence[end:end + 1] == "s":
            end += 1
        while sentence[end:end + 1].isspace():
            end += 1
        if sentence[end:end + 1] in ("(", ",", ":"):
            return True
        at = sentence.find(acronym, at + 1)
    return False


def unexplained_acronyms(sentence: str, known: Iterable[str] = ()) -> list[str]:
    """Acronyms in the sentence that it neither expands nor can assume its reader knows."""
    known = set(known) | COMMON_ACRONYMS
    out = []
    for token in acronyms(sentence):
        base = re.sub(r"-?\d+(?:\.\d+)?[A-Za-z]?$", "", token) or token  # GPT-4 -> GPT
        singular = token[:-1] if token.endswith("s") else token
        if {token, base, singular} & known or _expanded(singular, sentence):
            continue
        out.append(token)
    return out


def field_acronyms(texts: Iterable[str], min_papers: int) -> frozenset[str]:
    """Acronyms used by at least ``min_papers`` different texts: the field's own vocabulary.

    Above 20,000 texts every k-th is read (and ``min_papers`` scaled by 1/k): the field's
    vocabulary is common by definition, and a sample finds it.
    """
    texts = list(texts)
    step = max(1, len(texts) // 20_000)
    if step > 1:
        texts = texts[::step]
        min_papers = max(2, round(min_papers / step))
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update({a[:-1] if a.endswith("s") else a for a in acronyms(text or "")})
    return frozenset(a for a, n in counts.items() if n >= min_papers) | frozenset(
        a + "s" for a, n in counts.items() if n >= min_papers)


def is_self_contained(sentence: str) -> bool:
    """Whether a sentence reads well out of context.

    It must not open with a pronoun or connective ("This", "However,", "We
    instead"), carry a connective set off by commas near its start ("Data
    augmentation, on the other hand,"), nor lean on an earlier sentence ("this
    problem", "these challenges", "the aforementioned").
    """
    return (
        _OPENERS.match(sentence) is None
        and _INNER_CONNECTIVE.match(sentence) is None
        and _BACK_REFERENCE.search(sentence) is None
    )


_LEAD_THEN_WE = re.compile(
    r"^(?:[^,;:()]{2,90},\s+){1,2}(?P<clause>(?:we|this (?:paper|work|study|article|survey))\s+"
    r"(?!(?:instead|also|further|then|additionally|"
    r"therefore|thus|hence|finally|next|now|again|similarly|likewise)\b)[a-z].*)$",
    re.S,
)


def authors_clause(sentence: str) -> str | None:
    """The "we …" clause after a sentence's opening phrase, or None.

    "To overcome this, we establish NoMIRACL, a human-annotated dataset …" leans on the
    sentence before it only through its opening; "we establish NoMIRACL, …" states the
    contribution by itself and is still the authors' words, verbatim. The caller quotes it
    only when it passes :func:`quotable` on its own (a "this" left in the clause refuses it).
    """
    match = _LEAD_THEN_WE.match(sentence.strip())
    return match.group("clause") if match else None


def quotable(sentence: str, *, known_acronyms: Iterable[str] = (),
             leaning_after: int | None = None) -> bool:
    """Whether a sentence can be quoted alone under its citation.

    Besides :func:`is_self_contained`: 8–50 words, no question, no URL, code
    pointer, figure/table reference or enumeration, balanced parentheses, every
    acronym expanded in the sentence or known (``COMMON_ACRONYMS`` and
    ``known_acronyms``), and not mostly a parenthetical statistic. With
    ``leaning_after`` (a character offset), a reference back to an earlier sentence
    ("these three patterns") is allowed from there on: "We develop BLIND-ACT, a benchmark
    of 90 tasks capturing these three patterns" still says what it introduces.
    """
    words = sentence.split()
    if not MIN_SENTENCE_WORDS <= len(words) <= MAX_SENTENCE_WORDS:
        return False
    if sentence[-1:] not in ".!" or sentence.startswith("("):
        return False
    if sentence.count("(") != sentence.count(")"):
        return False
    if _OPENERS.match(sentence) is not None or _INNER_CONNECTIVE.match(sentence) is not None:
        return False
    lower = sentence.lower()
    if _NOT_THEMATIC_LOWER.search(lower):
        return False
    outside = re.sub(r"\([^()]*\)", " ", sentence).split()
    if len(outside) < MIN_SENTENCE_WORDS or (len(outside) < 14 and _STATISTIC.search(sentence)):
        return False
    numeric = sum(any(c.isdigit() for c in w) for w in words)
    if numeric > len(words) / 3:
        return False
    leaning = _BACK_REFERENCE_LOWER.search(lower)
    if leaning is not None and (leaning_after is None or leaning.start() < leaning_after):
        return False
    return not unexplained_acronyms(sentence, known_acronyms)


def _is_quotable(sentence: str, *, strict: bool = True, known: Iterable[str] = ()) -> bool:
    """:func:`quotable` when ``strict``; otherwise only length, thematic and bracket checks
    (the fallback when no central sentence of a theme stands alone)."""
    if strict:
        return quotable(sentence, known_acronyms=known)
    words = sentence.split()
    if not MIN_SENTENCE_WORDS <= len(words) <= MAX_SENTENCE_WORDS:
        return False
    if _NOT_THEMATIC.search(sentence) or sentence.endswith("?"):
        return False
    return sentence.count("(") == sentence.count(")")


#: Words a long form may hold without giving its acronym a letter ("Theory of Mind (ToM)").
_LINK_WORDS = frozenset({"of", "and", "the", "for", "in", "on", "to", "a", "an", "with",
                         "via", "by", "from", "at", "as"})
#: A long form names a thing in a few words; a longer run before "(ACR)" is no definition.
MAX_LONG_FORM_WORDS = 8


def acronym_definitions(text: str) -> dict[str, str]:
    """The acronyms ``text`` defines in the form "Long Form (LF)", each with its long form
    as the text writes it: {"IPT": "Instrument playing techniques"}.

    A long form is the run of words right before the parenthesis whose first letters (the
    parts of hyphenated and slashed words count apart; "of", "and" … may be skipped) spell
    the acronym; a run that does not spell it is no definition. Hand-written: the
    abbreviation detectors of scispaCy and friends need a language model, and this one
    needs only the letters.
    """
    found: dict[str, str] = {}
    for match in re.finditer(r"\(([^()\s,;]{2,12}?)(?:s)?[),;]", text or ""):
        acronym = match.group(1)
        if acronym in found or acronym not in acronyms(f"({acronym})"):
            continue
        letters = [c.lower() for c in acronym if c.isalpha()]
        before = text[max(0, match.start() - 160):match.start()]
        tokens = list(re.finditer(r"[^\s\-/]+", before))
        words = [t.group(0).strip("\"'“”‘’").lower() for t in tokens]
        k = _spell_back(words, letters)
        if k is None:
            continue
        start = tokens[k].start()
        long_form = before[start:].strip().strip("\"'“”‘’")
        if 0 < len(long_form.split()) <= MAX_LONG_FORM_WORDS:
            found[acronym] = long_form
    return found


def _spell_back(words: Sequence[str], letters: Sequence[str]) -> int | None:
    """Index of the first of the last words whose first letters spell ``letters`` (a link
    word may be skipped, and is when the words before it spell the rest: "ambivalence and
    hesitancy" for A/H, yet "in-context learning" for ICL); None when they do not."""

    def spell(k: int, j: int, first: bool) -> int | None:
        if j < 0:
            return k + 1
        if k < 0 or not words[k]:
            return None
        word = words[k]
        if word in _LINK_WORDS and not first:
            skipped = spell(k - 1, j, False)
            if skipped is not None:
                return skipped
        if word[0] == letters[j]:
            return spell(k - 1, j - 1, False)
        return None

    return spell(len(words) - 1, len(letters) - 1, True) if letters else None
