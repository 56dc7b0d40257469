"""Loading postal areas and targets from CSV files (the import_postal_codes and import_targets
commands).

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
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models, transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_countries import countries

from accounts.models import User
from mechanisms.audit import audit_changes_record_many, audit_read_many
from mechanisms.web_urls import web_url_normalize
from petitions.jurisdiction import postal_code_normalize
from petitions.models import PostalArea, Target
from petitions.routing import POSTAL_AREA_AUDITED_FIELDS, TARGET_AUDITED_FIELDS

POSTAL_AREA_COLUMNS = ("country", "postal_code", "region", "locality")
TARGET_COLUMNS = (
    "name",
    "title",
    "level",
    "country",
    "region",
    "locality",
    "email",
    "contact_url",
)
BATCH_SIZE = 500

# 3 to 10 letters, digits, spaces or hyphens with at least one digit: wide enough for every
# country's format (101, 00-950, SW1A 1AA, 1012 AB, 1193653471), narrow enough to catch a city
# name or a phone number in the wrong column.
_POSTAL_CODE_SHAPE = re.compile(r"(?=.*[0-9])[A-Z0-9][A-Z0-9 -]{1,8}[A-Z0-9]")


# What routing needs to know of a target's place, by level (the model's check constraints).
def _place_needs(level: str) -> list[tuple[str, str]]:
    needs = {
        Target.Level.LOCAL: [
            ("country", _("a local target needs a country")),
            ("region", _("a local target needs a region")),
            ("locality", _("a local target needs a locality")),
        ],
        Target.Level.STATE: [
            ("country", _("a state target needs a country")),
            ("region", _("a state target needs a region")),
        ],
        Target.Level.NATIONAL: [("country", _("a national target needs a country"))],
    }
    return needs.get(level, [])


# Called as rows are checked ("checked") and written ("saved"), with how many so far of how many.
Progress = Callable[[str, int, int], None]
T = TypeVar("T")


class FileRefused(Exception):
    """The file as a whole cannot be imported: not UTF-8, empty, or its header lacks a column."""


class ImporterRequired(FileRefused):
    """The file changes where existing targets' deliveries go, and no staff account was named to
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
    # Targets imported without an email, which deliveries will skip.
    without_email: int = 0
    # True when bad rows stopped the import: nothing was written.
    refused: bool = False

    @property
    def imported(self) -> int:
        return self.created + self.updated + self.unchanged


@dataclass(frozen=True)
class PostalAreaRow:
    line: int
    country: str
    postal_code: str
    region: str
    locality: str


@dataclass(frozen=True)
class TargetRow:
    line: int
    name: str
    title: str
    level: str
    country: str
    region: str
    locality: str
    email: str
    contact_url: str

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        return _target_key(self.level, self.country, self.region, self.locality, self.title)


def _target_key(
    level: str, country: str, region: str, locality: str, title: str
) -> tuple[str, str, str, str, str]:
    """What makes a target the same one again: its level, place and office, ignoring case."""
    return (level, country, region.casefold(), locality.casefold(), title.casefold())


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


# --- Postal areas ------------------------------------------------------------------------------


def postal_areas_check(
    table: CsvTable, *, progress: Progress | None = None
) -> Checked[PostalAreaRow]:
    checked: Checked[PostalAreaRow] = Checked(bad=list(table.problems))
    seen: dict[tuple[str, str], int] = {}
    for index, row in enumerate(table.rows, start=1):
        cells = row.cells
        reasons: list[str] = []
        country = _country_check(cells["country"], reasons, required=True)
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
        region = _text_check(cells, "region", PostalArea, reasons, required=True)
        locality = _text_check(cells, "locality", PostalArea, reasons, required=True)
        if country and postal_code:
            first = seen.setdefault((country, postal_code), row.line)
            if first != row.line:
                reasons.append(
                    _("duplicate of line %(line)d (same country and postal code)") % {"line": first}
                )
        area = PostalAreaRow(row.line, country, postal_code, region, locality)
        if reasons:
            checked.bad.append(RowProblem(row.line, "; ".join(reasons)))
        else:
            checked.good.append(area)
        if progress:
            progress("checked", index, len(table.rows))
    checked.bad.sort(key=lambda problem: problem.line)
    return checked


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
    table = csv_read(data, columns=POSTAL_AREA_COLUMNS)
    checked = postal_areas_check(table, progress=progress)
    result = ImportResult(
        rows=table.row_count,
        bad_rows=checked.bad,
        warnings=_ignored_columns_warnings(table) + checked.warnings,
    )
    if checked.bad and not skip_bad_rows:
        result.refused = True
        return result
    with transaction.atomic():
        _postal_areas_save(checked.good, result=result, progress=progress, imported_by=imported_by)
    return result


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
    _bulk_save(
        PostalArea,
        new=new,
        changed=changed,
        fields=("region", "locality"),
        result=result,
        progress=progress,
        total=len(rows),
    )
    _redirects_audit(
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


# --- Targets -----------------------------------------------------------------------------------


def targets_check(table: CsvTable, *, progress: Progress | None = None) -> Checked[TargetRow]:
    checked: Checked[TargetRow] = Checked(bad=list(table.problems))
    existing = _existing_targets()
    seen: dict[tuple[str, str, str, str, str], int] = {}
    levels = ", ".join(Target.Level.values)
    for index, row in enumerate(table.rows, start=1):
        cells = row.cells
        reasons: list[str] = []
        name = _text_check(cells, "name", Target, reasons, required=True)
        title = _text_check(cells, "title", Target, reasons, required=True)
        level = cells["level"].lower()
        if not level:
            reasons.append(_("level is empty (expected one of: %(levels)s)") % {"levels": levels})
        elif level not in Target.Level.values:
            reasons.append(
                _("unknown level %(level)s (expected one of: %(levels)s)")
                % {"level": repr(cells["level"]), "levels": levels}
            )
        country = _country_check(cells["country"], reasons, required=False)
        region = _text_check(cells, "region", Target, reasons)
        locality = _text_check(cells, "locality", Target, reasons)
        place = {"country": cells["country"], "region": region, "locality": locality}
        reasons.extend(message for part, message in _place_needs(level) if not place[part])
        email = _text_check(cells, "email", Target, reasons)
        if email:
            try:
                validate_email(email)
            except ValidationError:
                reasons.append(_("malformed email address %(email)s") % {"email": repr(email)})
        contact_url = _text_check(cells, "contact_url", Target, reasons)
        if contact_url:
            try:
                # Stored as a browser reads it, like an address typed in the admin.
                contact_url = web_url_normalize(contact_url, assume_scheme=None)
            except ValidationError as error:
                reasons.append(
                    _("malformed URL %(url)s: %(problem)s")
                    % {"url": repr(contact_url), "problem": error.messages[0]}
                )
        target = TargetRow(
            row.line, name, title, level, country, region, locality, email, contact_url
        )
        if title and level:
            first = seen.setdefault(target.key, row.line)
            if first != row.line:
                reasons.append(
                    _(
                        "duplicate of line %(line)d (same level, country, region, locality "
                        "and title)"
                    )
                    % {"line": first}
                )
            matches = existing.get(target.key, [])
            if len(matches) > 1:
                reasons.append(
                    _(
                        "matches %(count)d existing targets (ids %(ids)s); merge them in the "
                        "admin first"
                    )
                    % {"count": len(matches), "ids": ", ".join(map(str, matches))}
                )
        if reasons:
            checked.bad.append(RowProblem(row.line, "; ".join(reasons)))
        else:
            checked.good.append(target)
            if not email:
                checked.warnings.append(
                    RowProblem(
                        row.line,
                        _("%(target)s has no email: will not receive deliveries until it has one")
                        % {"target": title},
                    )
                )
        if progress:
            progress("checked", index, len(table.rows))
    checked.bad.sort(key=lambda problem: problem.line)
    return checked


def targets_import(
    *,
    data: bytes,
    skip_bad_rows: bool = False,
    progress: Progress | None = None,
    imported_by: User | None = None,
) -> ImportResult:
    """Create targets from a CSV file, or update the one with the same level, country, region,
    locality and title (ignoring case).

    With bad rows, nothing is imported unless `skip_bad_rows`; either way they are reported.
    Targets without an email are imported, with a warning. Raises FileRefused for a file that
    cannot be read at all.

    An existing target whose delivery email or place the file changes gets an audit-log entry
    naming the old and new values, by `imported_by`; without one, such a file is refused
    (ImporterRequired) and nothing is imported.
    """
    table = csv_read(data, columns=TARGET_COLUMNS)
    with transaction.atomic():
        # Checked inside the transaction: which targets exist decides create or update.
        checked = targets_check(table, progress=progress)
        result = ImportResult(
            rows=table.row_count,
            bad_rows=checked.bad,
            warnings=_ignored_columns_warnings(table) + checked.warnings,
            without_email=sum(1 for row in checked.good if not row.email),
        )
        if checked.bad and not skip_bad_rows:
            result.refused = True
            return result
        _targets_save(checked.good, result=result, progress=progress, imported_by=imported_by)
    return result


_TARGET_FIELDS = ("name", "title", "region", "locality", "email", "contact_url")


def _existing_targets() -> dict[tuple[str, str, str, str, str], list[int]]:
    existing: dict[tuple[str, str, str, str, str], list[int]] = defaultdict(list)
    for pk, level, country, region, locality, title in Target.objects.order_by("pk").values_list(
        "pk", "level", "country", "region", "locality", "title"
    ):
        existing[_target_key(level, str(country or ""), region, locality, title)].append(pk)
    return existing


def _targets_save(
    rows: list[TargetRow],
    *,
    result: ImportResult,
    progress: Progress | None,
    imported_by: User | None,
) -> None:
    existing = _existing_targets()
    current = Target.objects.in_bulk([existing[row.key][0] for row in rows if row.key in existing])
    new: list[Target] = []
    changed: list[Target] = []
    for row in rows:
        values = {name: getattr(row, name) for name in _TARGET_FIELDS}
        if row.key not in existing:
            new.append(Target(level=row.level, country=row.country, **values))
            continue
        target = current[existing[row.key][0]]
        if all(getattr(target, name) == value for name, value in values.items()):
            result.unchanged += 1
            continue
        for name, value in values.items():
            setattr(target, name, value)
        changed.append(target)
    before = audit_read_many(
        model=Target, pks=[target.pk for target in changed], fields=TARGET_AUDITED_FIELDS
    )
    _bulk_save(
        Target,
        new=new,
        changed=changed,
        fields=_TARGET_FIELDS,
        result=result,
        progress=progress,
        total=len(rows),
    )
    _redirects_audit(
        model=Target,
        before=before,
        fields=TARGET_AUDITED_FIELDS,
        imported_by=imported_by,
        refusal=lambda count: (
            ngettext(
                "It changes the delivery email or place of %(count)d existing target: name "
                "the staff account importing it (--by EMAIL), and the audit log records "
                "the change.",
                "It changes the delivery email or place of %(count)d existing targets: name "
                "the staff account importing it (--by EMAIL), and the audit log records "
                "the changes.",
                count,
            )
            % {"count": count}
        ),
    )


def _redirects_audit(
    *,
    model: type[models.Model],
    before: dict[Any, Any],
    fields: Sequence[str],
    imported_by: User | None,
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


# --- Shared ------------------------------------------------------------------------------------


def _text_check(
    cells: dict[str, str],
    column: str,
    model: type[models.Model],
    reasons: list[str],
    *,
    required: bool = False,
) -> str:
    value = cells[column]
    if required and not value:
        reasons.append(_("%(column)s is empty") % {"column": column})
    limit = model._meta.get_field(column).max_length
    if limit is not None and len(value) > limit:
        reasons.append(
            _("%(column)s is longer than %(limit)d characters") % {"column": column, "limit": limit}
        )
    return value


def _country_check(value: str, reasons: list[str], *, required: bool) -> str:
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


def _ignored_columns_warnings(table: CsvTable) -> list[RowProblem]:
    return [
        RowProblem(
            table.header_line,
            _("column %(column)s is not used and was ignored") % {"column": repr(name)},
        )
        for name in table.ignored_columns
    ]


def _bulk_save(
    model: type[models.Model],
    *,
    new: list,
    changed: list,
    fields: Sequence[str],
    result: ImportResult,
    progress: Progress | None,
    total: int,
) -> None:
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
