"""CSV cells that a spreadsheet will not run: a cell starting with = + - @, a tab or a carriage
return is a formula to Excel and LibreOffice, so it gets a leading apostrophe.

Writers quote every cell too (csv.QUOTE_ALL), but a spreadsheet whose list separator is ";"
(Italian, German or French Excel) may still split a line at a ";" inside a later quoted cell,
and run what follows it: that gets an apostrophe as well.
"""

from __future__ import annotations

import re

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_AFTER_SEMICOLON = re.compile(r";(?=\s*[=+\-@\t\r])")


def csv_cell(value: object) -> str:
    text = "" if value is None else str(value)
    text = _FORMULA_AFTER_SEMICOLON.sub(";'", text)
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text
