"""Figures are written deterministically: the same figure gives the same bytes."""

from __future__ import annotations

from pathlib import Path

from litreview import io


def test_an_interactive_figure_is_byte_identical_across_saves(tmp_path: Path) -> None:
    import plotly.graph_objects as go

    def save(folder: Path) -> bytes:
        fig = go.Figure(go.Scatter(x=[1, 2, 3], y=[3, 1, 2], mode="markers"))
        (path,) = io.save_figure(fig, folder, "topics_map")
        return path.read_bytes()

    first, second = save(tmp_path / "a"), save(tmp_path / "b")
    assert first == second
    assert b'id="topics-map"' in first
