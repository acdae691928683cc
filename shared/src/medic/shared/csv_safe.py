"""CSV that is safe to open in a spreadsheet.

Excel, LibreOffice Calc and Google Sheets read a cell that starts with `=`, `+`, `-` or `@` (or a tab, a carriage
return or a line feed, which they skip before looking) as a formula, so text a user typed could run as one when a
coordinator opens an export. As OWASP advises, such a cell gets a single quote in front, which spreadsheets take
as "this is text", and every cell is quoted, so a separator inside a cell never starts a new one (even where the
spreadsheet splits on `;`). Numbers are written as text too: a negative number thus reads as text, which none of
our exports has.

Files are UTF-8 with a byte-order mark (Excel otherwise guesses a legacy encoding and garbles accents) and
RFC 4180 line ends (CRLF).
"""

import csv
import io
from collections.abc import Iterable, Sequence

# What a spreadsheet may take as the start of a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
MEDIA_TYPE = "text/csv; charset=utf-8"

Cell = str | int | float | None


def neutralise(text: str) -> str:
    """The text as a spreadsheet will show it, never run it."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def safe_cell(value: Cell) -> str:
    """A cell's text: None is empty, anything that could start a formula is neutralised."""
    return "" if value is None else neutralise(str(value))


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> str:
    """The CSV document, header first, every cell quoted and neutralised."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow([safe_cell(name) for name in header])
    writer.writerows([safe_cell(value) for value in row] for row in rows)
    return out.getvalue()


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    """`csv_text` as a file's bytes: UTF-8 with a byte-order mark."""
    return csv_text(header, rows).encode("utf-8-sig")
