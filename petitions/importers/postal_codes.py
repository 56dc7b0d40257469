"""Loading postal areas of countries other than the US from a CSV file: the
import_postal_codes command. Reading, checking row by row and saving all or nothing are
mechanisms.csv_import's."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from mechanisms.audit import audit_read_many
from mechanisms.csv_import import (
    Checked,
    CsvRow,
    CsvTable,
    ImportResult,
    Progress,
    cell_country_check,
    cell_text_check,
    csv_import,
    csv_rows_check,
    import_changes_audit,
    rows_bulk_save,
)
from petitions.jurisdiction import postal_code_normalize
from petitions.models import PostalArea
from petitions.routing import POSTAL_AREA_AUDITED_FIELDS

POSTAL_AREA_COLUMNS = ("country", "postal_code", "region", "locality")

# 3 to 10 letters, digits, spaces or hyphens with at least one digit: wide enough for every
# country's format (101, 00-950, SW1A 1AA, 1012 AB, 1193653471), narrow enough to catch a city
# name or a phone number in the wrong column.
_POSTAL_CODE_SHAPE = re.compile(r"(?=.*[0-9])[A-Z0-9][A-Z0-9 -]{1,8}[A-Z0-9]")


@dataclass(frozen=True)
class PostalAreaRow:
    line: int
    country: str
    postal_code: str
    region: str
    locality: str


def postal_areas_check(
    table: CsvTable, *, progress: Progress | None = None
) -> Checked[PostalAreaRow]:
    seen: dict[tuple[str, str], int] = {}

    def row_check(row: CsvRow, reasons: list[str]) -> PostalAreaRow:
        cells = row.cells
        country = cell_country_check(cells["country"], reasons, required=True)
        if country == "US":
            reasons.append(
                _(
                    "US ZIP codes come with the zipcodes package and are not read from this "
                    "table; leave US rows out"
                )
            )
        postal_code = postal_code_normalize(cells["postal_code"])
        if not postal_code:
            reasons.append(_("postal_code is empty"))
        elif not _POSTAL_CODE_SHAPE.fullmatch(postal_code):
            reasons.append(
                _(
                    "postal code %(code)s has an invalid shape (3 to 10 letters, digits, spaces "
                    "or hyphens, with at least one digit)"
                )
                % {"code": repr(cells["postal_code"])}
            )
        region = cell_text_check(cells, "region", PostalArea, reasons, required=True)
        locality = cell_text_check(cells, "locality", PostalArea, reasons, required=True)
        if country and postal_code:
            first = seen.setdefault((country, postal_code), row.line)
            if first != row.line:
                reasons.append(
                    _("duplicate of line %(line)d (same country and postal code)") % {"line": first}
                )
        return PostalAreaRow(row.line, country, postal_code, region, locality)

    return csv_rows_check(table, row_check=row_check, progress=progress)


def postal_areas_import(
    *,
    data: bytes,
    skip_bad_rows: bool = False,
    progress: Progress | None = None,
    imported_by: User | None = None,
) -> ImportResult:
    """Create or update PostalArea rows from a CSV file (country,postal_code,region,locality).

    With bad rows, nothing is imported unless `skip_bad_rows`; either way they are reported.
    Raises FileRefused for a file that cannot be read at all.

    A postal code's place decides which local officials receive its signers: a file that moves
    existing codes elsewhere gets an audit-log entry per code by `imported_by`, and without one
    it is refused (ImporterRequired) and nothing is imported, as for targets.
    """
    return csv_import(
        data=data,
        columns=POSTAL_AREA_COLUMNS,
        rows_check=lambda table: postal_areas_check(table, progress=progress),
        rows_save=lambda rows, result: _postal_areas_save(
            rows, result=result, progress=progress, imported_by=imported_by
        ),
        result_type=ImportResult,
        skip_bad_rows=skip_bad_rows,
    )


def _postal_areas_save(
    rows: list[PostalAreaRow],
    *,
    result: ImportResult,
    progress: Progress | None,
    imported_by: User | None,
) -> None:
    existing = {
        (country, postal_code): (pk, region, locality)
        for pk, country, postal_code, region, locality in PostalArea.objects.filter(
            country__in={row.country for row in rows}
        ).values_list("pk", "country", "postal_code", "region", "locality")
    }
    new: list[PostalArea] = []
    changed: list[PostalArea] = []
    for row in rows:
        found = existing.get((row.country, row.postal_code))
        if found is None:
            new.append(
                PostalArea(
                    country=row.country,
                    postal_code=row.postal_code,
                    region=row.region,
                    locality=row.locality,
                )
            )
        elif found[1:] != (row.region, row.locality):
            changed.append(PostalArea(pk=found[0], region=row.region, locality=row.locality))
        else:
            result.unchanged += 1
    before = audit_read_many(
        model=PostalArea, pks=[area.pk for area in changed], fields=POSTAL_AREA_AUDITED_FIELDS
    )
    rows_bulk_save(
        PostalArea,
        new=new,
        changed=changed,
        fields=("region", "locality"),
        result=result,
        progress=progress,
        total=len(rows),
    )
    import_changes_audit(
        model=PostalArea,
        before=before,
        fields=POSTAL_AREA_AUDITED_FIELDS,
        imported_by=imported_by,
        refusal=lambda count: (
            ngettext(
                "It moves %(count)d postal code already loaded to another place, and so to other "
                "officials: name the staff account importing it (--by EMAIL), and the audit log "
                "records the change.",
                "It moves %(count)d postal codes already loaded to other places, and so to other "
                "officials: name the staff account importing it (--by EMAIL), and the audit log "
                "records the changes.",
                count,
            )
            % {"count": count}
        ),
    )
