"""Stage 03: turn the topic map into a sourced thematic review.

Everything here is computed from the files stages 01 and 02 wrote under
``DIR/data`` and from ``DIR/manifest.json``: nothing is refitted or re-embedded.
Every sentence the review quotes is lifted verbatim (after whitespace
normalisation) from the abstract of the paper it cites.

The package, by concern (each public name is re-exported here):

- :mod:`~litreview.review.model`: the dataclasses (:class:`Review`, :class:`ThemeSection`,
  :class:`Strand`, :class:`Sentence`, …); the only module :mod:`litreview.report` imports.
- :mod:`~litreview.review.sentences`: splitting, acronyms, whether a sentence stands alone.
- :mod:`~litreview.review.roles`: rhetorical roles and contribution sentences.
- :mod:`~litreview.review.citations`: citation keys and the reference list.
- :mod:`~litreview.review.resources`: datasets, benchmarks and tools papers introduce.
- :mod:`~litreview.review.kinds`: what kind of contribution a paper makes (survey, resource,
  method, study), read from its whole title and abstract.
- :mod:`~litreview.review.strategic`: the strategic diagram and key-term weights.
- :mod:`~litreview.review.inputs`: loading what stages 01 and 02 wrote.
- :mod:`~litreview.review.quoter`, :mod:`~litreview.review.strands`,
  :mod:`~litreview.review.compose`: key sentences, strands, and the whole composition.
- :mod:`~litreview.review.stage`: :func:`run_review` / :func:`write_review` (figures,
  report files, manifest); the one module that imports :mod:`litreview.report`.
- :mod:`~litreview.review.summaries`: the tables the 03 notebook shows.
"""

from __future__ import annotations

from litreview.review.citations import assign_citation_keys, citation_key, safe_url
from litreview.review.compose import build_review
from litreview.review.inputs import INPUT_TABLES, METRICS_FILE, STRANDS_TABLE, input_paths
from litreview.review.kinds import contribution_kind, contribution_kinds, is_survey
from litreview.review.model import (
    CONTRIBUTION_KINDS,
    PDF_SCALE_MIN_PAPERS,
    PDF_SCALE_PAPER_LIMIT,
    PDF_SCALE_STRAND_LIMIT,
    PDF_STRAND_LIMIT,
    QUADRANTS,
    Contribution,
    CrossTheme,
    Methods,
    Overview,
    Reference,
    RelatedTheme,
    RepresentativePaper,
    Resource,
    Review,
    Sentence,
    Strand,
    ThemeSection,
    format_percent,
    theme_anchor,
)
from litreview.review.quoter import (
    BACKGROUND_PENALTY,
    CANDIDATE_PAPERS_PER_THEME,
    MAX_RESOURCES_PER_THEME,
    REDUNDANCY_THRESHOLD,
    RESOURCE_SCAN_PER_THEME,
)
from litreview.review.resources import RESOURCE_KINDS, find_resources, introduced_resources
from litreview.review.roles import (
    ROLES,
    RoledSentence,
    contribution_sentence,
    roled_sentences,
    sentence_role,
)
from litreview.review.sentences import (
    MAX_SENTENCE_WORDS,
    MIN_SENTENCE_WORDS,
    field_acronyms,
    is_self_contained,
    normalise_whitespace,
    quotable,
    split_sentences,
)
from litreview.review.stage import run_review, write_review
from litreview.review.strands import (
    MAX_STRANDS,
    N_OPEN_SENTENCES,
    N_PROBLEM_SENTENCES,
    STRAND_CANDIDATES,
)
from litreview.review.strategic import (
    STRATEGIC_MAX_PAPERS,
    assign_quadrants,
    compute_strategic_diagram,
    compute_term_weights,
    quadrant_sentences,
)
from litreview.review.summaries import (
    compute_coverage,
    compute_outline,
    outputs_table,
    section_markdown,
)

__all__ = [
    "BACKGROUND_PENALTY",
    "CANDIDATE_PAPERS_PER_THEME",
    "CONTRIBUTION_KINDS",
    "INPUT_TABLES",
    "MAX_RESOURCES_PER_THEME",
    "MAX_SENTENCE_WORDS",
    "MAX_STRANDS",
    "METRICS_FILE",
    "MIN_SENTENCE_WORDS",
    "N_OPEN_SENTENCES",
    "N_PROBLEM_SENTENCES",
    "PDF_SCALE_MIN_PAPERS",
    "PDF_SCALE_PAPER_LIMIT",
    "PDF_SCALE_STRAND_LIMIT",
    "PDF_STRAND_LIMIT",
    "QUADRANTS",
    "REDUNDANCY_THRESHOLD",
    "RESOURCE_KINDS",
    "RESOURCE_SCAN_PER_THEME",
    "ROLES",
    "STRANDS_TABLE",
    "STRAND_CANDIDATES",
    "STRATEGIC_MAX_PAPERS",
    "Contribution",
    "CrossTheme",
    "Methods",
    "Overview",
    "Reference",
    "RelatedTheme",
    "RepresentativePaper",
    "Resource",
    "Review",
    "RoledSentence",
    "Sentence",
    "Strand",
    "ThemeSection",
    "assign_citation_keys",
    "assign_quadrants",
    "build_review",
    "citation_key",
    "compute_coverage",
    "compute_outline",
    "compute_strategic_diagram",
    "compute_term_weights",
    "contribution_kind",
    "contribution_kinds",
    "contribution_sentence",
    "field_acronyms",
    "find_resources",
    "format_percent",
    "input_paths",
    "introduced_resources",
    "is_self_contained",
    "is_survey",
    "normalise_whitespace",
    "outputs_table",
    "quadrant_sentences",
    "quotable",
    "roled_sentences",
    "run_review",
    "safe_url",
    "section_markdown",
    "sentence_role",
    "split_sentences",
    "theme_anchor",
    "write_review",
]
