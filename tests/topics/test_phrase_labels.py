"""Phrase labels (``labels.name_groups``) on small hand-made corpora."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from litreview import labels

FILLER = "We propose a novel approach using text from people, based on the desired behaviour."

RAG = [
    ("Retrieval-augmented generation for open-domain question answering",
     "Retrieval-augmented generation (RAG) grounds answers in retrieved passages. " + FILLER),
    ("Benchmarking retrieval-augmented generation with noisy documents",
     "We test retrieval augmented generation when the retriever returns noisy documents."),
    ("Retrieval-augmented generation meets long context",
     "Long context windows compete with retrieval-augmented generation (RAG). " + FILLER),
    ("When does RAG help?",
     "RAG helps most on rare facts; retrieval augmented generation hurts on easy ones."),
    ("Compressing passages for retrieval-augmented generation",
     "Passage compression keeps retrieval-augmented generation fast. " + FILLER),
    ("Quantum annealing for passage reranking",
     "A quantum annealing reranker for retrieved passages, tested with RAG."),
]
HALLUCINATION = [
    ("Detecting hallucination in summaries", "Hallucination detection flags unsupported claims. "
     + FILLER),
    ("Why language models hallucinate", "Hallucination arises from training on noisy text."),
    ("Hallucination benchmarks revisited", "We audit hallucination benchmarks. " + FILLER),
    ("Measuring hallucination with entailment", "Entailment scores measure hallucination."),
    ("Hallucination in multilingual models", "Hallucination grows in low-resource languages."),
    ("Quantum annealing meets hallucination", "A quantum annealing view of hallucination."),
]
STEERING = [
    ("Activation steering for safer chat models", "Activation steering adds a vector to the "
     "residual stream. " + FILLER),
    ("Steering vectors from contrastive prompts", "Activation steering with steering vectors "
     "built from contrastive prompts."),
    ("Activation steering at scale", "We apply activation steering to large models. " + FILLER),
    ("Limits of activation steering", "Activation steering and steering vectors fail on "
     "some concepts."),
    ("Composing steering vectors", "Steering vectors compose; activation steering stays cheap."),
]
MIND = [
    ("Theory of mind in large language models", "Do models pass false-belief tests of theory of "
     "mind? " + FILLER),
    ("Testing theory of mind with stories", "Stories probe theory of mind in children and models."),
    ("A benchmark for theory of mind", "Theory of mind questions about beliefs. " + FILLER),
    ("Theory of mind fails under perturbation", "Small perturbations break theory of mind."),
    ("Higher-order theory of mind", "Second-order beliefs test theory of mind."),
]


def corpus(*groups: list[tuple[str, str]], ids: tuple[int, ...] | None = None) -> pd.DataFrame:
    rows = []
    for g, papers in zip(ids or range(len(groups)), groups, strict=True):
        for i, (title, abstract) in enumerate(papers):
            rows.append({"paper_id": f"g{g}-{i}", "title": title, "abstract": abstract,
                         "group": g})
    return pd.DataFrame(rows)


def carriers(frame: pd.DataFrame, phrase: str) -> int:
    """Papers whose title or abstract holds ``phrase`` whole (hyphen or space, any number)."""
    words = [re.escape(labels.singular(w)) for w in re.split(r"[ -]", phrase.lower())]
    pattern = re.compile(r"\b" + r"[ -]".join(w + r"s?" for w in words) + r"\b")
    text = (frame["title"] + " . " + frame["abstract"]).str.lower()
    return int(text.map(lambda t: bool(pattern.search(t))).sum())


@pytest.fixture(scope="module")
def four() -> pd.DataFrame:
    return corpus(RAG, HALLUCINATION, STEERING, MIND)


@pytest.fixture(scope="module")
def named(four: pd.DataFrame) -> pd.DataFrame:
    casing = labels.learn_casing((four["title"] + " " + four["abstract"]).tolist())
    return labels.name_groups(four, casing=casing).set_index("group")


def test_each_group_is_named_by_the_phrase_its_titles_use(named):
    assert named.loc[0, "label"] == "Retrieval-augmented generation"
    assert named.loc[1, "label"] == "Hallucination"
    assert named.loc[2, "label"] == "Activation steering"
    assert named.loc[3, "label"] == "Theory of mind"
    assert list(named.columns[:4]) == ["label", "top_terms", "display_terms", "label_support"]


def test_no_broken_ngram_and_every_term_stands_whole_in_the_papers(four, named):
    broken = {"augmented generation", "generation rag", "retrieval-augmented", "theory of",
              "of mind", "mind", "steering vector", "rag grounds"}
    for group, row in named.iterrows():
        members = four[four["group"] == group]
        for term in [row["label"].lower(), *row["top_terms"]]:
            assert term not in broken, (group, term)
            assert carriers(members, term) >= 1, (group, term)
    assert "steering vectors" in named.loc[2, "top_terms"]


def test_label_and_terms_are_carried_by_three_papers_of_the_group(four, named):
    for group, row in named.iterrows():
        members = four[four["group"] == group]
        assert row["label_support"] >= 3
        assert carriers(members, row["label"]) == row["label_support"]
        for term in row["top_terms"]:
            assert carriers(members, term) >= 3, (group, term)
    # Two papers of a group share "quantum annealing": never a term, however distinctive.
    assert all("quantum annealing" not in terms for terms in named["top_terms"])


def test_filler_words_never_start_end_or_make_a_term(named):
    filler = {"text", "people", "desired", "based", "using", "novel", "approach", "propose",
              "behaviour", "we"}
    for terms in named["top_terms"]:
        for term in terms:
            words = re.split(r"[ -]", term)
            assert words[0] not in filler and words[-1] not in filler, term


def test_corpus_casing_is_kept(named):
    assert "RAG" in named.loc[0, "display_terms"]
    assert "rag" in named.loc[0, "top_terms"]


def test_two_phrases_join_with_and_when_one_does_not_cover_the_group():
    mixed = corpus(RAG[:5] + HALLUCINATION[:5], STEERING, MIND)
    row = labels.name_groups(mixed).set_index("group").loc[0]
    assert row["label"] == "Hallucination and retrieval-augmented generation"
    assert row["label_support"] == 10


def test_strand_label_differs_from_its_theme_and_from_its_siblings():
    # Two strands of one theme already named "Retrieval-augmented generation".
    strands = corpus(RAG[:5] + HALLUCINATION[:3], RAG[:5] + STEERING[:3], MIND,
                     ids=(10, 11, 12))
    named = labels.name_groups(
        strands, parent={10: 1, 11: 1, 12: 2},
        parent_labels={1: "Retrieval-augmented generation", 2: "Minds"},
    ).set_index("group")
    for group in (10, 11):
        assert "retrieval-augmented generation" not in named.loc[group, "label"].lower()
    assert named.loc[10, "label"] != named.loc[11, "label"]
    assert named.loc[10, "label"] == "Hallucination"
    assert named.loc[11, "label"] == "Activation steering"


def test_labels_are_unique_when_groups_share_a_topic():
    split = corpus(RAG[:5] + HALLUCINATION[:2], RAG[:5] + HALLUCINATION[2:5], STEERING)
    named = labels.name_groups(split)
    assert named["label"].is_unique
    assert (named["label_support"] >= 3).all()


def test_row_order_does_not_change_the_names(four):
    first = labels.name_groups(four)
    shuffled = labels.name_groups(four.sample(frac=1, random_state=7).reset_index(drop=True))
    pd.testing.assert_frame_equal(first, shuffled)


def test_unplaced_papers_are_ignored(four):
    noisy = pd.concat([four, pd.DataFrame([
        {"paper_id": f"x{i}", "title": "Galaxy clustering with DESI", "abstract":
         "Galaxy clustering measurements.", "group": -1} for i in range(5)])], ignore_index=True)
    named = labels.name_groups(noisy)
    assert sorted(named["group"]) == [0, 1, 2, 3]
    assert not any("galaxy" in t for terms in named["top_terms"] for t in terms)
    pd.testing.assert_frame_equal(named, labels.name_groups(four))


def test_nothing_placed_gives_an_empty_table():
    empty = labels.name_groups(pd.DataFrame({"paper_id": ["a"], "title": ["T"],
                                             "abstract": ["A"], "group": [-1]}))
    assert empty.empty and "label" in empty.columns


def test_hostile_text_and_missing_abstracts_do_not_break_naming():
    odd = corpus(STEERING, MIND)
    odd.loc[0, "abstract"] = None
    odd.loc[1, "title"] = "Activation steering \ue001\ue002 <script>alert(1)</script>"
    named = labels.name_groups(odd).set_index("group")
    assert named.loc[0, "label"] == "Activation steering"
    assert named.loc[0, "size"] == len(STEERING)


def test_groups_without_any_usable_phrase_get_a_numbered_fallback():
    bare = corpus(STEERING, [("The", "And of the."), ("Of", "The."), ("A", "An.")])
    named = labels.name_groups(bare).set_index("group")
    assert named.loc[0, "label"] == "Activation steering"
    assert named.loc[1, "label"] == f"{labels.FALLBACK_NAME} (1)"
    assert named.loc[1, "label_support"] == 0 and named.loc[1, "top_terms"] == []


MODELS = [  # a group whose only shared title word is a generic one
    ("Models of sparse coding", "Sparse coding models of receptive fields."),
    ("Models for weather", "Weather forecasting models on grids."),
    ("Models and markets", "Market models with agents."),
    ("Better models", "Models, models, models."),
]
HALLUCINATION_TOO = [  # a second group that also says "hallucination", with its own topic
    ("Hallucination in speech recognition", "Speech recognition hallucination on silence."),
    ("Speech recognition under noise", "Speech recognition fails in noise; hallucination."),
    ("Hallucination-free speech recognition", "Speech recognition without hallucination."),
    ("Speech recognition for children", "Children's speech recognition."),
]


def test_a_generic_word_never_names_a_group_alone():
    named = labels.name_groups(corpus(MODELS, STEERING, MIND)).set_index("group")
    assert named.loc[0, "label"].lower() not in {"models", "model"}


def test_theme_names_repeat_no_word_of_another_theme_name():
    named = labels.name_groups(corpus(HALLUCINATION, HALLUCINATION_TOO, STEERING))
    words = [set(re.findall(r"[a-z]+", label.lower())) - {"and"} for label in named["label"]]
    for i in range(len(words)):
        for j in range(i + 1, len(words)):
            assert not words[i] & words[j], (named["label"].tolist())
    assert named.set_index("group").loc[1, "label"] == "Speech recognition"


def test_the_tail_of_a_compound_is_no_key_term():
    papers = [(f"Language model hallucinations in {x}", f"Language model hallucinations in {x}.")
              for x in ("law", "medicine", "code", "maths")]
    named = labels.name_groups(corpus(papers, STEERING, MIND)).set_index("group")
    terms = named.loc[0, "top_terms"]
    assert "model hallucinations" not in terms
    assert not any(t.endswith("in large language models") for t in terms)


def test_boilerplate_tail_is_recognised():
    assert labels._boilerplate_tail("hallucination in large language model")
    assert not labels._boilerplate_tail("theory of mind")


def test_naming_the_same_papers_again_reuses_their_tokens(four, monkeypatch):
    """Strands, themes and strands again are named over the same placed papers: one
    tokenisation serves them all (same names), and ``clear_tokens`` lets it go."""
    built = []
    real = labels._Tokens

    class Counting(real):
        def __init__(self, *args, **kwargs):
            built.append(1)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(labels, "_Tokens", Counting)
    labels.clear_tokens()
    first = labels.name_groups(four)
    again = labels.name_groups(four, min_coverage=labels.THEME_COVERAGE)
    assert len(built) == 1
    assert labels.name_groups(four).equals(first) and len(built) == 1
    labels.clear_tokens()
    assert labels.name_groups(four).equals(first) and len(built) == 2
    assert not again.empty
    other = four.assign(title=four["title"] + " extra")
    labels.name_groups(other)
    assert len(built) == 3  # other papers: tokenised anew
    labels.clear_tokens()
