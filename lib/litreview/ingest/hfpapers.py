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
    """Tell an abstract (long, several sentences) from a title (short, no final period)."""
    if len(line) >= 250:
        return True
    words = len(line.split())
    sentences = len(_SENTENCE_END.findall(line))
    return (words >= 25 and sentences >= 1) or (words >= 12 and sentences >= 2)


def parse(text: str, source: str) -> tuple[list[RawRecord], list[str]]:
    """Return the records of a listing and warnings; a title alone has abstract None."""
    records: list[RawRecord] = []
    messages: list[str] = []
    pending: RawRecord | None = None
    last_with_abstract: RawRecord | None = None
    for number, raw_line in enumerate(text.split("\n"), start=1):
        line = strip_glued_prefix(raw_line.strip())
        if not line or is_noise(line):
            continue
        if looks_like_abstract(line):
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
