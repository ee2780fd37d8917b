"""The one place that writes stage outputs: tables, JSON and figures, atomically.

Every writer goes through a temporary file in the target folder and then
``os.replace``, so an interrupted run never leaves a half-written file that
looks complete.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from litreview import config

if TYPE_CHECKING:  # pandas on first use: ``litreview run`` starts its kernels before it
    import pandas as pd


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; move it into place on success."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".tmp" + target.suffix, dir=target.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        # mkstemp creates 0600 files; outputs get the usual umask-derived mode.
        os.chmod(tmp, 0o666 & ~_current_umask())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write UTF-8 text atomically and return the path."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write bytes atomically and return the path."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_json(path: str | os.PathLike, obj: Any) -> Path:
    """Write ``obj`` as indented, key-sorted JSON (stable bytes for stable input)."""
    text = json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, default=_json_default)
    return write_text(path, text + "\n")


def read_json(path: str | os.PathLike) -> Any:
    """Read a JSON file written by :func:`write_json`."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "item"):  # numpy scalars
        return obj.item()
    if hasattr(obj, "tolist"):  # numpy arrays
        return obj.tolist()
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    raise TypeError(f"cannot write {type(obj).__name__} as JSON")


def save_table(df: pd.DataFrame, out_dir: str | os.PathLike, name: str) -> Path:
    """Save ``df`` as ``DIR/data/<name>.parquet`` (no index) and return the path."""
    path = config.data_dir(out_dir) / f"{name}.parquet"
    with atomic_path(path) as tmp:
        df.to_parquet(tmp, index=False)
    return path


def load_table(out_dir: str | os.PathLike, name: str) -> pd.DataFrame:
    """Load ``DIR/data/<name>.parquet``, saying which stage to run if it is missing."""
    path = config.data_dir(out_dir) / f"{name}.parquet"
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing: run the stage that writes it first "
            f"(`litreview run --out {out_dir}`)."
        )
    import pandas as pd

    return pd.read_parquet(path)


def save_figure(
    fig: Any,
    out_dir: str | os.PathLike,
    name: str,
    *,
    formats: tuple[str, ...] = ("png", "svg"),
    dpi: int = 150,
) -> list[Path]:
    """Save a figure as ``DIR/figures/<name>.<fmt>`` for each format; return the paths.

    A matplotlib Figure is written as PNG and SVG (SVG with a fixed hash salt and
    no date, so identical figures give identical bytes). A plotly Figure is written
    as a standalone HTML file with plotly.js inlined, so it opens offline, its element id
    taken from ``name`` so that the same figure gives the same bytes.
    """
    folder = config.figures_dir(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    if _is_plotly(fig):
        path = folder / f"{name}.html"
        # a fixed div id: plotly draws a random UUID per call, so the same figure would
        # give different bytes (and a different review.html, which embeds the map)
        html = fig.to_html(include_plotlyjs=True, full_html=True,
                           div_id=name.replace("_", "-"))
        write_text(path, html)
        return [path]
    import matplotlib as mpl

    for fmt in formats:
        path = folder / f"{name}.{fmt}"
        with atomic_path(path) as tmp, mpl.rc_context({"svg.hashsalt": "litreview"}):
            fig.savefig(tmp, format=fmt, dpi=dpi, bbox_inches="tight", metadata=_metadata(fmt))
        paths.append(path)
    return paths


class SavedFigure:
    """A matplotlib figure saved under ``DIR/figures/``, shown in a notebook from its PNG.

    IPython's inline backend would draw the figure once more to display it; this shows
    the PNG just written instead, so each figure is drawn only for the files it is
    saved as. Everything else (``.axes``, ``.savefig`` …) is the figure's own; a figure
    saved by another process (``figure`` None) is drawn by ``make`` when first asked.
    """

    def __init__(self, figure: Any, png: Path, *, make: Any = None) -> None:
        self.figure = figure
        self.png = Path(png)
        self._make = make  # draws the figure when it was saved elsewhere (a forked child)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in ("figure", "png", "_make"):
            raise AttributeError(name)
        if self.figure is None and name.startswith(("_repr_", "_ipython")):
            raise AttributeError(name)  # IPython's display probes: the PNG is what it shows
        if self.figure is None and self._make is not None:
            self.figure = self._make()
        return getattr(self.figure, name)

    def _repr_png_(self) -> bytes:
        return self.png.read_bytes()

    def __repr__(self) -> str:
        return f"<figure {self.png.stem}>"


def shown_figure(fig: Any, paths: list[Path]) -> Any:
    """Return what a notebook displays for ``fig`` saved as ``paths`` (``save_figure``):
    a :class:`SavedFigure` showing its PNG, or ``fig`` itself when no PNG was written
    (a plotly figure shows itself, interactively)."""
    png = next((p for p in paths if p.suffix == ".png"), None)
    return fig if png is None or _is_plotly(fig) else SavedFigure(fig, png)


def _metadata(fmt: str) -> dict[str, Any]:
    if fmt == "svg":
        return {"Date": None}
    if fmt == "pdf":
        return {"CreationDate": None}
    return {}


def _is_plotly(fig: Any) -> bool:
    return type(fig).__module__.startswith("plotly")
