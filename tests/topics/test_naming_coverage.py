"""Theme labels say what most of their papers share (``naming.name_levels``, coverage)."""

from __future__ import annotations

import pandas as pd
import pytest

from litreview import labels
from litreview.topics import naming

FOUNDATIONS = {  # theme 0: five research lines of four papers, no phrase shared by most
    "invariance": [
        ("Understanding the role of invariance in transfer learning",
         "Invariance to nuisance transformations helps transfer; we measure how much "
         "invariance a pretrained network keeps."),
        ("PAC generalization bounds via invariance",
         "Invariance of representations yields sample-complexity bounds."),
        ("Data augmentation as learned invariance",
         "Augmentation policies are cast as invariance constraints on the classifier."),
        ("When does invariance hurt?",
         "Too much invariance discards label information; we characterise when."),
    ],
    "covariate shift": [
        ("Pooling image datasets under covariate shift",
         "Covariate shift between sites biases pooled estimators; we reweight samples."),
        ("Detecting covariate shift with two-sample tests",
         "Kernel two-sample tests flag covariate shift before deployment."),
        ("Importance weighting for covariate shift revisited",
         "Importance weights correct covariate shift only when supports overlap."),
        ("Covariate shift in clinical prediction",
         "Hospital populations differ; covariate shift degrades clinical classifiers."),
    ],
    "fairness": [
        ("Unprocessing seven years of algorithmic fairness",
         "We compare fairness interventions on equal footing."),
        ("Intersectional fairness through regularisation",
         "Fairness for multiple protected attributes at once."),
        ("Counterfactual fairness across domains",
         "Counterfactual fairness with a sequential autoencoder."),
        ("Fairness without demographics",
         "Fairness when group labels are unknown."),
    ],
    "causal inference": [
        ("Causal inference with invariant mechanisms",
         "Causal inference from exchangeable data identifies mechanisms."),
        ("Heterogeneous treatment effects by causal inference",
         "Causal inference estimators for treatment effect heterogeneity."),
        ("A survey of causal inference for trustworthy learning",
         "Causal inference perspectives on trustworthy learning."),
        ("Causal inference under interference",
         "Causal inference when units interact."),
    ],
    "out-of-distribution detection": [
        ("Out-of-distribution detection with score matching",
         "Multiscale score matching for out-of-distribution detection."),
        ("Neuron activation coverage for out-of-distribution detection",
         "Coverage of neuron states flags out-of-distribution inputs."),
        ("Energy scores for out-of-distribution detection",
         "Energy-based out-of-distribution detection beats softmax scores."),
        ("Benchmarking out-of-distribution detection",
         "A benchmark of out-of-distribution detection methods on shifted images."),
    ],
}
STEERING = [(f"Activation steering of chat models {i}",
             "Activation steering adds a vector to the residual stream.") for i in "abcde"]
RAG = [(f"Retrieval-augmented generation for {x}",
        "Retrieval-augmented generation grounds answers in passages.")
       for x in ("law", "medicine", "code", "news", "science")]



def corpus() -> pd.DataFrame:
    """Theme 0: five research lines (strands 0-4); themes 1 and 2 one line each."""
    rows = []
    strand = 0
    for papers in FOUNDATIONS.values():
        for i, (title, abstract) in enumerate(papers):
            rows.append({"paper_id": f"f{strand}-{i}", "title": title, "abstract": abstract,
                         "topic": 0, "strand": strand})
        strand += 1
    for topic, papers in ((1, STEERING), (2, RAG)):
        for i, (title, abstract) in enumerate(papers):
            rows.append({"paper_id": f"t{topic}-{i}", "title": title, "abstract": abstract,
                         "topic": topic, "strand": strand})
        strand += 1
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def papers() -> pd.DataFrame:
    return corpus()


@pytest.fixture(scope="module")
def names(papers: pd.DataFrame) -> naming.Names:
    return naming.name_levels(papers, papers["topic"].to_numpy(), papers["strand"].to_numpy())


def keyed(frame: pd.DataFrame) -> list[str]:
    return [labels.keyed_text(t, a) for t, a in zip(frame["title"], frame["abstract"],
                                                    strict=True)]


def test_a_minority_phrase_does_not_name_a_broad_theme(papers, names):
    # Each line is 4 of the theme's 20 papers: no phrase (nor pair) speaks for most of it.
    # Before, the theme was "Causal inference and covariate shift" (two lines of five).
    theme = papers[papers["topic"] == 0]
    label = names.themes[0]
    assert labels.label_coverage(keyed(theme), label) >= labels.THEME_COVERAGE
    for part in labels.label_parts(label):
        assert labels.label_coverage(keyed(theme), part) < labels.MAIN_COVERAGE
    assert len(labels.label_parts(label)) == naming.BROAD_PARTS
    assert label == "Invariance, covariate shift and fairness"


def test_strands_keep_their_phrase_when_the_theme_is_named_broadly(names):
    assert [names.strands[s] for s in range(5)] == [
        "Invariance", "Covariate shift", "Fairness", "Causal inference",
        "Out-of-distribution detection"]
    assert all(not naming._unnamed(names.strands[s]) for s in range(5))
    assert names.themes[0] not in {names.strands[s] for s in range(5)}


def test_a_phrase_most_papers_share_still_names_the_theme(names):
    assert names.themes[1].lower().startswith("activation steering")
    assert names.themes[2] == "Retrieval-augmented generation"


def test_label_coverage_counts_plurals_hyphens_and_every_part():
    texts = keyed(pd.DataFrame({
        "title": ["Equivariant networks", "An equivariant network", "Retrieval augmented QA",
                  "Fairness audits", "Unrelated"],
        "abstract": ["", "", "We study retrieval-augmented generation.", "", ""]}))
    assert labels.label_coverage(texts, "Equivariant networks") == pytest.approx(0.4)
    assert labels.label_coverage(texts, "Retrieval-augmented generation") == pytest.approx(0.2)
    assert labels.label_coverage(texts, "Fairness and equivariant network") == pytest.approx(0.6)
    assert labels.label_coverage(texts, "Fairness, networks and retrieval-augmented generation"
                                 ) == pytest.approx(0.8)
    assert labels.label_coverage(texts, "Themes: other papers (2)") == 0.0
    assert labels.label_coverage([], "Fairness") == 0.0
    # A phrase is matched whole: "network" is not "networking", nor inside another word.
    assert labels.label_carriers([" networking "], "network") == [False]


def test_label_quality_reports_coverage_and_unnamed_strands(papers, names):
    quality = naming.label_quality(papers, papers["topic"].to_numpy(),
                                   papers["strand"].to_numpy(), names.themes, names.strands)
    assert quality["n_other_papers_strands"] == sum(
        naming._unnamed(n) for n in names.strands.values())
    assert quality["theme_label_coverage_min"] >= labels.THEME_COVERAGE
    assert quality["strand_label_coverage_min"] == pytest.approx(1.0)
    unnamed = [s for s, n in names.strands.items() if naming._unnamed(n)]
    assert quality["n_papers_in_other_papers_strands"] == int(
        papers["strand"].isin(unnamed).sum())
    assert quality["label_recipe"] == naming.naming_fingerprint()
    renamed = {s: f"Theme: other papers ({s})" for s in names.strands}
    assert naming.label_quality(papers, papers["topic"].to_numpy(), papers["strand"].to_numpy(),
                                names.themes, renamed)["n_papers_in_other_papers_strands"] \
        == int((papers["strand"] >= 0).sum())
    worse = {**names.themes, 0: "Fairness"}
    assert naming.label_quality(papers, papers["topic"].to_numpy(), papers["strand"].to_numpy(),
                                worse, names.strands)["theme_label_coverage_min"] == 0.2


def test_broad_label_takes_one_phrase_per_strand_and_skips_other_themes_words():
    texts = [" invariance ", " invariance ", " fairness ", " fairness ", " causal inference ",
             " causal inference "]
    assert naming.broad_label(["Invariance and covariates", "Fairness", "Causal inference"],
                              texts) == "Invariance, fairness and causal inference"
    assert naming.broad_label(["Invariance", "Fairness", "Causal inference"], texts,
                              ["Fairness"]) == "Invariance and causal inference"
    assert naming.broad_label(["Invariance", "Fairness: other papers"], texts) == ""


def test_key_terms_drop_filler_at_either_end():
    terms = ["empirically", "single", "overlook", "fairness", "causal inference",
             "independently", "sufficiently robust"]
    assert labels.clean_terms(terms) == ["fairness", "causal inference"]
    assert labels.clean_terms(["machine", "level", "fairness"], drop_generic=True) == [
        "fairness"]


def test_key_terms_drop_numbers_and_acronym_tails():
    terms = ["generation rag", "feedback rlhf", "35", "rag", "reinforcement learning"]
    assert labels.clean_terms(terms) == ["rag", "reinforcement learning"]


STEERING_LINE = [
    ("Activation steering for safer chat models", "Adding vectors to the residual stream."),
    ("Interventions at scale: activation steering", "Activation steering on large models."),
    ("Limits of interventions and activation steering", "Some concepts resist steering."),
    ("Interventions compose: activation steering vectors", "Two steering vectors at once."),
]
BRAIN_LINE = [
    ("Decoding fMRI with activation maps", "Brain activation in the visual cortex."),
    ("Brain activation during reading", "fMRI activation of language areas."),
    ("Whole-brain fMRI foundation models", "A model of brain activation."),
    ("Cortical activation under noise", "fMRI brain activation and noise."),
]


def test_a_strand_keeps_a_longer_phrase_that_adds_a_word_to_its_themes_label():
    # Theme "Activation and brain": the steering strand is "Activation steering", not the
    # fresher but vaguer "Interventions" (before: any word of the theme's label was stale).
    rows = [{"paper_id": f"s{g}-{i}", "title": t, "abstract": a, "group": g}
            for g, line in ((10, STEERING_LINE), (11, BRAIN_LINE))
            for i, (t, a) in enumerate(line)]
    named = labels.name_groups(pd.DataFrame(rows), parent={10: 1, 11: 1},
                               parent_labels={1: "Activation and brain"}).set_index("group")
    assert named.loc[10, "label"] == "Activation steering"
    assert "brain" not in named.loc[11, "label"].lower().split()


MODERATION_LINE = [
    ("Content moderation with language models", "Content moderation of toxic posts."),
    ("Hate speech moderation across cultures", "Moderation of hate speech online."),
    ("Moderation and user satisfaction", "Refusals as content moderation."),
    ("Toxicity detection for moderation", "Toxicity classifiers flag hate speech."),
    ("Counter-speech against hate speech", "Hate speech replies written by models."),
    ("Misinformation and moderation", "Moderation of misinformation on platforms."),
    ("Live-stream chat moderation", "Norm violations and moderation in chat."),
    ("Meme-based abuse and moderation", "Multimodal moderation of memes."),
]
MENTAL_HEALTH_LINE = [
    ("Social support in mental health forums", "Mental health communities online."),
    ("Detecting depression relapse", "Mental health signals in posts."),
    ("Engagement in mental health communities", "Mental health peer support."),
]


def test_a_theme_does_not_take_the_one_phrase_of_a_small_strand():
    rows = [{"paper_id": f"m{s}-{i}", "title": t, "abstract": a, "topic": 0, "strand": s}
            for s, line in ((0, MODERATION_LINE), (1, MENTAL_HEALTH_LINE))
            for i, (t, a) in enumerate(line)]
    rows += [{"paper_id": f"r{i}", "title": t, "abstract": a, "topic": 1, "strand": 2}
             for i, (t, a) in enumerate(RAG)]
    papers = pd.DataFrame(rows)
    names = naming.name_levels(papers, papers["topic"].to_numpy(), papers["strand"].to_numpy())
    # Before: "mental health" dangled (always followed by another noun) and the strand
    # was "Moderation: other papers (2)". The theme is named for what most papers share,
    # and its one word (7 of 11 papers) is joined by the small strand's phrase, never
    # replaced by it.
    assert names.strands[1] == "Mental health"
    assert names.themes[0] == "Moderation and mental health"
    assert names.strands[0] == "Hate speech"


HARASSMENT_LINE = [
    ("Harassment of journalists", "Harassment campaigns target reporters."),
    ("Measuring harassment", "A harassment survey of players."),
    ("Harassment in multiplayer games", "Harassment and player behaviour."),
    ("Bystanders and harassment", "Bystanders intervene in harassment."),
]


def test_strands_first_a_theme_takes_no_phrase_that_stays_in_one_strand():
    # Moderation (5 of 12 papers), mental health (3) and harassment (4): "Moderation and
    # mental health" covers 8 of 12, but "mental health" is the small strand's one name.
    lines = ((0, MODERATION_LINE[:5]), (1, MENTAL_HEALTH_LINE), (2, HARASSMENT_LINE))
    rows = [{"paper_id": f"m{s}-{i}", "title": t, "abstract": a, "topic": 0, "strand": s}
            for s, line in lines for i, (t, a) in enumerate(line)]
    rows += [{"paper_id": f"r{i}", "title": t, "abstract": a, "topic": 1, "strand": 3}
             for i, (t, a) in enumerate(RAG)]
    papers = pd.DataFrame(rows)
    names = naming.name_levels(papers, papers["topic"].to_numpy(), papers["strand"].to_numpy())
    assert [names.strands[s] for s in range(3)] == ["Moderation", "Mental health", "Harassment"]
    assert names.themes[0] == "Moderation, harassment and mental health"


def _keyed(papers: list[tuple[str, str]]) -> tuple[list[str], list[str]]:
    return ([labels.keyed_text(t, a) for t, a in papers],
            [labels.keyed_text(t, "") for t, _ in papers])


EVALUATION_STRAND = [  # ten papers on evaluation and scaling; one title and two abstracts reason
    ("RL on incorrect synthetic data scales the efficiency of math reasoning",
     "Reasoning traces from synthetic data improve sample efficiency."),
    ("Evaluating models with non-equivariance revealed on orbits", "We propose NERO."),
    ("Robust counterfactual explanations with probabilistic guarantees", "Counterfactuals."),
    ("AI capabilities can be improved without expensive retraining", "Post-training tricks."),
    ("Experts don't cheat: learning what you don't know", "Predicting pairs."),
    ("Why predicting downstream capabilities with scale remained elusive", "Scaling laws."),
    ("Inference scaling flaws with imperfect verifiers", "Resampling with reasoning."),
    ("On model stability as a function of random seed", "Seeds change results."),
    ("A multi-modal observability dataset for time series", "Telecom data."),
    ("In-context learning strategies emerge rationally", "Bayesian account of ICL."),
]


def test_a_label_one_title_and_few_abstracts_carry_is_weak():
    keyed, title_keyed = _keyed(EVALUATION_STRAND)
    assert naming.weak_label("Reasoning", keyed, title_keyed)
    # carried by a second title, or by a third of the papers, it names the strand
    more = [*EVALUATION_STRAND[:9], ("Reasoning about verifiers", "Checks.")]
    assert not naming.weak_label("Reasoning", *_keyed(more))
    assert not naming.weak_label("Capabilities", keyed, title_keyed)  # two titles
    assert not naming.weak_label("", keyed, title_keyed)
    # ... unless the word is the strand's own: its 2 carriers are a third of the corpus's 6
    assert naming.weak_label("Reasoning", keyed, title_keyed, corpus_carriers=43)
    assert not naming.weak_label("Reasoning", keyed, title_keyed, corpus_carriers=6)


def test_name_levels_leaves_a_weakly_named_strand_among_the_other_papers():
    rows = [(t, a, 0, 0) for t, a in EVALUATION_STRAND]
    for i, (title, abstract) in enumerate(FOUNDATIONS["fairness"] * 3):
        rows.append((f"{title} {i}", abstract, 0, 1))
    frame = pd.DataFrame(rows, columns=["title", "abstract", "topic", "strand"])
    frame["paper_id"] = [f"p{i}" for i in range(len(frame))]
    names = naming.name_levels(frame, frame["topic"].to_numpy(), frame["strand"].to_numpy())
    assert "reasoning" not in names.strands[0].lower()
    assert "other papers" in names.strands[0]
    assert names.strands[1] != names.strands[0]


def test_corpus_carriers_read_only_likely_papers_and_count_them_all():
    papers = [("LLMs as cognitive models", "Psychology experiments."),
              ("Studies of psychologies", ""), ("Retrieval-augmented generation", "RAG."),
              ("Unrelated", "Nothing here.")]
    titles = [t for t, _ in papers]
    abstracts = [a for _, a in papers]
    lowered = [f"{t} {a}".lower() for t, a in papers]
    keyed = [labels.keyed_text(t, a) for t, a in papers]
    for label in ("Psychology", "LLM", "Retrieval augmented generation", "Cognitive models"):
        assert naming._corpus_carriers(label, lowered, titles, abstracts) == sum(
            labels.label_carriers(keyed, label)), label
