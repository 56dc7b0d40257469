from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from mechanisms.personal_data import (
    personal_data_anonymize_expired,
    retention_cutoff,
    unconfirmed_cutoff,
)


class Command(BaseCommand):
    help = (
        "Remove signers' personal data from campaigns closed more than "
        "SIGNATURE_RETENTION_DAYS ago, and delete signatures never confirmed whose link expired "
        "more than UNCONFIRMED_RETENTION_DAYS ago (what the daily task does). Safe to run again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size", type=int, default=1000, help="Records per transaction (default 1000)."
        )

    def handle(self, *args: Any, batch_size: int, **options: Any) -> None:
        if batch_size < 1:
            self.stderr.write("--batch-size must be at least 1.")
            return
        cutoff = retention_cutoff()
        self.stdout.write(
            f"Anonymizing signatures of campaigns closed before {cutoff:%Y-%m-%d %H:%M} UTC "
            f"({settings.SIGNATURE_RETENTION_DAYS} days ago), and deleting signatures never "
            f"confirmed whose last link was sent before {unconfirmed_cutoff():%Y-%m-%d %H:%M} UTC"
            "..."
        )

        def progress(kind: str, batch: int, total: int) -> None:
            self.stdout.write(f"  {kind}: {batch} anonymized ({total} so far)")

        def unconfirmed_progress(kind: str, batch: int, total: int) -> None:
            self.stdout.write(f"  {kind}: {batch} never confirmed, deleted ({total} so far)")

        done = personal_data_anonymize_expired(
            batch_size=batch_size, progress=progress, unconfirmed_progress=unconfirmed_progress
        )

        def summary(counts: dict[str, int]) -> str:
            return ", ".join(f"{count} {kind} signature(s)" for kind, count in counts.items())

        self.stdout.write(
            self.style.SUCCESS(
                f"Done: anonymized {summary(done.anonymized) or 'nothing'}; deleted "
                f"{summary(done.unconfirmed_deleted) or 'nothing'} never confirmed; counts are "
                "unchanged."
            )
        )
