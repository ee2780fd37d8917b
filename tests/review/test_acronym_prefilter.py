"""The acronym-definition check's string prefilter answers exactly as the pattern does."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from litreview.review import sentences as S

CASES = [
    ("RLHF", "Reinforcement learning from human feedback (RLHF) aligns models."),
    ("RLHF", "We study RLHFs (a family) here."),
    ("LLM", "Large language models (LLMs) are popular."),
    ("LLM", "Large language models (LLMs, for short) are popular."),
    ("LLM", "Models (LLMs; see below) are popular."),
    ("LN", "LN (long name here) is defined."),
    ("LN", "LN ( short) is not."),
    ("LN", "LN, a method for names, is defined."),
    ("LN", "LN: an approach that works."),
    ("LN", "LNs , the first of their kind, appear."),
    ("LN", "We call it a method named LN today."),
    ("LN", "We call it a method named LNX today."),
    ("LN", "The LN is used without definition, sadly."),
    ("LN", "XLN, a thing, is not LN."),
    ("LN", "LN,"),
    ("LN", "LN"),
    ("A/H", "Influenza A/H (a strain) is studied."),
    ("GPT-4", "GPT-4, a model, is strong."),
    ("GPT-4", "We use GPT-4\u2003(the OpenAI model) here."),
]


def _pattern(acronym: str, sentence: str) -> bool:
    return S._expansion_pattern(acronym).search(sentence) is not None


def test_fixed_cases_agree_with_the_pattern():
    for acronym, sentence in CASES:
        assert S._expanded(acronym, sentence) == _pattern(acronym, sentence), (acronym, sentence)
    assert S._expanded("LN", "LN (long name here) is defined.")
    assert not S._expanded("LN", "The LN is used without definition, sadly.")


def test_seed_corpus_sentences_agree_with_the_pattern():
    root = Path(__file__).resolve().parents[2] / "data" / "corpus"
    texts = [line for path in sorted(root.glob("*.txt"))
             for line in path.read_text(encoding="utf-8").splitlines()]
    assert texts
    checked = 0
    for text in texts:
        for sentence in S.split_sentences(text):
            for acronym in S.acronyms(sentence):
                single = acronym[:-1] if acronym.endswith("s") else acronym
                assert S._expanded(single, sentence) == _pattern(single, sentence), sentence
                checked += 1
    assert checked > 100


@given(st.sampled_from(["LN", "RAG", "A/H", "GPT-4"]),
       st.lists(st.sampled_from(["LN", "RAG", "A/H", "GPT-4", "s", " ", "\t", "(", ")", ",",
                                 ";", ":", "a", "an", "the first", "called", "named", "x",
                                 "long name", "Xyz"]), max_size=12))
def test_random_sentences_agree_with_the_pattern(acronym, parts):
    sentence = "".join(parts)
    assert S._expanded(acronym, sentence) == _pattern(acronym, sentence)
