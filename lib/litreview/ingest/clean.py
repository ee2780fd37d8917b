"""Turn raw field text into clean Unicode: LaTeX residue, HTML entities, whitespace, URLs.

Markup characters are kept as text (``<script>`` stays ``<script>``): escaping is
the report's job. Only a short list of formatting tags (``<sup>``, ``<i>``, ...)
that exports wrap around words is removed.
"""

from __future__ import annotations

import functools
import html
import logging
import re
import unicodedata

from pylatexenc.latex2text import LatexNodes2Text

_FORMATTING_TAG = re.compile(
    r"</?(?:sup|sub|inf|i|b|em|strong|u|br|p|span|div|tt|sc|small|math|mml:[a-z]+)"
    r"(?:\s[^<>]*)?/?>",
    re.IGNORECASE,
)
_WHITESPACE = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LATEX_HINT = re.compile(r"[\\{}]")
# Size switches survive naive LaTeX stripping as bare words ("scriptsize Code: ...");
# "small"/"large" are only removed with their backslash, they are ordinary words too.
_SIZE_SWITCH = re.compile(
    r"\\(?:tiny|small|large|Large|LARGE|huge|Huge)\b|"
    r"\\?\b(?:scriptsize|footnotesize|normalsize)(?:\b|(?=[A-Z]))"  # "scriptsizeFLaws"
)
# What a stripped \color / \textcolor leaves: the colour's name glued to the coloured text
# ("black{generally} better"); the text stays, the name goes.
_COLOUR_RESIDUE = re.compile(
    r"(?<![\w\\])(?:black|red|blue|green|gray|grey|magenta|cyan|orange|purple|teal|violet|"
    r"brown)\{(?=[^{}]*\})")
_UNESCAPED_PERCENT = re.compile(r"(?<!\\)%")
_LATEX_QUOTE_PAIR = re.compile(r"``([^`\n]{1,2000}?)''")
_LATEX_SINGLE_PAIR = re.compile(r"(?<![`\w])`([^`'\n]{1,200})'(?![\w'])")
_URL = re.compile(
    r"(?:https?://|www\.|(?<![\w.])(?:github\.com|gitlab\.com|huggingface\.co)/)[^\s<>\"'{}|\\^`]+",
    re.IGNORECASE,
)
_CODE_HOSTS = ("github.com", "gitlab.com", "huggingface.co")

_latex = LatexNodes2Text(math_mode="verbatim", strict_latex_spaces=False)
# pylatexenc logs a warning for every \frac it meets outside math; the text is still fine.
logging.getLogger("pylatexenc").setLevel(logging.ERROR)


#: Formats whose text is LaTeX source: BibTeX, and the arXiv metadata behind Hugging Face
#: listings and arXiv JSON (``\\emph{...}``, ````quoted''``). RIS, CSV and the other exports
#: are plain text, where a backslash is just a backslash.
LATEX_FORMATS = frozenset({"bibtex", "hfpapers", "jsonl"})


def clean_text(value: object, *, latex: bool = True) -> str | None:
    """Return ``value`` as clean single-line Unicode text, or None when empty.

    With ``latex`` (the text is LaTeX source, see ``LATEX_FORMATS``) commands, braces and
    quote pairs are turned into the text they stand for; without it only a matched
    ````…''`` pair is, since that is LaTeX residue in any text.
    """
    if value is None:
        return None
    text = str(value)
    if not text.strip():
        return None
    text = unicodedata.normalize("NFC", text)
    if "<" in text:
        text = _FORMATTING_TAG.sub("", text)
    if "&" in text:
        text = html.unescape(text)
    if "``" in text:
        text = _LATEX_QUOTE_PAIR.sub("\u201c\\1\u201d", text)
    if latex:
        if "size" in text or "\\" in text:
            text = _SIZE_SWITCH.sub(" ", text)
        if "{" in text:
            text = _COLOUR_RESIDUE.sub("{", text)
        text = strip_latex(text)
        if "`" in text or "''" in text:
            text = _latex_quotes(text)
    text = _CONTROL.sub(" ", text)
    text = _WHITESPACE.sub(" ", text).strip()
    text = unicodedata.normalize("NFC", text)
    return text or None


def _latex_quotes(text: str) -> str:
    """LaTeX quotes: ```word'`` is ‘word’; lone ````` and ``''`` open and close double quotes."""
    text = _LATEX_SINGLE_PAIR.sub("\u2018\\1\u2019", text)
    return text.replace("``", "\u201c").replace("''", "\u201d")


def strip_latex(text: str) -> str:
    """Replace LaTeX commands and braces by the text they stand for; keep ``$math$`` as is."""
    if not _LATEX_HINT.search(text):
        return text
    parts = _MATH.split(text)
    # split() with one capture group: odd indexes are the math spans, kept verbatim.
    return "".join(part if i % 2 else _strip_latex_prose(part) for i, part in enumerate(parts))


_MATH = re.compile(r"((?<!\\)\$[^$]{1,400}(?<!\\)\$)")
_STYLE_COMMAND = re.compile(
    r"\\(?:emph|textbf|textit|textsc|texttt|textrm|textsf|textsl|textup|textmd|underline|"
    r"mbox|text|footnote|url|href|mathrm|mathbf)\s*\{([^{}]*)\}"
)
_STYLE_GROUP = re.compile(r"\{\\(?:em|bf|it|sc|tt|rm|sf|sl|bfseries|itshape|scshape)\s+([^{}]*)\}")
_DROPPED_COMMAND = re.compile(r"\\(?:cite[tp]?|ref|eqref|label)\s*\{[^{}]*\}")
_ESCAPED_CHAR = re.compile(r"\\([&%_#$])")
_LEFTOVER_COMMAND = re.compile(
    r"\\[a-zA-Z@]+\*?(?:\s*\{[^{}]*\})*|\\[^a-zA-Z\s](?:\s*\{[^{}]*\}|[a-zA-Z])?"
)


def _strip_latex_prose(text: str) -> str:
    text = _DROPPED_COMMAND.sub("", text)
    for _ in range(5):  # nested \emph{\textbf{x}}: peel one level per pass
        stripped = _STYLE_GROUP.sub(r"\1", _STYLE_COMMAND.sub(r"\1", text))
        if stripped == text:
            break
        text = stripped
    text = _ESCAPED_CHAR.sub(r"\1", text)
    # Accents (\'e, \"{o}) and rarer macros: convert each one alone, since pylatexenc
    # over a whole abstract costs ~20 ms.
    text = _LEFTOVER_COMMAND.sub(lambda m: _latex_fragment_to_text(m.group(0)), text)
    # "{time}{place}": two groups side by side are two words once their braces go
    return text.replace("}{", " ").replace("{", "").replace("}", "")


@functools.lru_cache(maxsize=4096)
def _latex_fragment_to_text(fragment: str) -> str:
    try:
        return _latex.latex_to_text(fragment)
    except Exception:  # pylatexenc rejects some malformed input; drop the command name
        return re.sub(r"^\\[a-zA-Z@]+\*?", " ", fragment)


def extract_urls(text: str | None) -> list[str]:
    """Return the URLs mentioned in ``text``, in order, without trailing punctuation."""
    if not text:
        return []
    urls: list[str] = []
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(".,;:!?)]")
        if url.count("(") < url.count(")"):
            url = url.rstrip(")")
        if url not in urls:
            urls.append(url)
    return urls


def is_code_url(url: str) -> bool:
    """Tell whether ``url`` points at a code or model host (GitHub, GitLab, Hugging Face)."""
    host, _, path = re.sub(r"^(?:https?://)?(?:www\.)?", "", url.lower()).partition("/")
    return bool(path.strip("/")) and any(host == h or host.endswith("." + h) for h in _CODE_HOSTS)


#: DOI syntax (Crossref's recommended pattern, without the characters that end a link).
DOI_PATTERN = re.compile(r'10\.\d{4,9}/[^\s<>"]+')
_DOI_PREFIX = re.compile(
    r"^(?:(?:https?://)?(?:dx\.)?doi\.org/|doi\s*:?\s*(?=10\.))", re.IGNORECASE
)
_PLACEHOLDERS = {"n/a", "na", "none", "null", "-", "--", "?", "unknown"}
_ARXIV_NEW = re.compile(r"(?<![\d.])(\d{4}\.\d{4,5})(?:v\d+)?(?![\d])")
_ARXIV_OLD = re.compile(r"\b([a-z][a-z.-]+/\d{7})(?:v\d+)?\b", re.IGNORECASE)
_PMID = re.compile(r"^(?:pmid\s*:?\s*)?(\d{1,8})$", re.IGNORECASE)


def check_doi(value: object) -> tuple[str | None, str | None]:
    """Return ``(doi, problem)``: the lower-cased DOI, or None and why ``value`` is not one.

    The whole value must be one DOI (``10.NNNN/suffix``, optionally written as a doi.org
    link or after ``doi:``); trailing punctuation is stripped. Anything else (a DOI with
    ``<`` or a quote in it, two DOIs, free text) is refused rather than cut to a prefix,
    so a DOI in the output is always exactly one well-formed identifier.
    """
    if value is None:
        return None, None
    text = " ".join(str(value).split())
    if not text or text.lower() in _PLACEHOLDERS:
        return None, None
    candidate = _DOI_PREFIX.sub("", text)
    for escaped in ("_", "%", "&", "#"):  # BibTeX escapes in DOI fields
        candidate = candidate.replace("\\" + escaped, escaped)
    candidate = _strip_trailing_punctuation(candidate)
    if DOI_PATTERN.fullmatch(candidate):
        return candidate.lower(), None
    shown = text if len(text) <= 80 else text[:79] + "…"
    return None, f"not a valid DOI {shown!r} (expected 10.NNNN/suffix); DOI dropped"


def normalize_doi(value: object) -> str | None:
    """Return the bare, lower-cased DOI in ``value`` (``10.xxx/yyy``) or None (see check_doi)."""
    return check_doi(value)[0]


def _strip_trailing_punctuation(text: str) -> str:
    while True:
        stripped = text.rstrip(".,;:'")
        for close, open_ in ((")", "("), ("]", "["), ("}", "{")):
            if stripped.endswith(close) and stripped.count(close) > stripped.count(open_):
                stripped = stripped[:-1]
        if stripped == text:
            return text
        text = stripped


def check_arxiv_id(value: object) -> tuple[str | None, str | None]:
    """Return ``(arxiv_id, problem)`` like ``check_doi``; see ``normalize_arxiv_id``."""
    if value is None or not str(value).strip() or str(value).strip().lower() in _PLACEHOLDERS:
        return None, None
    found = normalize_arxiv_id(value)
    if found:
        return found, None
    text = " ".join(str(value).split())
    shown = text if len(text) <= 80 else text[:79] + "…"
    return None, f"not a valid arXiv id {shown!r}; arXiv id dropped"


def normalize_pmid(value: object) -> str | None:
    """Return a PubMed id (1-8 digits, optionally after ``PMID:``) or None."""
    if value is None:
        return None
    match = _PMID.match(str(value).strip())
    return str(int(match.group(1))) if match else None


def normalize_arxiv_id(value: object) -> str | None:
    """Return the version-less arXiv id in ``value`` (``2301.01234``, ``cs/0112017``) or None."""
    if value is None:
        return None
    text = str(value).strip()
    text = re.sub(r"^(?:arxiv:|https?://arxiv\.org/(?:abs|pdf)/)", "", text, flags=re.IGNORECASE)
    match = _ARXIV_NEW.search(text) or _ARXIV_OLD.search(text)
    return match.group(1).lower() if match else None


def arxiv_id_from_doi(doi: str | None) -> str | None:
    """Return the arXiv id of an arXiv DOI (``10.48550/arxiv.2301.01234``) or None."""
    if doi and doi.startswith("10.48550/arxiv."):
        return normalize_arxiv_id(doi.removeprefix("10.48550/arxiv."))
    return None


def parse_year(value: object) -> int | None:
    """Return the first plausible publication year (1800-2199) in ``value`` or None."""
    if value is None:
        return None
    match = re.search(r"(?<!\d)(1[89]\d\d|2[01]\d\d)(?!\d)", str(value))
    return int(match.group(1)) if match else None


def normalize_authors(value: object, *, latex: bool = True) -> str | None:
    """Return authors as ``"A; B; C"`` from BibTeX ``and``, ``;`` or Scopus ``,`` lists."""
    text = clean_text(value, latex=latex)
    if text is None:
        return None
    if re.search(r"\s+and\s+", text) and ";" not in text:
        parts = re.split(r"\s+and\s+", text)
    elif ";" in text:
        parts = text.split(";")
    elif re.search(r"[A-Z]\.,\s", text):  # Scopus CSV: "Phillips J.C., Braun R."
        parts = text.split(",")
    else:
        parts = [text]
    names = [p.strip() for p in parts if p.strip()]
    return "; ".join(names) or None


def normalize_title_key(title: str | None) -> str:
    """Return a title's exact-match key: case-folded, no accents, punctuation or spaces."""
    return "".join(fuzzy_title_form(title).split())


def fuzzy_title_form(title: str | None) -> str:
    """Return a title case-folded, without accents, punctuation turned into single spaces."""
    if not title:
        return ""
    folded = title.casefold()
    if not folded.isascii():
        decomposed = unicodedata.normalize("NFKD", folded)
        folded = "".join(c for c in decomposed if not unicodedata.combining(c))
    words = re.sub(r"[\W_]+", " ", folded)
    return " ".join(words.split())
