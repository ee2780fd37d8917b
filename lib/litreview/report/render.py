"""Turn a Review into a self-contained HTML page, a PDF and a Markdown file.

Escape by construction, in both formats:

- HTML: jinja2 autoescaping (markupsafe) on every ``{{ }}``; only our own CSS and JS
  (shipped in ``static/``) and the interactive map (inside a sandboxed ``srcdoc``) are
  marked safe. Every ``href`` goes through the ``href`` filter, which re-validates the
  URL with :func:`litreview.sanitize.https_url` (http/https only).
- Markdown: the environment's ``finalize`` escapes every ``{{ }}`` value with
  :func:`litreview.sanitize.escape_markdown` unless a filter marked it as Markdown
  (:class:`MarkdownSafe`); links come only from the ``mdlink`` filter, built from
  validated URLs.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import re
from collections.abc import Iterable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from litreview import config, io, sanitize
from litreview.review.model import QUADRANT_OF_A_THEME, QUADRANTS, Review, format_percent

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"
REPORT_NAME = "review"
#: The PDF lists at most this many papers in its paper table and outlier list (a large
#: corpus's review may ask for fewer: ``Review.pdf_paper_limit``).
PDF_PAPER_LIMIT = 300

#: Figures the report shows, in the order they may appear, with their captions.
FIGURE_CAPTIONS = {
    "topics_map": "Document map: each point is a paper, coloured by theme.",
    "topics_sizes": "Papers per theme.",
    "topics_similarity": "Similarity between themes, as computed by the topics stage.",
    "topics_hierarchy": "Theme hierarchy: themes that merge lower in the tree are closer.",
    "review_key_terms": (
        "Key terms per theme: share of the theme's papers (bars) and of all papers (ticks) "
        "whose title or abstract uses each term."
    ),
    "review_themes_over_time": (
        "Papers per theme over time: stacked bars per period; ↑ marks growing themes, "
        "↓ fading ones."
    ),
    "review_screening_flow": (
        "Screening flow: records identified per file, duplicates removed, records "
        "rejected and papers excluded at screening, papers included and placed in themes."
    ),
    "review_strategic_diagram": (
        "Strategic diagram: centrality (links to other themes) against density "
        "(internal cohesion); bubble area grows with the number of papers."
    ),
}
_STRATEGIC_FIGURE = "review_strategic_diagram"


def render_html(review: Review, out_dir: str | os.PathLike) -> str:
    """Render the interactive, self-contained HTML report and return it."""
    return _render_html(review, out_dir, print_mode=False)


def render_print_html(review: Review, out_dir: str | os.PathLike) -> str:
    """Render the print variant (static figures, no scripts) that the PDF is made from."""
    return _render_html(review, out_dir, print_mode=True)


def render_markdown(review: Review, out_dir: str | os.PathLike) -> str:
    """Render the write-up as plain Markdown with ``[KEY]`` citations."""
    folder = config.figures_dir(out_dir)
    figures = {
        name: f"../figures/{name}.png"
        for name in FIGURE_CAPTIONS
        if (folder / f"{name}.png").exists()
    }
    return _markdown_env().get_template("review.md").render(
        review=review, figures=figures, captions=FIGURE_CAPTIONS, quadrants=QUADRANTS,
        quadrant_of_a_theme=QUADRANT_OF_A_THEME,
        **_shared_context(review),
    )


def write_report(
    review: Review,
    out_dir: str | os.PathLike,
    formats: Iterable[str] = ("html", "pdf", "md"),
) -> list[Path]:
    """Write ``DIR/report/review.{html,pdf,md}`` atomically and return the paths."""
    folder = config.report_dir(out_dir)
    written: list[Path] = []
    for fmt in formats:
        path = folder / f"{REPORT_NAME}.{fmt}"
        if fmt == "html":
            io.write_text(path, render_html(review, out_dir))
        elif fmt == "md":
            io.write_text(path, render_markdown(review, out_dir))
        elif fmt == "pdf":
            from weasyprint import HTML

            html = render_print_html(review, out_dir)
            with io.atomic_path(path) as tmp:
                HTML(string=html, base_url=os.fspath(folder)).write_pdf(tmp)
        else:
            raise ValueError(f"unknown report format {fmt!r}: use 'html', 'pdf' or 'md'")
        written.append(path)
    return written


# --------------------------------------------------------------------------- internals


def _render_html(review: Review, out_dir: str | os.PathLike, *, print_mode: bool) -> str:
    figures = _figures(review, out_dir)
    papers = review.papers
    outliers = review.outliers
    limit = PDF_PAPER_LIMIT if review.pdf_paper_limit is None else review.pdf_paper_limit
    context = {
        "review": review,
        "print_mode": print_mode,
        "figures": figures,
        "captions": FIGURE_CAPTIONS,
        "quadrants": QUADRANTS,
        "quadrant_of_a_theme": QUADRANT_OF_A_THEME,
        "css": Markup(_static("review.css") + _static("pdf.css" if print_mode else "screen.css")),
        "js": Markup(_static("review.js")),
        "map_html": None if print_mode else _interactive_map(out_dir),
        "paper_data": None if print_mode else _paper_data(review),
        "print_papers": papers.sort_values(["topic", "title"]).head(limit)
        if print_mode else None,
        "print_outliers": outliers.head(limit) if print_mode else outliers,
        "pdf_limit": limit,
        "print_ref_keys": None,
        **_shared_context(review),
    }
    template = _html_env().get_template("review.html")
    html = template.render(**context)
    if print_mode:
        # The PDF lists a sample of a large corpus (PDF_PAPER_LIMIT, PDF_STRAND_LIMIT): its
        # reference list keeps the papers that sample cites, not all of them (74k entries
        # were 30 MB of a 40 MB print page and most of WeasyPrint's time and memory).
        cited = set(_CITED_KEY.findall(html))
        if any(ref.key not in cited for ref in review.references):
            html = template.render(**{**context, "print_ref_keys": cited})
    return html


_CITED_KEY = re.compile(r'href="#ref-([^"]+)"')


def _shared_context(review: Review) -> dict[str, Any]:
    cited = {ref.key for ref in review.references}
    return {
        "cited": cited,
        "theme_names": {t.topic: t.name for t in review.themes},
        "stage_rows": {
            stage: _flatten(record.get("parameters") or {})
            for stage, record in review.methods.stages.items()
        },
        "stage_inputs": {
            stage: record.get("inputs") or {} for stage, record in review.methods.stages.items()
        },
        "stage_timings": {
            stage: record.get("timings_s") or {} for stage, record in review.methods.stages.items()
        },
        "metric_rows": _metric_rows(review.methods.metrics),
        "screening_text": screening_sentence(review.screening),
    }


def screening_sentence(flow: Any) -> str:
    """The screening flow in one sentence for the Method section ("" without a flow)."""
    if flow is None or flow.empty:
        return ""
    totals = flow.groupby("step", sort=False)["count"].sum()

    def n(step: str) -> int:
        return int(totals.get(step, 0))

    files = int((flow["step"] == "identified").sum())
    text = (f"Of {n('identified'):,} records identified in {files:,} "
            f"{'file' if files == 1 else 'files'}, {n('duplicates'):,} were duplicates of "
            f"another record, {n('rejected'):,} were rejected as unreadable or invalid and "
            f"{n('excluded'):,} {'paper was' if n('excluded') == 1 else 'papers were'} "
            f"excluded at screening by the curation file; {n('included'):,} "
            f"{'paper was' if n('included') == 1 else 'papers were'} included")
    if "placed" in totals:
        text += f", {n('placed'):,} placed in themes and {n('unplaced'):,} in no theme"
    return text + "."


@functools.cache
def _html_env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    _add_filters(env)
    return env


@functools.cache
def _markdown_env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=False,
        finalize=_markdown_finalize,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    _add_filters(env)
    env.filters["md"] = markdown_escape
    env.filters["mdlink"] = lambda url, label=None: MarkdownSafe(sanitize.markdown_link(url, label))
    env.filters["mdcode"] = markdown_code
    env.filters["mdraw"] = MarkdownSafe  # our own paths and captions
    env.filters["cslmd"] = csl_markdown
    return env


def _add_filters(env: jinja2.Environment) -> None:
    env.filters["percent"] = format_percent
    env.filters["number"] = lambda n: f"{int(n):,}"
    env.filters["fixed"] = lambda x, digits=2: "–" if x is None else f"{float(x):.{digits}f}"
    env.filters["href"] = safe_href
    env.filters["period"] = end_sentence
    env.filters["code_label"] = code_label


class MarkdownSafe(str):
    """Text that is already Markdown (escaped corpus text or a link we built)."""


def _markdown_finalize(value: Any) -> Any:
    if isinstance(value, MarkdownSafe | int | float):
        return value
    return sanitize.escape_markdown(value, collapse=False) if value is not None else ""


def markdown_escape(text: Any) -> MarkdownSafe:
    """Escape corpus text for Markdown (see :func:`litreview.sanitize.escape_markdown`)."""
    if isinstance(text, MarkdownSafe):
        return text
    return MarkdownSafe(sanitize.escape_markdown(text))


class _CslToMarkdown(HTMLParser):
    """Turn a reference formatted by citeproc-py (``<i>``, ``<b>``, ``<a href>`` and
    entities only) into Markdown: text escaped, italics as ``*``, links re-validated.

    Written with the standard library's parser because the markup is our own, small and
    known; a general HTML-to-Markdown converter would add a dependency for four tags.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._href: str | None = None
        self._label: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href = dict(attrs).get("href") or ""
            self._label = []
        elif tag in ("i", "em"):
            self._emit("*")
        elif tag in ("b", "strong"):
            self._emit("**")

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            href, label = self._href, "".join(self._label)
            self._href = None
            self.parts.append(sanitize.markdown_link(href, label) if sanitize.https_url(href)
                              else sanitize.escape_markdown(label))
        elif tag in ("i", "em"):
            self._emit("*")
        elif tag in ("b", "strong"):
            self._emit("**")

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._label.append(data)
        else:
            self.parts.append(sanitize.escape_markdown(data, collapse=False))

    def _emit(self, text: str) -> None:
        (self._label if self._href is not None else self.parts).append(text)


def csl_markdown(formatted: str) -> MarkdownSafe:
    """A formatted reference (HTML from citeproc-py) as Markdown."""
    parser = _CslToMarkdown()
    parser.feed(str(formatted))
    parser.close()
    return MarkdownSafe(" ".join("".join(parser.parts).split()))


def markdown_code(text: Any) -> MarkdownSafe:
    """An inline code span for a value, fenced by more backticks than it contains."""
    value = " ".join(str("" if text is None else text).split())
    longest = max((len(run) for run in re.findall(r"`+", value)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if value.startswith("`") or value.endswith("`") or longest else ""
    return MarkdownSafe(f"{fence}{pad}{value}{pad}{fence}")


def safe_href(url: Any) -> str:
    """The URL re-validated for an ``href`` (http/https only), or ``#`` when it is not safe."""
    return sanitize.https_url(url) or "#"


def code_label(url: Any) -> str:
    """A short label for a code link: host and path without the scheme (github.com/org/repo)."""
    safe = sanitize.https_url(url) or ""
    return re.sub(r"^https?://(?:www\.)?", "", safe).rstrip("/")


def end_sentence(text: Any) -> str:
    """End ``text`` with a full stop unless it already ends a sentence ("In-Context?" stays)."""
    kind = type(text) if isinstance(text, str) else str  # keeps MarkdownSafe / Markup
    value = str("" if text is None else text).rstrip()
    return kind(value if not value or value[-1] in ".?!…" else value + ".")


@functools.cache
def _static(name: str) -> str:
    return (STATIC_DIR / name).read_text(encoding="utf-8")


def _figures(review: Review, out_dir: str | os.PathLike) -> dict[str, str]:
    """PNG figures as data URIs; the strategic diagram is drawn if not saved yet."""
    folder = config.figures_dir(out_dir)
    figures = {}
    for name in FIGURE_CAPTIONS:
        path = folder / f"{name}.png"
        if path.exists():
            figures[name] = _data_uri(path.read_bytes())
    if _STRATEGIC_FIGURE not in figures and not review.cross.strategic.empty:
        figures[_STRATEGIC_FIGURE] = _data_uri(_draw_strategic(review))
    return figures


def _draw_strategic(review: Review) -> bytes:
    import io as stdio

    import matplotlib.pyplot as plt

    from litreview.plots.review import plot_strategic_diagram

    fig = plot_strategic_diagram(review.cross.strategic)
    buffer = stdio.BytesIO()
    fig.savefig(buffer, format="png", dpi=150, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _interactive_map(out_dir: str | os.PathLike) -> str | None:
    path = config.figures_dir(out_dir) / "topics_map.html"
    return path.read_text(encoding="utf-8") if path.exists() else None


def _paper_data(review: Review) -> dict[str, Any]:
    """Compact rows for the JS paper table: key, title, year, theme index, link, cited."""
    themes = [t.name for t in review.themes]
    index = {t.topic: i for i, t in enumerate(review.themes)}
    cited = {ref.key for ref in review.references}
    rows = [
        [key, title, year, index.get(topic, -1), url, 1 if key in cited else 0]
        for key, title, year, topic, url in zip(
            review.papers["key"], review.papers["title"], review.papers["year"],
            review.papers["topic"], review.papers["url"], strict=True,
        )
    ]
    return {"themes": themes, "rows": [[_plain(v) for v in row] for row in rows]}


def _plain(value: Any) -> Any:
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value


def _flatten(parameters: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for name, value in sorted(parameters.items()):
        label = f"{prefix}{name}"
        if isinstance(value, dict) and value:
            rows.extend(_flatten(value, label + "."))
        else:
            rows.append((label, json.dumps(value, ensure_ascii=False, default=str)))
    return rows


_METRIC_LABELS = (
    ("n_papers", "Papers"),
    ("n_themes", "Themes"),
    ("n_strands", "Strands"),
    ("outlier_share_before", "Share of papers the tree left out of its themes"),
    ("outlier_share_after", "Share of papers in no theme after placement"),
    ("n_reassigned", "Papers placed in a theme other than the tree's"),
    ("n_outliers_remaining", "Papers in no theme"),
    ("npmi_mean", "Topic coherence (mean NPMI)"),
    ("diversity", "Topic diversity"),
    ("silhouette", "Silhouette (themes)"),
    ("strand_silhouette", "Silhouette (strands)"),
    ("stability_ari_mean", "Stability (mean ARI across seeds)"),
    ("subsample_ari_mean", "Stability on random 90 % subsamples (mean ARI)"),
    ("stability_seeds", "Stability seeds"),
    ("label_quality.theme_label_coverage_mean", "Theme labels: mean share of papers they name"),
    ("label_quality.strand_label_coverage_mean", "Strand labels: mean share of papers they name"),
    ("label_quality.n_other_papers_strands", "Strands whose papers share no phrase"),
    ("seed", "Seed"),
    ("embedding_model", "Embedding model"),
)


def _metric_rows(metrics: dict[str, Any]) -> list[tuple[str, str]]:
    rows = []
    for name, label in _METRIC_LABELS:
        value: Any = metrics
        for part in name.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is not None:
            if isinstance(value, float):
                text = f"{value:.3f}"
            elif isinstance(value, list):
                text = ", ".join(str(v) for v in value)
            else:
                text = str(value)
            if name == "stability_ari_mean" and metrics.get("stability_seed_free"):
                text += " (by construction: the seed does not enter the theme tree)"
            rows.append((label, text))
    notes = metrics.get("notes") or []
    for note in [notes] if isinstance(notes, str) else notes:
        rows.append(("Note", str(note)))
    return rows
