from litreview import labels


def test_clean_terms_drops_generic_terms_and_repeats():
    terms = ["llms", "language models", "Networks", "network", "", "  ", "graph neural"]
    assert labels.clean_terms(terms) == ["networks", "graph neural"]


def test_clean_terms_bigram_absorbs_its_unigram_and_takes_its_rank():
    terms = ["hallucination", "retrieval", "rag", "hallucination detection"]
    assert labels.clean_terms(terms) == ["hallucination detection", "retrieval", "rag"]


def test_clean_terms_keeps_bigram_with_one_generic_word():
    assert labels.clean_terms(["reward model", "model"]) == ["reward model"]


def test_clean_terms_exclude_and_extra_stop_words_and_max_terms():
    terms = ["safety", "reasoning", "jailbreak", "attack", "defense"]
    cleaned = labels.clean_terms(terms, exclude={"reasoning"}, stop_words={"attack"}, max_terms=2)
    assert cleaned == ["safety", "jailbreak"]


def test_singular_forms():
    assert [labels.singular(w) for w in ["studies", "classes", "networks", "biases", "gas"]] == [
        "study", "class", "network", "bias", "gas"]


def test_shared_terms_needs_a_majority_of_themes():
    topic_terms = [["agents", "planning"], ["agents", "memory"], ["agent", "tools"], ["vision"]]
    assert labels.shared_terms(topic_terms) == {"agent"}
    assert labels.shared_terms(topic_terms[:2]) == set()


def test_consensus_terms_prefers_terms_ranked_high_by_both_lists():
    merged = labels.consensus_terms(
        ["word", "emotion", "stress"], ["psycholinguistic", "emotions", "ratings"]
    )
    assert merged[0] == "emotion"
    assert merged[1:3] == ["word", "psycholinguistic"]  # tie: first list first
    assert set(merged) == {"word", "emotion", "stress", "psycholinguistic", "ratings"}


def test_theme_name_formats_acronyms_and_sentence_case():
    assert labels.theme_name(["hallucination detection", "rag", "knowledge"]) == (
        "Hallucination detection & RAG")
    assert labels.theme_name(["llms", "rlhf"]) == "LLMs & RLHF"


def test_theme_name_adds_third_term_when_first_two_are_short_words():
    assert labels.theme_name(["agents", "tools", "planning"]) == "Agents, tools & planning"


def test_theme_name_skips_terms_repeating_a_word():
    assert labels.theme_name(["safety alignment", "alignment faking", "harmful content"]) == (
        "Safety alignment & harmful content")


def test_theme_name_of_nothing_is_the_fallback():
    assert labels.theme_name([]) == labels.FALLBACK_NAME


def test_unique_theme_names_disambiguates_with_more_terms_then_numbers():
    names = labels.unique_theme_names([
        ["graph learning", "molecules", "drug design"],
        ["graph learning", "molecules", "social networks"],
        ["vision", "images"],
        ["vision", "images"],
    ])
    assert names[0] == "Graph learning, molecules & drug design"
    assert names[1] == "Graph learning, molecules & social networks"
    assert names[2] != names[3]
    assert len(set(names)) == 4


def test_casing_is_learned_from_the_corpus():
    from litreview.labels import learn_casing, theme_name

    texts = [
        "We record fMRI while GPT models read. The fMRI signal aligns with GPT layers.",
        "Transformers are studied. Transformers again, and the visual cortex in fMRI.",
    ]
    casing = learn_casing(texts)
    assert casing["fmri"] == "fMRI" and casing["gpt"] == "GPT"
    assert "transformers" not in casing  # Title case is a sentence start, not a name
    assert theme_name(["visual cortex", "fmri"], casing=casing) == "Visual cortex & fMRI"
    assert theme_name(["visual cortex", "fmri"]) == "Visual cortex & fmri"


def test_terms_found_in_few_of_a_themes_papers_go_last():
    import numpy as np
    from scipy.sparse import csr_matrix

    from litreview.topics import term_support, theme_terms

    class FakeModel:
        def __init__(self):
            self.topic_aspects_ = {"KeyBERT": {0: [("rare phrase", 1.0), ("steering", 0.9)]}}

        def get_topic(self, topic):
            return [("rare phrase", 0.9), ("steering", 0.8), ("vectors", 0.7)]

    vocabulary = {"rare phrase": 0, "steering": 1, "vectors": 2}
    # 10 papers in theme 0: "rare phrase" in one of them, the others in most.
    counts = np.zeros((10, 3))
    counts[0, 0] = 1
    counts[:8, 1] = 1
    counts[2:, 2] = 1
    support = term_support(csr_matrix(counts), vocabulary, np.zeros(10, dtype=int), [0],
                           [["rare phrase", "steering", "vectors"]])
    assert support == [{"rare phrase": 0.1, "steering": 0.8, "vectors": 0.8}]
    plain = theme_terms(FakeModel(), [0], 3)["top_terms"][0]
    assert plain[0] == "rare phrase"
    supported = theme_terms(FakeModel(), [0], 3, support, min_support=0.2)["top_terms"][0]
    assert supported == ["steering", "vectors", "rare phrase"]
