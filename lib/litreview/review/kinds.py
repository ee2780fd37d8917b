"""What kind of contribution a paper makes: a survey, a resource, a method or a study.

The review lists each strand's papers grouped by kind (:data:`~litreview.review.model.
CONTRIBUTION_KINDS`). The kind is read from the whole title and abstract by hand-written
rules, not by a trained classifier: the corpus is unlabelled and offline, a few hundred
hand labels (``tests/review/data/seed_contribution_kinds.csv``) are enough to measure
rules but not to train a model that would carry to other fields, and the rules say *why*
a paper was filed where it is (a reader can check them against the abstract). Every
pattern is compiled once at import; one call costs a few regex scans of one abstract, so
a 75k-paper corpus is classified in seconds.

The rules, in order:

1. **survey**: the title or abstract says it surveys or reviews its field
   (:func:`is_survey`).
2. **resource**: the title names a dataset, benchmark, corpus or test suite
   ("X: A Benchmark for …", "Benchmarking …", "NAME: Measuring …" when NAME is a resource
   the paper introduces), or the first thing the abstract says the paper introduces is one
   ("we introduce X, a dataset of …") and the title does not name a method.
3. **method** or **study**, by weighing cues: the abstract proposes a method, model,
   framework, algorithm or named technique ("we propose X, a …", "our approach", "a novel
   prior is proposed"), the title names one ("X: …", "… via …", "Mitigating …"); against
   the abstract investigating without proposing ("we investigate / analyse / ask whether",
   "this study examines", "we argue", "we present a study") and a title that asks or
   states a finding ("Do LLMs …?", "How …", "LLMs Encode …", "Understanding …").
   A paper that investigates first and proposes a fix later is a study unless its title
   names the method.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import pandas as pd

from litreview.review.model import Resource, Sentence
from litreview.review.sentences import normalise_whitespace, split_sentences

#: A paper that surveys its field says so in its title ("…: A Survey", "A Critical Survey of …")
#: or its abstract ("In this survey, …"); "the survey responses of LLMs" is no survey.
_SURVEY_TITLE = re.compile(
    r"\b(?:a|an)\s+(?:[\w-]+\s+){0,2}?(?:survey|overview|tutorial|primer)\b"
    r"(?!\s+(?:responses?|data|questions?|study|studies|process))|"
    r"\b(?:a|an)\s+(?:(?:systematic|critical|comprehensive|literature|scoping|narrative|"
    r"structured|brief|short|selective|historical)\s+)+review\b|"
    r":\s*(?:a\s+)?(?:survey|review|overview)\b", re.I)
_SURVEY_ABSTRACT = re.compile(
    r"\b(?:this|our|the present) (?:survey|review|systematic review)\b|"
    r"\bwe (?:survey|review) (?:the|recent|existing|current)\b", re.I)


def is_survey(title: str, abstract: str = "") -> bool:
    """Whether a paper is a survey or review of its field (by its title or abstract)."""
    return bool(_SURVEY_TITLE.search(title or "") or _SURVEY_ABSTRACT.search(abstract or ""))


#: Kinds of :class:`~litreview.review.model.Resource` that make a paper a resource paper.
DATA_RESOURCE_KINDS = frozenset({"dataset", "benchmark"})

_DATA_NOUN = (
    r"(?:data ?sets?|benchmarks?|corpus|corpora|test[ -]suites?|test sets?|testbeds?|"
    r"knowledge (?:bank|base|graph)s?|lexical resources?|lexicons?|treebanks?|leaderboards?|"
    r"evaluation (?:suite|framework|pipeline|protocol|workflow|paradigm|toolkit)s?|"
    r"(?:new|open) resources?|collection of [\w-]+)"
)
_METHOD_NOUN = (
    r"(?:methods?|methodology|frameworks?|approach(?:es)?|models?|algorithms?|techniques?|"
    r"strateg(?:y|ies)|mechanisms?|architectures?|paradigms?|systems?|pipelines?|protocols?|"
    r"prompting|schemes?|regulari[sz](?:er|ation)s?|loss(?:es)?|objectives?|modules?|"
    r"procedures?|estimators?|networks?|functions?|recipes?|variants?|learners?|filters?|"
    r"priors?|tools?|toolkits?|metrics?|measures?|solutions?|paradigm|agents?|"
    r"formulations?|operators?|layers?|decoders?|encoders?|classifiers?|detectors?|scores?)"
)
_STUDY_NOUN = (
    r"(?:study|studies|analysis|analyses|investigation|examination|evaluation|comparison|"
    r"replication|audit|account|perspective|lens|critique|conjecture|hypothesis|position paper|"
    r"recommendations|guide|demonstration|exploration|characteri[sz]ation|test)"
)
_PROPOSE_VERB = (
    r"(?:(?:propos|introduc|present|develop|design|devis|formulat|build|construct|creat|deriv|"
    r"contribut|releas|curat|establish|implement|shar|offer)(?:e|es|ed|ing|s|d)?|put forward|"
    r"report the development of)"
)
_SUBJECT = (
    r"(?:\bwe\b[^.;]{0,60}?\bto|\bwe\b[^.;]{0,80}?\band|\bwe|\bby|"
    r"\b(?:this|our|the present|the current)\s+"
    r"(?:paper|work|study|article|report|research|contribution))"
)
#: "we propose", "we further introduce", "this paper presents", "we first build".
_PROPOSAL = re.compile(
    rf"{_SUBJECT}\s+(?:\w+ly\s+|also\s+|further\s+|first\s+|then\s+|here\s+|now\s+){{0,2}}"
    rf"{_PROPOSE_VERB}\b(?!\s+(?:that|to|whether|how|a\s+conjecture|"
    rf"(?:the\s+)?[\w-]+\s+hypothesis)\b)", re.I)
#: "A new prior is proposed", "a simple yet effective EigenScore metric is proposed": the
#: verb is found first (cheap), then a method noun among the four words before it.
_PASSIVE_PROPOSAL = re.compile(
    r"\b(?:is|are)\s+(?:also\s+)?(?:proposed|introduced|presented|developed|designed)\b", re.I)
_METHOD_WORD = re.compile(_METHOD_NOUN, re.I)
_OUR_METHOD = re.compile(
    r"\bour\s+(?:(?:proposed|novel|new|resulting)\s+)?(?:method|approach|framework|model|"
    r"algorithm|technique|system|mechanism|pipeline|strategy|architecture)\b", re.I)
_NOVEL_METHOD = re.compile(rf"\b(?:a|an)\s+(?:novel|new)\s+(?:[\w-]+\s+){{0,3}}?{_METHOD_NOUN}\b",
                           re.I)
#: The first kind noun after a proposal verb, or a name ("we propose CopyPasteLLM"); a
#: method noun after a hyphen is a modifier ("a multi-agent video benchmark").
_NOUN_AFTER = re.compile(
    rf"(?P<data>{_DATA_NOUN})|(?P<study>\b{_STUDY_NOUN})\b|"
    rf"(?P<method>(?<!-)\b{_METHOD_NOUN})\b", re.I)
_NAME_AFTER = re.compile(
    r"\s+(?:the\s+|a\s+|an\s+)?[\"“'`]*(?:[A-Z][a-z]*[A-Z0-9][\w\-*]*|[A-Z][\w-]*(?:\s+[A-Z][\w-]*)+"
    r"(?:\s*\([A-Za-z0-9\-*]+\))?|[A-Z][\w-]+\s*\([A-Za-z0-9\-*]+\))")
_STUDY_CUE = re.compile(
    r"\b(?:we|this (?:paper|work|study|research|article|report)|our (?:work|study|research|"
    r"paper|analysis|findings?|results?|experiments?))\s+(?:\w+ly\s+|also\s+|first\s+|further\s+"
    r"|then\s+|here\s+){0,2}(?:study|studies|investigates?|analy[sz]es?|examines?|explores?|"
    r"evaluates?|assess(?:es)?|asks?|tests?|probes?|measures?|quantif(?:y|ies)|"
    r"characteri[sz]es?|compares?|revisits?|replicates?|audits?|argues?|delves?|seeks?|aims?|"
    r"focus(?:es)?|calls?|reports?|conducts?|performs?|find|finds|reveal|reveals|show that|"
    r"demonstrate that|observe|observes|highlight|highlights|hypothesi[sz]e|uncover|trace|"
    r"shed|sheds|take a step back|reproduce|run)\b|"
    r"\b(?:to (?:study|investigate|understand|examine|explore) (?:this|these|the|how|whether|why)|"
    r"position paper|we ask\b|research questions?|pre-registered|randomi[sz]ed controlled|"
    r"(?:user|human-subject|case|empirical|controlled|comprehensive|systematic) (?:study|analysis|"
    r"experiment|evaluation))", re.I)
_TITLE_STUDY = re.compile(
    r"\?|^(?:how(?!\s+to\b)|why|what|when|where|which|who|whose|do|does|did|is|are|can|could|should|will|"
    r"would|has|have|understanding|analy[sz]ing|evaluating|exploring|examining|investigating|"
    r"revisiting|rethinking|questioning|comparing|quantifying|characteri[sz]ing|probing|"
    r"assessing|measuring|auditing|localizing|localising|revealing|tracing|uncovering|"
    r"decomposing|on\s|towards? understanding|the (?:surprising|hidden|curious|troubling|"
    r"limits|role|impact|effects?|trickle-down|pursuit|other|ghost|lock-in|connection|art)\b|"
    r"(?:limitations|effects|emergence|mixing|massive|emergent|persistent|systematic|"
    r"diminished|unintentional|first|safety|inference|bias|accuracy|large language models?|"
    r"language models?|llms?)\b)|"
    r"\b(?:a|an)\s+(?:[\w-]+\s+){0,2}?(?:study|analysis|investigation|perspective|case study|"
    r"evaluation|hypothesis|trial|baseline analysis)\b|\bis not\b|\bare not\b", re.I)
#: A finite verb in the title states a finding ("LLMs Encode Harmfulness and Refusal …").
_TITLE_CLAIM = re.compile(
    r"^[^:]*?\S\s+(?:is|are|can|cannot|can't|do|does|don't|doesn't|may|might|makes?|affects?|"
    r"shapes?|encodes?|exhibits?|assumes?|shares?|contains?|knows?|learns?|emerges?|"
    r"permeates|fails?|falls?|backfires|surfaces?|scales|carves|gets?|has|have|matters?|"
    r"controls|modulated|improved)\b", re.I)
_TITLE_METHOD = re.compile(
    r"^(?:enhancing|improving|mitigating|reducing|controlling|steering|boosting|learning|"
    r"aligning|enabling|pursuing|regulari[sz]ing|constructing|automating|automatically|"
    r"harnessing|trapping|programming|decoding|exploiting|preserving|pooling|classifying|"
    r"explaining|training|transferring|detecting|extracting|generating|retrieving|scaling|"
    r"towards? (?:effective|efficient|robust|reliable|inclusive|trustworthy)|identifying and)\b|"
    r"\b(?:framework|approach|method|algorithm|architectures?|prompting|regulari[sz]ation|"
    r"networks|network|learner|system|pipeline|prior|model for|models for|activation "
    r"functions?|guidance|tuning|distillation|dropout|averaging|patching|injection|addition|"
    r"optimi[sz]ation|estimation|steering|decompositions?|products|autoencoder|paradigm)\b",
    re.I)
#: "A Discriminative Approach to …", "… Framework for …": the title names a method.
_TITLE_METHOD_STRONG = re.compile(
    r"^(?:a|an)\s+(?:[\w-]+\s+){0,4}?(?:approach|method|framework|model|algorithm|system|"
    r"recipe)\b|"
    r"\b(?:framework|approach|method|algorithm)\s+(?:for|to)\b", re.I)
#: "Persona Vectors: Monitoring …", "Activation Addition: Steering …": a named technique.
_TITLE_NAMED_PHRASE = re.compile(
    r"^(?:[A-Z][\w-]*\s+){1,2}[A-Z][\w-]*:\s*(?!measuring|evaluating|benchmarking|quantifying|"
    r"assessing|understanding|analy[sz]ing|exploring|examining|investigating|identifying)"
    r"[A-Z][a-z]+ing\b")
_TITLE_VIA = re.compile(r"\b(?:via|using|through|by \w+ing)\b", re.I)
_TITLE_OBJECT = re.compile(r"\s(?:in|of|on|under|during|across|from|between|about)\s", re.I)
_TITLE_LENS = re.compile(r"\b(?:lens|perspective|case study|view)\b", re.I)
_TITLE_DATA = re.compile(
    r"\b(?:benchmark|benchmarking|dataset|data set|corpus|test suite|knowledge bank|testbed)\b",
    re.I)
_TITLE_NAME = re.compile(r"^\s*(?P<name>[^\s:]+(?:\s+[0-9IVX]+)?)\s*:")
_TITLE_NAME_MEASURES = re.compile(
    r"^[^:]+:\s*(?:measuring|evaluating|benchmarking|quantifying|assessing)\b", re.I)


def _lower_twin(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """The same pattern without ``re.I``, for text already lower-cased (twice as fast)."""
    return re.compile(pattern.pattern)


_PROPOSAL_LC = _lower_twin(_PROPOSAL)
_STUDY_CUE_LC = _lower_twin(_STUDY_CUE)
_OUR_METHOD_LC = _lower_twin(_OUR_METHOD)
_NOVEL_METHOD_LC = _lower_twin(_NOVEL_METHOD)
_PASSIVE_PROPOSAL_LC = _lower_twin(_PASSIVE_PROPOSAL)


def _lowered(text: str) -> str | None:
    """``text`` lower-cased when that keeps every offset (not so for a few non-ASCII letters)."""
    low = text.lower()
    return low if len(low) == len(text) else None


def _looks_like_name(token: str) -> bool:
    """A one-token title prefix that names something (``LUMINA``, ``seq-JEPA``, ``AtP*``)."""
    letters = [c for c in token if c.isalpha()]
    return bool(letters) and (any(c.isupper() for c in token[1:]) or any(c.isdigit() for c in token)
                              or (token[:1].isupper() and len(token) > 2))


def _proposals(sentences: Sequence[str]) -> list[tuple[int, str, bool]]:
    """``(sentence index, kind, named)`` of every "we propose / introduce …" the abstract
    makes, kind being what follows the verb: ``resource`` (a dataset, benchmark …),
    ``study`` (a study, analysis …), ``method`` (a method noun or a name); ``named`` when
    a name follows the verb ("we propose VISTA (Visual Information Steering …)")."""
    out: list[tuple[int, str, bool]] = []
    for i, text in enumerate(sentences):
        low = _lowered(text)
        matches = _PROPOSAL_LC.finditer(low) if low is not None else _PROPOSAL.finditer(text)
        for match in matches:
            rest = text[match.end():]
            window = " ".join(rest.split()[:14])
            noun = _NOUN_AFTER.search(window)
            name = _NAME_AFTER.match(rest)
            named = bool(name) and (noun is None or noun.start() > name.end() + 40)
            if named:
                kind = "method"
                if noun is not None and noun.lastgroup == "data":
                    kind = "resource"
            elif noun is not None:
                kind = {"data": "resource", "study": "study", "method": "method"}[noun.lastgroup]
            else:
                continue
            out.append((i, kind, named))
        passive = (_PASSIVE_PROPOSAL_LC.search(low) if low is not None
                   else _PASSIVE_PROPOSAL.search(text))
        if passive and any(_METHOD_WORD.fullmatch(w.strip(",;:()\"'").lower())
                           for w in text[:passive.start()].split()[-4:]):
            out.append((i, "method", False))
    return out


_WE_SURVEY = re.compile(r"\b(?:we|this (?:paper|article|chapter))\s+(?:\w+ly\s+)?"
                        r"(?:survey|review|summari[sz]e|overview)s?\b(?!\s+(?:that|whether))",
                        re.I)


def sentence_kind(sentence: str) -> str | None:
    """The kind of contribution one sentence states, or None when it states none: a
    survey ("we review the computational foundations of …"), what a "we propose /
    introduce …" names (``resource``, ``method`` or ``study``), or a study ("we
    investigate …", "we find that …")."""
    if _SURVEY_ABSTRACT.search(sentence) or _WE_SURVEY.search(sentence):
        return "survey"
    proposals = _proposals([sentence])
    if proposals:
        return proposals[0][1]
    if _STUDY_CUE.search(sentence):
        return "study"
    return None


NAMED_BONUS = 1


def contribution_kind(title: str, abstract: str, resources: Sequence[Resource] = (),
                      sentences: Sequence[str] | None = None) -> str:
    """One of ``survey``, ``resource``, ``method``, ``study`` for a paper, from its title,
    its abstract (all of it) and the resources it introduces (see the module docstring).

    ``sentences`` are the abstract's sentences when the caller has split them already.
    """
    title = " ".join((title or "").split())
    abstract = abstract or ""
    if is_survey(title, abstract):
        return "survey"
    if sentences is None:
        sentences = split_sentences(abstract)
    sentences = list(sentences)
    proposals = _proposals(sentences)
    data_resources = [r for r in resources if r.kind in DATA_RESOURCE_KINDS]
    head = _TITLE_NAME.match(title)
    title_name = head.group("name") if head and _looks_like_name(head.group("name")) else ""
    after_colon = title.split(":", 1)[1] if ":" in title else title
    named_phrase = bool(_TITLE_NAMED_PHRASE.search(title)) and not _TITLE_CLAIM.search(
        "x " + after_colon)
    # "Likelihood Displacement in Direct Preference Optimization": a method named after
    # "in / of / on …" is what the paper looks at, not what it proposes
    head_phrase = _TITLE_OBJECT.split(after_colon, maxsplit=1)[0]
    title_method = (bool(_TITLE_METHOD.search(head_phrase)) or named_phrase) and not (
        _TITLE_DATA.search(title) or _TITLE_LENS.search(title))
    title_via = bool(_TITLE_VIA.search(title)) and not _TITLE_LENS.search(title)
    title_strong = bool(title_name or _TITLE_METHOD_STRONG.search(title)
                        or _TITLE_METHOD_STRONG.search(after_colon.strip()))
    # resource
    if _TITLE_DATA.search(title) and not re.search(r"\b(?:benchmarks|datasets)\b", title, re.I):
        return "resource"
    if title_name and any(title_name.lower() in r.name.lower() or r.name.lower() in
                          title_name.lower() for r in data_resources):
        return "resource"
    if title_name and _TITLE_NAME_MEASURES.search(title):
        return "resource"
    first = proposals[0] if proposals else None
    resource_at = min([i for i, k, _ in proposals if k == "resource"] + [
        sentences.index(r.sentence.text) for r in data_resources
        if r.sentence.text in sentences], default=None)
    method_at = min([i for i, k, _ in proposals if k == "method"], default=None)
    named_method = any(k == "method" and named for _, k, named in proposals)
    lowered = [_lowered(text) for text in sentences]

    def found(lc: re.Pattern[str], ci: re.Pattern[str], i: int) -> bool:
        low = lowered[i]
        return bool(lc.search(low) if low is not None else ci.search(sentences[i]))

    study_at = next((i for i in range(len(sentences))
                     if found(_STUDY_CUE_LC, _STUDY_CUE, i)), None)
    title_study = bool(_TITLE_STUDY.search(title) or _TITLE_STUDY.search(after_colon.strip())
                       ) or (not title_name and bool(_TITLE_CLAIM.search(title)))
    if resource_at is not None and not title_method and not (
            method_at is not None and method_at < resource_at) and not (
            title_study and study_at is not None and study_at < resource_at):
        return "resource"
    # method or study
    study_proposal = any(k == "study" for _, k, _ in proposals[:1])
    method_pts = study_pts = 0
    if method_at is not None:
        method_pts += 2 if first is not None and first[1] == "method" else 1
    if named_method:  # a paper that names what it proposes offers it as its contribution
        method_pts += NAMED_BONUS
    if any(found(_OUR_METHOD_LC, _OUR_METHOD, i) for i in range(len(sentences))):
        method_pts += 1
    if any(found(_NOVEL_METHOD_LC, _NOVEL_METHOD, i) for i in range(len(sentences))):
        method_pts += 1
    if title_strong:
        method_pts += 3
    elif title_method:
        method_pts += 2
    elif title_via:
        method_pts += 1
    if title_study:
        study_pts += 2
    if study_proposal:
        study_pts += 2
    if study_at is not None and (method_at is None or study_at < method_at):
        study_pts += 1
    if method_at is None:
        study_pts += 1
    if method_pts == study_pts:
        return "method" if title_strong and not title_study else "study"
    return "method" if method_pts > study_pts else "study"


def contribution_kinds(papers: pd.DataFrame) -> pd.DataFrame:
    """``paper_id``, ``kind`` for every paper of a ``papers`` table (``paper_id``, ``title``,
    ``abstract``), the resources it introduces found as the review finds them."""
    from litreview.review.resources import introduced_resources

    rows = []
    for pid, title, abstract in zip(papers["paper_id"].astype(str), papers["title"],
                                    papers["abstract"], strict=True):
        title = normalise_whitespace(title if isinstance(title, str) else "")
        abstract = normalise_whitespace(abstract if isinstance(abstract, str) else "")
        sentences = split_sentences(abstract)
        resources = [Resource(name, kind, Sentence(text, pid, pid, role="objective"))
                     for name, kind, text in introduced_resources(title, sentences)]
        rows.append((pid, contribution_kind(title, abstract, resources, sentences)))
    return pd.DataFrame(rows, columns=["paper_id", "kind"])
