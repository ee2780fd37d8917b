"""Small value and wording helpers shared by the review modules (missing values, lists,
counts and joined names)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from litreview.review.sentences import normalise_whitespace

#: The members of a theme with no papers (paper_id, centrality), as _members_by_theme gives them.
_NO_MEMBERS = pd.DataFrame({"paper_id": pd.Series(dtype=str), "centrality": pd.Series(
    dtype=float)})


# --------------------------------------------------------------------------- helpers


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, float) and math.isnan(value):
        return []
    try:
        return list(value)
    except TypeError:
        return [value]


def _is_missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _year(value: Any) -> int | None:
    return None if value is None or _is_missing(value) else int(value)


def _text(value: Any) -> str:
    return "" if value is None or _is_missing(value) else str(value)


def _clean_label(label: Any, topic: int) -> str:
    label = normalise_whitespace(_text(label))
    return label or f"Theme {topic}"


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


def _count(n: int, noun: str, plural: str | None = None) -> str:
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def _join(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _join_names(items: Sequence[str], limit: int = 8) -> str:
    """Join theme names; with semicolons when a name holds a comma or "and" of its own
    ("Hallucination; Psychology, norms and emotion; and Safety"), so each name reads
    whole. Above ``limit`` names, "… and N more"."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    rest = len(items) - limit if len(items) > limit else 0
    shown = items[:limit] if rest else items
    if not any("," in name or " and " in name for name in items):
        return (", ".join(shown) + f" and {rest} more") if rest else _join(shown)
    if rest:
        return "; ".join(shown) + f"; and {rest} more"
    return "; ".join(shown[:-1]) + "; and " + shown[-1]
