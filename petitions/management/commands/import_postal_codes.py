from __future__ import annotations

from django.utils.translation import gettext_lazy, ngettext

from mechanisms.csv_import import ImportResult
from mechanisms.csv_import_command import Importer
from petitions.importers.postal_codes import postal_areas_import
from petitions.management.import_command import ImportCommand


class Command(ImportCommand):
    # Lazy, so --help reads in the active language (argparse calls str() on it); the stubs
    # type BaseCommand.help as str.
    help = gettext_lazy(  # type: ignore[assignment]
        "Load postal codes of countries other than the US (whose ZIP codes ship with the "
        "zipcodes package) from a UTF-8 CSV file with the columns "
        "country,postal_code,region,locality. A postal code already loaded for the same country "
        "is updated. Every row is checked first: if any is bad, nothing is imported and each bad "
        "row is listed by its line number with the reason, unless --skip-bad-rows is given, "
        "which imports the good rows and lists the bad ones. The import is one transaction. "
        "A file that moves postal codes already loaded to another place needs --by: the audit "
        "log records each change under that staff account."
    )

    def importer(self) -> Importer:
        return postal_areas_import

    def imported_message(self, result: ImportResult, *, file: str) -> str:
        return ngettext(
            "Imported %(count)d postal code from %(file)s: %(created)d new, %(updated)d updated, "
            "%(unchanged)d unchanged.",
            "Imported %(count)d postal codes from %(file)s: %(created)d new, %(updated)d "
            "updated, %(unchanged)d unchanged.",
            result.imported,
        ) % {
            "count": result.imported,
            "file": file,
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
        }
