"""Sentence splitting, openers, citation keys and resource patterns."""

from __future__ import annotations

import pandas as pd
import pytest

from litreview.review import (
    assign_citation_keys,
    citation_key,
    find_resources,
    is_self_contained,
    normalise_whitespace,
    split_sentences,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One sentence here. Another one follows.", ["One sentence here.", "Another one follows."]),
        ("We use cues, e.g. Tone and pitch. Then we stop.",
         ["We use cues, e.g. Tone and pitch.", "Then we stop."]),
        ("As shown by Smith et al. (2021) and Lee et al. We agree.",
         ["As shown by Smith et al. (2021) and Lee et al. We agree."]),
        ("That is, i.e. The model. Done now.", ["That is, i.e. The model.", "Done now."]),
        ("Accuracy rose to 93.5 percent. Loss fell by 0.2 points.",
         ["Accuracy rose to 93.5 percent.", "Loss fell by 0.2 points."]),
        ("GPT-4 vs. Claude are compared. Results differ.",
         ["GPT-4 vs. Claude are compared.", "Results differ."]),
        ("Proposed by J. R. Smith in 1990. It works.",
         ["Proposed by J. R. Smith in 1990.", "It works."]),
        ("Data from the U.S. Census was used. We report it.",
         ["Data from the U.S. Census was used.", "We report it."]),
        ("See Fig. 3 for details. Is it good? Yes! 42 models agree.",
         ["See Fig. 3 for details.", "Is it good?", "Yes!", "42 models agree."]),
        ('He said "stop." Then left.', ['He said "stop."', "Then left."]),
        ("Models (e.g., BERT) fail. (Parenthetical start.) End.",
         ["Models (e.g., BERT) fail.", "(Parenthetical start.)", "End."]),
        ("lower case after period. does not split", ["lower case after period. does not split"]),
        ("Trailing text without a period", ["Trailing text without a period"]),
        ("  Messy\n whitespace.\tSecond  line. ", ["Messy whitespace.", "Second line."]),
        ("", []),
        (None, []),
    ],
)
def test_split_sentences(text: str | None, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_sentences_are_substrings_of_the_normalised_text() -> None:
    text = "A first one, e.g. with abbreviations.  A 2nd\none follows!  (Third one.) Last"
    for sentence in split_sentences(text):
        assert sentence in normalise_whitespace(text)


@pytest.mark.parametrize(
    ("sentence", "ok"),
    [
        ("We present NormBank, a knowledge bank of norms.", True),
        ("This resource grounds normative reasoning.", False),
        ("These results hold.", False),
        ("It works well.", False),
        ("However, models fail.", False),
        ("In addition, we release data.", False),
        ("Thistle is a plant name.", True),
        ("Iterative refinement helps.", True),
        ("Using this dataset, we test whether models judge well.", False),
        # strict by design: "this" outside "this paper/work" leans on what came before
        ("We evaluate 12 models on a new benchmark of this kind of task.", False),
        ("In this paper, we evaluate 12 models on a new benchmark of refusal.", True),
        ("Data augmentation, on the other hand, helps little.", False),
        ("We instead train a probe on the residual stream.", False),
        ("In fact, accuracy rose on every benchmark we tried.", False),
        # counts items an earlier sentence listed
        ("LLMs make some progress towards the second goal, but the third level lags.", False),
        ("Accuracy falls for the second time in a row on every benchmark.", True),
        ("Study 3 extended the analysis to multi-word expressions.", False),
        ("To do so, we introduce a family of synthetic datasets.", False),
        ("Namely, we consider inverse dynamics modelling.", False),
        ("For low values, the model behaves as a random process.", False),
    ],
)
def test_self_contained_openers(sentence: str, ok: bool) -> None:
    assert is_self_contained(sentence) is ok


@pytest.mark.parametrize(
    ("title", "year", "authors", "key"),
    [
        ("NormBank: A Knowledge Bank of Situational Social Norms", None, None, "normbank"),
        ("NormBank: A Knowledge Bank of Situational Social Norms", 2023, None, "normbank2023"),
        ("Social Chemistry 101: Learning to Reason about Norms", 2020, None,
         "socialchemistry2020"),
        ("Adding LLMs to the psycholinguistic norming toolbox: A practical guide", None, None,
         "addingpsycholinguistic"),
        ("Large Language Models Assume People are More Rational than We Really are", None,
         None, "assumepeople"),
        ("Deep Learning on a Data Diet", 2021, None, "datadiet2021"),
        ("Large Language Models", None, None, "largelanguage"),
        ("Large Language Models", 2023, "Smith, J.", "smith2023large"),
        ("The effect of refusal training on jailbreaks", 2024, None, "effectrefusal2024"),
        ("Mapping the field of norms", 2021, "Smith, J.; Doe, A.", "smith2021mapping"),
        ("Mapping the field of norms", 2021, "José Rui Figueira and B. Roy", "figueira2021mapping"),
        ("Mapping the field of norms", None, "Smith, J.", "mappingfield"),
        ("Mapping the field of norms", 2021, "Smith JR; Doe A", "smith2021mapping"),
        ("Mapping the field of norms", 2021, "G. Kalbe", "kalbe2021mapping"),
        ("Évaluation à grande échelle", None, None, "evaluationgrande"),
        ("", None, None, "untitled"),
        ("<script>alert(1)</script>", None, None, "scriptalert"),
    ],
)
def test_citation_key(title: str, year: int | None, authors: str | None, key: str) -> None:
    assert citation_key(title, year, authors) == key


def test_citation_keys_unique_and_stable() -> None:
    papers = pd.DataFrame(
        {
            "paper_id": ["z9", "a1", "m5", "q2", "r7"],
            "title": ["Same Title: x", "Same Title: y", "Same Title: x", "Other paper here",
                      "Same title again"],
            "year": pd.array([2024, 2024, 2024, None, 2024], dtype="Int64"),
        }
    )
    keys = assign_citation_keys(papers)
    assert len(set(keys.values())) == len(keys) == 5
    # clashing keys grow by a title word while that separates them, then take a/b
    # suffixes in paper_id order, so nothing depends on row order
    assert keys == {"a1": "sametitley2024", "m5": "sametitlex2024a", "z9": "sametitlex2024b",
                    "q2": "otherpaper", "r7": "sametitleagain2024"}
    assert assign_citation_keys(papers.iloc[::-1]) == keys
    assert all(k.isascii() and k.isalnum() and k == k.lower() for k in keys.values())


def test_citation_key_suffix_avoids_natural_key() -> None:
    papers = pd.DataFrame(
        {"paper_id": ["1", "2", "3"], "title": ["Foo: a", "Foo: a", "Fooa: c"],
         "year": pd.array([None, None, None], dtype="Int64")}
    )
    keys = assign_citation_keys(papers)
    assert len(set(keys.values())) == 3
    assert keys["3"] == "fooa"
    assert {keys["1"], keys["2"]} == {"foob", "fooc"}


@pytest.mark.parametrize(
    ("sentence", "found"),
    [
        ("We present NormBank, a knowledge bank of 155k situational norms.",
         [("NormBank", "dataset")]),
        ("We introduce SafeBench-X, a new benchmark of adversarial prompts.",
         [("SafeBench-X", "benchmark")]),
        ("We introduce Moral Stories, a crowd-sourced dataset of structured narratives.",
         [("Moral Stories", "dataset")]),
        ("To fill this gap, we release a large-scale corpus called CodeNet2 for research.",
         [("CodeNet2", "dataset")]),
        ("We propose MMLU-Pro (Massive Multitask Pro): an enhanced benchmark of questions.",
         [("MMLU-Pro", "benchmark")]),
        # a benchmark the paper uses is not one it introduces
        ("Experiments on SuperGLUE, a popular benchmark suite, show gains.", []),
        # names the first finder missed (issue 10), from seed-corpus sentences
        ("We introduce SimpleSafetyTests (SST) as a new test suite for rapidly and "
         "systematically identifying such critical safety risks.",
         [("SimpleSafetyTests", "benchmark")]),
        ("To systematically evaluate MLLMs' oversensitivity to these stimuli, we propose the "
         "Multimodal OverSenSitivity Benchmark (MOSSBench).", [("MOSSBench", "benchmark")]),
        ('In this work, we propose "SelfCheckGPT", a simple sampling-based approach that can '
         "be used to fact-check black-box models.", [("SelfCheckGPT", "method")]),
        ("We introduce SEnsitive Neuron Dropout (SeND), a novel training protocol designed to "
         "mitigate hallucinations.", [("SeND", "method")]),
        ("We propose CopyPasteLLM, obtained through two-stage high-copying response "
         "preference training.", [("CopyPasteLLM", "method")]),
        ("We propose in this work linear end-to-end activation steering (LinEAS), an approach "
         "trained with a global loss.", [("LinEAS", "method")]),
        ("To this end, we propose the Flexible Activation Steering with Backtracking (FASB) "
         "framework, which dynamically determines the strength of intervention.",
         [("FASB", "framework")]),
        ("We introduce MABe22, a large-scale, multi-agent video and trajectory benchmark to "
         "assess learned behavior representations.", [("MABe22", "benchmark")]),
        ("We propose two simple yet effective techniques, namely Clip-Cov and KL-Cov, which "
         "clip tokens.", [("Clip-Cov", "method"), ("KL-Cov", "method")]),
        ("We present a new methodology for detecting out-of-distribution (OOD) images.", []),
        ("Using frame averaging, we propose a new class of universal Graph Neural Networks "
         "(GNNs).", []),
        # precision: ordinary words and unnamed resources are not resources
        ("We present a new benchmark for refusal.", []),
        ("We propose Evaluation, a method for scoring.", []),
        ("We introduce the task, a benchmark of sorts.", []),
        ("Unlike prior commonsense resources, NormBank grounds each inference.", []),
    ],
)
def test_find_resources(sentence: str, found: list[tuple[str, str]]) -> None:
    assert find_resources(sentence) == found


@pytest.mark.parametrize(
    ("title", "abstract", "found"),
    [
        ("EgoNormia: Benchmarking Physical Social Norm Understanding",
         "We present EgoNormia |epsilon|, consisting of 1,853 ego-centric videos.",
         [("EgoNormia", "benchmark")]),
        ("Beacon: Single-Turn Diagnosis of Latent Sycophancy",
         "We introduce Beacon, a single-turn forced-choice benchmark that isolates this bias.",
         [("Beacon", "benchmark")]),
        ("StressPrompt: Does Stress Impact Large Language Models and Human Performance?",
         "Inspired by psychology, we construct StressPrompt to measure stress effects.",
         [("StressPrompt", "method")]),
        # a title head that is a phrase, not a name, names no resource
        ("Mixing Mechanisms: How Language Models Retrieve Bound Entities In-Context",
         "We study how models bind entities. We propose a causal account.", []),
        ("3D-Properties: Identifying Challenges in DPO",
         "We propose easy regularization methods to mitigate the issues.", []),
    ],
)
def test_resources_from_titles(title: str, abstract: str, found: list) -> None:
    from litreview.review import introduced_resources

    assert [(n, k) for n, k, _ in introduced_resources(title, split_sentences(abstract))] == found


def test_strand_term_pattern_finds_the_strands_subject_not_the_fields_stock_phrases() -> None:
    from litreview.review.strands import strand_term_pattern

    pattern = strand_term_pattern("Activation steering and refusal",
                                  ["language models", "sparse autoencoders", "AI"])
    assert pattern is not None
    assert pattern.search("While activation steering in large language models is growing.")
    assert pattern.search("Refusals rise after fine-tuning.")
    assert pattern.search("Each sparse autoencoder feature is read by hand.")
    assert not pattern.search("Large language models have achieved remarkable performance.")
    assert not pattern.search("AI systems are everywhere.")
    assert strand_term_pattern("Hallucination: other papers", ["models"]).search(
        "Hallucinations undermine trust.")
    assert strand_term_pattern("Language models", ["AI", "models"]) is None


def test_unnamed_strands_are_written_as_one_closing_subsection() -> None:
    from litreview.review.strands import _gather_unnamed, _StrandSpec

    specs = [
        _StrandSpec(3, "Invariance and covariates", ["invariance"], ["a", "b", "c"], ["a", "b"]),
        _StrandSpec(5, "Foundations: other papers (1)", ["stability"], ["d", "e"], ["d"]),
        _StrandSpec(7, "Foundations: other papers (2)", ["compute"], ["f", "g"], ["f", "g"]),
    ]
    similarity = {"d": 0.5, "e": 0.4, "f": 0.7, "g": 0.45}
    out = _gather_unnamed(specs, similarity)
    assert [s.label for s in out] == ["Invariance and covariates", "Other papers of this theme"]
    assert out[-1].strand == -1
    assert out[-1].members == ["f", "d", "g", "e"]  # most similar to the theme first
    assert out[-1].core == ["f", "d", "g"]
    assert out[-1].top_terms == []  # small unnamed groups' terms read as fragments
    # a theme whose strands are all unnamed keeps them: there is nothing to close with
    assert _gather_unnamed(specs[1:], similarity) == specs[1:]


def _strand_papers(n: int) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    topics = ["graph neural networks", "message passing", "node classification"]
    abstracts, titles = {}, {}
    for i in range(n):
        pid = f"p{i:02d}"
        topic = topics[i % 3]
        titles[pid] = f"Study {i} of {topic}"
        abstracts[pid] = (
            f"Scaling {topic} to very large sparse inputs remains a hard open problem for "
            f"practitioners. We propose a simple method number {i} that trains {topic} "
            f"with far less memory than before. Our experiments show that {topic} trained "
            f"this way reach the accuracy of dense training on six benchmark datasets. "
            f"It remains unclear whether {topic} of this kind transfer to dynamic inputs."
        )
    return abstracts, titles, {pid: f"key{pid}" for pid in titles}


def test_strand_sentences_are_ranked_among_its_most_central_papers_only(monkeypatch):
    """Above ``rank_papers`` the TF-IDF ranking sees only the most central contributions
    (plus the candidate sentences); every paper's contribution is still listed, in
    centrality order within its kind. At or below it the strand is written as before."""
    import sklearn.feature_extraction.text as sk_text

    from litreview.review.roles import _Sentences
    from litreview.review.strands import _StrandSpec, _StrandWriter

    abstracts, titles, keys = _strand_papers(9)
    members = sorted(titles)
    spec = _StrandSpec(1, "Graph neural networks", ["graph", "message"], members, members)
    sizes: list[int] = []
    real = sk_text.TfidfVectorizer.fit_transform

    def spy(self, raw, *args, **kwargs):
        sizes.append(len(raw))
        return real(self, raw, *args, **kwargs)

    monkeypatch.setattr(sk_text.TfidfVectorizer, "fit_transform", spy)

    def write(rank_papers: int | None):
        writer = (_StrandWriter(_Sentences(abstracts, frozenset()), keys, titles)
                  if rank_papers is None else
                  _StrandWriter(_Sentences(abstracts, frozenset()), keys, titles, rank_papers))
        return writer.write(0, spec, 0, {})

    default, at_size = write(None), write(9)
    assert default == at_size and sizes[0] == sizes[1]
    n_candidates = sizes[0] - 9
    assert n_candidates > 0 and default.problem
    capped = write(4)
    assert sizes[2] == 4 + n_candidates
    assert sorted(c.paper_id for c in capped.contributions) == members
    by_kind: dict[str, list[str]] = {}
    for c in capped.contributions:
        by_kind.setdefault(c.kind, []).append(c.paper_id)
    assert all(ids == sorted(ids) for ids in by_kind.values())  # centrality order kept
    assert capped.problem


def test_a_strand_problem_is_not_a_papers_own_model_and_a_finding_reports_one() -> None:
    from litreview.review.roles import _Sentences
    from litreview.review.strands import _StrandSpec, _StrandWriter

    abstracts = {
        "a": ("Predictive coding explains how recurrent networks learn temporal patterns in "
              "noisy sensory streams. "
              "The model learns to extract the probabilistic structures hidden in fluctuating "
              "temporal patterns by changing the stochasticity of its latent states. "
              "We propose PCNet, a recurrent network trained with a variational objective. "
              "We validate our findings with a series of controlled experiments on two "
              "synthetic sequence datasets."),
        "b": ("Recurrent networks often fail to generalise beyond the temporal patterns seen "
              "in training. "
              "We introduce SeqProbe, a benchmark of temporal pattern generalisation tasks. "
              "We find that recurrent networks trained on short sequences generalise poorly "
              "to sequences twice as long."),
    }
    writer = _StrandWriter(_Sentences(abstracts, ()), {"a": "pcnet", "b": "seqprobe"},
                           {"a": "PCNet", "b": "SeqProbe"})
    spec = _StrandSpec(1, "Temporal patterns", ["temporal patterns", "recurrent networks"],
                       ["a", "b"], ["a", "b"])
    strand = writer.write(0, spec, 0, {})
    problem = " ".join(s.text for s in strand.problem)
    findings = " ".join(s.text for s in strand.findings)
    assert strand.problem and "The model learns" not in problem
    assert strand.findings and "We validate our findings" not in findings
    assert "generalise poorly" in findings


def test_a_stock_opening_is_quoted_after_the_problems_a_strand_states() -> None:
    from litreview.review.roles import _Sentences
    from litreview.review.strands import _StrandSpec, _StrandWriter

    abstracts = {
        "a": ("Language models for temporal reasoning are powerful systems that excel at "
              "temporal reasoning over many event timelines. "
              "We propose TimeProbe, a probe of temporal reasoning in language models."),
        "b": ("Event timelines appear in news reports, clinical notes and dialogue. "
              "Temporal reasoning over event timelines remains difficult for models trained "
              "on static text corpora. "
              "We introduce ChronoSet, a benchmark of event ordering questions."),
    }
    writer = _StrandWriter(_Sentences(abstracts, ()), {p: p for p in abstracts},
                           {p: p.upper() for p in abstracts})
    spec = _StrandSpec(1, "Temporal reasoning", ["temporal reasoning"], list(abstracts),
                       list(abstracts))
    problem = [s.text for s in writer.write(0, spec, 0, {}).problem]
    assert problem == ["Event timelines appear in news reports, clinical notes and dialogue."]
