"""CSV cells that a spreadsheet will not run: a cell starting with = + - @, a tab or a carriage
return is a formula to Excel and LibreOffice, so it gets a leading apostrophe."""

from __future__ import annotations

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text
