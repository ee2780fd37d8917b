"""Fixtures for the topics stage: a synthetic four-theme corpus and one fitted run."""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd
import pytest

THEMES = {
    "astronomy": [
        "galaxy clusters", "telescope", "supernova", "dark matter", "exoplanet",
        "star formation", "black hole", "redshift survey", "stellar spectra", "cosmic dust",
    ],
    "cooking": [
        "sourdough bread", "recipe", "fermentation", "spices", "baking", "olive oil",
        "roasted vegetables", "pastry dough", "tomato sauce", "kitchen",
    ],
    "football": [
        "goalkeeper", "penalty kick", "midfielder", "league match", "striker", "tactics",
        "referee", "transfer market", "stadium", "world cup",
    ],
    "genetics": [
        "gene expression", "DNA sequencing", "CRISPR editing", "mutation", "genome",
        "protein folding", "RNA", "chromosome", "heredity", "cell biology",
    ],
}
TEMPLATES = [
    "We study {a} and {b} in the context of {c}.",
    "Our analysis of {d} shows that {e} matters for {a}.",
    "Observations of {b} reveal new links between {c} and {d}.",
    "A careful look at {e} and {a} explains {b}.",
]


def synthetic_papers(per_theme: int = 25, seed: int = 0) -> pd.DataFrame:
    """Return a deterministic papers table: ``per_theme`` short abstracts per theme."""
    rng = random.Random(seed)
    rows = []
    for theme, words in THEMES.items():
        for i in range(per_theme):
            picks = dict(zip("abcde", rng.sample(words, 5), strict=True))
            abstract = " ".join(t.format(**picks) for t in rng.sample(TEMPLATES, 3))
            title = f"{picks['a'].capitalize()} and {picks['b']}: evidence from {picks['c']}"
            rows.append({"paper_id": f"{theme[:3]}-{i:03d}", "title": title,
                         "abstract": abstract, "theme": theme})
    order = list(range(len(rows)))
    rng.shuffle(order)
    return pd.DataFrame([rows[i] for i in order]).reset_index(drop=True)


def write_papers(out_dir: Path, papers: pd.DataFrame) -> Path:
    """Write ``papers`` where stage 02 reads it: ``DIR/data/papers.parquet``."""
    path = out_dir / "data" / "papers.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    papers.to_parquet(path, index=False)
    return path


@pytest.fixture(scope="session")
def st_model():
    """The packaged all-MiniLM-L6-v2, loaded once per session."""
    from litreview import embed

    return embed.load_model()


@pytest.fixture(scope="session")
def synthetic_run(tmp_path_factory, st_model):
    """Run the whole stage once on the synthetic corpus; return (out_dir, papers, result)."""
    from litreview.topics import run_topics

    out_dir = tmp_path_factory.mktemp("topics_run")
    papers = synthetic_papers()
    write_papers(out_dir, papers)
    result = run_topics(out_dir, stability_seeds=1, show_progress=False)
    return out_dir, papers, result


@pytest.fixture(scope="session")
def make_papers():
    """The synthetic-corpus builder, for tests that need their own corpus size."""
    return synthetic_papers


@pytest.fixture(scope="session")
def put_papers():
    """Write a papers table into an output folder."""
    return write_papers
