"""Escape by construction: the one gate corpus text passes on its way to HTML or Markdown.

Corpus fields (titles, abstracts, identifiers, URLs, authors, venues, file names) are
untrusted. Everything the report and the 03 notebook show goes through this module:

- identifiers are validated against their syntax (:func:`valid_doi`, :func:`valid_arxiv_id`,
  :func:`valid_pmid`) and dropped with a warning when they do not match;
- links are built only from validated parts (:func:`safe_link`, :func:`https_url`): the
  scheme is ``http`` or ``https``, the host is a real host name, and every character that
  could end an attribute, a Markdown link or an autolink is percent-encoded;
- Markdown text is escaped (:func:`escape_markdown`) so it can never form HTML, a link,
  an image or an autolink.

HTML escaping itself is jinja2's autoescape (markupsafe) in :mod:`litreview.report`; this
module only decides what may become a link. It imports nothing from litreview (bottom layer).

Hand-written rather than a library: URL parsing is :mod:`urllib.parse`; what is left is a
short allow-list (schemes, host syntax, identifier grammars) that is easier to audit than
a general-purpose sanitizer such as bleach (deprecated) or nh3 (cleans HTML, not Markdown).
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

logger = logging.getLogger(__name__)

#: Schemes a link may have.
LINK_SCHEMES = frozenset({"http", "https"})
#: Hosts whose links are code or models rather than papers.
CODE_HOSTS = ("github.com", "gitlab.com", "huggingface.co")

_DOI = re.compile(r'10\.\d{4,9}/[^\s<>"]+')
_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)
_ARXIV_NEW = re.compile(r"\d{4}\.\d{4,5}(?:v\d+)?")
_ARXIV_OLD = re.compile(r"[a-z]+(?:-[a-z]+)*(?:\.[A-Z]{2})?/\d{7}(?:v\d+)?")
_ARXIV_PREFIX = re.compile(r"^(?:arxiv:\s*|https?://(?:www\.)?arxiv\.org/(?:abs|pdf)/)",
                           re.IGNORECASE)
_PMID = re.compile(r"[1-9]\d{0,8}")
_PMID_PREFIX = re.compile(r"^(?:pmid:\s*|https?://pubmed\.ncbi\.nlm\.nih\.gov/)", re.IGNORECASE)
#: Punctuation that closes a sentence or a bracket around an identifier, not part of it.
_TRAILING = ".,;:!?)]}>'\"’”"
_HOST = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*"
                   r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_CONTROL = re.compile(r"[\x00-\x20\x7f-\x9f]")
# Path, query and fragment keep only characters that are inert in an HTML attribute, a
# Markdown link destination and an autolink; the rest is percent-encoded.
_URL_SAFE = "/:@!$&+,;=-._~%"
_LONE_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if type(value).__name__ in {"NAType", "NaTType"}:  # pandas missing values
        return ""
    return str(value).strip()


def _strip_trailing(text: str) -> str:
    """Drop sentence punctuation after an identifier, keeping balanced closing brackets."""
    while text and text[-1] in _TRAILING:
        closing = text[-1]
        opening = {")": "(", "]": "["}.get(closing)
        if opening and text.count(opening) >= text.count(closing):
            break
        text = text[:-1]
    return text


@functools.lru_cache(maxsize=4096)  # warn once per value, not once per place it is shown
def _drop(kind: str, value: str, field: str | None) -> None:
    where = f" in {field}" if field else ""
    logger.warning("dropping %s%s: %r is not a valid %s", kind, where, value[:80], kind)


def valid_doi(value: Any, *, field: str | None = None, warn: bool = True) -> str | None:
    """Return the bare DOI (``10.NNNN/suffix``) in ``value``, or None with a warning.

    ``warn=False`` only asks whether ``value`` is one (no warning for a miss).

    Accepts ``doi:`` and ``https://doi.org/`` prefixes and strips trailing sentence
    punctuation; the rest must match ``10.\\d{4,9}/[^\\s<>"]+`` in full.
    """
    text = _text(value)
    if not text:
        return None
    bare = _strip_trailing(_DOI_PREFIX.sub("", text))
    if _DOI.fullmatch(bare) and not _CONTROL.search(bare):
        return bare
    if warn:
        _drop("DOI", text, field)
    return None


def valid_arxiv_id(value: Any, *, field: str | None = None, warn: bool = True) -> str | None:
    """Return the arXiv id (``2301.01234``, ``2301.01234v2``, ``cs/0112017``) or None
    (with a warning unless ``warn=False``)."""
    text = _text(value)
    if not text:
        return None
    bare = _strip_trailing(_ARXIV_PREFIX.sub("", text)).removesuffix(".pdf")
    if _ARXIV_NEW.fullmatch(bare) or _ARXIV_OLD.fullmatch(bare):
        return bare
    if warn:
        _drop("arXiv id", text, field)
    return None


def valid_pmid(value: Any, *, field: str | None = None, warn: bool = True) -> str | None:
    """Return a PubMed id (digits only, no leading zero) or None (warned unless ``warn=False``)."""
    text = _text(value)
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
    if not text:
        return None
    bare = _strip_trailing(_PMID_PREFIX.sub("", text)).rstrip("/")
    if _PMID.fullmatch(bare):
        return bare
    if warn:
        _drop("PMID", text, field)
    return None


def https_url(url: Any, *, field: str | None = None) -> str | None:
    """Return ``url`` as a safe absolute http(s) link, or None (with a warning if non-empty).

    The scheme must be http or https (never ``javascript:``, ``data:``, ``vbscript:`` or
    a relative link), the host a valid DNS name or IP literal without credentials, and
    the path, query and fragment are percent-encoded so that quotes, angle brackets,
    parentheses, brackets, backslashes and whitespace cannot appear in the result.
    """
    text = _text(url)
    if not text:
        return None
    result = _parse_url(_with_scheme(_strip_trailing(text)))
    if result is None:
        _drop("URL", text, field)
    return result


_BARE_HOST = re.compile(r"^(?:www\.[a-z0-9-]+\.[a-z]{2,}|(?:github|gitlab)\.com|huggingface\.co)/",
                        re.IGNORECASE)


def _with_scheme(text: str) -> str:
    """``github.com/org/repo`` and ``www.example.org/x`` (as abstracts write them) get https."""
    return "https://" + text if _BARE_HOST.match(text) else text


def _parse_url(text: str) -> str | None:
    if _CONTROL.search(text) or "\\" in text:
        return None
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in LINK_SCHEMES or not host or parts.username is not None:
        return None
    try:
        host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None
    if not (_HOST.match(host) or (re.fullmatch(r"[0-9a-f:.]+", host) and ":" in host)):
        return None
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"

    def encode(part: str) -> str:
        return quote(_LONE_PERCENT.sub("%25", part), safe=_URL_SAFE + "?")

    return urlunsplit((parts.scheme.lower(), netloc, encode(parts.path) or "/",
                       encode(parts.query), encode(parts.fragment)))


def safe_link(kind: str, value: Any, *, field: str | None = None) -> tuple[str, str] | None:
    """Build ``(label, url)`` for an identifier of ``kind`` from its validated parts.

    ``kind`` is ``"doi"``, ``"arxiv"``, ``"pmid"`` or ``"url"``. The label is plain text
    (escape it for the output format); the URL is safe for an ``href`` and for Markdown.
    Returns None when the identifier does not validate.
    """
    if kind == "doi":
        doi = valid_doi(value, field=field)
        if doi is None:
            return None
        return "doi:" + doi, "https://doi.org/" + quote(doi, safe="/:;._-()")
    if kind == "arxiv":
        arxiv = valid_arxiv_id(value, field=field)
        return None if arxiv is None else ("arXiv:" + arxiv, "https://arxiv.org/abs/" + arxiv)
    if kind == "pmid":
        pmid = valid_pmid(value, field=field)
        return None if pmid is None else (
            "PMID:" + pmid, f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/")
    if kind == "url":
        url = https_url(value, field=field)
        return None if url is None else (url, url)
    raise ValueError(f"unknown link kind {kind!r}: use 'doi', 'arxiv', 'pmid' or 'url'")


def is_code_url(url: Any) -> bool:
    """Whether a (safe) URL points at code or models: a repository on GitHub, GitLab or HF.

    Hugging Face paper pages (``huggingface.co/papers/…``) are papers, not code.
    """
    safe = _parse_url(_with_scheme(_strip_trailing(_text(url))))  # no warning: a test only
    if safe is None:
        return False
    parts = urlsplit(safe)
    host = (parts.hostname or "").removeprefix("www.")
    path = parts.path.strip("/")
    if not path or path.startswith("papers"):
        return False
    return any(host == h or host.endswith("." + h) for h in CODE_HOSTS)


def link_key(url: str) -> str:
    """A comparison key under which two spellings of one link are equal (scheme, www, /)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").removeprefix("www.")
    path = parts.path.rstrip("/")
    if host == "arxiv.org":
        path = re.sub(r"^/pdf/", "/abs/", path).removesuffix(".pdf")
    if host in {"doi.org", "dx.doi.org"}:
        host, path = "doi.org", path.lower()
    return f"{host}{path}?{parts.query}" if parts.query else f"{host}{path}"


def _as_list(value: Any) -> list[Any]:
    if value is None or isinstance(value, str | float):
        return [] if value is None or isinstance(value, float) else [value]
    try:
        return list(value)
    except TypeError:
        return [value]


def paper_links(paper: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(label, url)`` for a paper's DOI, arXiv id, PMID and URLs: validated, each link once.

    Reads the fields ``doi``, ``arxiv_id``, ``pmid``, ``url`` and ``urls`` (a list) of a
    papers row; code links (:func:`is_code_url`) are left to :func:`code_links`.
    """
    links: list[tuple[str, str]] = []
    seen: set[str] = set()

    def add(link: tuple[str, str] | None) -> None:
        if link is not None and (key := link_key(link[1]).lower()) not in seen:
            seen.add(key)
            links.append(link)

    pid = _text(paper.get("paper_id")) or "?"
    for kind, column in (("doi", "doi"), ("arxiv", "arxiv_id"), ("pmid", "pmid")):
        add(safe_link(kind, paper.get(column), field=f"{column} of paper {pid}"))
    for url in [paper.get("url"), *_as_list(paper.get("urls"))]:
        if not is_code_url(url):
            add(safe_link("url", url, field=f"url of paper {pid}"))
    return links


def code_links(paper: Mapping[str, Any]) -> tuple[str, ...]:
    """A paper's code and model links (GitHub, GitLab, Hugging Face): safe, each once."""
    found: dict[str, str] = {}
    for url in [*_as_list(paper.get("code_urls")), paper.get("url"), *_as_list(paper.get("urls"))]:
        safe = https_url(url) if is_code_url(url) else None
        if safe is not None:
            found.setdefault(link_key(safe).lower(), safe)
    return tuple(found.values())


# --------------------------------------------------------------------------- Markdown

_MD_INLINE = re.compile(r"([\\`*\[\]<>|])|(?<![^\W_])(_)|(_)(?![^\W_])|^(\s*)(#)")
_MD_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")
_MD_TILDES = re.compile(r"~(?=~)|(?<=~)~|^(\s*)~")
_MD_BULLET = re.compile(r"^(\s*)([-+=])")
_MD_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_MD_ORDERED = re.compile(r"^(\s*\d{1,9})([.)])(?=\s|$)")


def _escape_inline(match: re.Match[str]) -> str:
    if match.group(4) is not None:  # a leading "#"
        return f"{match.group(4)}\\#"
    char = next(g for g in match.groups()[:3] if g is not None)
    return "\\" + char


def escape_markdown(text: Any, *, collapse: bool = True) -> str:
    """Escape corpus text for inline use in CommonMark/GFM so it renders as itself.

    Whitespace (newlines included) collapses to single spaces so the text cannot start
    a block (heading, list, quote, code block, table row). Backslash-escapes ``\\``,
    backticks, ``*``, ``[``, ``]``, ``<``, ``>`` and ``|`` everywhere, ``_`` unless it
    sits inside a word (where CommonMark never reads it as emphasis), ``#`` at the start,
    ``&`` where it would start an entity reference (``&lt;``, ``&#60;``),
    tildes in runs (strikethrough, fences) and a leading list marker or rule;
    control characters are dropped. No HTML tag, link, image or autolink can form.
    ``collapse=False`` keeps leading and trailing spaces (runs still become one space).
    Parentheses stay as they are: with ``[`` and ``]`` escaped no link destination can
    open, and the draft stays readable where a researcher edits it.
    """
    value = _MD_CONTROL.sub("", _text(text) if collapse else str(text))
    value = " ".join(value.split()) if collapse else re.sub(r"\s+", " ", value)
    value = _MD_INLINE.sub(_escape_inline, value)
    value = _MD_ENTITY.sub(r"\\&", value)
    value = _MD_TILDES.sub(lambda m: (m.group(1) or "") + "\\~", value)  # ~~strike, ~~~ fence
    value = _MD_BULLET.sub(r"\1\\\2", value)
    return _MD_ORDERED.sub(r"\1\\\2", value)


def markdown_link(url: Any, label: Any = None) -> str:
    """Markdown for a link built from a safe URL: ``<url>`` or ``[label](<url>)``.

    ``url`` is re-validated with :func:`https_url`; an unsafe one gives the escaped
    label (or nothing), never a link.
    """
    safe = https_url(url)
    if safe is None:
        return escape_markdown(label) if label else ""
    if label is None or label in (url, safe):
        return f"<{safe}>"
    return f"[{escape_markdown(label)}](<{safe}>)"
