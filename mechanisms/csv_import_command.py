"""The management command around a CSV import (mechanisms.csv_import): reading the file,
printing progress, the list of bad rows and warnings, and the closing summary of what was
imported or why nothing was."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from mechanisms.csv_import import FileRefused, ImportResult, Progress

Importer = Callable[..., ImportResult]


def _positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(_("must be 1 or more"))
    return number


class CsvImportCommand(BaseCommand):
    """A CSV import: subclasses name the importer and say what was imported."""

    def importer(self) -> Importer:
        raise NotImplementedError

    def imported_message(self, result: ImportResult, *, file: str) -> str:
        raise NotImplementedError

    def warnings_message(self, result: ImportResult) -> list[str]:
        return []

    def importer_options(self, options: dict[str, Any]) -> dict[str, Any]:
        """Keyword arguments for the importer from the command's own options."""
        return {}

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # argparse needs a str, and the help is translated lazily, in the language then active.
        self.help = str(self.help)
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help=_("A UTF-8 CSV file with a header row."))
        parser.add_argument(
            "--skip-bad-rows",
            action="store_true",
            help=_("Import the good rows and list the bad ones, instead of importing nothing."),
        )
        parser.add_argument(
            "--progress-every",
            type=_positive_int,
            default=1000,
            metavar="N",
            help=_("Print progress every N rows (default 1000)."),
        )

    def handle(
        self, *args: Any, file: str, skip_bad_rows: bool, progress_every: int, **options: Any
    ) -> None:
        try:
            data = Path(file).read_bytes()
        except OSError as error:
            raise CommandError(
                _("Cannot read %(file)s: %(error)s") % {"file": file, "error": error.strerror}
            ) from error
        try:
            result = self.importer()(
                data=data,
                skip_bad_rows=skip_bad_rows,
                progress=self._progress(progress_every),
                **self.importer_options(options),
            )
        except FileRefused as error:
            raise CommandError(
                _("Nothing imported from %(file)s. %(reason)s") % {"file": file, "reason": error}
            ) from error
        for problem in result.bad_rows:
            self.stderr.write(
                _("Line %(line)d: %(reason)s") % {"line": problem.line, "reason": problem.reason}
            )
        if result.refused:
            good = result.rows - len(result.bad_rows)
            raise CommandError(
                ngettext(
                    "Nothing imported from %(file)s: %(bad)d of %(rows)d row is bad "
                    "(listed above).",
                    "Nothing imported from %(file)s: %(bad)d of %(rows)d rows are bad "
                    "(listed above).",
                    result.rows,
                )
                % {"file": file, "bad": len(result.bad_rows), "rows": result.rows}
                + " "
                + ngettext(
                    "Fix them and import again, or add --skip-bad-rows to import the %(good)d "
                    "good row.",
                    "Fix them and import again, or add --skip-bad-rows to import the %(good)d "
                    "good rows.",
                    good,
                )
                % {"good": good}
            )
        for warning in result.warnings:
            self.stderr.write(
                self.style.WARNING(
                    _("Line %(line)d (warning): %(reason)s")
                    % {"line": warning.line, "reason": warning.reason}
                )
            )
        summary = [self.imported_message(result, file=file)]
        if not result.rows:
            summary.append(_("The file has no rows, only a header."))
        if result.bad_rows:
            summary.append(
                ngettext(
                    "%(bad)d bad row was skipped (listed above).",
                    "%(bad)d bad rows were skipped (listed above).",
                    len(result.bad_rows),
                )
                % {"bad": len(result.bad_rows)}
            )
        summary.extend(self.warnings_message(result))
        self.stdout.write(self.style.SUCCESS("\n".join(summary)))

    def _progress(self, every: int) -> Progress:
        printed: dict[str, int] = {}

        def progress(stage: str, done: int, total: int) -> None:
            # Rows are saved in batches: print whenever the count passes a multiple of `every`.
            if done // every <= printed.get(stage, 0) // every:
                return
            printed[stage] = done
            if stage == "checked":
                message = _("Checked %(done)d of %(total)d rows.")
            else:
                message = _("Saved %(done)d of %(total)d rows.")
            self.stdout.write(message % {"done": done, "total": total})

        return progress
