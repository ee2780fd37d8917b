"""The researcher's curation file (``review.yaml``): read, checked, every entry with its line.

A review is curated by hand between runs: themes renamed or merged, papers moved, pinned
as representative, or screened out with a reason. Those decisions live in one YAML file
next to the corpus that the researcher edits and every run honours. Entries name papers
by a stable identifier (DOI, arXiv id, PMID or litreview's ``paper_id``) and themes and
strands by their stable ids (``theme_id`` in ``data/topics.parquet``, ``strand_id`` in
``data/strands.parquet``), so they survive a refit.

The file (every section optional)::

    version: 1
    themes:                       # by theme id
      t-social-norms:
        name: Social norms and culture      # rename
      t-value-alignment:
        merge_into: t-social-norms          # merge into another theme
    strands:                      # by strand id
      s-social-norms-2:
        name: Cultural benchmarks
    papers:                       # by DOI, arXiv id, PMID or paper_id
      "2401.01234":
        theme: t-social-norms               # move the paper to this theme
      "10.1145/3544548.3581318":
        representative: true                # pin it as a representative paper
    exclude:                      # screening: the paper leaves every count and figure
      - paper: "2402.00001"
        reason: off-topic (cosmology)
    include_only:                 # optional: keep only these papers
      - "2401.01234"

Bottom layer: imports only ``sanitize`` (identifier validation) and PyYAML. The loader is
written here rather than with a schema library because every message must name the file
and the line of the entry (PyYAML's node marks give it) and a lenient run must keep the
valid entries while listing the dropped ones; no schema validator reports both.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from litreview import sanitize

#: The curation file's name when a run is not told another (``curation_file`` parameter).
CURATION_FILE_NAME = "review.yaml"
#: Versions of the file format this module reads.
SUPPORTED_VERSIONS = (1,)
SECTIONS = ("version", "themes", "strands", "papers", "exclude", "include_only")
THEME_KEYS = ("name", "merge_into")
STRAND_KEYS = ("name",)
PAPER_KEYS = ("theme", "representative")
EXCLUDE_KEYS = ("paper", "reason")
#: Stable ids look like ``t-social-norms`` (themes) and ``s-social-norms-2`` (strands).
THEME_ID = re.compile(r"t-[a-z0-9]+(?:-[a-z0-9]+)*")
STRAND_ID = re.compile(r"s-[a-z0-9]+(?:-[a-z0-9]+)*")


class CurationError(ValueError):
    """A curation file that cannot be honoured; ``problems`` lists each ``file:line: why``."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = tuple(problems)
        lines = [str(p) for p in self.problems]
        head = ("the curation file has a problem" if len(lines) == 1
                else f"the curation file has {len(lines)} problems")
        super().__init__(head + ":\n  " + "\n  ".join(lines))


@dataclass(frozen=True)
class Problem:
    """One entry that cannot be honoured, with where it is."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass(frozen=True)
class ThemeEdit:
    """Rename a theme and/or merge it into another (``merge_into``)."""

    theme_id: str
    line: int
    name: str | None = None
    merge_into: str | None = None


@dataclass(frozen=True)
class StrandEdit:
    """Rename a strand."""

    strand_id: str
    line: int
    name: str | None = None


@dataclass(frozen=True)
class PaperEdit:
    """Move a paper to a theme and/or pin it as one of its theme's representatives."""

    ref: str
    line: int
    theme: str | None = None
    representative: bool = False


@dataclass(frozen=True)
class Exclusion:
    """A screening decision: the paper leaves the review, for ``reason``."""

    ref: str
    line: int
    reason: str


@dataclass(frozen=True)
class Inclusion:
    """One paper of an ``include_only`` list."""

    ref: str
    line: int


@dataclass(frozen=True)
class Curation:
    """Everything one curation file asks for.

    ``problems`` are the entries a lenient read dropped.
    """

    path: str | None = None
    themes: tuple[ThemeEdit, ...] = ()
    strands: tuple[StrandEdit, ...] = ()
    papers: tuple[PaperEdit, ...] = ()
    exclude: tuple[Exclusion, ...] = ()
    include_only: tuple[Inclusion, ...] | None = None
    problems: tuple[Problem, ...] = field(default=(), compare=False)

    @property
    def is_empty(self) -> bool:
        """True when the file asks for nothing (or there is no file)."""
        return not (self.themes or self.strands or self.papers or self.exclude
                    or self.include_only is not None)

    def screening_fingerprint(self) -> str:
        """SHA-256 of what screening (the ingest stage) depends on: exclusions, include list."""
        return _fingerprint({
            "exclude": [(e.ref, e.reason) for e in self.exclude],
            "include_only": (None if self.include_only is None
                             else [i.ref for i in self.include_only]),
        })

    def map_fingerprint(self) -> str:
        """SHA-256 of what the map (the topics stage) depends on: themes, strands, papers."""
        return _fingerprint({
            "themes": [(t.theme_id, t.name, t.merge_into) for t in self.themes],
            "strands": [(s.strand_id, s.name) for s in self.strands],
            "papers": [(p.ref, p.theme, p.representative) for p in self.papers],
        })

    def to_json(self) -> dict[str, Any]:
        """A plain-data copy (for ``data/curation.json`` and the report's method section)."""
        data = asdict(self)
        data["problems"] = [str(p) for p in self.problems]
        return data


def _fingerprint(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def default_path(corpus_paths: Iterable[str | os.PathLike]) -> Path:
    """Where the curation file lives when ``curation_file`` is empty: next to the corpus.

    For a corpus folder ``data/corpus`` that is ``data/review.yaml`` (beside the folder,
    so the corpus reader never takes it for a record file); for corpus files, the folder of
    the first file.
    """
    paths = [Path(p) for p in corpus_paths]
    if not paths:
        return Path.cwd() / CURATION_FILE_NAME
    first = paths[0].expanduser().resolve()
    return first.parent / CURATION_FILE_NAME


def load_curation(path: str | os.PathLike | None, *, strict: bool = True) -> Curation:
    """Read and check the curation file at ``path``.

    Parameters
    ----------
    path
        The ``review.yaml`` to read. None or a missing file is an empty curation (a review
        need not be curated).
    strict
        When True (the default) any problem raises :class:`CurationError` listing every
        problem with its line, so the run stops before it writes anything. When False
        the valid entries are kept and the dropped ones are returned in
        ``Curation.problems`` for the caller to warn about. A file that is not YAML, or
        not a mapping, always raises: it has no valid entries to keep.

    Returns
    -------
    Curation
        The entries, in file order.
    """
    if path is None:
        return Curation()
    path = Path(path)
    if not path.exists():
        return Curation()
    shown = str(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        why = f"cannot be read ({err.strerror or err})"
        raise CurationError([Problem(shown, 0, why)]) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise CurationError([Problem(shown, line, "is not UTF-8 text")]) from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark is not None else 0
        why = " ".join(str(err.problem or err).split())
        raise CurationError([Problem(shown, line, f"is not valid YAML: {why}")]) from None
    except yaml.YAMLError as err:
        raise CurationError([Problem(shown, 0, f"is not valid YAML: {err}")]) from None
    if root is None:
        return Curation(path=shown)
    if not isinstance(root, yaml.MappingNode):
        why = "expected a mapping of sections (themes, papers, exclude, ...)"
        raise CurationError([Problem(shown, _line(root), why)])
    reader = _Reader(shown)
    curation = reader.read(root)
    if reader.problems and strict:
        raise CurationError(reader.problems)
    return curation


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


class _Reader:
    """Walks the composed YAML nodes, collecting entries and problems with their lines."""

    def __init__(self, path: str):
        self.path = path
        self.problems: list[Problem] = []

    def problem(self, node: yaml.Node, message: str) -> None:
        self.problems.append(Problem(self.path, _line(node), message))

    def scalar(self, node: yaml.Node, what: str) -> str | None:
        if not isinstance(node, yaml.ScalarNode) or not str(node.value).strip():
            self.problem(node, f"{what} must be a non-empty value")
            return None
        return str(node.value).strip()

    def mapping(self, node: yaml.Node, what: str) -> list[tuple[yaml.Node, yaml.Node]]:
        if isinstance(node, yaml.ScalarNode) and node.value in ("", "~", "null"):
            return []
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, f"{what} must be a mapping")
            return []
        return list(node.value)

    def sequence(self, node: yaml.Node, what: str) -> list[yaml.Node] | None:
        if isinstance(node, yaml.ScalarNode) and node.value in ("", "~", "null"):
            return None
        if not isinstance(node, yaml.SequenceNode):
            self.problem(node, f"{what} must be a list")
            return None
        return list(node.value)

    def keys(self, pairs: list[tuple[yaml.Node, yaml.Node]], allowed: tuple[str, ...],
             what: str) -> dict[str, yaml.Node]:
        out: dict[str, yaml.Node] = {}
        for key_node, value_node in pairs:
            key = str(getattr(key_node, "value", ""))
            if key not in allowed:
                self.problem(key_node, f"unknown key {key!r} in {what} "
                                       f"(allowed: {', '.join(allowed)})")
            elif key in out:
                self.problem(key_node, f"{key!r} is given twice in {what}")
            else:
                out[key] = value_node
        return out

    def read(self, root: yaml.MappingNode) -> Curation:
        sections = self.keys(list(root.value), SECTIONS, "the curation file")
        if "version" in sections:
            version = self.scalar(sections["version"], "version")
            if version is not None and version not in {str(v) for v in SUPPORTED_VERSIONS}:
                self.problem(sections["version"], f"version {version!r} is not supported "
                             f"(supported: {', '.join(map(str, SUPPORTED_VERSIONS))})")
        themes = self.themes(sections.get("themes"))
        strands = self.strands(sections.get("strands"))
        papers = self.papers(sections.get("papers"))
        exclude = self.exclusions(sections.get("exclude"))
        include = self.inclusions(sections.get("include_only"))
        self.cross_check(themes, exclude, include)
        return Curation(path=self.path, themes=tuple(themes), strands=tuple(strands),
                        papers=tuple(papers), exclude=tuple(exclude), include_only=include,
                        problems=tuple(self.problems))

    def stable_id(self, node: yaml.Node, pattern: re.Pattern[str], kind: str) -> str | None:
        value = self.scalar(node, f"a {kind} id")
        if value is None:
            return None
        if not pattern.fullmatch(value):
            example = "t-social-norms" if kind == "theme" else "s-social-norms-2"
            self.problem(node, f"{value!r} is not a {kind} id (like {example!r}; see "
                               f"the {kind}_id column of data/{kind}s.parquet)")
            return None
        return value

    def entries(self, node: yaml.Node | None, section: str, kind: str, parse_key: Any,
                allowed: tuple[str, ...], identity: Any = str,
                ) -> Iterator[tuple[str, yaml.Node, bool, dict[str, yaml.Node]]]:
        """Each valid, first-listed entry of a mapping section: key, its node, whether it
        gave any fields, and its allowed fields (problems recorded for the rest)."""
        seen: set[Any] = set()
        for key_node, value_node in self.mapping(node, section) if node is not None else []:
            key = parse_key(key_node)
            if key is None:
                continue
            if identity(key) in seen:
                self.problem(key_node, f"{kind} {key!r} is listed twice")
                continue
            seen.add(identity(key))
            pairs = self.mapping(value_node, f"{kind} {key}")
            yield key, key_node, bool(pairs), self.keys(pairs, allowed, f"{kind} {key}")

    def themes(self, node: yaml.Node | None) -> list[ThemeEdit]:
        edits: list[ThemeEdit] = []
        for theme_id, key_node, given, fields in self.entries(
                node, "themes", "theme", lambda n: self.stable_id(n, THEME_ID, "theme"),
                THEME_KEYS):
            name = self.scalar(fields["name"], "name") if "name" in fields else None
            target = (self.stable_id(fields["merge_into"], THEME_ID, "theme")
                      if "merge_into" in fields else None)
            if target == theme_id:
                self.problem(fields["merge_into"], f"theme {theme_id!r} cannot merge into itself")
                target = None
            if name is None and target is None:
                if not given:
                    self.problem(key_node, f"theme {theme_id!r} asks for nothing "
                                           "(give name: or merge_into:)")
                continue
            edits.append(ThemeEdit(theme_id, _line(key_node), name, target))
        return edits

    def strands(self, node: yaml.Node | None) -> list[StrandEdit]:
        edits: list[StrandEdit] = []
        for strand_id, key_node, given, fields in self.entries(
                node, "strands", "strand", lambda n: self.stable_id(n, STRAND_ID, "strand"),
                STRAND_KEYS):
            name = self.scalar(fields["name"], "name") if "name" in fields else None
            if name is None:
                if not given:
                    self.problem(key_node, f"strand {strand_id!r} asks for nothing (give name:)")
                continue
            edits.append(StrandEdit(strand_id, _line(key_node), name))
        return edits

    def paper_ref(self, node: yaml.Node) -> str | None:
        value = self.scalar(node, "a paper id")
        if value is None:
            return None
        if normalize_ref(value) is None:
            self.problem(node, f"{value!r} is not a DOI, arXiv id, PMID or paper_id")
            return None
        return value

    def papers(self, node: yaml.Node | None) -> list[PaperEdit]:
        edits: list[PaperEdit] = []
        for ref, key_node, given, fields in self.entries(
                node, "papers", "paper", self.paper_ref, PAPER_KEYS, identity=normalize_ref):
            theme = (self.stable_id(fields["theme"], THEME_ID, "theme")
                     if "theme" in fields else None)
            pinned = False
            if "representative" in fields:
                flag = self.scalar(fields["representative"], "representative")
                if flag is not None and flag.lower() not in ("true", "false", "yes", "no"):
                    self.problem(fields["representative"],
                                 f"representative must be true or false, not {flag!r}")
                pinned = flag is not None and flag.lower() in ("true", "yes")
            if theme is None and not pinned:
                if not given:
                    self.problem(key_node, f"paper {ref!r} asks for nothing "
                                           "(give theme: or representative: true)")
                continue
            edits.append(PaperEdit(ref, _line(key_node), theme, pinned))
        return edits

    def exclusions(self, node: yaml.Node | None) -> list[Exclusion]:
        items = self.sequence(node, "exclude") if node is not None else None
        out: list[Exclusion] = []
        seen: set[str] = set()
        for item in items or []:
            fields = self.keys(self.mapping(item, "an exclusion"), EXCLUDE_KEYS, "an exclusion")
            if "paper" not in fields or "reason" not in fields:
                self.problem(item, "an exclusion needs both paper: and reason:")
                continue
            ref = self.paper_ref(fields["paper"])
            reason = self.scalar(fields["reason"], "reason")
            if ref is None or reason is None:
                continue
            if normalize_ref(ref) in seen:
                self.problem(item, f"paper {ref!r} is excluded twice")
                continue
            seen.add(normalize_ref(ref))
            out.append(Exclusion(ref, _line(item), reason))
        return out

    def inclusions(self, node: yaml.Node | None) -> tuple[Inclusion, ...] | None:
        items = self.sequence(node, "include_only") if node is not None else None
        if items is None:
            return None
        out: list[Inclusion] = []
        for item in items:
            ref = self.paper_ref(item)
            if ref is not None:
                out.append(Inclusion(ref, _line(item)))
        return tuple(out)

    def cross_check(self, themes: list[ThemeEdit], exclude: list[Exclusion],
                    include: tuple[Inclusion, ...] | None) -> None:
        merged = {t.theme_id: t for t in themes if t.merge_into}
        for edit in merged.values():
            target, hops = edit.merge_into, 0
            while target in merged and hops <= len(merged):
                target, hops = merged[target].merge_into, hops + 1
            if hops > len(merged):
                self.problems.append(Problem(self.path, edit.line,
                                             f"theme {edit.theme_id!r} merges in a circle"))
        if include is not None:
            wanted = {normalize_ref(i.ref) for i in include}
            for e in exclude:
                if normalize_ref(e.ref) in wanted:
                    self.problems.append(Problem(
                        self.path, e.line,
                        f"paper {e.ref!r} is both excluded and in include_only"))


def normalize_ref(ref: Any) -> str | None:
    """One comparable key for a paper reference: ``doi:…``, ``arxiv:…``, ``pmid:…`` or ``id:…``.

    DOIs compare case-insensitively, arXiv ids without their version; anything else that
    is a single token is taken as a ``paper_id``. Returns None for a value that cannot
    name a paper (empty, or containing spaces).
    """
    text = str(ref).strip() if ref is not None else ""
    if not text or any(ch.isspace() for ch in text):
        return None
    if re.match(r"(?i)^(?:doi:|https?://(?:dx\.)?doi\.org/)?10\.\d", text):
        doi = sanitize.valid_doi(text, warn=False)
        if doi:
            return "doi:" + doi.lower()
    if re.match(r"(?i)^(?:arxiv:|https?://(?:www\.)?arxiv\.org/)|^\d{4}\.\d{4,5}(?:v\d+)?$", text):
        arxiv = sanitize.valid_arxiv_id(text, warn=False)
        if arxiv:
            return "arxiv:" + re.sub(r"v\d+$", "", arxiv).lower()
    if re.match(r"(?i)^(?:pmid:|https?://pubmed\.ncbi\.nlm\.nih\.gov/)|^[1-9]\d{0,8}$", text):
        pmid = sanitize.valid_pmid(text, warn=False)
        if pmid:
            return "pmid:" + pmid
    return "id:" + text


def paper_keys(paper: Mapping[str, Any]) -> list[str]:
    """Every normalized reference under which ``paper`` (a papers.parquet row) may be named."""
    keys = ["id:" + str(paper["paper_id"])]
    for column, prefix in (("doi", "doi:"), ("arxiv_id", "arxiv:"), ("pmid", "pmid:")):
        value = paper.get(column)
        if value is None or (isinstance(value, float) and value != value) or not str(value).strip():
            continue
        key = normalize_ref(str(value) if prefix != "doi:" else "doi:" + str(value))
        if key is not None and key.startswith(prefix):
            keys.append(key)
    return keys


def resolve_papers(
    refs: Iterable[tuple[str, int]], papers: Iterable[Mapping[str, Any]], path: str | None,
) -> tuple[dict[str, str], list[Problem]]:
    """Map each paper reference to its ``paper_id``.

    Parameters
    ----------
    refs
        ``(reference, line)`` pairs from the curation file.
    papers
        Rows of ``papers.parquet`` (or of the records before deduplication): mappings with
        ``paper_id`` and optionally ``doi``, ``arxiv_id``, ``pmid``.
    path
        The curation file, for the messages.

    Returns
    -------
    tuple
        ``{reference: paper_id}`` for the references that match, and one
        :class:`Problem` per reference that matches no paper.
    """
    index: dict[str, str] = {}
    for paper in papers:
        for key in paper_keys(paper):
            index.setdefault(key, str(paper["paper_id"]))
    found: dict[str, str] = {}
    problems: list[Problem] = []
    for ref, line in refs:
        key = normalize_ref(ref)
        if key is not None and key in index:
            found[ref] = index[key]
        else:
            problems.append(Problem(path or CURATION_FILE_NAME, line,
                                    f"paper {ref!r} matches no paper of the corpus"))
    return found, problems


def check_theme_ids(curation: Curation, known: Iterable[str]) -> list[Problem]:
    """One problem per theme id the curation names that is not among ``known`` ids."""
    known_ids = set(known)
    where = curation.path or CURATION_FILE_NAME
    problems: list[Problem] = []
    for edit in curation.themes:
        if edit.theme_id not in known_ids:
            problems.append(Problem(where, edit.line, f"theme {edit.theme_id!r} is not a theme "
                                                      "of this map (see data/topics.parquet)"))
        if edit.merge_into and edit.merge_into not in known_ids:
            problems.append(Problem(where, edit.line, f"theme {edit.merge_into!r} (merge_into) "
                                                      "is not a theme of this map"))
    for paper in curation.papers:
        if paper.theme and paper.theme not in known_ids:
            why = f"theme {paper.theme!r} (for paper {paper.ref!r}) is not a theme of this map"
            problems.append(Problem(where, paper.line, why))
    return problems


def check_strand_ids(curation: Curation, known: Iterable[str]) -> list[Problem]:
    """One problem per strand id the curation names that is not among ``known`` ids."""
    known_ids = set(known)
    where = curation.path or CURATION_FILE_NAME
    return [Problem(where, s.line, f"strand {s.strand_id!r} is not a strand of this map "
                                   "(see data/strands.parquet)")
            for s in curation.strands if s.strand_id not in known_ids]


def settle(problems: Iterable[Problem], *, strict: bool) -> list[Problem]:
    """Raise :class:`CurationError` for ``problems`` when strict; else return them to warn."""
    problems = list(problems)
    if problems and strict:
        raise CurationError(problems)
    return problems


TEMPLATE = """\
# litreview curation file: your decisions about the map, kept across re-runs.
# Every section is optional. Papers are named by DOI, arXiv id, PMID or paper_id;
# themes and strands by their ids (theme_id in outputs/data/topics.parquet, strand_id in
# outputs/data/strands.parquet), which stay the same when the corpus grows.
# An entry that matches nothing stops the run with its line number
# (or is skipped with a warning when the run is given -p curation_strict false).
version: 1

# themes:
#   t-social-norms:
#     name: Social norms and culture      # rename the theme
#   t-value-alignment:
#     merge_into: t-social-norms          # merge it into another theme

# strands:
#   s-social-norms-2:
#     name: Cultural benchmarks           # rename a research strand

# papers:
#   "2401.01234":
#     theme: t-social-norms               # move the paper to this theme
#   "10.1145/3544548.3581318":
#     representative: true                # always show it among its theme's papers

# exclude:                                # screening: gone from every count, table, figure
#   - paper: "2402.00001"
#     reason: off-topic (cosmology)

# include_only:                           # keep only these papers (leave out to keep all)
#   - "2401.01234"
"""


def template(themes: Iterable[tuple[str, str]] = ()) -> str:
    """The commented example file ``litreview init`` writes; lists current ``(theme_id, name)``."""
    text = TEMPLATE
    listed = list(themes)
    if listed:
        text += "\n# The themes of the last run:\n"
        text += "".join(f"#   {theme_id}: {name}\n" for theme_id, name in listed)
    return text
