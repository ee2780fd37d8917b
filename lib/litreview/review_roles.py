"""Sentences of an abstract: splitting, rhetorical roles and whether one can be quoted alone.

Roles follow the structured-abstract convention (background, objective, method,
result, conclusion, limitation) and are read from cue phrases and the sentence's
position. This is hand-written on purpose: the corpus is untrusted, unlabelled
and offline, so a trained argumentative-zoning model (which would need weights
and labelled data we do not have) is not an option, and the cues are few,
explicit and testable. Precision is measured by hand on the seed corpus
(``tests/review/data/seed_sentence_roles.csv``, figure in ``bench/RESULTS.md``).
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

ROLES = ("background", "objective", "method", "result", "conclusion", "limitation")
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
    r"^(?:this|these|that|those|it|its|they|their|them|such|he|she|his|her|here|there|"
    r"however|moreover|furthermore|additionally|in addition|also|thus|therefore|hence|"
    r"still|finally|then|besides|nevertheless|nonetheless|consequently|accordingly|"
    r"similarly|likewise|instead|rather|in contrast|by contrast|conversely|meanwhile|"
    r"on the other hand|on the one hand|in fact|indeed|in turn|in particular|in short|"
    r"in summary|in conclusion|to (?:summari[sz]e|conclude)|contrary to (?:the|this|these|that)|"
    r"as a consequence|to further|in doing so|by doing so|in response|in this sense|"
    r"overall|altogether|specifically|to this end|to that end|as a result|"
    r"as such|for example|for instance|for this|first(?:ly)?|second(?:ly)?|third(?:ly)?|"
    r"lastly|next|both|yet|but|and|or|so|other|another|the latter|the former|the same|"
    r"the resulting|the above|the proposed|the former|the remaining|each of|all of|"
    r"further|unlike (?:them|these|those|this|it|prior|previous|existing)|"
    r"to (?:bridge|address|fill|tackle|close|overcome|mitigate|solve|remedy|alleviate) "
    r"(?:this|these|the|such|that|those)|previous|prior work|recent work|building on|"
    r"based on (?:this|these|that|those|our|the)|using (?:this|these|that|those|our|the|them|it)|"
    r"with (?:this|these|that|those)|through (?:this|these|that|those)|"
    r"we (?:instead|also|further|then|additionally|therefore|thus|hence|finally|next|"
    r"now|again|similarly|likewise)|our (?:results|findings|analysis|experiments|"
    r"evaluation|approach|method|study) (?:also|further)|one|some of)\b",
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
    r"\b(?:above|aforementioned)\b|"
    # "this" refers back unless it names the paper itself ("In this paper, we …")
    r"\bthis\b(?! (?:paper|work|study|article|survey|review|chapter|thesis|"
    r"report|note|position paper|tutorial)\b)|"
    r"\b(?:these|those)\b(?! (?:of|who|that|which|in|with|whose)\b)|^(?:\S+\s+){0,7}?they\b|"
    r"\bsuch (?!as\b|that\b)[a-z]|\bthem\.$|"
    r"^(?:background|methods?|results?|conclusions?|objectives?|purpose|findings)\s*:|"
    r"^(?:\S+\s+){0,11}?them\b|\b(?:one|two|three|four|five|several|many|all|any|other) such\b|"
    r"^[^,]{0,60},\s+(?:it|its|their|such|that|they|\w+ing (?:it|them|their|its))\b|"
    r"^(?:\S+\s+){0,2}?(?:their|its|them)\b|\balso\b|"
    r"\bwe (?:further|additionally|then|instead|again|likewise|similarly)\b|"
    r"\b(?:validate|evaluate|demonstrate|show|test|assess|confirm|eliminate)s? (?:its|their|"
    r"the effect|the effects)\b|\b(?:it|they) (?:does|do|did)\b|\b(?:hence|thus|therefore)\b",
    re.IGNORECASE,
)
_NOT_THEMATIC = re.compile(
    r"https?://|www\.|github|\bcode (?:is|and|will|are)|available at|publicly available|"
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


@functools.lru_cache(maxsize=4096)
def _expansion_patterns(acronym: str) -> tuple[re.Pattern[str], ...]:
    bare = re.escape(acronym)
    return (
        re.compile(rf"\({bare}s?\)|\({bare}s?[,;]"),
        re.compile(rf"\b{bare}s?\s*\([^()]{{6,}}\)"),
        re.compile(rf"\b{bare}s?\s*[,:]\s+(?:a|an|the first)\s"),
        re.compile(rf"\b(?:called|named|dubbed|termed)\s+{bare}\b"),
    )


def _expanded(acronym: str, sentence: str) -> bool:
    """Whether the sentence defines ``acronym``: "Long Name (LN)", "LN (long name)", "LN, a …"."""
    return any(p.search(sentence) for p in _expansion_patterns(acronym))


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


def quotable(sentence: str, *, known_acronyms: Iterable[str] = ()) -> bool:
    """Whether a sentence can be quoted alone under its citation.

    Besides :func:`is_self_contained`: 8–50 words, no question, no URL, code
    pointer, figure/table reference or enumeration, balanced parentheses, every
    acronym expanded in the sentence or known (``COMMON_ACRONYMS`` and
    ``known_acronyms``), and not mostly a parenthetical statistic.
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
    if _BACK_REFERENCE_LOWER.search(lower) is not None:
        return False
    return not unexplained_acronyms(sentence, known_acronyms)


# --------------------------------------------------------------------------- roles

_LIMITATION = re.compile(
    r"\blimitations? (?:of (?:our|this|the proposed|these)|include|remain|is that|are that)|"
    r"\b(?:a|one|the|key|main|major|important|primary|remaining) limitation\b|"
    r"\bremains? (?:an? )?(?:open|unclear|unknown|challenging|difficult|"
    r"unsolved|elusive|underexplored|poorly understood)|\bfuture (?:work|research|"
    r"directions?|studies)\b|\bopen (?:questions?|problems?|challenges?)\b|"
    r"\bleave\b.* for future|\bwe (?:leave|defer)\b|\bchallenges remain\b|"
    r"\bwarrant(?:s)? further\b|\bneeds? (?:further|more) (?:work|research|investigation)|"
    r"\bfurther (?:work|research|investigation) is needed",
    re.I,
)
_WEAK_LIMITATION = re.compile(
    r"\b(?:still|often|frequently|consistently|systematically) (?:fail|struggle|lag|fall short)|"
    r"\bfall(?:s)? short\b|\bstruggle(?:s)? (?:to|with)\b|\bfails? to\b|\bcannot\b|"
    r"\bdo(?:es)? not (?:generalize|generalise|transfer|scale|capture)|\bis (?:still )?lacking\b|"
    r"\blimited (?:to|by)\b",
    re.I,
)
_CONCLUSION = re.compile(
    r"\b(?:our|these|the) (?:findings|results|work|study|analysis|insights) "
    r"(?:suggest|indicate|imply|highlight|underscore|demonstrate the (?:need|importance|"
    r"potential|value)|provide|offer|open|pave|call|point|shed|contribute|have implications|"
    r"raise|motivate|inform)|\bwe (?:conclude|hope|believe|argue|discuss|call for|"
    r"recommend|advocate|envision)\b|\bpaves? the way\b|\bimplications? for\b|"
    r"\bshed(?:s)? light\b|\bhighlight(?:s|ing)? the (?:need|importance|potential|promise)|"
    r"\bunderscore(?:s)?\b|\bcall(?:s)? for\b|\bopens? (?:up )?(?:new|a) (?:avenues?|"
    r"directions?|possibilities)|\bstep (?:toward|towards)\b|\bcontribut(?:es|ing) to\b|"
    r"\bbroader\b.*\bimpact\b|\bsuggest(?:s|ing)? that\b.*\b(?:should|could|may|might)\b",
    re.I,
)
_RESULT = re.compile(
    r"\bwe (?:\w+ly )?(?:find|found|show|showed|observe|observed|demonstrate|demonstrated|reveal|"
    r"revealed|report|confirm|discover|discovered|identify|identified|note|uncover|"
    r"establish|prove|verify|see)\b|\b(?:results?|experiments?|evaluations?|analys[ie]s|"
    r"findings|studies|tests?|comparisons?|ablations?) (?:\w+ ){0,3}?(?:show|shows|showed|"
    r"indicate|indicates|reveal|reveals|revealed|demonstrate|demonstrates|suggest|suggests|"
    r"confirm|confirms|highlight|highlights|find|found|yield|yields|uncover)\b|"
    r"\boutperform(?:s|ed|ing)?\b|\bachiev(?:es|ed|ing)\b|\bimprov(?:es|ed|ing)\b.*"
    r"\b(?:by|over|up to|to)\b|\bsignificantly\b|\bstate[- ]of[- ]the[- ]art\b|"
    r"\bsurpass(?:es|ed|ing)?\b|\breduc(?:es|ed|ing)\b.*\bby\b|\b\d+(?:\.\d+)?\s?%|"
    r"\bperformance (?:gains?|drops?)\b|\b(?:is|are|was|were) (?:significantly |strongly |"
    r"highly |positively |negatively )?(?:correlated|associated|predictive)\b|"
    r"\bconsistently\b|\bcomparable (?:to|with)\b|\bon par with\b|\brobust(?:ly)? (?:across|to)\b|"
    r"\bour (?:\w+ )?(?:findings|results)\b|\bobservation that\b|\bwe can\b|"
    r"\bgenerali[sz]es? (?:to|across|well)\b|\bhelps? (?:to )?\w+\b",
    re.I,
)
_OBJECTIVE = re.compile(
    r"\b(?:we|this (?:paper|work|study|article)|in this (?:paper|work|study|article),? we|"
    r"here,? we|our (?:paper|work|study|research))\s+(?:\w+ly\s+)?(?:propose|proposes|introduce|"
    r"introduces|present|presents|develop|develops|release|releases|design|designs|"
    r"construct|constructs|build|builds|create|creates|curate|curates|contribute|"
    r"contributes|offer|offers|formalize|formalise|formalizes|provide|provides|investigate|"
    r"investigates|study|studies|explore|explores|examine|examines|ask|address|addresses|"
    r"tackle|tackles|aim|aims|seek|seeks|set out|focus|focuses|characterize|characterise|"
    r"revisit|revisits|analy[sz]e|analy[sz]es|argue|argues|describe|describes|report on|"
    r"summari[sz]e|summari[sz]es|outline|outlines|review|reviews|survey|surveys|discuss)\b|"
    r"\b(?:the|our) (?:goal|aim|objective|purpose) of\b|\bthe (?:goal|aim|objective|purpose) "
    r"(?:is|was)\b|\bwe ask (?:whether|how|what)\b|\bthis (?:paper|work|study) (?:is|was)\b|"
    r"\b(?:natural|important) to ask\b",
    re.I,
)
_CONTRIBUTION = re.compile(
    r"\b(?:we|this (?:paper|work|study|article)|here,? we|our (?:paper|work|study))\s+"
    r"(?:\w+ly\s+)?(?:propose|proposes|introduce|introduces|present|presents|develop|"
    r"develops|release|releases|design|designs|construct|constructs|build|builds|create|"
    r"creates|curate|curates|contribute|contributes|offer|offers|formalize|formalise|"
    r"provide|provides)\b",
    re.I,
)
_METHOD = re.compile(
    r"\bwe (?:use|used|train|trained|fine-?tune|fine-?tuned|apply|applied|evaluate|evaluated|"
    r"collect|collected|compare|compared|conduct|conducted|measure|measured|employ|employed|"
    r"leverage|leveraged|test|tested|annotate|annotated|benchmark|benchmarked|adopt|adapt|"
    r"combine|model|simulate|fit|sample|recruit|recruited|survey|surveyed|perform|performed|"
    r"run|ran|extract|compute|quantify|probe|probed|prompt|prompted|construct|constructed|"
    r"generate|generated|systematically|first|then|formulate|frame|cast|extend|analy[sz]ed)\b|"
    r"\b(?:our|the proposed) (?:approach|method|framework|model|system|pipeline|algorithm|"
    r"technique|architecture)\b|\b(?:consists? of|is composed of|comprises|leverag(?:es|ing)|"
    r"based on|relies on|by (?:\w+ing)|through (?:\w+ing)|trained on|fine-tuned on|"
    r"using (?:a|an|the)|we take|uses? (?:a|an))\b|\bparticipants\b|\bdataset (?:of|with)\b",
    re.I,
)
_BACKGROUND = re.compile(
    r"\b(?:have|has) (?:\w+ly )?(?:become|emerged|gained|shown|achieved|demonstrated|"
    r"attracted|revolutionized|transformed|made|been)\b|\b(?:is|are) (?:\w+ly )?(?:increasingly|"
    r"widely|commonly|often|crucial|essential|critical|important|key|fundamental|central|"
    r"a (?:key|central|fundamental|critical|crucial|major|promising|popular|common|"
    r"powerful))\b|\b(?:recent|existing|prior|previous|current|conventional|traditional) "
    r"(?:work|works|research|studies|methods|approaches|models|advances|efforts|literature|"
    r"benchmarks|systems|techniques)\b|\bdespite\b|\bremains? (?:a|an)\b|\bhowever\b|"
    r"\bwidely (?:used|adopted|studied)\b|\bplays? an? (?:\w+ )?role\b|"
    r"\b(?:little|less|few|limited) (?:is known|attention|work|research|studies)\b|"
    r"\bpose(?:s)? (?:a|an|significant|serious|new)\b|\bsuffer(?:s)? from\b|"
    r"\b(?:has|have) (?:long|recently)\b|\brely on\b",
    re.I,
)
_FIRST_PERSON = re.compile(r"\b(?:we|our|us)\b", re.I)
#: "We …", "Our …", "Here we …", "In this paper, we …", "Despite X, we …": the authors as subject.
_WE_SUBJECT = re.compile(r"^(?:[^,;]*?[,;]\s*){0,2}?(?:here,?\s+)?(?:we|our)\b", re.I)


@dataclass(frozen=True)
class RoledSentence:
    """One sentence of an abstract with its position, role and whether it can be quoted alone."""

    text: str
    position: int
    n_sentences: int
    role: str
    quotable: bool
    contribution: bool


def sentence_role(sentence: str, position: int, n_sentences: int) -> str:
    """Classify a sentence into one of :data:`ROLES` from cue phrases and its position.

    In order: a limitation or future-work cue; a conclusion cue in the last third;
    an objective cue ("we propose", "this paper studies"); a result cue ("we find",
    "outperforms", "results show") with the authors as subject or past the first
    third; a sentence in the first third whose subject is not the authors is
    background; then weak limitation cues ("fail to", "struggle"), method cues
    ("we train", "our approach"), background cues, and position.
    """
    last = position >= n_sentences - 1 and n_sentences > 1
    late = n_sentences > 2 and position >= (2 * n_sentences) / 3
    early = position == 0 or position < n_sentences / 3
    we = _WE_SUBJECT.search(sentence) is not None
    result = _RESULT.search(sentence) is not None
    if _LIMITATION.search(sentence) and position > 0:
        return "limitation"
    if _CONCLUSION.search(sentence) and (late or last):
        return "conclusion"
    if (_OBJECTIVE.search(sentence) or sentence.endswith("?")) and not (late and result):
        return "objective"
    if result and (we or not early):
        return "result"
    if early and not we:
        return "background"
    if _WEAK_LIMITATION.search(sentence):
        return "limitation"
    if _METHOD.search(sentence):
        return "method"
    if _BACKGROUND.search(sentence) and not we:
        return "conclusion" if last else "background"
    if last:
        return "result"
    return "method" if we or not late else "result"


def is_contribution(sentence: str) -> bool:
    """Whether the sentence states what the paper contributes ("we propose / introduce …")."""
    return _CONTRIBUTION.search(sentence) is not None


def roled_sentences(
    abstract: str | None, *, known_acronyms: Iterable[str] = ()
) -> list[RoledSentence]:
    """Split an abstract and give each sentence its role and quotability."""
    sentences = split_sentences(abstract)
    n = len(sentences)
    known = frozenset(known_acronyms)
    return [
        RoledSentence(
            text=s, position=i, n_sentences=n, role=sentence_role(s, i, n),
            quotable=quotable(s, known_acronyms=known), contribution=is_contribution(s),
        )
        for i, s in enumerate(sentences)
    ]


def contribution_sentence(sentences: Sequence[RoledSentence]) -> RoledSentence | None:
    """The quotable sentence that best states the paper's contribution, or None.

    Preference: a "we propose / introduce / present …" sentence, then any other
    objective, then a result or a method sentence with the authors as subject, then
    any result past the first sentence; earlier first within each. Background is
    never a contribution: without one of these the caller quotes the title.
    """
    ranks = (
        lambda s: s.contribution,
        lambda s: s.role == "objective",
        lambda s: s.role == "result" and _WE_SUBJECT.search(s.text) is not None,
        lambda s: s.role == "method" and _WE_SUBJECT.search(s.text) is not None,
        lambda s: s.role == "result" and s.position > 0 and _BACKGROUND.search(s.text) is None,
    )
    for test in ranks:
        for sentence in sentences:
            if sentence.quotable and test(sentence):
                return sentence
    return None
