"""Importing rows from a CSV file into the database, all or nothing: the engine under the
import_postal_codes and import_targets commands (petitions.importers), which supply what a
row means and how it is saved.

Every row is checked before anything is written, and the writes happen in one transaction: an
import either refuses the file, listing each bad row by its line number, or (asked to skip bad
rows) imports exactly the good ones. Nothing is ever half-imported.

Files are UTF-8 CSV with a header row; a byte-order mark (as Excel writes) is fine, as are extra
columns (ignored, with a warning) and blank lines. Line numbers are the file's own, the header
being line 1, so they match what an editor shows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from django.db import models, transaction
from django.utils.translation import gettext as _
from django_countries import countries

from mechanisms.audit import audit_changes_record_many, audit_read_many
from mechanisms.model_fields import model_field

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

BATCH_SIZE = 500

# Called as rows are checked ("checked") and written ("saved"), with how many so far of how many.
Progress = Callable[[str, int, int], None]
T = TypeVar("T")


class FileRefused(Exception):
    """The file as a whole cannot be imported: not UTF-8, empty, or its header lacks a column."""


class ImporterRequired(FileRefused):
    """The file changes where existing rows send signers, and no staff account was named to
    answer for it in the audit log."""


@dataclass(frozen=True)
class RowProblem:
    line: int
    reason: str


@dataclass(frozen=True)
class CsvRow:
    line: int
    cells: dict[str, str]


@dataclass(frozen=True)
class CsvTable:
    rows: list[CsvRow]
    # Rows that cannot even be read as the header says (too many or too few cells, ...).
    problems: list[RowProblem]
    header_line: int
    ignored_columns: list[str]

    @property
    def row_count(self) -> int:
        return len(self.rows) + len(self.problems)


@dataclass
class Checked(Generic[T]):
    good: list[T] = field(default_factory=list)
    bad: list[RowProblem] = field(default_factory=list)
    warnings: list[RowProblem] = field(default_factory=list)


@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    bad_rows: list[RowProblem] = field(default_factory=list)
    warnings: list[RowProblem] = field(default_factory=list)
    # True when bad rows stopped the import: nothing was written.
    refused: bool = False

    @property
    def imported(self) -> int:
        return self.created + self.updated + self.unchanged


R = TypeVar("R", bound=ImportResult)


# --- Reading -----------------------------------------------------------------------------------


def csv_read(data: bytes, *, columns: Sequence[str]) -> CsvTable:
    """Split a UTF-8 CSV file into rows keyed by column, each with its line number.

    Raises FileRefused when the file cannot be read or its header lacks one of `columns`.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise FileRefused(
            _('The file is not UTF-8 text (line %(line)d). Save it as "CSV UTF-8" and try again.')
            % {"line": line}
        ) from error
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    rows: list[CsvRow] = []
    problems: list[RowProblem] = []
    ignored: list[str] = []
    header_line = previous_end = 0
    try:
        for cells in reader:
            # A quoted cell may span lines: a record starts after the previous one ended.
            line, previous_end = previous_end + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue  # blank lines, and the ",,,," rows spreadsheets leave at the end
            if header is None:
                header, header_line = _header_check(cells, line=line, columns=columns), line
                ignored = [name for name in header if name not in columns]
                continue
            if len(cells) != len(header):
                problems.append(
                    RowProblem(
                        line,
                        _("has %(found)d cells where the header has %(expected)d")
                        % {"found": len(cells), "expected": len(header)},
                    )
                )
                continue
            values = {
                name: cell.strip()
                for name, cell in zip(header, cells, strict=True)
                if name in columns
            }
            unreadable = [name for name, value in values.items() if not value.isprintable()]
            if unreadable:
                problems.append(
                    RowProblem(
                        line,
                        _("%(columns)s: contains a line break, tab or other control character")
                        % {"columns": ", ".join(unreadable)},
                    )
                )
                continue
            rows.append(CsvRow(line, values))
    except csv.Error as error:
        raise FileRefused(
            _("Line %(line)d cannot be read as CSV: %(error)s")
            % {"line": reader.line_num, "error": error}
        ) from error
    if header is None:
        raise FileRefused(
            _("The file is empty: it needs a header row with the columns %(columns)s.")
            % {"columns": ",".join(columns)}
        )
    return CsvTable(rows=rows, problems=problems, header_line=header_line, ignored_columns=ignored)


def _header_check(cells: list[str], *, line: int, columns: Sequence[str]) -> list[str]:
    header = [cell.strip().lower() for cell in cells]
    repeated = sorted({name for name in header if name and header.count(name) > 1})
    if repeated:
        raise FileRefused(
            _("The header (line %(line)d) names a column more than once: %(columns)s.")
            % {"line": line, "columns": ", ".join(repeated)}
        )
    missing = [name for name in columns if name not in header]
    if missing:
        message = _(
            "The header (line %(line)d) lacks the column(s) %(missing)s. "
            "The first row must name the columns %(columns)s."
        ) % {"line": line, "missing": ", ".join(missing), "columns": ",".join(columns)}
        if len(header) == 1 and (";" in header[0] or "\t" in header[0]):
            message += " " + _("The file must be comma-separated, not split by ; or tabs.")
        raise FileRefused(message)
    return header


# --- Checking ----------------------------------------------------------------------------------


def csv_rows_check(
    table: CsvTable,
    *,
    row_check: Callable[[CsvRow, list[str]], T],
    progress: Progress | None = None,
) -> Checked[T]:
    """Each row through `row_check`, which returns what the row says and appends to the list it
    is given every reason the row is bad; rows with a reason are bad, sorted by line with the
    rows that could not be read."""
    checked: Checked[T] = Checked(bad=list(table.problems))
    for index, row in enumerate(table.rows, start=1):
        reasons: list[str] = []
        value = row_check(row, reasons)
        if reasons:
            checked.bad.append(RowProblem(row.line, "; ".join(reasons)))
        else:
            checked.good.append(value)
        if progress:
            progress("checked", index, len(table.rows))
    checked.bad.sort(key=lambda problem: problem.line)
    return checked


def cell_text_check(
    cells: dict[str, str],
    column: str,
    model: type[models.Model],
    reasons: list[str],
    *,
    required: bool = False,
) -> str:
    """The cell of `column`, which must fit the model field of the same name."""
    value = cells[column]
    if required and not value:
        reasons.append(_("%(column)s is empty") % {"column": column})
    limit = model_field(model=model, name=column).max_length
    if limit is not None and len(value) > limit:
        reasons.append(
            _("%(column)s is longer than %(limit)d characters") % {"column": column, "limit": limit}
        )
    return value


def cell_country_check(value: str, reasons: list[str], *, required: bool) -> str:
    """A two-letter ISO country code, upper-cased; "" when empty or unknown."""
    code = value.upper()
    if not code:
        if required:
            reasons.append(_("country is empty"))
        return ""
    # Two letters only: django-countries would also take "USA" or "840", which people would
    # then expect to work everywhere.
    if len(code) != 2 or countries.alpha2(code) != code:
        reasons.append(
            _("unknown country code %(code)s (use a two-letter ISO code such as US, DE or IT)")
            % {"code": repr(value)}
        )
        return ""
    return code


# --- Importing ---------------------------------------------------------------------------------


def csv_import(
    *,
    data: bytes,
    columns: Sequence[str],
    rows_check: Callable[[CsvTable], Checked[T]],
    rows_save: Callable[[list[T], R], None],
    result_type: type[R],
    skip_bad_rows: bool = False,
) -> R:
    """Read `data`, check its rows and, unless some are bad and not `skip_bad_rows`, save the
    good ones, all in one transaction: an exception from `rows_save` (ImporterRequired, say)
    leaves nothing imported. `rows_save` counts what it did in the result it is given.

    Raises FileRefused for a file that cannot be read at all.
    """
    table = csv_read(data, columns=columns)
    with transaction.atomic():
        # Checked inside the transaction: which rows exist may decide create or update.
        checked = rows_check(table)
        result = result_type(
            rows=table.row_count,
            bad_rows=checked.bad,
            warnings=_ignored_columns_warnings(table) + checked.warnings,
        )
        if checked.bad and not skip_bad_rows:
            result.refused = True
            return result
        rows_save(checked.good, result)
    return result


def _ignored_columns_warnings(table: CsvTable) -> list[RowProblem]:
    return [
        RowProblem(
            table.header_line,
            _("column %(column)s is not used and was ignored") % {"column": repr(name)},
        )
        for name in table.ignored_columns
    ]


def rows_bulk_save(
    model: type[models.Model],
    *,
    new: list[Any],
    changed: list[Any],
    fields: Sequence[str],
    result: ImportResult,
    progress: Progress | None,
    total: int,
) -> None:
    """Create `new` and update `fields` of `changed` in batches, counting them in `result`."""
    done = result.unchanged
    for start in range(0, len(new), BATCH_SIZE):
        batch = new[start : start + BATCH_SIZE]
        model._default_manager.bulk_create(batch)
        result.created += len(batch)
        done += len(batch)
        if progress:
            progress("saved", done, total)
    for start in range(0, len(changed), BATCH_SIZE):
        batch = changed[start : start + BATCH_SIZE]
        model._default_manager.bulk_update(batch, fields)
        result.updated += len(batch)
        done += len(batch)
        if progress:
            progress("saved", done, total)


def import_changes_audit(
    *,
    model: type[models.Model],
    before: dict[Any, Any],
    fields: Sequence[str],
    imported_by: AbstractBaseUser | None,
    refusal: Callable[[int], str],
) -> None:
    """After an import updated the rows in `before` (read by audit_read_many, in the same
    transaction): an audit-log entry for each row whose `fields` changed, by `imported_by`; with
    no one named, ImporterRequired, which rolls the import back."""
    if imported_by is None:
        after = audit_read_many(model=model, pks=list(before), fields=fields)
        redirected = sum(1 for pk, values in after.items() if values != before[pk])
        if redirected:
            raise ImporterRequired(refusal(redirected))
        return
    audit_changes_record_many(
        user=imported_by,
        model=model,
        before=before,
        fields=fields,
        note=_("Imported from a CSV file."),
    )
