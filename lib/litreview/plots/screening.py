"""The screening flow as a PRISMA-like diagram: records from identification to inclusion.

Drawn with matplotlib patches rather than a graph-layout library: the PRISMA layout is
fixed (one column of steps, the records removed at each step in a box beside it), so a
layout engine would add a dependency and nothing else.
"""

from __future__ import annotations

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch

from litreview.plots import figure_and_axes

#: Breakdown lines shown per box (files, reasons); the rest are summed as "… N more".
MAX_DETAILS = 4
_DETAIL_CHARS = 46
_MAIN = "#DCE6F2"
_SIDE = "#F6E3E3"


def plot_screening_flow(flow: pd.DataFrame, ax: Axes | None = None) -> Figure:
    """Draw ``flow`` (:func:`litreview.ingest.compute_screening_flow`) as a vertical flow.

    The main column is identified → screened → included (→ placed in themes when the flow
    has the ``placed`` step); beside each arrow, the records that left at that step
    (duplicates and rejected, excluded at screening, in no theme), each box with its
    count and its breakdown by file or reason.
    """
    steps = {step: group for step, group in flow.groupby("step", sort=False)}

    def total(step: str) -> int:
        return int(steps[step]["count"].sum()) if step in steps else 0

    identified = total("identified")
    screened = identified - total("duplicates") - total("rejected")
    main = [("Records identified", identified, _details(steps.get("identified"))),
            ("Records screened", screened, []),
            ("Papers included", total("included"), [])]
    side = [[("Duplicates removed", total("duplicates"), []),
             ("Rejected (unreadable or invalid)", total("rejected"),
              _details(steps.get("rejected")))],
            [("Excluded at screening", total("excluded"), _details(steps.get("excluded")))]]
    if "placed" in steps:
        main.append(("Placed in themes", total("placed"), []))
        side.append([("In no theme", total("unplaced"), [])])

    heights = [_height(details) for _, _, details in main]
    gaps = [max(0.9, sum(_height(d) + 0.25 for _, _, d in boxes)) for boxes in side]
    size_y = sum(heights) + sum(gaps) + 0.4
    fig, ax = figure_and_axes(ax, (8.0, 0.75 * size_y + 0.4))
    ax.set_xlim(0, 10)
    ax.set_ylim(0, size_y)
    ax.set_axis_off()

    y = size_y - 0.2
    for index, (title, count, details) in enumerate(main):
        bottom = y - heights[index]
        _box(ax, 0.3, bottom, 4.6, heights[index], title, count, details, _MAIN)
        y = bottom
        if index >= len(gaps):
            break
        gap_bottom = y - gaps[index]
        ax.annotate("", xy=(2.6, gap_bottom), xytext=(2.6, y),
                    arrowprops={"arrowstyle": "-|>", "color": "#555555", "lw": 1.2})
        side_y = y - 0.1
        for side_title, side_count, side_details in side[index]:
            h = _height(side_details)
            _box(ax, 5.6, side_y - h, 4.1, h, side_title, side_count, side_details, _SIDE)
            ax.annotate("", xy=(5.6, side_y - h / 2), xytext=(2.6, side_y - h / 2),
                        arrowprops={"arrowstyle": "-|>", "color": "#999999", "lw": 0.9})
            side_y -= h + 0.25
        y = gap_bottom
    ax.set_title("Screening flow (PRISMA-style)", fontsize=11)
    return fig


def _details(group: pd.DataFrame | None) -> list[str]:
    if group is None:
        return []
    rows = [(str(d), int(c)) for d, c in zip(group["detail"], group["count"], strict=True)
            if str(d) and int(c)]
    lines = [f"{_short(d)}: {c:,}" for d, c in rows[:MAX_DETAILS]]
    rest = rows[MAX_DETAILS:]
    if rest:
        lines.append(f"… {len(rest)} more: {sum(c for _, c in rest):,}")
    return lines


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _DETAIL_CHARS else text[:_DETAIL_CHARS - 1] + "…"


def _height(details: list[str]) -> float:
    return 0.75 + 0.32 * len(details)


def _box(ax: Axes, x: float, y: float, width: float, height: float, title: str, count: int,
         details: list[str], colour: str) -> None:
    ax.add_patch(FancyBboxPatch((x, y), width, height, boxstyle="round,pad=0.02,rounding_size=0.1",
                                facecolor=colour, edgecolor="#666666", lw=0.8))
    top = y + height - 0.2
    # parse_math=False: file names and reasons come from the corpus and the curation file
    ax.text(x + 0.15, top, f"{title} (n = {count:,})", ha="left", va="top", fontsize=9.5,
            fontweight="bold", parse_math=False)
    for i, line in enumerate(details):
        ax.text(x + 0.3, top - 0.36 - 0.32 * i, line, ha="left", va="top", fontsize=8,
                color="#333333", parse_math=False)
