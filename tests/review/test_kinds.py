"""Contribution kinds and resource kinds, measured against hand labels on the seed corpus.

``data/seed_contribution_kinds.csv``: every seed paper (281), its kind (survey / resource /
method / study) read by hand from its title and whole abstract, with a one-line reason.
``data/arxiv_heldout_contribution_kinds.csv``: 60 papers drawn at random (seed 7) from the
labeled arXiv set (``shared/bench/arxiv-cs``), title and abstract included, labelled the
same way *after* the rules were written: the held-out check on other fields' writing.
``data/seed_resource_kinds.csv``: the kind (one of ``RESOURCE_KINDS``) of each resource the
finder names on the seed corpus, read by hand from the sentence that introduces it.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from litreview import config
from litreview.review import RESOURCE_KINDS, introduced_resources, split_sentences
from litreview.review.kinds import contribution_kind, contribution_kinds
from litreview.review.model import CONTRIBUTION_KINDS
from litreview.review.resources import find_resources

DATA = Path(__file__).with_name("data")


@pytest.fixture(scope="module")
def seed_papers() -> pd.DataFrame:
    """The seed corpus as ingest reads it (titles and abstracts)."""
    from litreview.ingest import ingest_paths

    return ingest_paths(sorted(config.DEFAULT_CORPUS_DIR.glob("*.txt"))).papers


@pytest.fixture(scope="module")
def judged(seed_papers: pd.DataFrame) -> pd.DataFrame:
    truth = pd.read_csv(DATA / "seed_contribution_kinds.csv")
    said = contribution_kinds(seed_papers.reset_index(drop=True))
    return truth.merge(said.rename(columns={"kind": "said"}), on="paper_id", how="inner")


def test_labels_cover_the_seed_corpus(judged: pd.DataFrame) -> None:
    truth = pd.read_csv(DATA / "seed_contribution_kinds.csv")
    assert len(truth) >= 270 and truth["paper_id"].is_unique
    assert set(truth["kind"]) == set(CONTRIBUTION_KINDS)
    assert truth["reason"].str.len().min() > 10
    assert len(judged) >= 270  # ids may change a little if ingest cleaning changes


def test_contribution_kind_accuracy_on_hand_labels(judged: pd.DataFrame) -> None:
    accuracy = (judged["kind"] == judged["said"]).mean()
    # measured: 0.86 (241 of 281; 240 before a named proposal counted for a method); the
    # rule before (a contribution cue in the chosen contribution sentence → method, else
    # study) reached 0.66 (186)
    assert accuracy >= 0.83, accuracy

    def recall(kind: str) -> float:
        rows = judged[judged["kind"] == kind]
        return float((rows["said"] == kind).mean())

    assert recall("method") >= 0.84, recall("method")  # measured 0.87 (before: 0.49)
    assert recall("study") >= 0.87, recall("study")  # measured 0.88 (before: 0.81)
    assert recall("resource") >= 0.73, recall("resource")  # measured 0.76 (before: 0.68)
    assert recall("survey") >= 0.85, recall("survey")  # measured 0.88


def test_contribution_kind_accuracy_on_held_out_arxiv_papers() -> None:
    truth = pd.read_csv(DATA / "arxiv_heldout_contribution_kinds.csv", dtype=str)
    assert len(truth) == 60
    said = contribution_kinds(truth.rename(columns={"arxiv_id": "paper_id"}))
    accuracy = float((said["kind"].to_numpy() == truth["kind"].to_numpy()).mean())
    # measured: 0.78 (47 of 60); the rule before: 0.60 (36). Below the seed's 0.85: the
    # rules were written on the seed corpus, and theory papers ("we derive bounds …",
    # "this letter investigates … we optimize …") are where they err most.
    assert accuracy >= 0.75, accuracy


def test_resource_kind_accuracy_on_hand_labels(seed_papers: pd.DataFrame) -> None:
    truth = pd.read_csv(DATA / "seed_resource_kinds.csv")
    assert set(truth["kind"]) <= set(RESOURCE_KINDS)
    found: dict[tuple[str, str], str] = {}
    for pid, title, abstract in zip(seed_papers["paper_id"], seed_papers["title"],
                                    seed_papers["abstract"].fillna(""), strict=True):
        for name, kind, _ in introduced_resources(" ".join(title.split()),
                                                  split_sentences(abstract)):
            found[(pid, name)] = kind
    said = [found.get((pid, name)) for pid, name in zip(truth["paper_id"], truth["name"],
                                                        strict=True)]
    assert sum(s is not None for s in said) >= 100
    right = sum(s == k for s, k in zip(said, truth["kind"], strict=True))
    # measured: 106 of 111 (0.95); before the apposition rule: 101 (0.91)
    assert right / len(truth) >= 0.93, right


@pytest.mark.parametrize(
    ("title", "abstract", "kind"),
    [
        ("NormAd: A Benchmark for Measuring the Cultural Adaptability of Language Models",
         "We introduce NormAd, a novel dataset of 2.6k stories.", "resource"),
        ("Benchmarking Refusal in Chat Assistants",
         "We collect 3,000 prompts and evaluate twelve models on them.", "resource"),
        ("Scruples: A Corpus of Community Ethical Judgments",
         "We introduce Scruples, the first large-scale dataset of ethical judgments.",
         "resource"),
        ("Steering Vectors for Multiple Behaviours",
         "Steering is popular. In this paper, we introduce FooSteer, a novel framework that "
         "combines steering vectors. Experiments show it works.", "method"),
        ("Adaptive Parametric Activation",
         "We perform a statistical analysis of activations. To this end, we propose the "
         "Adaptive Parametric Activation (APA) function, a novel activation function.",
         "method"),
        ("The Consciousness Prior",
         "A new prior is proposed for learning representations of high-level concepts.",
         "method"),
        ("A Discriminative Approach to Bayesian Filtering",
         "Here we show how a nonlinear Gaussian approximation can be used for filtering.",
         "method"),
        ("Do Large Language Models Latently Perform Multi-Hop Reasoning?",
         "We study whether large language models latently perform multi-hop reasoning. We "
         "find strong evidence for the first hop.", "study"),
        ("LLMs Encode Harmfulness and Refusal Separately",
         "We investigate how refusal is represented. We find a harmfulness direction. "
         "Finally, we propose a simple method to detect unsafe inputs.", "study"),
        ("Recommendations for Rigorous Human Baselines",
         "In this position paper, we argue that human baselines must be more rigorous.",
         "study"),
        ("Internal Consistency and Self-Feedback in Large Language Models: A Survey",
         "We summarise a theoretical framework.", "survey"),
    ],
)
def test_contribution_kind_on_fixtures(title: str, abstract: str, kind: str) -> None:
    resources = []
    from litreview.review.model import Resource, Sentence

    for name, rkind, text in introduced_resources(title, split_sentences(abstract)):
        resources.append(Resource(name, rkind, Sentence(text, "p", "k")))
    assert contribution_kind(title, abstract, resources) == kind


@pytest.mark.parametrize(
    ("sentence", "name", "kind"),
    [
        ("We propose a process called Moral Graph Elicitation (MGE), which uses a large "
         "language model to interview participants.", "MGE", "method"),
        ("To study this, we introduce the Poisoned Context Testbed, pairing queries with "
         "contexts.", "Poisoned Context Testbed", "benchmark"),
        ("We introduce MABe22, a large-scale, multi-agent video and trajectory benchmark to "
         "assess representations.", "MABe22", "benchmark"),
        ("In this work, we introduce NeuroCine, a novel dual-phase framework for decoding.",
         "NeuroCine", "framework"),
    ],
)
def test_resource_kind_is_the_apposition(sentence: str, name: str, kind: str) -> None:
    assert (name, kind) in find_resources(sentence)


def test_title_name_takes_the_kind_of_its_apposition_not_of_the_next_clause() -> None:
    found = introduced_resources(
        "Attend-and-Excite: Attention-Based Semantic Guidance for Text-to-Image Diffusion Models",
        ["To help mitigate these failure cases, we introduce the concept of Generative "
         "Semantic Nursing (GSN).",
         "Using an attention-based formulation of GSN, dubbed Attend-and-Excite, we guide the "
         "model to refine the cross-attention units."])
    assert ("Attend-and-Excite", "method") in [(n, k) for n, k, _ in found]


def test_title_that_measures_names_a_benchmark() -> None:
    found = introduced_resources(
        "MoCa: Measuring Human-Language Model Alignment on Causal and Moral Judgment Tasks",
        ["We collected a dataset of stories from 24 cognitive science papers.",
         "We test whether large language models make causal and moral judgments."])
    assert [(n, k) for n, k, _ in found] == [("MoCa", "benchmark")]


def test_peer_review_is_no_survey() -> None:
    from litreview.review.kinds import is_survey

    assert not is_survey("What Makes a Good AI Review? Concern-Level Diagnostics")
    assert is_survey("Deep Learning for Code: A Systematic Review of Recent Work")
    assert is_survey("Hallucination: A Survey")


def test_a_hyphenated_modifier_is_not_the_kind_noun_of_a_proposal() -> None:
    from litreview.review.kinds import sentence_kind

    said = sentence_kind("We introduce MABe22, a large-scale, multi-agent video and trajectory "
                         "benchmark to assess the quality of learned representations.")
    assert said == "resource"
    assert sentence_kind("We propose a model-based planner for household robots.") == "method"
    assert sentence_kind("We propose a multi-agent framework for debate.") == "method"
