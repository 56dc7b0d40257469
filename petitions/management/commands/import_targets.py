from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.models import User
from petitions.importers import ImportResult, targets_import
from petitions.management.import_command import ImportCommand, Importer


class Command(ImportCommand):
    help = gettext_lazy(
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

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--by",
            metavar="EMAIL",
            help=_(
                "The staff account importing the file; the audit log names it beside each "
                "changed delivery email or place."
            ),
        )

    def importer(self) -> Importer:
        return targets_import

    def importer_options(self, options: dict[str, Any]) -> dict[str, Any]:
        if not options.get("by"):
            return {}
        user = User.objects.filter(
            email__iexact=options["by"], is_active=True, is_staff=True
        ).first()
        if user is None:
            raise CommandError(
                _("--by %(email)s: no active staff account has this address.")
                % {"email": options["by"]}
            )
        return {"imported_by": user}

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
