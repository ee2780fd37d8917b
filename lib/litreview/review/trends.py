"""Themes over time: papers per theme per period, each theme's growth and a reading of it.

Shown only when the dates can carry it: at least :data:`MIN_DATED_SHARE` of the placed
papers (those in a theme) have a year and the dated papers span at least
:data:`MIN_PERIODS` periods. The period is the year, or the year-month when the years
alone span fewer than :data:`MIN_PERIODS` periods and months are known for as many papers.

Growth has two numbers per theme, both from the table of counts:

- ``recent_share``: the share of the theme's papers published in the most recent
  periods (the last :data:`RECENT_PERIODS`, fewer on short spans), set against
  ``corpus_recent_share``, the same share for all placed papers; ``recent_ratio`` is
  their quotient (1 means the theme grew as fast as the corpus).
- ``slope``: the fitted slope of the theme's share of each period's papers, in
  percentage points per year (weighted least squares, :func:`numpy.polyfit` with weights
  √papers of the period, so a year with one paper does not weigh as much as one with 40).

The rule (:func:`classify_trend`): *growing* when the theme has at least
:data:`MIN_THEME_PAPERS` dated papers, ``recent_ratio ≥`` :data:`GROWTH_RATIO` and the
slope is at least :data:`MIN_SLOPE` points a year; *fading* when ``recent_ratio ≤ 1 /``
:data:`GROWTH_RATIO` and the slope is at most ``-MIN_SLOPE``; *stable* otherwise. Both
numbers must agree, so one busy year does not make a trend. Everything is computed from
sorted frames: same inputs, same output.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from litreview.review.model import format_percent

#: Share of placed papers that must have a year for the section to be shown.
MIN_DATED_SHARE = 0.8
#: Periods the dated papers must span (first to last, inclusive).
MIN_PERIODS = 3
#: How many of the most recent periods count as "recent" (fewer on short spans).
RECENT_PERIODS = 3
#: ``recent_ratio`` at or above which (and at or below whose inverse) a theme may be
#: growing (fading).
GROWTH_RATIO = 1.2
#: Smallest fitted slope (percentage points a year) that counts as a rise or a fall.
MIN_SLOPE = 0.1
#: Dated papers a theme needs before it is called growing or fading.
MIN_THEME_PAPERS = 5
TRENDS = ("growing", "stable", "fading")


@dataclass(frozen=True)
class TrendStatus:
    """Whether the dates can carry the section, and why not when they cannot."""

    shown: bool
    reason: str  # empty when shown
    granularity: str  # "year" or "month" ("" when not shown)
    n_placed: int
    n_dated: int
    n_periods: int


# --------------------------------------------------------------------------- dates


def _placed_dates(papers: pd.DataFrame, doc_topics: pd.DataFrame) -> pd.DataFrame:
    """paper_id, topic, year, month of every placed paper (year/month <NA> when unknown)."""
    placed = doc_topics.loc[pd.to_numeric(doc_topics["topic"]) >= 0, ["paper_id", "topic"]]
    placed = placed.assign(paper_id=placed["paper_id"].astype(str),
                           topic=placed["topic"].astype(int))
    dates = papers.reindex(columns=["paper_id", "year", "month"]).reset_index(drop=True)
    dates = dates.assign(paper_id=dates["paper_id"].astype(str),
                         year=pd.to_numeric(dates["year"], errors="coerce"),
                         month=pd.to_numeric(dates["month"], errors="coerce"))
    dates.loc[~dates["year"].between(1000, 9999), "year"] = np.nan
    dates.loc[~dates["month"].between(1, 12), "month"] = np.nan
    frame = placed.merge(dates.drop_duplicates("paper_id"), on="paper_id", how="left")
    return frame.sort_values(["topic", "paper_id"]).reset_index(drop=True)


def _span(values: pd.Series) -> int:
    values = values.dropna()
    return int(values.max() - values.min() + 1) if len(values) else 0


def trend_status(papers: pd.DataFrame, doc_topics: pd.DataFrame) -> TrendStatus:
    """Decide whether themes over time can be shown (see the module docstring)."""
    frame = _placed_dates(papers, doc_topics)
    n_placed = len(frame)
    dated = frame[frame["year"].notna()]
    n_dated = len(dated)
    if n_placed == 0:
        return TrendStatus(False, "no paper is placed in a theme", "", 0, 0, 0)
    if n_dated < MIN_DATED_SHARE * n_placed:
        return TrendStatus(
            False,
            f"dates are known for {n_dated:,} of {n_placed:,} papers in a theme "
            f"(at least {MIN_DATED_SHARE:.0%} needed)".replace("%", "\u00a0%"),
            "", n_placed, n_dated, 0)
    years = _span(dated["year"])
    if years >= MIN_PERIODS:
        return TrendStatus(True, "", "year", n_placed, n_dated, years)
    with_month = dated[dated["month"].notna()]
    months = _span(with_month["year"] * 12 + with_month["month"] - 1)
    if len(with_month) >= MIN_DATED_SHARE * n_placed and months >= MIN_PERIODS:
        return TrendStatus(True, "", "month", n_placed, n_dated, months)
    shown_span = f"{years} year" + ("s" if years != 1 else "")
    return TrendStatus(
        False,
        f"the dated papers span only {shown_span}"
        + (f" ({months} months)" if len(with_month) >= MIN_DATED_SHARE * n_placed else "")
        + f"; at least {MIN_PERIODS} periods are needed",
        "", n_placed, n_dated, years)


def _period_labels(granularity: str, start: int, end: int) -> list[str]:
    if granularity == "year":
        return [str(y) for y in range(start, end + 1)]
    return [f"{m // 12:04d}-{m % 12 + 1:02d}" for m in range(start, end + 1)]


# --------------------------------------------------------------------------- compute


def compute_theme_trends(papers: pd.DataFrame, doc_topics: pd.DataFrame) -> pd.DataFrame:
    """Papers per theme per period, every period of the span listed (zeros included).

    Returns ``topic, period, period_index, papers, period_papers, share``: ``period`` is
    ``"2021"`` or ``"2021-03"``; ``period_index`` counts periods from the first;
    ``period_papers`` is the number of placed, dated papers of the period and ``share``
    the theme's part of them (0 when the period has none). Empty (same columns) when
    :func:`trend_status` says the dates cannot carry it.
    """
    columns = ["topic", "period", "period_index", "papers", "period_papers", "share"]
    status = trend_status(papers, doc_topics)
    if not status.shown:
        return pd.DataFrame({c: pd.Series(dtype=object if c == "period" else float)
                             for c in columns})
    frame = _placed_dates(papers, doc_topics)
    frame = frame[frame["year"].notna()]
    if status.granularity == "month":
        frame = frame[frame["month"].notna()]
        ordinal = (frame["year"] * 12 + frame["month"] - 1).astype(int)
    else:
        ordinal = frame["year"].astype(int)
    start, end = int(ordinal.min()), int(ordinal.max())
    labels = _period_labels(status.granularity, start, end)
    topics = sorted(frame["topic"].unique().tolist())
    counts = (pd.crosstab(frame["topic"], ordinal - start)
              .reindex(index=topics, columns=range(len(labels)), fill_value=0))
    totals = counts.sum(axis=0)
    long = counts.stack().rename("papers").reset_index()
    long.columns = ["topic", "period_index", "papers"]
    long["period_papers"] = long["period_index"].map(totals).astype(int)
    long["share"] = np.where(long["period_papers"] > 0,
                             long["papers"] / long["period_papers"].clip(lower=1), 0.0)
    long["period"] = [labels[i] for i in long["period_index"]]
    long = long.sort_values(["topic", "period_index"]).reset_index(drop=True)
    return long[columns].astype({"topic": int, "period_index": int, "papers": int})


def compute_theme_growth(
    trends: pd.DataFrame, *, granularity: str = "year", names: Mapping[int, str] | None = None
) -> pd.DataFrame:
    """Each theme's growth from :func:`compute_theme_trends`, with its reading.

    Returns ``topic, name, papers, recent_periods, recent_share, corpus_recent_share,
    recent_ratio, slope, trend`` (shares in 0–1, ``slope`` in percentage points of the
    period's papers per year), ordered growing first, then stable, then fading, each by
    ``recent_ratio`` (highest first) and topic.
    """
    columns = ["topic", "name", "papers", "recent_periods", "recent_share",
               "corpus_recent_share", "recent_ratio", "slope", "trend"]
    if trends.empty:
        return pd.DataFrame(columns=columns)
    n_periods = int(trends["period_index"].max()) + 1
    recent = max(1, min(RECENT_PERIODS, n_periods - 2))
    first_recent = n_periods - recent
    per_period = trends.drop_duplicates("period_index").set_index("period_index")
    corpus_total = int(per_period["period_papers"].sum())
    corpus_recent = int(per_period.loc[per_period.index >= first_recent, "period_papers"].sum())
    corpus_recent_share = corpus_recent / corpus_total if corpus_total else 0.0
    per_year = 12.0 if granularity == "month" else 1.0
    labels = per_period["period"]
    recent_label = (labels[first_recent] if recent == 1
                    else f"{labels[first_recent]}–{labels[n_periods - 1]}")
    rows = []
    for topic, group in trends.groupby("topic", sort=True):
        group = group.sort_values("period_index")
        n = int(group["papers"].sum())
        n_recent = int(group.loc[group["period_index"] >= first_recent, "papers"].sum())
        recent_share = n_recent / n if n else 0.0
        ratio = recent_share / corpus_recent_share if corpus_recent_share else float("nan")
        rows.append({
            "topic": int(topic),
            "name": (names or {}).get(int(topic), f"Theme {int(topic)}"),
            "papers": n,
            "recent_periods": recent_label,
            "recent_share": recent_share,
            "corpus_recent_share": corpus_recent_share,
            "recent_ratio": ratio,
            "slope": _share_slope(group) * per_year,
        })
    growth = pd.DataFrame(rows, columns=columns[:-1])
    growth["trend"] = [classify_trend(r.papers, r.recent_ratio, r.slope)
                       for r in growth.itertuples(index=False)]
    order = {t: i for i, t in enumerate(TRENDS)}
    growth = growth.assign(_o=growth["trend"].map(order), _r=growth["recent_ratio"].fillna(0))
    growth = growth.sort_values(["_o", "_r", "topic"], ascending=[True, False, True])
    return growth[columns].reset_index(drop=True)


def _share_slope(group: pd.DataFrame) -> float:
    """Percentage points per period of the theme's share, fitted over periods with papers."""
    used = group[group["period_papers"] > 0]
    if len(used) < 2:
        return 0.0
    x = used["period_index"].to_numpy(float)
    y = 100.0 * used["share"].to_numpy(float)
    weights = np.sqrt(used["period_papers"].to_numpy(float))
    slope = float(np.polyfit(x, y, 1, w=weights)[0])
    return 0.0 if abs(slope) < 1e-12 else round(slope, 12)


def classify_trend(papers: int, recent_ratio: float, slope: float) -> str:
    """``growing``, ``stable`` or ``fading`` (the rule in the module docstring)."""
    if papers < MIN_THEME_PAPERS or not np.isfinite(recent_ratio):
        return "stable"
    if recent_ratio >= GROWTH_RATIO and slope >= MIN_SLOPE:
        return "growing"
    if recent_ratio <= 1 / GROWTH_RATIO and slope <= -MIN_SLOPE:
        return "fading"
    return "stable"


# --------------------------------------------------------------------------- words


def describe_growth(row: Mapping[str, Any]) -> str:
    """One theme's numbers in words: "46 % of its 26 dated papers in 2021–2023 against 26 %
    of the corpus (×1.78), and its share grows 0.4 points a year"."""
    slope = float(row["slope"])
    direction = "grows" if slope > 0 else "shrinks" if slope < 0 else "holds"
    amount = f" {abs(slope):.2f}" if abs(slope) < MIN_SLOPE else f" {abs(slope):.1f}"
    return (f"{format_percent(float(row['recent_share']))} of its {int(row['papers'])} dated "
            f"papers in {row['recent_periods']} against "
            f"{format_percent(float(row['corpus_recent_share']))} of the corpus "
            f"(×{float(row['recent_ratio']):.2f}), and its share {direction}"
            + (f"{amount} points a year" if slope else ""))


def trend_sentences(growth: pd.DataFrame) -> list[str]:
    """Sentences saying which themes grow and which fade, with their numbers."""
    sentences = []
    for trend, verb in (("growing", "Growing"), ("fading", "Fading")):
        rows = growth[growth["trend"] == trend]
        for row in rows.to_dict("records"):
            sentences.append(f"{verb}: {row['name']}, with {describe_growth(row)}.")
    stable = growth[growth["trend"] == "stable"]
    if len(stable):
        sentences.append(f"Stable (the two numbers do not agree on a rise or a fall): "
                         f"{len(stable)} of {len(growth)} themes.")
    return sentences
