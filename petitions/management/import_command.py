"""What import_postal_codes and import_targets add to the CSV import command
(mechanisms.csv_import_command): --by, the staff account who answers in the audit log for
changes that send signers elsewhere. The checking and writing are in petitions.importers."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

from accounts.models import User
from mechanisms.csv_import_command import CsvImportCommand


class ImportCommand(CsvImportCommand):
    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--by",
            metavar="EMAIL",
            help=_(
                "The staff account importing the file; the audit log names it beside each "
                "change that sends signers elsewhere (needed for such a file)."
            ),
        )

    def importer_options(self, options: dict[str, Any]) -> dict[str, Any]:
        """The staff account named by --by, who answers in the audit log for changes that
        redirect signers (a target's delivery email or place, a postal code's place)."""
        if not options.get("by"):
            return {}
        user = User.objects.filter(
            email__iexact=User.objects.login_email(options["by"]), is_active=True, is_staff=True
        ).first()
        if user is None:
            raise CommandError(
                _("--by %(email)s: no active staff account has this address.")
                % {"email": options["by"]}
            )
        return {"imported_by": user}
