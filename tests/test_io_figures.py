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


def test_a_figure_saved_by_another_process_is_drawn_only_when_asked_for(tmp_path):
    from IPython.core.formatters import DisplayFormatter

    drawn = []

    def make():
        from matplotlib.figure import Figure

        drawn.append(1)
        fig = Figure()
        fig.add_subplot().plot([0, 1])
        return fig

    png = tmp_path / "x.png"
    png.write_bytes(b"\\x89PNG not really")
    shown = io.SavedFigure(None, png, make=make)
    data, _ = DisplayFormatter().format(shown)  # what a notebook cell shows
    assert data["image/png"] == png.read_bytes() and not drawn
    assert len(shown.axes) == 1 and drawn == [1]  # the figure itself, drawn once
    assert shown.axes and drawn == [1]
