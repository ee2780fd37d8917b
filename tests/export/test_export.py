"""Export to BibTeX, RIS and CSL-JSON, and back through ingest: same papers, same metadata."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from litreview import io
from litreview.export import run_export, theme_tags, to_bibtex, to_csljson, to_ris
from litreview.export.writers import citation_keys
from litreview.ingest import ingest_paths, run_ingest

REPO = Path(__file__).resolve().parents[2]
EXPORTS = REPO / "tests" / "fixtures" / "exports"
FIELDS = ["title", "abstract", "year", "month", "venue", "doi", "pmid", "cited_by", "arxiv_id"]
LABELS = ["Decision analysis; MCDA", "Exascale computing", "Optics & beams"]


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> tuple[Path, pd.DataFrame, list[Path]]:
    out = tmp_path_factory.mktemp("out")
    papers = run_ingest([EXPORTS], out).papers
    topics = [(i % 3) if i % 7 else -1 for i in range(len(papers))]
    doc_topics = pd.DataFrame(
        {"paper_id": papers.paper_id, "topic": topics, "topic_label": [f"t{t}" for t in topics]}
    )
    io.save_table(doc_topics, out, "doc_topics")
    io.save_table(
        pd.DataFrame(
            {
                "topic": [0, 1, 2],
                "label": LABELS,
                "strand": [1, 1, 2],
                "strand_label": ["M", "M", "P"],
            }
        ),
        out,
        "topics",
    )
    return out, papers, run_export(out)


def test_files_per_theme_and_corpus(exported):
    out, _, paths = exported
    names = sorted(p.name for p in paths)
    stems = {
        "corpus",
        "theme-00-decision-analysis-mcda",
        "theme-01-exascale-computing",
        "theme-02-optics-beams",
        "unassigned",
    }
    assert names == sorted(f"{s}{ext}" for s in stems for ext in (".bib", ".ris", ".json"))
    assert all(p.parent == out / "export" for p in paths)


def _by_key(papers: pd.DataFrame) -> pd.DataFrame:
    return papers.assign(key=papers.doi.fillna(papers.title)).set_index("key")


@pytest.mark.parametrize("suffix", [".bib", ".ris", ".json"])
def test_round_trip_keeps_papers_and_metadata(exported, suffix):
    out, papers, _ = exported
    back = ingest_paths([out / "export" / f"corpus{suffix}"]).papers
    assert len(back) == len(papers)
    original, reread = _by_key(papers), _by_key(back)
    assert sorted(original.index) == sorted(reread.index)
    for key, row in original.iterrows():
        again = reread.loc[key]
        for field in FIELDS:
            a, b = row[field], again[field]
            assert (pd.isna(a) and pd.isna(b)) or a == b or (str(a) == str(b)), (suffix, key, field)
        assert list(again["authors"]) == list(row["authors"]), (suffix, key)
        tags = [k for k in again["keywords"] if k.startswith("litreview ")]
        assert tags and list(again["keywords"])[: len(row["keywords"])] == list(row["keywords"])
        if not pd.isna(row["document_type"]):
            assert again["document_type"] == row["document_type"], (suffix, key)


def test_theme_files_hold_their_theme_only_and_reimport(exported):
    out, papers, _ = exported
    back = ingest_paths([out / "export" / "theme-01-exascale-computing.ris"]).papers
    expected = [i for i in range(len(papers)) if i % 7 and i % 3 == 1]
    assert sorted(back.title) == sorted(papers.title.iloc[expected])
    assert all("litreview theme 01: Exascale computing" in k for k in back.keywords)
    assert all("litreview strand 1: M" in k for k in back.keywords)
    unassigned = ingest_paths([out / "export" / "unassigned.bib"]).papers
    assert len(unassigned) == sum(1 for i in range(len(papers)) if i % 7 == 0)
    assert all(list(k)[-1] == "litreview theme: unassigned" for k in unassigned.keywords)


def test_export_is_deterministic_and_removes_stale_files(exported):
    out, _, paths = exported
    before = {p.name: p.read_bytes() for p in paths}
    (out / "export" / "theme-09-old.bib").write_text("stale")
    again = run_export(out)
    assert {p.name: p.read_bytes() for p in again} == before
    assert not (out / "export" / "theme-09-old.bib").exists()


def test_strand_from_doc_topics_and_no_topics_table():
    papers = pd.DataFrame({"paper_id": ["a", "b"], "title": ["A", "B"]})
    doc_topics = pd.DataFrame(
        {
            "paper_id": ["a", "b"],
            "topic": [0, -1],
            "topic_label": ["Graphs", "-"],
            "strand": [2, None],
        }
    )
    tagged = theme_tags(papers, doc_topics)
    assert tagged.tags.tolist() == [
        ["litreview theme 00: Graphs", "litreview strand 2: strand 2"],
        ["litreview theme: unassigned"],
    ]


def test_citation_keys_author_year_title_disambiguated():
    rows = [
        {"authors": ["Smith, Jane"], "year": 2021, "title": "Mapping the field"},
        {"authors": ["Jane Smith"], "year": 2021, "title": "Mapping again"},
        {"authors": [], "year": None, "title": "The Graph of Things"},
        {"authors": ["Ødegård, Åse"], "year": 2020, "title": "Über alles"},
    ]
    assert citation_keys(rows) == [
        "smith2021mapping",
        "smith2021mappinga",
        "graphthings",
        "odegard2020uber",
    ]


def test_hostile_text_stays_inert():
    row = {
        "title": "Unbalanced {brace and ; semicolon",
        "abstract": "x",
        "url": "javascript:alert(1)",
        "authors": ["A, B"],
        "year": 2020,
        "tags": ["t"],
    }
    bib, ris, csl = to_bibtex([row]), to_ris([row]), to_csljson([row])
    assert "javascript" not in bib + ris + csl
    assert "Unbalanced (brace" in bib


def test_review_keys_are_the_exported_keys(exported, tmp_path):
    out, papers, _ = exported
    keys = {pid: f"key{i:03d}" for i, pid in enumerate(sorted(papers.paper_id))}
    paths = run_export(out, keys=keys)
    bib = next(p for p in paths if p.name == "corpus.bib").read_text(encoding="utf-8")
    theme = next(p for p in paths if p.name.startswith("theme-00")).read_text(encoding="utf-8")
    assert all(f"{{{key}," in bib for key in keys.values())
    assert "key" in theme and all(
        line.split("{", 1)[1].rstrip(",") in keys.values()
        for line in theme.splitlines() if line.startswith("@")
    )
    run_export(out)  # leave the module's files as the other tests expect them


def _library_bytes(rows: list[dict]) -> dict[str, str]:
    """The files as the libraries write a whole list at once (the pre-assembly path)."""
    import json

    import bibtexparser
    import rispy

    from litreview.export.writers import _PlainRisWriter, bibtex_entry, csl_item, ris_reference

    keys = citation_keys(rows)
    return {
        ".bib": bibtexparser.write_string(
            bibtexparser.Library([bibtex_entry(r, k) for r, k in zip(rows, keys, strict=True)])
        ),
        ".ris": rispy.dumps(
            [ris_reference(r, k) for r, k in zip(rows, keys, strict=True)],
            implementation=_PlainRisWriter,
        ),
        ".json": json.dumps(
            [csl_item(r, k) for r, k in zip(rows, keys, strict=True)], indent=2, ensure_ascii=False
        )
        + "\n",
    }


def test_assembled_files_are_the_libraries_bytes(exported):
    """Entries serialised once and joined give what bibtexparser / rispy / json write for the
    whole list: the corpus and every theme file, byte for byte."""
    out, _, paths = exported
    tagged = theme_tags(
        io.load_table(out, "papers"), io.load_table(out, "doc_topics"), io.load_table(out, "topics")
    )
    frames = {"corpus": tagged, "unassigned": tagged[tagged["topic"] < 0]}
    for topic, members in tagged[tagged["topic"] >= 0].groupby("topic"):
        frames[f"theme-{int(topic):02d}"] = members
    checked = 0
    for path in paths:
        stem = next(s for s in frames if path.stem == s or path.stem.startswith(s + "-"))
        expected = _library_bytes(frames[stem].to_dict("records"))[path.suffix]
        assert path.read_text(encoding="utf-8") == expected, path.name
        checked += 1
    assert checked == len(paths) >= 15


def test_theme_keys_are_the_themes_own_when_the_corpus_disambiguates(tmp_path):
    """Two papers whose keys clash in the corpus (``lee2020graph``, ``lee2020grapha``) sit in
    different themes: each theme file keys its paper as its own rows give it, as before."""
    papers = pd.DataFrame(
        {
            "paper_id": ["p1", "p2", "p3"],
            "title": ["Graph networks", "Graph kernels", "Sparse coding"],
            "abstract": ["A.", "B.", "C."],
            "authors": [["Lee, Ann"], ["Lee, Bo"], ["Kim, Cy"]],
            "year": [2020, 2020, 2021],
        }
    )
    io.save_table(papers, tmp_path, "papers")
    io.save_table(pd.DataFrame({"paper_id": ["p1", "p2", "p3"], "topic": [0, 1, 1]}),
                  tmp_path, "doc_topics")
    io.save_table(pd.DataFrame({"topic": [0, 1], "label": ["Graphs", "Kernels"]}),
                  tmp_path, "topics")
    run_export(tmp_path)
    folder = tmp_path / "export"
    corpus = (folder / "corpus.bib").read_text(encoding="utf-8")
    assert "@article{lee2020graph," in corpus or "{lee2020graph," in corpus
    assert "lee2020grapha" in corpus
    theme1 = (folder / "theme-01-kernels.bib").read_text(encoding="utf-8")
    assert "lee2020grapha" not in theme1 and "lee2020graph," in theme1
    tagged = theme_tags(papers, io.load_table(tmp_path, "doc_topics"),
                        io.load_table(tmp_path, "topics"))
    for suffix in (".bib", ".ris", ".json"):
        rows = tagged[tagged["topic"] == 1].to_dict("records")
        assert (folder / f"theme-01-kernels{suffix}").read_text(
            encoding="utf-8"
        ) == _library_bytes(rows)[suffix]
