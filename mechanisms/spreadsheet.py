"""CSV cells that a spreadsheet will not run: a cell starting with = + - @, a tab or a carriage
return is a formula to Excel and LibreOffice, so it gets a leading apostrophe.

Writers quote every cell too (csv.QUOTE_ALL), but a spreadsheet whose list separator is ";"
(Italian, German or French Excel) may still split a line at a ";" inside a later quoted cell,
and run what follows it: that gets an apostrophe as well.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_AFTER_SEMICOLON = re.compile(r";(?=\s*[=+\-@\t\r])")


def csv_cell(value: object) -> str:
    text = "" if value is None else str(value)
    text = _FORMULA_AFTER_SEMICOLON.sub(";'", text)
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


class _Line:
    """A file-like object for csv.writer that hands back each line instead of keeping it."""

    def write(self, value: str) -> str:
        return value


def csv_lines(*, header: Iterable[object], rows: Iterable[Iterable[object]]) -> Iterator[str]:
    """The lines of a CSV file for a streamed download: a byte-order mark (so spreadsheets open
    accented and non-Latin names as UTF-8), the header, then each row, every cell through
    `csv_cell` and quoted. Quoted as well as guarded: a spreadsheet whose list separator is ";"
    (Italian Excel) splits an unquoted "a;=cmd()" and runs the second half."""
    writer = csv.writer(_Line(), quoting=csv.QUOTE_ALL)
    yield "\ufeff" + writer.writerow([csv_cell(cell) for cell in header])
    for row in rows:
        yield writer.writerow([csv_cell(cell) for cell in row])
