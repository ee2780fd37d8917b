"""Sentence roles, quotability and resources, measured against hand labels on the seed corpus.

``data/seed_sentence_roles.csv``: 110 sentences of 14 seed abstracts (whole abstracts),
each labelled by hand with its role and whether it can be quoted alone; ``split`` says
which were used to tune the cues (``tuning``) and which were labelled afterwards
(``held-out``). ``data/seed_resources.csv``: for every seed paper, the named resources
it introduces (aliases separated by ``|``, resources by ``;``), read by hand from its
title and every sentence with an introducing verb.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from litreview import config
from litreview.review import introduced_resources, split_sentences
from litreview.review.roles import ROLES, contribution_sentence, roled_sentences, sentence_role
from litreview.review.sentences import field_acronyms, quotable, unexplained_acronyms

DATA = Path(__file__).with_name("data")


@pytest.fixture(scope="module")
def seed_papers() -> pd.DataFrame:
    """The seed corpus as ingest reads it (titles and abstracts)."""
    from litreview.ingest import ingest_paths

    result = ingest_paths(sorted(config.DEFAULT_CORPUS_DIR.glob("*.txt")))
    return result.papers


@pytest.fixture(scope="module")
def labelled() -> pd.DataFrame:
    return pd.read_csv(DATA / "seed_sentence_roles.csv")


def test_labelled_sample_is_large_enough(labelled: pd.DataFrame) -> None:
    assert len(labelled) >= 60
    assert set(labelled["role"]) <= set(ROLES)
    assert (labelled["split"] == "held-out").sum() >= 30


def test_quotability_precision_on_hand_labels(labelled: pd.DataFrame,
                                              seed_papers: pd.DataFrame) -> None:
    known = field_acronyms(seed_papers["title"] + " " + seed_papers["abstract"].fillna(""), 3)
    said = [quotable(s, known_acronyms=known) for s in labelled["sentence"]]
    truth = labelled["quotable"].astype(bool).tolist()
    kept = [t for s, t in zip(said, truth, strict=True) if s]
    precision = sum(kept) / len(kept)
    recall = sum(kept) / sum(truth)
    assert precision >= 0.9, precision  # measured: 0.97 (38 of 39)
    assert recall >= 0.75, recall  # measured: 0.78


def test_role_accuracy_on_hand_labels(labelled: pd.DataFrame) -> None:
    predicted = [sentence_role(s, int(i), int(n)) for s, i, n in zip(
        labelled["sentence"], labelled["position"], labelled["n_sentences"], strict=True)]
    accuracy = sum(p == t for p, t in zip(predicted, labelled["role"], strict=True)) / len(
        predicted)
    assert accuracy >= 0.75, accuracy  # measured: 0.83
    background = [t for p, t in zip(predicted, labelled["role"], strict=True)
                  if p == "background"]
    assert sum(t == "background" for t in background) / len(background) >= 0.9


@pytest.mark.parametrize(
    ("sentence", "position", "n", "role"),
    [
        ("Large language models have achieved remarkable performance across many tasks.",
         0, 8, "background"),
        ("In this paper, we propose a new method for calibrated refusal.", 2, 8, "objective"),
        ("By analyzing the digital brain of a model with a technique we dub fTRI -- inspired "
         "by fMRI, and using prompts designed to elicit behavior (e.g., 'What happened?') -- "
         "we empirically identify distinctive experts associated with refusal.", 1, 6,
         "result"),
        ("We fine-tune three models on the collected dialogues.", 4, 8, "method"),
        ("Experiments show that our approach outperforms strong baselines by 12%.",
         5, 8, "result"),
        ("These findings suggest that refusal is a learned, steerable behaviour.",
         7, 8, "conclusion"),
        ("Extending the method to multilingual settings is left to future work.",
         7, 8, "limitation"),
    ],
)
def test_roles_on_fixtures(sentence: str, position: int, n: int, role: str) -> None:
    assert sentence_role(sentence, position, n) == role


@pytest.mark.parametrize(
    "sentence",
    [
        "Data augmentation, on the other hand, yields little gain on reasoning benchmarks.",
        "We instead investigate activation engineering to alter model behaviour at inference.",
        "In fact, using scores computed early in training, we can prune half of the data.",
        "This non-trivial correlation holds across model architectures and training runs.",
        "We combined RPR with noisy reward models to calibrate the reward signal well.",
        "Performance did not differ between the two groups of participants (p=0.31).",
        "Our code and data are available at https://github.com/example/project today.",
    ],
)
def test_sentences_that_cannot_stand_alone_are_not_quotable(sentence: str) -> None:
    assert not quotable(sentence)


def test_acronyms_expanded_in_the_sentence_are_fine() -> None:
    text = ("We propose Automatic Curriculum Expert Iteration (Auto-CEI) to enhance reasoning "
            "of large language models (LLMs).")
    assert unexplained_acronyms(text) == []
    assert unexplained_acronyms("We combined RPR with noisy reward models.") == ["RPR"]
    assert quotable(text)


def test_contribution_sentence_prefers_what_the_paper_proposes() -> None:
    abstract = (
        "Large language models hallucinate in many settings and domains. "
        "However, detecting it remains hard for black-box models. "
        'In this work, we propose "SelfCheckGPT", a simple sampling-based approach to '
        "fact-check black-box models. "
        "We find that SelfCheckGPT detects non-factual sentences better than baselines."
    )
    chosen = contribution_sentence(roled_sentences(abstract))
    assert chosen is not None and chosen.text.startswith("In this work, we propose")
    assert contribution_sentence(roled_sentences(
        "Large language models are everywhere in society today. This is a problem for us all."
    )) is None  # background only: the caller quotes the title


def test_resource_precision_and_recall_on_the_seed_corpus(seed_papers: pd.DataFrame) -> None:
    truth = pd.read_csv(DATA / "seed_resources.csv").fillna("")
    by_title = dict(zip(seed_papers["title"], seed_papers["abstract"].fillna(""), strict=True))
    matched = truth[truth["title"].isin(by_title)]
    assert len(matched) >= 270  # titles may change a little if ingest cleaning changes

    def same(name: str, aliases: list[str]) -> bool:
        a = name.lower()
        return any(a == x.lower() or (len(x) > 3 and (x.lower() in a or a in x.lower()))
                   for x in aliases)

    right = wrong = found_truth = n_truth = 0
    for row in matched.itertuples(index=False):
        groups = [[x.strip() for x in g.split("|")] for g in row.resources.split(";")
                  if g.strip()]
        n_truth += len(groups)
        found = introduced_resources(row.title, split_sentences(by_title[row.title]))
        hit = set()
        for name, kind, _ in found:
            assert kind in ("dataset", "benchmark", "model", "method", "framework", "library")
            matches = [i for i, aliases in enumerate(groups) if same(name, aliases)]
            right += bool(matches)
            wrong += not matches
            hit.update(matches)
        found_truth += len(hit)
    precision = right / (right + wrong)
    recall = found_truth / n_truth
    assert precision >= 0.9, precision  # measured: 0.99 (110 of 111)
    assert recall >= 0.75, recall  # measured: 0.96 (110 of 114)


def test_the_authors_clause_after_an_opening_phrase_is_quoted_when_no_sentence_stands_alone():
    from litreview.review.roles import _Sentences
    from litreview.review.sentences import authors_clause

    abstract = ("Retrieval-augmented generation grounds model output in external sources. "
                "Prior work lacks an evaluation across language families. "
                "To overcome this, we establish NoMIRACL, a human-annotated dataset for "
                "evaluating robustness across 18 typologically diverse languages.")
    picked = _Sentences({"p": abstract}, ()).contribution("p")
    assert picked is not None
    assert picked.text == ("we establish NoMIRACL, a human-annotated dataset for evaluating "
                           "robustness across 18 typologically diverse languages.")
    assert picked.text in abstract  # verbatim: a clause of the authors' own sentence
    roled = contribution_sentence(roled_sentences(abstract))
    assert roled is not None and roled.text == picked.text
    # a clause that still leans on the sentence before stays unquoted
    assert authors_clause("In this work, we find that this mechanism generalizes poorly.") == (
        "we find that this mechanism generalizes poorly.")
    leaning = "Cats purr loudly at night. To see why, we find that this effect holds for dogs."
    assert _Sentences({"p": leaning}, ()).contribution("p") is None
    assert authors_clause("We propose a method for ranking papers by their cited claims.") is None


def _on_both_paths(abstract: str):
    """The contribution the fast path picks (no roles worked out), checked to be the one
    ``contribution_sentence`` picks from every sentence's role."""
    from litreview.review.roles import _Sentences

    fast = _Sentences({"p": abstract}, ()).contribution("p")
    roled = contribution_sentence(roled_sentences(abstract))
    assert fast is not None and roled is not None and fast.text == roled.text
    return fast


def test_the_first_stated_contribution_wins_over_a_later_baseline_sentence():
    from litreview.review.roles import _Sentences

    abstract = ("Retrieval-augmented generation grounds model output in external sources. "
                "Prior work lacks an evaluation across language families. "
                "To overcome this, we establish NoMIRACL, a human-annotated dataset for "
                "evaluating robustness across 18 typologically diverse languages. "
                "We build a GPT-4 baseline which achieves a 33.2% hallucination rate on the "
                "non-relevant subset.")
    fast = _on_both_paths(abstract)
    assert fast.text.startswith("we establish NoMIRACL")
    # a clause that only offers recommendations is not the paper's contribution
    advice = ("Language models encode cultural values. "
              "We discuss how the co-creation of language and cultural value shapes models. "
              "Finally, we provide recommendations for how our work may help other work.")
    assert contribution_sentence(roled_sentences(advice)).text.startswith("We discuss")
    assert _Sentences({"p": advice}, ()).contribution("p").text.startswith("We discuss")


def test_a_resource_sentence_may_lean_on_the_one_before_only_after_the_name():
    from litreview.review.sentences import quotable

    text = "We develop BLIND-ACT, a benchmark of 90 tasks capturing these three patterns."
    after = text.find("BLIND-ACT") + len("BLIND-ACT")
    assert not quotable(text)
    assert quotable(text, leaning_after=after)
    early = "Given these patterns, we develop BLIND-ACT, a benchmark of ninety agent tasks."
    assert not quotable(early, leaning_after=early.find("BLIND-ACT") + len("BLIND-ACT"))


def test_an_appeal_to_future_research_is_never_a_contribution():
    abstract = ("Finetuning language models on a few harmful examples compromises their safety. "
                "We encourage future safety research to build on dynamic shaping principles "
                "for stronger mitigation against evolving finetuning risks.")
    assert contribution_sentence(roled_sentences(abstract)) is None
    from litreview.review.roles import _Sentences

    assert _Sentences({"p": abstract}, ()).contribution("p") is None


def test_some_as_a_pronoun_opens_no_quote():
    assert not quotable("Some is induced by the pre-training corpus, but additional bias "
                        "arises from subjective fine-tuning of generative models.")
    assert quotable("Some language models are biased by their pre-training corpus and by "
                    "subjective fine-tuning of generative models.")


def test_what_may_help_future_research_is_no_open_issue():
    from litreview.review.roles import _LIMITATION

    assert not _LIMITATION.search("Our study could potentially benefit future research in "
                                  "interpretability and post-training.")
    assert not _LIMITATION.search("These results pave the way for future research on agents.")
    assert _LIMITATION.search("An important direction for future work is multilingual data.")


def test_a_result_that_only_says_the_method_works_is_boilerplate():
    from litreview.review.strands import is_boilerplate

    assert is_boilerplate("Our experiments demonstrate that our methods significantly improve "
                          "the performance of different models across a wide range of tasks.")
    assert is_boilerplate("Extensive experiments show the effectiveness of our proposal.")
    assert not is_boilerplate("Through causal intervention analysis, we identify a sparse set "
                              "of attention heads that negatively contribute to refusal.")
    # a claim of the paper's own merit is no finding, unless it measures something
    assert is_boilerplate("We experimentally show the effectiveness and versatility of our "
                          "approach by addressing key challenges in language and diffusion "
                          "models.")
    assert is_boilerplate("Comprehensive empirical results based on state-of-the-art neural "
                          "models demonstrate that computational modeling of social norms is "
                          "a promising research direction.")
    assert not is_boilerplate("The results show the effectiveness of our filter, which cuts "
                              "toxic replies by 43% on RealToxicityPrompts.")
    assert not is_boilerplate("Prompting can substantially shift demographic representations, "
                              "but with highly model-specific effects.")
    assert is_boilerplate("Through experiments with pre-trained GPT-2 model, we empirically "
                          "validate our theoretical results and analyze key behaviors of the "
                          "attention mechanism.")
    assert not is_boilerplate("These experiments confirm the predictions that larger models "
                              "refuse more often on ambiguous requests.")


def test_a_stock_opening_is_told_from_the_problem_it_sets_up():
    from litreview.review.roles import is_stock_opening

    assert is_stock_opening("Large language models are powerful systems that excel at many "
                            "tasks, ranging from translation to mathematical reasoning.")
    assert is_stock_opening("Recent advancements in Text-to-Image (T2I) diffusion models have "
                            "demonstrated impressive success in generating high-quality images.")
    assert is_stock_opening("The trustworthiness of machine learning has emerged as a critical "
                            "topic in the field, encompassing robustness and fairness.")
    # a contrast states the problem; a subject's own trouble is no praise
    assert not is_stock_opening("While revolutionary, current state-of-the-art diffusion models "
                                "may still fail in generating images that convey the prompt.")
    assert not is_stock_opening("Hallucination has emerged as the most vulnerable aspect of "
                                "contemporary Large Language Models (LLMs).")
    assert not is_stock_opening("Word-level psycholinguistic norms lend empirical support to "
                                "theories of language processing.")


def test_surveys_are_told_apart_by_their_title_or_abstract():
    from litreview.review.strands import is_survey

    assert is_survey("The Art of Refusal: A Survey of Abstention in Large Language Models")
    assert is_survey("Internal Consistency and Self-Feedback in Large Language Models: A Survey")
    assert is_survey("Towards Trustworthy Machine Learning: A Data-centric Survey with Causality")
    assert is_survey("Key-value memory in the brain",
                     "We review the computational foundations of key-value memory.")
    assert not is_survey("Questioning the Survey Responses of Large Language Models",
                         "We audit how models answer the American Community Survey.")
    assert not is_survey("Automatic Analysis of Refusal Composition", "We study refusals.")


def test_a_boilerplate_result_is_never_a_papers_contribution():
    from litreview.review.roles import _Sentences

    abstract = ("Contracts often contain norms that conflict with one another in practice. "
                "Our results reach the new state of the art when compared to a previous "
                "approach.")
    assert contribution_sentence(roled_sentences(abstract)) is None
    assert _Sentences({"p": abstract}, ()).contribution("p") is None  # the title stands in


def test_an_aim_stated_after_an_opening_phrase_is_quoted_on_both_paths():
    """The fast path (no roles worked out) and the full one agree on the last resort: the
    aim in a "we …" clause after an opening phrase; a result clause leaves the title."""
    from litreview.review.roles import _Sentences

    abstract = ("Fine-tuning continuous prompts for target tasks has recently emerged as a "
                "compact alternative to full model fine-tuning. "
                "Motivated by these promising results, we investigate the feasibility of "
                "extracting a discrete interpretation of continuous prompts that is faithful "
                "to the problem they solve.")
    fast = _on_both_paths(abstract)
    assert fast.text.startswith("we investigate the feasibility of extracting")
    assert fast.text in abstract
    result_only = ("Gated recurrent networks are studied widely as models of sequence memory. "
                   "Trained on token repetition, these networks behave in surprising ways. "
                   "To show this, we train interventions to predict and manipulate tokens by "
                   "learning the scaling factor of each sequence position.")
    assert _Sentences({"p": result_only}, ()).contribution("p") is None
    assert contribution_sentence(roled_sentences(result_only)) is None


def test_acronym_definitions_spell_the_acronym_from_the_words_before_it() -> None:
    from litreview.review.sentences import acronym_definitions

    text = ("Instrument playing techniques (IPTs) matter. We study emergent misalignment "
            "(EM), leaving out in-context learning (ICL). Ambivalence and hesitancy (A/H) "
            "is hard. We explore learning to search (L2S). A large (as in 100k) set, the "
            "(RLHF) stage and a model (GPT) are no definitions.")
    assert acronym_definitions(text) == {
        "IPT": "Instrument playing techniques", "EM": "emergent misalignment",
        "ICL": "in-context learning", "A/H": "Ambivalence and hesitancy",
        "L2S": "learning to search"}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=9),
                min_size=2, max_size=5),
       st.text(alphabet="abcdefghijklmnopqrstuvwxyz ,.", max_size=40))
def test_a_long_form_is_found_whatever_precedes_it(words: list[str], lead: str) -> None:
    from litreview.review.sentences import acronym_definitions

    long_form = " ".join(w.capitalize() for w in words)
    acronym = "".join(w[0].upper() for w in words)
    found = acronym_definitions(f"{lead} {long_form} ({acronym}) is used.")
    assert found.get(acronym, "").endswith(long_form)


def test_a_contribution_whose_acronym_another_sentence_defines_is_quoted_with_a_gloss() -> None:
    from litreview.review.roles import _Sentences

    abstract = ("Instrument playing techniques (IPTs) constitute a pivotal component of "
                "musical expression. "
                "However, detection methods suffer from limited labeled data. "
                "In this paper, we propose to apply a self-supervised model pre-trained on "
                "unlabeled music and finetune it on IPT detection tasks.")
    picked = _Sentences({"p": abstract}, ()).contribution("p")
    assert picked is not None and picked.text in abstract
    assert picked.text.startswith("In this paper, we propose to apply")
    assert picked.glosses == (("IPT", "Instrument playing techniques"),)
    # the sentence that defines it needs no gloss, and without a definition: no quote
    undefined = abstract.replace("Instrument playing techniques (IPTs)", "Playing styles")
    assert _Sentences({"p": undefined}, ()).contribution("p") is None


def test_a_study_is_quoted_by_what_it_investigates_not_by_the_fix_it_proposes_later() -> None:
    from litreview.review.roles import _Sentences
    from litreview.review.strands import _StrandWriter

    title = "Why do language models hallucinate on rare entities?"
    abstract = ("Hallucination is common in language models deployed for question answering. "
                "We investigate why language models hallucinate on rare entities across six "
                "benchmarks and four model families. "
                "Based on our analysis, we propose FixIt, a simple decoding method that "
                "reduces hallucination on rare entities.")
    writer = _StrandWriter(_Sentences({"p": abstract}, ()), {"p": "why"}, {"p": title})
    sentence, kind = writer.contribution_and_kind("p")
    assert kind == "study"
    assert writer.contribution("p").text.startswith("we propose FixIt")  # first stated
    assert sentence.text.startswith("We investigate why language models hallucinate")
    # a paper with no sentence of its kind keeps its contribution sentence
    alone = abstract.replace("We investigate why language models hallucinate on rare "
                             "entities across six benchmarks and four model families. ", "")
    writer = _StrandWriter(_Sentences({"p": alone}, ()), {"p": "why"}, {"p": title})
    assert writer.contribution_and_kind("p")[0].text.startswith("we propose FixIt")


@pytest.mark.parametrize("sentence, ok", [
    ("This study proposes an approach that supports the moral development of AI systems.", True),
    ("This paper presents the first comprehensive study of how negative prompts take effect.",
     True),
    ("We review the computational foundations of key-value memory, its role in machine "
     "learning systems, and possible biological implementations.", True),
    ("This allows key-value memory systems to optimize fidelity and discriminability.", False),
    ("Despite its success, it fails on long inputs with many entities and relations.", False),
])
def test_a_sentence_about_the_paper_itself_stands_alone(sentence: str, ok: bool) -> None:
    from litreview.review.sentences import quotable

    assert quotable(sentence) is ok


def test_an_aim_stated_by_the_paper_itself_is_its_contribution_on_both_paths() -> None:

    for abstract, start in [
        ("Large language models undergo a three-phase training process. "
         "This paper delves into the role of negative examples in the training of large "
         "language models, using a likelihood-ratio model on question answering. "
         "Negative examples sharpen the learning curve during a critical phase.",
         "This paper delves into"),
        ("A new prior is proposed for learning representations of high-level concepts of "
         "the kind we manipulate with language. "
         "It is inspired by cognitive neuroscience theories of consciousness.",
         "A new prior is proposed"),
    ]:
        fast = _on_both_paths(abstract)
        assert fast.text.startswith(start)


def test_a_resource_is_quoted_by_the_clause_that_introduces_it() -> None:
    from litreview.review.model import Resource, Sentence
    from litreview.review.roles import _Sentences
    from litreview.review.strands import _StrandWriter

    abstract = ("Hallucination in large language models takes many forms. "
                "We categorize hallucination into six types by degree and orientation. "
                "Furthermore, we curate HallucInation eLiciTation (HILT), a publicly available "
                "dataset of 75,000 samples with human annotations for the aforementioned "
                "categories. "
                "In conclusion, we propose two solution strategies for mitigating "
                "hallucinations.")
    title = "The Troubling Emergence of Hallucination in Large Language Models"
    writer = _StrandWriter(_Sentences({"p": abstract}, ()), {"p": "troubling"}, {"p": title})
    hilt = Resource("HILT", "dataset", Sentence(
        next(s for s in split_sentences(abstract) if "HILT" in s), "p", "troubling"))
    picked = writer.contribution("p", [hilt])
    assert picked.text.startswith("we curate HallucInation eLiciTation (HILT), a publicly")
    assert picked.text in abstract


def test_the_paper_as_subject_after_an_opening_phrase_is_quoted_by_its_clause() -> None:
    from litreview.review.sentences import authors_clause

    abstract = ("Ensuring alignment has become a critical task before deploying large language "
                "models in real-world applications. "
                "To address this issue, this paper presents a comprehensive survey of key "
                "dimensions that are crucial to consider when assessing trustworthiness.")
    fast = _on_both_paths(abstract)
    assert fast.text.startswith("this paper presents a comprehensive survey")
    assert authors_clause("Despite this, this approach fails on long inputs.") is None


def test_a_study_is_quoted_by_its_study_clause_not_by_the_dataset_it_builds() -> None:
    from litreview.review.roles import _Sentences
    from litreview.review.strands import _StrandWriter

    abstract = ("Online misinformation poses a global risk with harmful implications for "
                "society. "
                "It remains unknown how users respond to social correction in real-world "
                "scenarios. "
                "To fill this gap, we conduct an in-depth study to characterize and predict "
                "the user response to social correction in a data-driven manner. "
                "Particularly, we first create a novel dataset with 55,549 triples of "
                "misinformation tweets, counter-misinformation replies and their responses. "
                "Results show that social correction often backfires for political claims.")
    title = "Corrective or Backfire: Characterizing and Predicting User Response to Correction"
    writer = _StrandWriter(_Sentences({"p": abstract}, ()), {"p": "backfire"}, {"p": title})
    first = writer.contribution("p")
    assert first.text.startswith("we first create a novel dataset")  # the first proposal
    picked = writer.agreeing("p", first, "study")
    assert picked.text.startswith("we conduct an in-depth study to characterize")
    assert picked.text in abstract
    # a paper filed as a resource keeps its dataset sentence
    assert writer.agreeing("p", first, "resource").text == first.text
