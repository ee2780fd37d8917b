"""Format references with CSL styles through citeproc-py (APA, IEEE, Chicago author-date).

The style files ship in ``litreview/report/csl/`` (nothing is fetched at run time); any
other ``.csl`` file can be named by path. Corpus text is untrusted: every field is
HTML-escaped before citeproc-py sees it, and the only link added is the paper's DOI
(``https://doi.org/...``, built from a checked DOI), so the strings are safe to place in
HTML as they are.
"""

from __future__ import annotations

import html
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
from citeproc import (
    Citation,
    CitationItem,
    CitationStylesBibliography,
    CitationStylesStyle,
    formatter,
)
from citeproc.source.json import CiteProcJSON

from litreview.export.writers import citation_keys, csl_item

STYLE_DIR = Path(__file__).with_name("csl")
STYLES = ("apa", "ieee", "chicago-author-date")
#: Styles whose "no author" substitute prints the title where citeproc-py then prints it
#: again; for them an author-less paper is cited by its title alone, once.
_TITLE_SUBSTITUTE = frozenset({"apa", "chicago-author-date"})
_DOI = re.compile(r"^10\.\d{4,9}/[^\s\"<>]+$")
_INITIALS = re.compile(r"^(?:[A-Z]\.?-?){1,4}$")
_NUMBER_LABEL = re.compile(r"^\[\d+\]\s*")


def format_references(papers: pd.DataFrame, style: str = "apa") -> list[str]:
    """Return one HTML-safe reference string per row of ``papers`` (same order).

    ``papers`` has the columns of ``papers.parquet`` (title, authors, year, month, venue,
    doi, url, ...); missing columns are treated as empty. ``style`` is ``apa``, ``ieee``,
    ``chicago-author-date`` or the path of a ``.csl`` file. DOIs become
    ``<a href="https://doi.org/...">`` links.
    """
    csl_style = _style(_style_path(style))
    rows = papers.to_dict("records")
    keys = citation_keys(rows)
    items = [_item(row, key, style) for row, key in zip(rows, keys, strict=True)]
    source = CiteProcJSON(items)
    references = []
    for row, key in zip(rows, keys, strict=True):
        bibliography = CitationStylesBibliography(csl_style, source, formatter.html)
        bibliography.register(Citation([CitationItem(key)]))
        text = "".join(str(entry) for entry in bibliography.bibliography())
        text = _NUMBER_LABEL.sub("", " ".join(text.split()))
        references.append(_link_doi(text, _doi(row)))
    return references


def _style_path(style: str) -> Path:
    if style in STYLES:
        return STYLE_DIR / f"{style}.csl"
    path = Path(os.fspath(style))
    if path.suffix == ".csl" and path.is_file():
        return path
    raise ValueError(f"unknown citation style {style!r}; use one of {STYLES} or a .csl file")


@lru_cache(maxsize=8)
def _style(path: Path) -> CitationStylesStyle:
    return CitationStylesStyle(str(path), validate=False)


def _doi(row: dict[str, Any]) -> str | None:
    value = row.get("doi")
    if not isinstance(value, str):
        return None
    return value if _DOI.match(value) else None


def _name(name: str) -> dict[str, str]:
    """Split a name into CSL family/given: ``"Doe, Jane"``, ``"J. Doe"``, ``"Doe J.C."``."""
    family, sep, given = name.partition(", ")
    if sep:
        return {"family": family, "given": given}
    parts = name.split()
    if not 2 <= len(parts) <= 3:  # one word, or a group ("WHO Priority List Working Group")
        return {"literal": name}
    if _INITIALS.match(parts[-1]):  # Scopus: "Phillips J.C."
        return {"family": " ".join(parts[:-1]), "given": parts[-1]}
    return {"family": parts[-1], "given": " ".join(parts[:-1])}  # "Massimo Aria", "P. Kogge"


def _item(row: dict[str, Any], key: str, style: str) -> dict[str, Any]:
    item = csl_item({**row, "keywords": [], "tags": []}, key)
    for name in ("abstract", "keyword", "note", "genre", "PMID"):
        item.pop(name, None)
    names = [_name(n["literal"]) if "literal" in n else n for n in item.get("author", [])]
    item["author"] = [{k: html.escape(v, quote=False) for k, v in n.items()} for n in names]
    if "title" in item and item["title"].endswith(".") and not item["title"].endswith(".."):
        item["title"] = item["title"][:-1]  # MEDLINE titles end with a period; styles add one
    for name in ("title", "container-title", "URL", "number"):
        if name in item:
            item[name] = html.escape(str(item[name]), quote=False)
    if "DOI" in item:
        item["DOI"] = html.escape(item["DOI"], quote=False)
    if not item["author"]:
        del item["author"]
        if style in _TITLE_SUBSTITUTE and "title" in item:
            item["author"] = [{"literal": item.pop("title")}]
    return item


def _link_doi(text: str, doi: str | None) -> str:
    """Make the DOI in a formatted reference a link (appended when the style leaves it out)."""
    if not doi:
        return text
    shown = html.escape(doi, quote=False)
    href = html.escape("https://doi.org/" + doi, quote=True)
    url_form = html.escape("https://doi.org/", quote=False) + shown
    for candidate in (url_form, shown):
        position = text.find(candidate)
        if position >= 0:
            link = f'<a href="{href}">{candidate}</a>'
            return text[:position] + link + text[position + len(candidate) :]
    return f'{text} <a href="{href}">https://doi.org/{shown}</a>'
