"""CSV exports a spreadsheet cannot run: formula starts neutralised, the rest of every cell kept."""

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medic.shared.csv_safe import FORMULA_STARTS, Cell, csv_bytes, csv_text, neutralise, safe_cell

cells = st.one_of(
    st.none(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(),
    # Text that starts like a formula, so every start is tried often.
    st.builds(lambda start, rest: start + rest, st.sampled_from(FORMULA_STARTS), st.text()),
)
rows = st.lists(st.lists(cells, min_size=1, max_size=5), max_size=5)


def parsed(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


@given(rows)
def test_no_cell_of_the_output_starts_like_a_formula(table: list[list[Cell]]) -> None:
    header = ["=SUM(A1:A2)", "name"]
    for row in parsed(csv_text(header, table)):
        for cell in row:
            assert not cell.startswith(FORMULA_STARTS), cell


@given(rows)
def test_a_reader_gets_every_cell_back_with_at_most_a_quote_in_front(table: list[list[Cell]]) -> None:
    back = parsed(csv_text(["a"], table))
    assert back[0] == ["a"] and len(back) == len(table) + 1
    for row, row_back in zip(table, back[1:], strict=True):
        for value, cell in zip(row, row_back, strict=True):
            text = "" if value is None else str(value)
            assert cell == (f"'{text}" if text.startswith(FORMULA_STARTS) else text)


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://evil.example","x")', '\'=HYPERLINK("http://evil.example","x")'),
        ("+44 20 7946 0000", "'+44 20 7946 0000"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(1+1)", "'@SUM(1+1)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("Riverside Food Bank", "Riverside Food Bank"),
        ("a=b", "a=b"),  # only the start matters
        ("'=1", "'=1"),  # already text to a spreadsheet
        ("", ""),
    ],
)
def test_neutralise(value: str, written: str) -> None:
    assert neutralise(value) == written


def test_cells_none_and_numbers() -> None:
    assert (safe_cell(None), safe_cell(3), safe_cell(3.5), safe_cell(-1)) == ("", "3", "3.5", "'-1")


def test_every_cell_is_quoted_so_a_separator_never_starts_a_cell() -> None:
    # Quoted, `;=1+1` stays inside its cell even for a spreadsheet that splits on semicolons.
    assert csv_text(["title"], [["a;=1+1"], [7]]) == '"title"\r\n"a;=1+1"\r\n"7"\r\n'


def test_the_file_is_utf8_with_a_byte_order_mark() -> None:
    data = csv_bytes(["name"], [["Café"]])
    assert data.startswith(b"\xef\xbb\xbf") and data.decode("utf-8-sig") == '"name"\r\n"Café"\r\n'
