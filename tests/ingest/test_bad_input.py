"""Bad input is parsed or becomes a rejected record with file, line and reason; never a crash."""

from __future__ import annotations

import pytest

from litreview.ingest import IngestError, ingest_paths

from .conftest import abstract_text

GOOD = f"Good Paper Title\n{abstract_text()}\n"


def _only_reject(result, name):
    rows = result.records[result.records.source_file == name]
    assert len(rows) == 1
    row = rows.iloc[0]
    assert row["status"] == "rejected"
    assert pd_isna(row["paper_id"])
    assert f"{name}:{row['line']}: {row['reason']}" in result.messages
    return row


def pd_isna(value) -> bool:
    return value is None or value != value


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.txt", b"", "empty file"),
        ("blank.txt", b"  \n\t\n\r\n", "file has only whitespace"),
        ("binary.bin", bytes(range(256)) * 4, "binary file (contains NUL bytes)"),
        ("bad.txt.gz", b"not gzip at all", "not a valid gzip file"),
    ],
)
def test_unusable_files_are_accounted_for(write, name, content, reason):
    bad = write(name, content)
    good = write("good.txt", GOOD)
    result = ingest_paths([bad, good])
    row = _only_reject(result, name)
    assert row["reason"].startswith(reason)
    assert row["line"] == 0
    assert len(result.papers) == 1


def test_non_utf8_falls_back_to_cp1252_with_warning(write):
    path = write("latin.txt", f"Caf\u00e9 Society Study\n{abstract_text()}\n".encode("cp1252"))
    result = ingest_paths([path])
    assert result.papers.title[0] == "Café Society Study"
    assert any(m.startswith("latin.txt:0: not valid UTF-8") for m in result.messages)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_bom_encodings_decode(write, encoding):
    path = write("bom.txt", GOOD.encode(encoding))
    result = ingest_paths([path])
    assert result.papers.title[0] == "Good Paper Title"
    assert result.messages == []


def test_crlf_and_cr_line_endings(write):
    text = GOOD.replace("\n", "\r\n") + f"Second Title\r{abstract_text('x')}\r"
    result = ingest_paths([write("crlf.txt", text)])
    assert list(result.papers.title) == ["Good Paper Title", "Second Title"]
    assert list(result.records.line) == [1, 3]


def test_title_without_abstract_is_rejected_unless_kept(write):
    text = f"Lonely Title\nSecond Title\n{abstract_text()}\nLast Title At End\n"
    path = write("t.txt", text)
    result = ingest_paths([path])
    assert list(result.records.status) == ["rejected", "kept", "rejected"]
    assert list(result.records.reason.fillna("")) == ["no abstract", "", "no abstract"]
    assert "t.txt:1: no abstract" in result.messages
    kept = ingest_paths([path], keep_title_only=True)
    assert list(kept.papers.title) == ["Lonely Title", "Second Title", "Last Title At End"]
    assert kept.papers.abstract.isna().sum() == 2


def test_absurdly_long_line_is_rejected_not_truncated(write):
    text = GOOD + "Huge Record\n" + ("word " * 30_000) + "\n"
    result = ingest_paths([write("long.txt", text)])
    row = result.records.iloc[1]
    assert (row["status"], row["line"]) == ("rejected", 3)
    assert row["reason"] == "abstract longer than 100000 characters"
    assert len(result.papers) == 1


def test_markup_in_titles_is_kept_as_text(write):
    text = f"<script>alert(1)</script> X\n{abstract_text()}\n"
    result = ingest_paths([write("m.txt", text)])
    assert result.papers.title[0] == "<script>alert(1)</script> X"


def test_truncated_bibtex_entry_is_rejected_with_its_line(write):
    text = (
        f"@article{{ok1,\n title={{First}},\n abstract={{{abstract_text()}}}\n}}\n"
        "@article{cut,\n title={Cut off\n"
        f"@article{{ok2,\n title={{Second}},\n abstract={{{abstract_text('y')}}}\n}}\n"
    )
    result = ingest_paths([write("t.bib", text)])
    assert list(result.records.status) == ["kept", "rejected", "kept"]
    bad = result.records.iloc[1]
    assert (bad["line"], bad["reason"]) == (5, "truncated or malformed BibTeX entry")
    assert "t.bib:5: truncated or malformed BibTeX entry" in result.messages


def test_bibtex_duplicate_keys_and_fields_are_recovered(write):
    text = (
        f"@article{{a,\n title={{One}},\n abstract={{{abstract_text()}}},\n"
        " note={a},\n note={b}\n}\n"
        f"@article{{k,\n title={{Two}},\n abstract={{{abstract_text('z')}}}\n}}\n"
        f"@article{{k,\n title={{Three}},\n abstract={{{abstract_text('w')}}}\n}}\n"
    )
    result = ingest_paths([write("d.bib", text)])
    assert list(result.papers.title) == ["One", "Two", "Three"]
    assert any("key 'k' used twice" in m for m in result.messages)


def test_unterminated_ris_record_is_closed_with_warning(write):
    text = (
        f"TY  - JOUR\nTI  - Closed\nAB  - {abstract_text()}\nER  - \n\n"
        f"TY  - JOUR\nTI  - Open\nAB  - {abstract_text('q')}\n"
    )
    result = ingest_paths([write("x.ris", text)])
    assert list(result.papers.title) == ["Closed", "Open"]
    assert "x.ris:6: RIS record not closed by an ER line" in result.messages


def test_csv_without_title_column_is_rejected(write):
    bad = write("n.csv", "Name,Summary\nx,y\n")
    result = ingest_paths([bad, write("good.txt", GOOD)])
    row = _only_reject(result, "n.csv")
    assert row["reason"].startswith("no title column")
    assert row["line"] == 1


def test_invalid_json_line_is_rejected(write):
    text = f'{{"title": "Fine", "abstract": "{abstract_text()}"}}\n{{"title": broken\n'
    result = ingest_paths([write("j.jsonl", text)])
    assert list(result.records.status) == ["kept", "rejected"]
    assert result.records.reason.iloc[1].startswith("invalid JSON")


def test_nothing_usable_raises_ingest_error_naming_files(write):
    empty = write("empty.txt", "")
    titles = write("titles.txt", "Only A Title\nAnother Title\n")
    with pytest.raises(IngestError) as info:
        ingest_paths([empty, titles])
    text = str(info.value)
    assert "empty.txt" in text and "empty file" in text
    assert "titles.txt" in text and "2 × no abstract" in text
    assert "--keep-title-only" in text


def test_missing_path_and_bad_format_raise_ingest_error(tmp_path):
    with pytest.raises(IngestError, match="no such file"):
        ingest_paths([tmp_path / "nope.txt"])
    with pytest.raises(IngestError, match="unknown input format"):
        ingest_paths([tmp_path], input_format="pdf")
    with pytest.raises(IngestError, match="no input files"):
        ingest_paths([tmp_path])
