"""Rhetorical roles of abstract sentences, and the sentence that states a paper's contribution.

Roles follow the structured-abstract convention (background, objective, method,
result, conclusion, limitation) and are read from cue phrases and the sentence's
position. This is hand-written on purpose: the corpus is untrusted, unlabelled
and offline, so a trained argumentative-zoning model (which would need weights
and labelled data we do not have) is not an option, and the cues are few,
explicit and testable. Precision is measured by hand on the seed corpus
(``tests/review/data/seed_sentence_roles.csv``, figure in ``bench/RESULTS.md``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from litreview.review.sentences import (
    acronym_definitions,
    authors_clause,
    quotable,
    split_sentences,
    unexplained_acronyms,
)

ROLES = ("background", "objective", "method", "result", "conclusion", "limitation")

_LIMITATION = re.compile(
    r"\blimitations? (?:of (?:our|this|the proposed|these)|include|remain|is that|are that)|"
    r"\b(?:a|one|the|key|main|major|important|primary|remaining) limitation\b|"
    r"\bremains? (?:an? )?(?:open|unclear|unknown|challenging|difficult|"
    r"unsolved|elusive|underexplored|poorly understood)|"
    # future work as what is left to do, not what the paper may help ("benefit future research");
    # the look-ahead first, so that the ten look-behinds run only where "future " starts
    r"(?=future )(?<!benefit )(?<!benefits )(?<!inform )(?<!informs )(?<!guide )(?<!inspire )"
    r"(?<!support )(?<!facilitate )(?<!enable )(?<!way for )\bfuture (?:work|research|"
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
    r"summari[sz]e|summari[sz]es|outline|outlines|review|reviews|survey|surveys|discuss|"
    r"delves?|takes? (?:a|an|the first) (?:\w+ )?(?:step|look))\b|"
    # a passive proposal opens an abstract: "A new prior is proposed for learning …"
    r"^(?:an?|the)\s+(?:[\w-]+\s+){0,3}?(?:method|model|framework|approach|algorithm|prior|"
    r"technique|architecture|loss|objective|benchmark|dataset)s?\s+(?:is|are)\s+(?:proposed|"
    r"introduced|presented|developed)\b|"
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
    r"provide|provides|establish(?:es)?(?! (?:that|whether|how)\b))\b",
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
#: "… -- we empirically identify …": the authors report a finding, however long the opening
#: phrase before them (``_WE_SUBJECT`` looks at the first two clauses only).
_WE_FOUND = re.compile(
    r"\bwe (?:\w+ly )?(?:find|found|show|showed|observe|observed|demonstrate|demonstrated|"
    r"reveal|revealed|discover|discovered|identify|identified|uncover|uncovered)\b", re.I)
#: "We …", "Our …", "Here we …", "In this paper, we …", "Despite X, we …": the authors as subject.
_WE_SUBJECT = re.compile(r"^(?:[^,;]*?[,;]\s*){0,2}?(?:here,?\s+)?(?:we|our)\b", re.I)
#: An appeal to others or a plan, not what the paper did: never its contribution.
_APPEAL = re.compile(
    r"\bwe (?:\w+ly )?(?:encourage|hope|call|urge|invite|recommend|plan)\b|"
    r"\bfuture (?:work|research|studies|safety research)\b", re.I)


#: A sentence reporting a measurement ("= 0.49", "12%") states a result, not the problem.
_MEASURED = re.compile(r"[=<>]\s*-?\d|\d\s?%")
#: Words any empirical abstract uses; a finding needs ``MIN_FINDING_WORDS`` others.
_GENERIC_WORDS = frozenset((
    "accuracy", "techniques", "technique", "scenarios", "scenario", "settings", "setting",
    "metrics", "while", "without", "terms", "significant", "gains", "gain",
    "our", "we", "the", "a", "an", "of", "to", "in", "on", "for", "and", "or", "with", "by", "as",
    "at", "from", "that", "this", "these", "its", "their", "is", "are", "was", "were", "be",
    "been", "it", "can", "which", "than", "both", "also", "more", "most", "all", "any", "each",
    "other", "such", "into", "over", "method", "methods", "approach", "approaches", "proposed",
    "propose", "model", "models", "framework", "frameworks", "system", "result", "results",
    "experiment", "experiments", "experimental", "extensive", "empirical", "evaluation",
    "evaluations", "demonstrate", "demonstrates", "demonstrated", "show", "shows", "showed",
    "shown", "reveal", "reveals", "find", "finds", "found", "indicate", "indicates", "suggest",
    "suggests", "significantly", "substantially", "effectively", "consistently", "considerably",
    "notably", "remarkably", "greatly", "strong", "stronger", "competitive", "superior",
    "superiority", "improve", "improves", "improved", "improving", "improvement", "improvements",
    "performance", "performances", "perform", "performs", "outperform", "outperforms",
    "outperforming", "outperformed", "baseline", "baselines", "state", "art", "sota",
    "effectiveness", "efficiency", "efficient", "effective", "robust", "robustness", "wide",
    "range", "variety", "various", "different", "diverse", "multiple", "several", "many", "tasks",
    "task", "datasets", "dataset", "benchmarks", "benchmark", "across", "existing", "previous",
    "prior", "compared", "comparison", "comparisons", "well", "new", "novel", "proposal",
    "achieve", "achieves", "achieved", "achieving", "terms", "particular", "particularly",
    "furthermore", "moreover"
))
MIN_FINDING_WORDS = 4
_WORD = re.compile(r"[a-z][a-z-]+")


#: A result sentence whose claim is the paper's own merit ("show the effectiveness and
#: versatility of our approach", "… is a promising research direction", "we empirically
#: validate our theoretical results") states no finding.
_SELF_PRAISE = re.compile(
    r"\b(?:effectiveness|efficacy|versatility|superiority|feasibility|usefulness|utility|"
    r"validity|potential|promise|merits?|advantages?|benefits?)\s+(?:and\s+\w+\s+)?of\s+"
    r"(?:our|the proposed|this|the presented|the new)\b|"
    r"\b(?:is|are|as)\s+(?:a\s+)?promising\s+(?:research\s+)?(?:directions?|avenues?)\b|"
    r"\b(?:validat|confirm|verif|corroborat)(?:e|es|ed|y|ies|ied)\s+(?:our|the|these)\s+"
    r"(?:theoretical\s+|analytical\s+)?(?:results|findings|analys[ie]s|theory|claims|"
    r"predictions)\b(?!\s+that)", re.I)


def is_boilerplate(sentence: str) -> bool:
    """Whether a result sentence says nothing but that the method works ("Experiments show
    that our method significantly outperforms strong baselines across tasks"): fewer than
    ``MIN_FINDING_WORDS`` distinct words outside ``_GENERIC_WORDS``, or a claim of the
    paper's own merit (``_SELF_PRAISE``) with no measurement in it."""
    if _SELF_PRAISE.search(sentence) and not _MEASURED.search(sentence):
        return True
    words = {w for w in _WORD.findall(sentence.lower()) if w not in _GENERIC_WORDS}
    return len(words) < MIN_FINDING_WORDS


#: The field's stock opening: a praise of its subject's progress or popularity ("Large
#: language models are powerful systems that excel at many tasks", "Recent advances in
#: text-to-image models have demonstrated impressive success", "X has emerged as a critical
#: topic"), which any paper on the subject could open with.
_STOCK_PRAISE = re.compile(
    r"\b(?:have|has)\s+(?:\w+\s+){0,2}?(?:achieved|shown|demonstrated|made|gained|attracted|"
    r"garnered|received|seen|enjoyed|witnessed|exhibited)\s+(?:\w+\s+){0,3}?(?:remarkable|"
    r"impressive|tremendous|significant|great|unprecedented|substantial|considerable|rapid|"
    r"notable|promising|widespread|increasing|growing|exceptional|outstanding|strong)\b|"
    r"\b(?:have|has)\s+(?:\w+\s+)?(?:revolutionized|transformed|advanced rapidly)\b|"
    r"\b(?:are|is|have become|has become)\s+(?:\w+\s+){0,2}?(?:powerful|versatile|ubiquitous|"
    r"increasingly (?:popular|used|deployed|capable|prevalent|important))\b|"
    r"\bexcel(?:s)?\s+(?:at|in)\b|"
    r"\b(?:emerged as|become)\s+(?:a|an)\s+(?:\w+\s+)?(?:critical|important|key|central|hot|"
    r"active|popular|prominent|crucial)\s+(?:topic|area|research|field|direction)\b", re.I)
#: A contrast turns a stock opening into the problem it sets up ("While revolutionary,
#: current models may still fail …").
_CONTRAST = re.compile(r"\b(?:but|however|yet|while|whereas|although|though|despite|still|"
                       r"remains?|lack|fail|fails|limited|challeng\w*)\b", re.I)


def is_stock_opening(sentence: str) -> bool:
    """Whether a background sentence only praises its subject's progress (``_STOCK_PRAISE``)
    with no contrast that states a problem (``_CONTRAST``): the opening any paper on the
    subject could have, quoted last for what a strand works on."""
    return bool(_STOCK_PRAISE.search(sentence)) and not _CONTRAST.search(sentence)


@dataclass(frozen=True)
class RoledSentence:
    """One sentence of an abstract with its position, role and whether it can be quoted alone."""

    text: str
    position: int
    n_sentences: int
    role: str
    quotable: bool
    contribution: bool
    #: ``(acronym, long form)`` for each acronym the sentence uses that only another
    #: sentence of its abstract defines (shown beside the quote; see ``_Sentences.contribution``)
    glosses: tuple[tuple[str, str], ...] = ()


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
    if result and (we or not early or _WE_FOUND.search(sentence)):
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
    return _CONTRIBUTION.search(sentence) is not None and _APPEAL.search(sentence) is None


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


def contribution_sentence(
    sentences: Sequence[RoledSentence], *, known_acronyms: Iterable[str] = ()
) -> RoledSentence | None:
    """The quotable sentence that best states the paper's contribution, or None.

    Preference: the first "we propose / introduce / establish …" sentence, or such a
    "we …" clause after an opening phrase (``authors_clause``), then any other objective,
    then a result or a method sentence with the authors as subject, then any result past
    the first sentence (not a boilerplate one, ``is_boilerplate``); earlier first within
    each. Background is never a contribution.
    When no whole sentence qualifies, the "we …" clauses after an opening phrase of the
    contribution and objective sentences are tried (``known_acronyms`` as for
    ``quotable``); without one of these the caller quotes the title.
    """
    ranks = (
        lambda s: s.contribution,
        lambda s: s.role == "objective",
        lambda s: s.role == "result" and _WE_SUBJECT.search(s.text) is not None
        and not is_boilerplate(s.text),
        lambda s: s.role == "method" and _WE_SUBJECT.search(s.text) is not None,
        lambda s: s.role == "result" and s.position > 0 and _BACKGROUND.search(s.text) is None
        and not is_boilerplate(s.text),
    )
    sentences = [s for s in sentences if _APPEAL.search(s.text) is None]
    # A "we propose / establish …" clause after an opening phrase ("To overcome this, we
    # establish NoMIRACL, a …") states the contribution better than a later whole sentence
    # that only builds a baseline: the first stated contribution wins, clause or sentence.
    for sentence in sentences:
        if sentence.quotable and sentence.contribution:
            return sentence
        clause = authors_clause(sentence.text)  # as ``_Sentences.contribution`` tries it
        if (clause and _MAKING_CLAUSE.search(clause) and is_contribution(clause)
                and quotable(clause, known_acronyms=known_acronyms)):
            return RoledSentence(clause, sentence.position, sentence.n_sentences,
                                 sentence.role, True, True)
    for test in ranks[1:]:
        for sentence in sentences:
            if sentence.quotable and test(sentence):
                return sentence
    return contribution_clause(sentences, known_acronyms=known_acronyms)


def contribution_clause(
    sentences: Sequence[RoledSentence], *, known_acronyms: Iterable[str] = ()
) -> RoledSentence | None:
    """The "we …" clause after an opening phrase of the first contribution sentence, else
    of the first objective sentence, that can be quoted alone; None without one.

    The last resort of :func:`contribution_sentence`: only the aim or the contribution, as a
    result or method clause ("we train interventions to …") says less than the title, which
    for a study often states the finding.
    """
    sentences = [s for s in sentences if _APPEAL.search(s.text) is None]
    for test in (lambda s: s.contribution, lambda s: s.role == "objective"):
        for sentence in sentences:
            clause = None if sentence.quotable else authors_clause(sentence.text)
            if clause and test(sentence) and quotable(clause, known_acronyms=known_acronyms):
                return RoledSentence(clause, sentence.position, sentence.n_sentences,
                                     sentence.role, True, is_contribution(clause))
    return None


# --------------------------------------------------------------------------- lazily, per paper

#: A clause after an opening phrase counts as the contribution only with a verb that makes
#: something ("we establish NoMIRACL, a …"), not "we provide recommendations" / "an account".
_MAKING_CLAUSE = re.compile(
    r"^(?:we|our work|this (?:paper|work))\s+(?:\w+ly\s+|also\s+|first\s+|further\s+){0,2}"
    r"(?:propose|introduce|present|develop|establish|release|construct|build|create|curate|"
    r"design)s?\b(?! (?:that|whether|how)\b)", re.I)

_CONTRIBUTION_CUE = re.compile(
    r"\b(?:we|paper|work|study)\s+(?:\w+ly\s+)?(?:propose|introduce|present|develop|release|"
    r"design|construct|build|create|curate|contribute|offer|formali[sz]e|provide|"
    r"establish(?!e?s? (?:that|whether|how)\b))s?\b", re.I)


class _Sentences:
    """Sentences of every abstract, with roles and quotability worked out only when asked.

    Classifying every sentence of a 75k-paper corpus costs minutes; the write-up needs
    roles for a strand's central papers and one contribution sentence per paper.
    """

    def __init__(self, abstracts: Mapping[str, str], known_acronyms: Iterable[str]) -> None:
        self.abstracts = abstracts
        self.known = frozenset(known_acronyms)
        self._split: dict[str, list[str]] = {}
        self._roled: dict[str, list[RoledSentence]] = {}

    def split(self, pid: str) -> list[str]:
        if pid not in self._split:
            self._split[pid] = split_sentences(self.abstracts.get(pid, ""))
        return self._split[pid]

    def roled(self, pid: str) -> list[RoledSentence]:
        if pid not in self._roled:
            self._roled[pid] = roled_sentences(self.abstracts.get(pid, ""),
                                               known_acronyms=self.known)
        return self._roled[pid]

    def contribution(self, pid: str) -> RoledSentence | None:
        """The paper's contribution sentence (see :func:`contribution_sentence`).

        When none stands alone, one whose only fault is an acronym another sentence of the
        abstract defines ("… on IPT detection tasks", after "Instrument playing techniques
        (IPTs) …") is taken with those definitions as its ``glosses``, which the report
        shows beside the quote: the authors' words and what their acronyms stand for
        say more than the title the caller would quote instead.
        """
        found = self._contribution(pid)
        if found is not None:
            return found
        defined = acronym_definitions(self.abstracts.get(pid, ""))
        if not defined:
            return None
        known = self.known | set(defined)
        found = contribution_sentence(
            roled_sentences(self.abstracts.get(pid, ""), known_acronyms=known),
            known_acronyms=known)
        if found is None:
            return None
        used = unexplained_acronyms(found.text, self.known)
        glosses = tuple(dict.fromkeys(
            (base, defined[base]) for token in used
            for base in (token, token[:-1]) if base in defined))
        return replace(found, glosses=glosses)

    def _contribution(self, pid: str) -> RoledSentence | None:
        if pid in self._roled:
            return contribution_sentence(self._roled[pid], known_acronyms=self.known)
        sentences = self.split(pid)
        n = len(sentences)
        for i, text in enumerate(sentences):  # fast path: the first quotable "we propose …"
            if _CONTRIBUTION_CUE.search(text) and not _APPEAL.search(text) and quotable(
                    text, known_acronyms=self.known):
                return RoledSentence(text, i, n, "objective", True, True)
            clause = authors_clause(text)  # "To overcome this, we establish X, a …"
            if clause and _MAKING_CLAUSE.search(clause) and not _APPEAL.search(
                    clause) and quotable(clause, known_acronyms=self.known):
                return RoledSentence(clause, i, n, "objective", True, True)
        # Same preference as contribution_sentence, classifying only the
        # sentences that can win (roles and quotability are the costly part at 75k papers).
        best: tuple[int, int, RoledSentence] | None = None
        for i, text in enumerate(sentences):
            we = _WE_SUBJECT.search(text) is not None
            aim = _OBJECTIVE.search(text) is not None  # "This paper delves into …"
            if (not we and not aim and (i == 0 or not _RESULT.search(text))) or _APPEAL.search(
                    text):
                continue
            role = sentence_role(text, i, n)
            rank = (1 if role == "objective" else
                    {"result": 2, "method": 3}.get(role, 9) if we
                    else (4 if role == "result" and i > 0 and not _BACKGROUND.search(text)
                          else 9))
            if role == "result" and is_boilerplate(text):  # "our results reach the SOTA"
                rank = 9
            if rank < 9 and (best is None or (rank, i) < best[:2]) and quotable(
                    text, known_acronyms=self.known):
                best = (rank, i, RoledSentence(text, i, n, role, True, False))
        if best is not None:
            return best[2]
        # no whole sentence: the clauses contribution_sentence would try last (which needs
        # every sentence's role)
        return contribution_clause(self.roled(pid), known_acronyms=self.known)
