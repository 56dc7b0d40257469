"""Importing a batch of paper signatures from a CSV file (the workspace's upload and the
import_paper_signatures command). Every row is checked first; one bad row and nothing is
written, with each problem listed by line. A good file becomes one counted batch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Organization
from mechanisms.addresses import email_canonicalize
from mechanisms.audit import audit_log
from mechanisms.csv_import import (
    Checked,
    CsvRow,
    CsvTable,
    ImportResult,
    Progress,
    RowProblem,
    cell_country_check,
    cell_text_check,
    csv_import,
    csv_rows_check,
    rows_bulk_save,
)
from petitions.models import PaperBatch, PaperSignature, Petition
from petitions.services.paper import BATCH_MAX_ROWS, SHEET_LINES, PaperRow, paper_row_model

PAPER_COLUMNS = ("sheet", "line", "name", "postal_code", "country", "email")


@dataclass
class PaperImportResult(ImportResult):
    batch: PaperBatch | None = None


def _number(value: str, *, column: str, reasons: list[str], default: int | None = None) -> int:
    if not value and default is not None:
        return default
    if not value.isdigit():
        reasons.append(_("%(column)s must be a whole number") % {"column": column})
        return 0
    return int(value)


def paper_rows_check(
    table: CsvTable, *, petition: Petition, progress: Progress | None = None
) -> Checked[PaperRow]:
    # Emails are checked within the file only: the file is one batch, and an email on another
    # sponsor's batch must not be revealed (the counter counts the person once).
    lines: dict[tuple[int, int], int] = {}
    emails: dict[str, int] = {}

    def row_check(row: CsvRow, reasons: list[str]) -> PaperRow:
        cells = row.cells
        sheet = _number(cells["sheet"], column="sheet", reasons=reasons, default=1)
        line = _number(cells["line"], column="line", reasons=reasons)
        if sheet < 1 and cells["sheet"].isdigit():
            reasons.append(_("sheet must be 1 or more"))
        if cells["line"].isdigit() and not 1 <= line <= SHEET_LINES:
            reasons.append(_("line must be between 1 and %(lines)d") % {"lines": SHEET_LINES})
        name = cell_text_check(cells, "name", PaperSignature, reasons, required=True)
        postal_code = cell_text_check(
            cells, "postal_code", PaperSignature, reasons, required=petition.postal_code_required
        )
        country = cell_country_check(cells["country"], reasons, required=False)
        email = cells["email"]
        canonical = ""
        if email:
            try:
                validate_email(email)
                canonical = email_canonicalize(email)
            except ValidationError:
                reasons.append(
                    _("email %(email)s is not an email address") % {"email": repr(email)}
                )
        if sheet and line:
            first = lines.setdefault((sheet, line), row.line)
            if first != row.line:
                reasons.append(
                    _("duplicate of line %(line)d (same sheet and line)") % {"line": first}
                )
        if canonical:
            first = emails.setdefault(canonical, row.line)
            if first != row.line:
                reasons.append(_("duplicate of line %(line)d (same email)") % {"line": first})
        return PaperRow(
            sheet=sheet,
            line=line,
            name=name,
            postal_code=postal_code,
            country=country,
            email=email,
        )

    checked = csv_rows_check(table, row_check=row_check, progress=progress)
    # The file as a whole, reported on its header's line.
    if not table.row_count:
        checked.bad.insert(0, RowProblem(table.header_line, _("the file has no rows")))
    elif len(table.rows) > BATCH_MAX_ROWS:
        checked.bad.insert(
            0,
            RowProblem(
                table.header_line,
                _("the file has %(rows)d rows; a batch holds at most %(max)d")
                % {"rows": len(table.rows), "max": BATCH_MAX_ROWS},
            ),
        )
    return checked


def paper_signatures_import(
    *,
    data: bytes,
    petition: Petition,
    organization: Organization | None,
    entered_by: Any,
    sheet_reference: str = "",
    progress: Progress | None = None,
    skip_bad_rows: bool = False,
) -> PaperImportResult:
    """One counted batch from a CSV file (sheet,line,name,postal_code,country,email), or, with
    any bad row, nothing at all: paper signatures are all or nothing, so `skip_bad_rows` is
    refused. Raises FileRefused for a file that cannot be read."""
    if skip_bad_rows:
        raise ValueError("a paper batch is imported whole or not at all")

    def save(rows: list[PaperRow], result: PaperImportResult) -> None:
        batch = PaperBatch.objects.create(
            petition=petition,
            organization=organization,
            entered_by=entered_by,
            sheet_reference=sheet_reference.strip(),
            counted_at=timezone.now(),
        )
        models = [paper_row_model(batch=batch, row=row) for row in rows]
        rows_bulk_save(
            PaperSignature,
            new=models,
            changed=[],
            fields=(),
            result=result,
            progress=progress,
            total=len(rows),
        )
        result.batch = batch
        # The batched counter brings the batch into the count (paper_batches_tally), as it
        # does a typed one: nothing here says which lines were counted elsewhere.
        audit_log(
            user=entered_by,
            objects=[batch],
            message=ngettext(
                "Imported %(rows)d paper line from a CSV file as a finished batch.",
                "Imported %(rows)d paper lines from a CSV file as a finished batch.",
                len(rows),
            )
            % {"rows": len(rows)},
        )

    result = csv_import(
        data=data,
        columns=PAPER_COLUMNS,
        rows_check=lambda table: paper_rows_check(table, petition=petition, progress=progress),
        rows_save=save,
        result_type=PaperImportResult,
    )
    return result
