from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.models import User
from mechanisms.csv_import import ImportResult
from mechanisms.csv_import_command import CsvImportCommand, Importer
from petitions.importers.paper import PaperImportResult, paper_signatures_import
from petitions.models import Petition


class Command(CsvImportCommand):
    help = gettext_lazy(  # type: ignore[assignment]
        "Import a batch of paper signatures of a petition from a UTF-8 CSV file with the "
        "columns sheet,line,name,postal_code,country,email (email optional). Every row is "
        "checked first: if any is bad, nothing is imported and each bad row is listed by its "
        "line number with the reason. A good file becomes one finished batch, which the counter "
        "counts, recorded in the audit log under the staff account named by --by."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("petition", help=_("The petition's slug."))
        super().add_arguments(parser)
        parser.add_argument(
            "--by", metavar="EMAIL", required=True, help=_("The staff account entering it.")
        )
        parser.add_argument(
            "--organization",
            metavar="SLUG",
            default="",
            help=_("The sponsoring organization that collected the sheets (default: staff)."),
        )
        parser.add_argument("--sheet-reference", default="", help=_("Where the sheets are kept."))

    def handle(self, *args: Any, **options: Any) -> None:
        if options["skip_bad_rows"]:
            raise CommandError(
                _("A paper batch is imported whole or not at all: --skip-bad-rows is refused.")
            )
        super().handle(*args, **options)

    def importer(self) -> Importer:
        return paper_signatures_import

    def importer_options(self, options: dict[str, Any]) -> dict[str, Any]:
        petition = Petition.objects.filter(slug=options["petition"]).first()
        if petition is None or petition.status == Petition.Status.DRAFT:
            raise CommandError(_("No published petition has the slug %s.") % options["petition"])
        user = User.objects.filter(
            email__iexact=User.objects.login_email(options["by"]), is_active=True, is_staff=True
        ).first()
        if user is None:
            raise CommandError(
                _("--by %(email)s: no active staff account has this address.")
                % {"email": options["by"]}
            )
        organization = None
        if options["organization"]:
            organization = petition.sponsors.filter(slug=options["organization"]).first()
            if organization is None:
                raise CommandError(
                    _("--organization %(slug)s does not sponsor this petition.")
                    % {"slug": options["organization"]}
                )
        return {
            "petition": petition,
            "organization": organization,
            "entered_by": user,
            "sheet_reference": options["sheet_reference"],
        }

    def imported_message(self, result: ImportResult, *, file: str) -> str:
        assert isinstance(result, PaperImportResult)
        return ngettext(
            "Imported %(count)d paper signature from %(file)s as a finished batch; the counter "
            "brings it into the count within a minute (anyone counted elsewhere counts once).",
            "Imported %(count)d paper signatures from %(file)s as a finished batch; the counter "
            "brings them into the count within a minute (anyone counted elsewhere counts once).",
            result.created,
        ) % {"count": result.created, "file": file}
