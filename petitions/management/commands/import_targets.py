from __future__ import annotations

from django.utils.translation import gettext_lazy, ngettext

from mechanisms.csv_import import ImportResult
from mechanisms.csv_import_command import Importer
from petitions.importers.targets import TargetsImportResult, targets_import
from petitions.management.import_command import ImportCommand


class Command(ImportCommand):
    # Lazy, so --help reads in the active language (argparse calls str() on it); the stubs
    # type BaseCommand.help as str.
    help = gettext_lazy(  # type: ignore[assignment]
        "Load targets (officials and other decision makers) from a UTF-8 CSV file with the "
        "columns name,title,level,country,region,locality,email,contact_url. A target with the "
        "same level, country, region, locality and title (ignoring case) is updated, any other "
        "is created. Every row is checked first: if any is bad, nothing is imported and each bad "
        "row is listed by its line number with the reason, unless --skip-bad-rows is given, "
        "which imports the good rows and lists the bad ones. The import is one transaction. "
        "Targets without an email are imported with a warning: they receive no deliveries "
        "until they have one. A file that changes the delivery email or place of existing "
        "targets needs --by: the audit log records each change under that staff account."
    )

    def importer(self) -> Importer:
        return targets_import

    def imported_message(self, result: ImportResult, *, file: str) -> str:
        return ngettext(
            "Imported %(count)d target from %(file)s: %(created)d new, %(updated)d updated, "
            "%(unchanged)d unchanged.",
            "Imported %(count)d targets from %(file)s: %(created)d new, %(updated)d updated, "
            "%(unchanged)d unchanged.",
            result.imported,
        ) % {
            "count": result.imported,
            "file": file,
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
        }

    def warnings_message(self, result: ImportResult) -> list[str]:
        assert isinstance(result, TargetsImportResult)  # what targets_import returns
        if not result.without_email:
            return []
        return [
            ngettext(
                "%(count)d target has no email and will not receive deliveries until it "
                "has one (listed above).",
                "%(count)d targets have no email and will not receive deliveries until "
                "they have one (listed above).",
                result.without_email,
            )
            % {"count": result.without_email}
        ]
