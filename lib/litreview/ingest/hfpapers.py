"""Parse Hugging Face "trending papers" listing dumps: title line, abstract line, noise."""

from __future__ import annotations

import re

from litreview.ingest.records import RawRecord, excerpt_of, message

FORMAT = "hfpapers"
_NOISE_LINES = {
    "get trending papers in your email inbox once a day!",
    "get trending papers in your email inbox!",
    "subscribe",
    "daily papers",
    "byak and the research community",
    "new",
    "trending papers",
}
# Page chrome that the copy glues to the next title ("SubscribeNormBank: ...").
_GLUED_PREFIXES = (
    "Get trending papers in your email inbox once a day!",
    "Get trending papers in your email inbox!",
    "Subscribe",
)
_DATE = re.compile(
    r"^(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d{1,2}(?:,?\s+\d{4})?$",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[.!?](?:\s|$)")


def is_noise(line: str) -> bool:
    """Tell whether a line is page chrome (header, subscribe button, date) rather than content."""
    return line.casefold() in _NOISE_LINES or bool(_DATE.match(line))


def strip_glued_prefix(line: str) -> str:
    """Remove page chrome glued in front of a title, e.g. ``SubscribeNormBank: ...``."""
    changed = True
    while changed:
        changed = False
        for prefix in _GLUED_PREFIXES:
            rest = line[len(prefix) :]
            # "Subscriber ..." is a word, not the button: the rest must not go on in lower case.
            if line.startswith(prefix) and rest and not rest[0].islower():
                line = rest.lstrip()
                changed = True
    return line


def looks_like_abstract(line: str) -> bool:
    """Tell an abstract (long, several sentences) from a title (short, no final period).

    This looks at one line alone; ``parse`` also uses the lines around it (see there).
    """
    if len(line) >= _CERTAIN_ABSTRACT_CHARS:
        return True
    words = len(line.split())
    sentences = len(_SENTENCE_END.findall(line))
    return (words >= 25 and sentences >= 1) or (words >= 12 and sentences >= 2)


#: A line this long is an abstract whatever its neighbours; no title is this long.
_CERTAIN_ABSTRACT_CHARS = 250


def _is_title_by_shape(line: str, following: str | None, after_title: bool) -> bool:
    """Tell whether an abstract-like line is a title, from the shape of its block.

    A listing is title, abstract, title, abstract ...: a short line (under 250 characters)
    that does not end like prose (abstracts end with a period; titles with a word, "?", "!"
    or ")") is a title, and one that ends with a period is a title when it does not follow
    a title and a longer abstract follows it. So a title of two sentences ("Is X all you
    need? A study of Y") stays a title whatever its sentence count; only a short line that
    ends with a period and is not followed by a longer abstract remains the abstract of the
    title before it, or a further paragraph of the abstract before it.
    """
    if len(line) >= _CERTAIN_ABSTRACT_CHARS:
        return False
    if not line.rstrip().endswith("."):
        return True
    before_abstract = (
        following is not None
        and looks_like_abstract(following)
        and len(following.split()) > len(line.split())
    )
    return before_abstract and not after_title


def parse(text: str, source: str) -> tuple[list[RawRecord], list[str]]:
    """Return the records of a listing and warnings; a title alone has abstract None.

    Whether a line is a title or an abstract is read from its own shape and from the line
    after it (``_is_title_by_shape``), not from its sentence count alone.
    """
    records: list[RawRecord] = []
    messages: list[str] = []
    pending: RawRecord | None = None
    last_with_abstract: RawRecord | None = None
    content = []
    for number, raw_line in enumerate(text.split("\n"), start=1):
        line = strip_glued_prefix(raw_line.strip())
        if line and not is_noise(line):
            content.append((number, line))
    for index, (number, line) in enumerate(content):
        following = content[index + 1][1] if index + 1 < len(content) else None
        if looks_like_abstract(line) and not _is_title_by_shape(
            line, following, pending is not None
        ):
            if pending is not None:
                pending.abstract = line
                records.append(pending)
                last_with_abstract, pending = pending, None
            elif last_with_abstract is not None and last_with_abstract.abstract is not None:
                last_with_abstract.abstract += "\n\n" + line
                messages.append(
                    message(
                        source,
                        number,
                        "second abstract paragraph joined to the record "
                        f"at line {last_with_abstract.line}",
                    )
                )
            else:
                records.append(
                    RawRecord(
                        source,
                        number,
                        FORMAT,
                        abstract=line,
                        reject_reason="abstract without a title",
                        excerpt=excerpt_of(line),
                    )
                )
            continue
        if pending is not None:
            records.append(pending)
        pending = RawRecord(source, number, FORMAT, title=line, excerpt=excerpt_of(line))
        last_with_abstract = None
    if pending is not None:
        records.append(pending)
    return records, messages
