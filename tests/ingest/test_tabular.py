"""CSV/TSV row accounting: every data row is one record, bad quotes and cell counts named."""

from __future__ import annotations

import csv
import io

from hypothesis import given, settings
from hypothesis import strategies as st

from litreview.ingest import ingest_paths, tabular

from .conftest import abstract_text

HEADER = "Title,Abstract,Year\n"


def _row(i: int) -> str:
    # Quoted abstracts with commas, as real exports write them.
    return f'Paper number {i},"{abstract_text(f"topic {i}")} Also, commas.",{2000 + i}\n'


def _accounting(result, name, data_rows):
    rows = result.records[result.records.source_file == name]
    assert len(rows) == data_rows
    counts = rows.status.value_counts()
    assert sum(counts.get(s, 0) for s in ("kept", "duplicate", "rejected")) == data_rows
    return rows


def test_quote_that_never_closes_costs_one_row_not_the_file(write):
    # Row 3 opens a quote in its title and never closes it; its title has a comma, so it
    # cannot be read back unambiguously and is rejected; the other nine rows are kept.
    lines = [_row(i) for i in range(1, 11)]
    lines[2] = f'"Paper number 3, broken,{abstract_text("three")},2003\n'
    path = write("open.csv", HEADER + "".join(lines))
    result = ingest_paths([path])
    rows = _accounting(result, "open.csv", 10)
    assert list(rows.line) == list(range(2, 12))
    assert (rows.status == "kept").sum() == 9
    bad = rows[rows.status == "rejected"].iloc[0]
    assert bad["line"] == 4
    assert bad["reason"].startswith("unbalanced quote")
    assert "open.csv:4: unbalanced quote" in "\n".join(result.messages)
    expected = sorted(f"Paper number {i}" for i in range(1, 11) if i != 3)
    assert sorted(result.papers.title) == expected


def test_unclosed_quote_on_a_line_that_reads_unambiguously_is_repaired(write):
    lines = [_row(i) for i in range(1, 11)]
    lines[4] = f'"Paper number 5,{abstract_text("five")},2005\n'
    result = ingest_paths([write("repair.csv", HEADER + "".join(lines))])
    rows = _accounting(result, "repair.csv", 10)
    assert (rows.status == "kept").all()
    paper = result.papers[result.papers.title == "Paper number 5"].iloc[0]
    assert paper["abstract"] == abstract_text("five")
    assert paper["year"] == 2005
    assert any(
        m.startswith("repair.csv:6: unbalanced quote") and "quotes as plain text" in m
        for m in result.messages
    )


def test_stray_closing_quote_and_shifted_columns_are_rejected_not_kept(write):
    text = (
        HEADER
        + _row(1)
        # Inner quotes not doubled: the cell closes early and the rest shifts one column.
        + f'Stray quote paper,"{abstract_text()} We call it "fast", and it is.",2021\n'
        # An unquoted comma in the title shifts every later column.
        + f"Shifted, title paper,{abstract_text('shift')},2022\n"
        # Too few cells.
        + "Short row paper,only two cells\n"
        + _row(5)
    )
    result = ingest_paths([write("stray.csv", text)])
    rows = _accounting(result, "stray.csv", 5)
    assert list(rows.status) == ["kept", "rejected", "rejected", "rejected", "kept"]
    reasons = list(rows.reason[rows.status == "rejected"])
    assert reasons[0].startswith("stray quote")
    assert reasons[1] == "row has 4 cells, the header has 3"
    assert reasons[2] == "row has 2 cells, the header has 3"
    assert list(rows.line) == [2, 3, 4, 5, 6]
    for line, reason in zip(rows.line[1:4], reasons, strict=True):
        assert f"stray.csv:{line}: {reason}" in result.messages


def test_multi_line_cells_trailing_delimiters_and_blank_lines_still_read(write):
    text = (
        "Title,Abstract,Year,\n"
        '"Multi, line","First paragraph.\n\n'
        f'Second ""quoted"" paragraph. {abstract_text()}",2020,\n'
        "\n"
        f"Plain row,{abstract_text('plain')},2021\n"
    )
    result = ingest_paths([write("ok.csv", text)])
    rows = _accounting(result, "ok.csv", 2)
    assert list(rows.status) == ["kept", "kept"]
    assert list(rows.line) == [2, 6]
    assert result.papers.title.tolist() == ["Multi, line", "Plain row"]
    assert 'Second "quoted" paragraph.' in result.papers.abstract[0]
    assert result.messages == []


def test_tab_delimited_row_with_stray_quote_is_repaired(write):
    header = "TI\tAB\tPY\n"
    text = header + f'"Quoted" start of a title\t{abstract_text()}\t2020\n'
    result = ingest_paths([write("w.txt", text)])
    assert result.papers.title.tolist() == ['"Quoted" start of a title']
    assert any(m.startswith("w.txt:2: stray quote") for m in result.messages)


def test_scopus_repeated_funding_text_cells_are_realigned(write):
    header = "Authors,Title,Year,Funding Text 1,Abstract,EID\n"
    one = f'A B.,First,2020,Funded,"{abstract_text()}",2-s2.0-1\n'
    two = f'C D.,Second,2021,Grant one,Grant two,"{abstract_text("x")}",2-s2.0-2\n'
    result = ingest_paths([write("scopus.csv", header + one + two)])
    assert (result.records.status == "kept").all()
    assert result.papers.source_ids.tolist() == [["2-s2.0-1"], ["2-s2.0-2"]]
    assert result.papers.abstract.tolist() == [abstract_text(), abstract_text("x")]
    assert result.messages[0].startswith("scopus.csv:3: 1 row(s) have more cells than the header")


# ---- properties --------------------------------------------------------------------------


def _cell_text(text: str) -> str:
    # csv.writer quotes a cell starting with a delimiter, and a quote flipped open before it
    # would then close cleanly one row later: such cells are left to the example tests.
    # Blank rows are skipped on purpose, so every generated row has some text.
    text = text.lstrip(",\t")
    return text if text.strip() else "x"


CELL = st.text(st.sampled_from(list("abc XYZ,\"'-.;\t")), min_size=1, max_size=30).map(_cell_text)


@st.composite
def tables(draw, multiline: bool = False):
    cell = CELL if not multiline else st.one_of(CELL, CELL.map(lambda s: s + "\n" + s))
    n_rows = draw(st.integers(1, 12))
    rows = [[draw(cell) for _ in range(3)] for _ in range(n_rows)]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["Title", "Abstract", "Year"])
    writer.writerows(rows)
    return rows, buffer.getvalue()


@settings(max_examples=150, deadline=None)
@given(tables(multiline=True))
def test_well_formed_tables_round_trip(table):
    rows, text = table
    records, messages = tabular.parse(text, "t.csv")
    assert messages == []
    assert [(r.title, r.abstract, r.year) for r in records] == [
        tuple(c.strip() or None for c in row) for row in rows
    ]


@settings(max_examples=200, deadline=None)
@given(tables(), st.data())
def test_one_stray_quote_costs_at_most_its_own_row(table, data):
    rows, text = table
    lines = text.split("\n")
    target = data.draw(st.integers(1, len(rows)), label="row")
    column = data.draw(st.integers(0, len(lines[target])), label="column")
    lines[target] = lines[target][:column] + '"' + lines[target][column:]
    records, _ = tabular.parse("\n".join(lines), "t.csv")
    # Every data row is one record, on its own line, and every other row is read intact.
    assert [r.line for r in records] == list(range(2, len(rows) + 2))
    for number, (record, row) in enumerate(zip(records, rows, strict=True), start=1):
        if number != target:
            assert record.reject_reason is None
            assert (record.title, record.abstract, record.year) == tuple(
                c.strip() or None for c in row
            )


def test_balanced_quotes_with_a_missing_cell_are_not_split_literally(write):
    # Read literally, '"a, b",abstract' would give three cells and fit the header by accident.
    text = HEADER + f'"Quoted, title",{abstract_text()}\nOne,{abstract_text("one")},2020\n'
    result = ingest_paths([write("m.csv", text)])
    rows = _accounting(result, "m.csv", 2)
    assert list(rows.status) == ["rejected", "kept"]
    assert rows.reason.iloc[0] == "row has 2 cells, the header has 3"
    one = ingest_paths([write("one.csv", "Title,Abstract\nlonely\n" + f"B,{abstract_text()}\n")])
    assert one.records.reason.iloc[0] == "row has 1 cell, the header has 2"


def test_a_stray_quote_whose_quotes_balance_lines_later_costs_only_its_own_row():
    # found by the property above: the stray quote opens a cell that the next row's
    # quotes close by accident, so the two lines read as one row of the wrong width
    text = 'Title,Abstract,Year\n";,;,;\n;,;,""",;"\n'
    records, messages = tabular.parse(text, "t.csv")
    assert [r.line for r in records] == [2, 3]
    assert records[1].reject_reason is None
    assert any("t.csv:2" in m for m in messages)
