"""The report's "What's new since <date>": papers added since the previous map, by theme.

Stage 02 marks every paper that was not in the previous full fit's map (``is_new`` in
``data/doc_topics.parquet``) and, on an update, every new paper that fits no theme
(``candidate_new_theme``); ``topic_metrics.json`` carries ``map_changes`` with the
previous map's date. Here each new paper gets the sentence the strand sections quote
for it (``strands._StrandWriter.contribution``: the sentence introducing its resource,
else its contribution sentence, else its title), verbatim and cited like the rest.
Candidates for a new theme are listed apart. Nothing new: no section.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from litreview.review.helpers import _year
from litreview.review.model import Sentence, theme_anchor
from litreview.review.sentences import normalise_whitespace


@dataclass(frozen=True)
class NewPaper:
    """A paper new since the previous map, with the sentence that says what it adds."""

    paper_id: str
    key: str
    title: str
    year: int | None
    sentence: Sentence


@dataclass
class NewInTheme:
    """The new papers of one theme, most similar to the theme's centre first."""

    topic: int
    name: str
    anchor: str
    papers: list[NewPaper] = field(default_factory=list)


@dataclass
class WhatsNew:
    """The "What's new" section: new papers per theme, and candidates for a new theme."""

    since: str | None
    mode: str
    n_new: int
    themes: list[NewInTheme]
    candidates: list[NewPaper]
    #: New papers in no theme that are not candidates (a full refit left them unplaced).
    unplaced: list[NewPaper] = field(default_factory=list)

    @property
    def line(self) -> str:
        """The first page's line: "N papers are new since DATE"."""
        verb = "paper is" if self.n_new == 1 else "papers are"
        since = f" since {self.since}" if self.since else ""
        return f"{self.n_new:,} {verb} new{since}."

    def sentences(self) -> list[Sentence]:
        """Every sentence the section quotes, in reading order."""
        return [p.sentence for group in (*[t.papers for t in self.themes], self.candidates,
                                         self.unplaced) for p in group]


def compute_whats_new(
    doc_topics: pd.DataFrame,
    papers: pd.DataFrame,
    *,
    theme_order: Sequence[int],
    names: Mapping[int, str],
    keys: Mapping[str, str],
    contribution: Callable[[str], Sentence],
    changes: Mapping[str, object] | None = None,
) -> WhatsNew | None:
    """Return the section, or None when no paper is new (or doc_topics has no ``is_new``).

    ``theme_order`` is the order of the review's theme sections; ``papers`` is indexed by
    ``paper_id``; ``contribution(paper_id)`` returns the paper's quoted sentence;
    ``changes`` is ``map_changes`` (its ``previous_date`` and ``mode``).
    """
    if "is_new" not in doc_topics.columns:
        return None
    frame = doc_topics[doc_topics["is_new"].fillna(False).astype(bool)].copy()
    frame["paper_id"] = frame["paper_id"].astype(str)
    frame = frame[frame["paper_id"].isin(papers.index)]
    if frame.empty:
        return None
    changes = dict(changes or {})
    candidate = (frame["candidate_new_theme"].fillna(False).astype(bool)
                 if "candidate_new_theme" in frame.columns
                 else pd.Series(False, index=frame.index))
    frame["_candidate"] = candidate
    frame["_sim"] = (pd.to_numeric(frame["similarity"], errors="coerce").fillna(-1.0)
                     if "similarity" in frame.columns else 0.0)
    frame = frame.sort_values(["_sim", "paper_id"], ascending=[False, True])

    def paper(pid: str) -> NewPaper:
        row = papers.loc[pid]
        return NewPaper(pid, keys[pid], normalise_whitespace(str(row["title"])),
                        _year(row.get("year")), contribution(pid))

    topic = frame["topic"].astype(int)
    themes = []
    for t in theme_order:
        ids = frame.loc[topic == int(t), "paper_id"].tolist()
        if ids:
            themes.append(NewInTheme(int(t), names.get(int(t), f"Theme {t}"),
                                     theme_anchor(int(t)), [paper(p) for p in ids]))
    outside = frame[topic < 0]
    by_title = outside.assign(_t=outside["paper_id"].map(
        lambda p: normalise_whitespace(str(papers.loc[p, "title"])).lower()))
    by_title = by_title.sort_values(["_t", "paper_id"])
    return WhatsNew(
        since=str(changes["previous_date"]) if changes.get("previous_date") else None,
        mode=str(changes.get("mode") or ""),
        n_new=len(frame),
        themes=themes,
        candidates=[paper(p) for p in by_title.loc[by_title["_candidate"], "paper_id"]],
        unplaced=[paper(p) for p in by_title.loc[~by_title["_candidate"], "paper_id"]],
    )
