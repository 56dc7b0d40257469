"""Loading targets (officials and other decision makers) from a CSV file: the import_targets
command. Reading, checking row by row and saving all or nothing are mechanisms.csv_import's."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
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
    RowProblem,
    cell_country_check,
    cell_text_check,
    csv_import,
    csv_rows_check,
    import_changes_audit,
    rows_bulk_save,
)
from mechanisms.web_urls import web_url_normalize
from petitions.models import Target
from petitions.routing import TARGET_AUDITED_FIELDS, target_place_needs

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
_TARGET_FIELDS = ("name", "title", "region", "locality", "email", "contact_url")


@dataclass
class TargetsImportResult(ImportResult):
    # Targets imported without an email, which deliveries will skip.
    without_email: int = 0


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


def targets_check(table: CsvTable, *, progress: Progress | None = None) -> Checked[TargetRow]:
    existing = _existing_targets()
    seen: dict[tuple[str, str, str, str, str], int] = {}
    levels = ", ".join(Target.Level.values)

    def row_check(row: CsvRow, reasons: list[str]) -> TargetRow:
        cells = row.cells
        name = cell_text_check(cells, "name", Target, reasons, required=True)
        title = cell_text_check(cells, "title", Target, reasons, required=True)
        level = cells["level"].lower()
        if not level:
            reasons.append(_("level is empty (expected one of: %(levels)s)") % {"levels": levels})
        elif level not in Target.Level.values:
            reasons.append(
                _("unknown level %(level)s (expected one of: %(levels)s)")
                % {"level": repr(cells["level"]), "levels": levels}
            )
        country = cell_country_check(cells["country"], reasons, required=False)
        region = cell_text_check(cells, "region", Target, reasons)
        locality = cell_text_check(cells, "locality", Target, reasons)
        place = {"country": cells["country"], "region": region, "locality": locality}
        reasons.extend(message for part, message in target_place_needs(level) if not place[part])
        email = cell_text_check(cells, "email", Target, reasons)
        if email:
            try:
                validate_email(email)
            except ValidationError:
                reasons.append(_("malformed email address %(email)s") % {"email": repr(email)})
        contact_url = cell_text_check(cells, "contact_url", Target, reasons)
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
        return target

    checked = csv_rows_check(table, row_check=row_check, progress=progress)
    checked.warnings.extend(
        RowProblem(
            target.line,
            _("%(target)s has no email: will not receive deliveries until it has one")
            % {"target": target.title},
        )
        for target in checked.good
        if not target.email
    )
    return checked


def targets_import(
    *,
    data: bytes,
    skip_bad_rows: bool = False,
    progress: Progress | None = None,
    imported_by: User | None = None,
) -> TargetsImportResult:
    """Create targets from a CSV file, or update the one with the same level, country, region,
    locality and title (ignoring case).

    With bad rows, nothing is imported unless `skip_bad_rows`; either way they are reported.
    Targets without an email are imported, with a warning. Raises FileRefused for a file that
    cannot be read at all.

    An existing target whose delivery email or place the file changes gets an audit-log entry
    naming the old and new values, by `imported_by`; without one, such a file is refused
    (ImporterRequired) and nothing is imported.
    """
    return csv_import(
        data=data,
        columns=TARGET_COLUMNS,
        rows_check=lambda table: targets_check(table, progress=progress),
        rows_save=lambda rows, result: _targets_save(
            rows, result=result, progress=progress, imported_by=imported_by
        ),
        result_type=TargetsImportResult,
        skip_bad_rows=skip_bad_rows,
    )


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
    result: TargetsImportResult,
    progress: Progress | None,
    imported_by: User | None,
) -> None:
    result.without_email = sum(1 for row in rows if not row.email)
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
    rows_bulk_save(
        Target,
        new=new,
        changed=changed,
        fields=_TARGET_FIELDS,
        result=result,
        progress=progress,
        total=len(rows),
    )
    import_changes_audit(
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
