"""Back into the reference manager: the corpus and each theme as BibTeX, RIS and CSL-JSON.

``run_export(out_dir)`` reads ``DIR/data/papers.parquet`` and ``doc_topics.parquet``
(``topics.parquet`` for theme names; ``strand``/``strand_label`` columns when present) and
writes ``DIR/export/``::

    corpus.bib  corpus.ris  corpus.json               every paper
    theme-03-<name>.bib / .ris / .json                the papers of one theme
    unassigned.bib / .ris / .json                     papers left out of every theme

Every record carries its theme (and strand) as a keyword / tag --
``litreview theme 03: <name>``, ``litreview strand 1: <name>`` -- so that an import into
Zotero (File > Import…) sorts itself by tag. Files are rewritten whole on every run; the
same inputs give the same bytes.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from litreview import io
from litreview.export.writers import (
    bibtex_text,
    citation_keys,
    csl_text,
    join_bibtex,
    join_csljson,
    join_ris,
    ris_text,
    to_bibtex,
    to_csljson,
    to_ris,
)

__all__ = [
    "EXPORT_DIR",
    "citation_keys",
    "run_export",
    "theme_tags",
    "to_bibtex",
    "to_csljson",
    "to_ris",
]

EXPORT_DIR = "export"
WRITERS = {".bib": to_bibtex, ".ris": to_ris, ".json": to_csljson}
#: suffix -> (one paper's text, the file from those texts); ``WRITERS`` through pieces
PIECES = {
    ".bib": (bibtex_text, join_bibtex),
    ".ris": (ris_text, join_ris),
    ".json": (csl_text, join_csljson),
}
THEME_TAG = "litreview theme {topic:02d}: {label}"
STRAND_TAG = "litreview strand {strand}: {label}"
UNASSIGNED_TAG = "litreview theme: unassigned"


def run_export(
    out_dir: str | os.PathLike, keys: Mapping[str, str] | None = None
) -> list[Path]:
    """Write the corpus and one file per theme in BibTeX, RIS and CSL-JSON; return the paths.

    Parameters
    ----------
    out_dir
        The output folder (reads ``data/``, writes ``export/``).
    keys
        ``paper_id -> citation key`` (the review's keys); papers without one, or every paper
        when None, get keys made from their authors, year and title.
    """
    papers = io.load_table(out_dir, "papers")
    if keys:
        papers = papers.assign(citation_key=papers["paper_id"].astype(str).map(keys))
    doc_topics = io.load_table(out_dir, "doc_topics")
    try:
        topics: pd.DataFrame | None = io.load_table(out_dir, "topics")
    except FileNotFoundError:
        topics = None
    tagged = theme_tags(papers, doc_topics, topics)
    folder = Path(out_dir) / EXPORT_DIR
    folder.mkdir(parents=True, exist_ok=True)
    stale = {p for p in folder.iterdir() if p.suffix in WRITERS and p.is_file()}
    written: list[Path] = []
    rows = tagged.to_dict("records")
    topic = tagged["topic"].to_numpy()
    groups: list[tuple[str, list[int]]] = [("corpus", list(range(len(rows))))]
    for number in sorted({int(t) for t in topic if t >= 0}):
        members = [i for i, t in enumerate(topic) if t == number]
        label = str(rows[members[0]]["theme_label"])
        groups.append((f"theme-{number:02d}-{_slug(label)}", members))
    unassigned = [i for i, t in enumerate(topic) if t < 0]
    if unassigned:
        groups.append(("unassigned", unassigned))
    # Each paper is serialised once per format: a theme file is the corpus file's entries
    # of its papers (under the keys the theme's own rows give, as ``to_bibtex`` of those
    # rows would: the same key nearly always, so the same text).
    texts: dict[str, dict[tuple[int, str], str]] = {suffix: {} for suffix in WRITERS}
    for stem, members in groups:
        keys = citation_keys([rows[i] for i in members])
        for suffix, (one, join) in PIECES.items():
            cache = texts[suffix]
            parts = []
            for i, key in zip(members, keys, strict=True):
                text = cache.get((i, key))
                if text is None:
                    text = cache[(i, key)] = one(rows[i], key)
                parts.append(text)
            path = folder / f"{stem}{suffix}"
            io.write_text(path, join(parts))
            written.append(path)
            stale.discard(path)
    for path in sorted(stale):  # themes of an earlier run that no longer exist
        path.unlink()
    return written


def theme_tags(
    papers: pd.DataFrame, doc_topics: pd.DataFrame, topics: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Return ``papers`` (in order) with ``topic``, ``theme_label`` and a ``tags`` list column.

    Papers missing from ``doc_topics`` count as unassigned (topic -1).
    """
    names: dict[int, str] = {}
    if topics is not None and {"topic", "label"} <= set(topics.columns):
        names = {
            int(t): str(label) for t, label in zip(topics["topic"], topics["label"], strict=True)
        }
    assignments = doc_topics.drop_duplicates("paper_id").set_index("paper_id")
    strands = _strands(assignments, topics)
    topic_of = dict(zip(assignments.index, assignments["topic"], strict=True))
    label_of = (
        dict(zip(assignments.index, assignments["topic_label"], strict=True))
        if "topic_label" in assignments.columns
        else {}
    )
    rows: list[dict[str, Any]] = []
    for paper in papers.to_dict("records"):
        pid = paper["paper_id"]
        topic = int(topic_of[pid]) if pid in topic_of else -1
        label = names.get(topic)
        if label is None and pid in label_of:
            label = str(label_of[pid])
        label = _tag_text(label or f"theme {topic}")
        tags = [THEME_TAG.format(topic=topic, label=label) if topic >= 0 else UNASSIGNED_TAG]
        strand = strands.get(pid)
        if strand is not None and topic >= 0:
            tags.append(STRAND_TAG.format(strand=strand[0], label=_tag_text(strand[1])))
        rows.append({**paper, "topic": topic, "theme_label": label, "tags": tags})
    return pd.DataFrame(rows, columns=[*papers.columns, "topic", "theme_label", "tags"])


def _strands(assignments: pd.DataFrame, topics: pd.DataFrame | None) -> dict[str, tuple[str, str]]:
    """``paper_id -> (strand, strand_label)`` from doc_topics, else through topics.parquet."""

    def pair(strand: Any, label: Any) -> tuple[str, str] | None:
        if strand is None or pd.isna(strand):
            return None
        strand_text = str(int(strand)) if isinstance(strand, int | float) else str(strand)
        name = label if label is not None and not pd.isna(label) else f"strand {strand_text}"
        return strand_text, str(name)

    found: dict[str, tuple[str, str]] = {}
    if "strand" in assignments.columns:
        labels = assignments.get("strand_label")
        for pid, strand in assignments["strand"].items():
            value = pair(strand, labels.get(pid) if labels is not None else None)
            if value:
                found[str(pid)] = value
        return found
    if topics is not None and {"topic", "strand"} <= set(topics.columns):
        by_topic = {
            int(t): pair(s, label)
            for t, s, label in zip(
                topics["topic"],
                topics["strand"],
                topics["strand_label"]
                if "strand_label" in topics.columns
                else [None] * len(topics),
                strict=True,
            )
        }
        for pid, topic in assignments["topic"].items():
            value = by_topic.get(int(topic))
            if value:
                found[str(pid)] = value
    return found


def _tag_text(label: str) -> str:
    """One line, no ``;`` (keyword separator in BibTeX / CSL-JSON)."""
    return " ".join(str(label).replace(";", ",").split())


def _slug(label: str, limit: int = 40) -> str:
    ascii_text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:limit].rstrip("-") or "theme"
