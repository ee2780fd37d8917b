"""Strand names beside their siblings and their theme (``labels.name_groups``, ``naming``).

Small hand-made corpora, one rule each: sibling strands never read as one line of work,
a large strand is not left unnamed for a phrase a small sibling took, equal scores go to
the rarer phrase, and a theme's only strand is not named more narrowly than its theme.
"""

from __future__ import annotations

import pandas as pd
import pytest

from litreview import labels
from litreview.topics import naming

#: One word per paper, so that no title tail is shared by three papers (a phrase).
PLACES = iter(f"{a}{b}" for a in ("Lima", "Oslo", "Quito", "Accra", "Hanoi", "Perth", "Turin",
                                  "Dakar", "Cusco", "Bergen")
              for b in ("", "ville", "burg", "stad", "polis", "mouth", "field", "ton"))


def place() -> str:
    return next(PLACES)


def papers(rows: list[tuple[str, str, int, int]]) -> pd.DataFrame:
    """(title, abstract, theme, strand) rows as the naming step reads them."""
    return pd.DataFrame([{"paper_id": f"p{i:03d}", "title": t, "abstract": a, "topic": th,
                          "group": s, "strand": s} for i, (t, a, th, s) in enumerate(rows)])


def graph_theme(theme: int, strand: int, n: int = 4) -> list[tuple[str, str, int, int]]:
    """Another research line, so that each test's theme is not the whole corpus."""
    return [(f"Graph sparsification at {place()}",
             "Graph sparsification keeps spectral clustering quality.", theme, strand)
            for _ in range(n)]


@pytest.mark.parametrize(("a", "b", "alike"), [
    ("value", "human value", True),          # one holds the other
    ("social norm", "moral norm", True),     # the same head word
    ("activation steering", "steering", True),
    ("activation steering", "sparse autoencoder", False),
    ("norm", "normalization", False),        # whole words only
])
def test_alike_phrases(a, b, alike):
    assert labels.alike_phrases(a, b) is alike
    assert labels.alike_phrases(b, a) is alike


def _value_theme(n_values: int, personas: bool) -> list[tuple[str, str, int, int]]:
    """Theme 0: strand 0 on "human values" (4), strand 1 on "values" (``n_values``)."""
    rows = [(f"Human values at {place()}", "Human values guide what assistants should say.",
             0, 0) for _ in range(4)]
    for i in range(n_values):
        abstract = "Chatbots state values in polls."
        if personas and i < 3:
            abstract += (" Simulated personas answer.", " We ask simulated personas.",
                         " Simulated personas, too.")[i]
        rows.append((f"Values at {place()}", abstract, 0, 1))
    return rows


def test_sibling_strands_never_share_a_head_word():
    # Strand 1's best phrase is "values", which sibling strand 0 holds in "human values"
    # (chosen first: it fits its strand better); strand 1 takes its next distinct phrase.
    # (candidate phrases are title phrases: one title elsewhere uses "simulated personas")
    frame = papers(_value_theme(5, personas=True) + graph_theme(1, 2)
                   + [("Simulated personas of graphs", "Graph sparsification.", 1, 2)])
    named = labels.name_groups(frame, parent={0: 0, 1: 0, 2: 1})
    label = dict(zip(named["group"], named["label"], strict=True))
    assert label[0] == "Human values"
    assert label[1] == "Simulated personas"


def test_a_large_strand_is_named_before_a_small_sibling_takes_its_phrase():
    # Strand 1 (10 papers) has one phrase of its own, "values"; strand 0 (4 papers) scores
    # better with "human values". Strand 1 chooses first and keeps "Values"; strand 0 may
    # not take a phrase that holds it.
    frame = papers(_value_theme(10, personas=False) + graph_theme(1, 2))
    named = labels.name_groups(frame, parent={0: 0, 1: 0, 2: 1})
    label = dict(zip(named["group"], named["label"], strict=True))
    assert label[1] == "Values"
    assert label[0].startswith(labels.FALLBACK_NAME)


def test_equal_scores_go_to_the_phrase_the_rest_of_the_corpus_uses_less():
    # Strand 0: three papers each on moderation, toxicity and norms; "norms" is also all
    # over theme 1, so "Moderation and toxicity" names strand 0, not "Moderation and norms".
    rows = []
    for word in ("Moderation", "Toxicity", "Norms"):
        rows += [(f"{word} at {place()}", f"{word} matters in forums.", 0, 0)
                 for _ in range(3)]
    rows += graph_theme(0, 1)
    rows += [(f"Folk tales of {place()}", "Norms of hospitality shape folk tales.", 1, 2)
             for _ in range(4)]
    frame = papers(rows)
    named = labels.name_groups(frame, parent={0: 0, 1: 0, 2: 1})
    label = dict(zip(named["group"], named["label"], strict=True))
    assert label[0] == "Moderation and toxicity"


def _equivariance_corpus() -> pd.DataFrame:
    """Theme 0: one strand of eight equivariance papers, five of them mention motion."""
    rows = [(f"Equivariance at {place()}",
             "Equivariance to rotations" + (" helps motion prediction." if i < 3 else "."),
             0, 0) for i in range(6)]
    rows += [(f"Motion of equivariant agents at {place()}", "Equivariance of motion.", 0, 0)
             for _ in range(2)]
    rows += graph_theme(1, 1, 5)
    rows += [(f"Spectral embeddings of {place()}", "Spectral embeddings of large graphs.", 1, 2)
             for _ in range(5)]
    return papers(rows)


def test_a_themes_only_strand_is_not_named_more_narrowly_than_its_theme():
    frame = _equivariance_corpus()
    names = naming.name_levels(frame, frame["topic"].to_numpy(), frame["strand"].to_numpy())
    assert names.themes[0] == "Equivariance"
    assert names.strands[0] == "Equivariance"  # not "Motion" (5 of 8 papers), nor "other papers"
    assert names.strands[1] != names.themes[1]  # a theme of two strands still names them apart


def test_only_strand_label():
    keyed = [labels.keyed_text(f"Equivariant nets {i}", "Equivariance" + (" of motion" * (i < 2)))
             for i in range(4)]
    assert naming.only_strand_label("Motion", "Equivariance", keyed) == "Equivariance"
    assert naming.only_strand_label("", "Equivariance", keyed) == "Equivariance"
    # a phrase that speaks for the strand as well as the theme's label does stays
    both = [labels.keyed_text("DPO for chat", "RLHF and reinforcement learning")] * 3
    assert naming.only_strand_label("DPO and RLHF", "Reinforcement learning", both) \
        == "DPO and RLHF"
    assert naming.only_strand_label("Motion", "All papers", keyed) == "Motion"


def test_an_abstract_word_mostly_of_a_sibling_does_not_name_a_strand():
    # Strand 1's titles share nothing; three of its abstracts say "attention", and so do
    # all four of its sibling's. "Attention" (no title of the strand, 3 of the theme's 7
    # carriers) would name strand 1 after its neighbours' word: it stays unnamed.
    words = iter(f"Zor{a}{b}" for a in "abcdefgh" for b in "klmnoprs")
    rows = [(f"Lottery tickets at {next(words)}",
             "Lottery tickets prune attention layers.", 0, 0) for _ in range(4)]
    rows += [(f"{next(words)} {next(words)} study", f"Visual attention of {next(words)} observers.",
              0, 1) for _ in range(3)]
    rows += [(f"{next(words)} {next(words)} notes", f"Memory of {next(words)} observers.", 0, 1)]
    rows += [(f"Graph sparsification at {next(words)}",
              "Graph sparsification keeps spectral clustering quality.", 1, 2) for _ in range(4)]
    rows += [("Attention on graphs", "Graph sparsification.", 1, 2)]  # a title phrase
    named = labels.name_groups(papers(rows), parent={0: 0, 1: 0, 2: 1})
    label = dict(zip(named["group"], named["label"], strict=True))
    assert label[0] == "Lottery tickets"
    assert label[1].startswith(labels.FALLBACK_NAME)


@pytest.mark.parametrize("unique_per_parent", [False, True])
def test_a_strand_may_share_a_title_phrase_with_another_themes_strand(unique_per_parent):
    # Strands 0 (theme 0) and 2 (theme 1) both gather "alignment" papers. Strand 0 chooses
    # first and takes "Alignment"; strand 2's only phrase of its own is "conflict", a word
    # of its abstracts. With labels unique per theme's strands it may carry "Alignment" too
    # (in all its titles) instead of the last-resort word.
    words = iter(f"Qua{a}{b}" for a in "abcdefgh" for b in "klmnoprs")
    rows = [(f"Alignment at {next(words)}", "Alignment matters.", 0, 0) for _ in range(3)]
    rows += [(f"Graph sparsification at {next(words)}", "Graph sparsification helps.", 0, 1)
             for _ in range(4)]
    rows += [("Conflict graphs", "Graph sparsification.", 0, 1)]  # "conflict" in a title
    rows += [(f"{next(words)} alignment {next(words)}",
              f"A conflict of {next(words)} goals. The conflict grows.", 1, 2) for _ in range(3)]
    rows += [(f"{next(words)} alignment {next(words)}", f"Goals of {next(words)}.", 1, 2)]
    rows += [(f"Folk tales of {next(words)}", "Folk tales travel.", 1, 3) for _ in range(4)]
    named = labels.name_groups(papers(rows), parent={0: 0, 1: 0, 2: 1, 3: 1},
                               unique_per_parent=unique_per_parent)
    label = dict(zip(named["group"], named["label"], strict=True))
    assert label[0] == "Alignment"
    assert label[2] == ("Alignment" if unique_per_parent else "Conflict")


def test_a_theme_phrase_that_speaks_for_too_few_papers_is_joined_by_its_strands():
    from litreview import labels

    papers = ([("Bias in hiring models", "Hiring models show bias.")] * 4
              + [("Human values of chat models", "Chat models encode human values.")] * 4
              + [("Values and social norms", "Social norms and values in dialogue.")] * 2
              + [("Stereotypes in prompts", "Prompts elicit stereotypes.")] * 2)
    keyed = [labels.keyed_text(t, a) for t, a in papers]
    assert naming.widened_label("Bias", ["Values", "Stereotypes"], keyed) == (
        "Bias, values and stereotypes")
    # another theme's word is not repeated; a phrase that adds fewer than two papers is not
    assert naming.widened_label("Bias", ["Values", "Stereotypes"], keyed,
                                ["Stereotypes and persuasion"]) == "Bias and values"
    # a one-word label that speaks for 70 % of the theme's papers stands alone ...
    assert naming.widened_label("Bias", ["Values"], keyed[:4] * 2 + keyed[4:6]) == "Bias"
    assert naming.widened_label("Bias", ["Values"], keyed[:4] + keyed[8:10] + keyed[4:6]) == (
        "Bias and values")
    # ... a longer phrase already for half of them
    keyed = [labels.keyed_text(t.replace("Bias", "Gender bias"), a.replace("bias", "gender bias"))
             for t, a in papers]
    assert naming.widened_label("Gender bias", ["Values"],
                                keyed[:4] + keyed[8:10] + keyed[4:6]) == "Gender bias"
