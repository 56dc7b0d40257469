from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from petitions import services
from petitions.models import Petition


class Command(BaseCommand):
    help = "Recount confirmed signatures of every petition (or the given slugs) and fix any drift."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slugs", nargs="*", help="Only these petitions (default: all).")

    def handle(self, *args: Any, slugs: list[str], **options: Any) -> None:
        petitions = Petition.objects.order_by("pk")
        if slugs:
            petitions = petitions.filter(slug__in=slugs)
            missing = sorted(set(slugs) - set(petitions.values_list("slug", flat=True)))
            for slug in missing:
                self.stderr.write(f"No petition with slug {slug!r}: skipped.")
        rows = list(petitions.values_list("pk", "slug"))
        # Add what was confirmed but not yet counted first, so the figures printed are current.
        pending = services.petition_counts_update()
        corrected = 0
        for index, (petition_id, slug) in enumerate(rows, start=1):
            result = services.petition_recount(petition_id=petition_id)
            if result.drift:
                corrected += 1
                self.stdout.write(
                    f"[{index}/{len(rows)}] {slug}: {result.before} -> {result.after} (corrected)"
                )
            else:
                self.stdout.write(f"[{index}/{len(rows)}] {slug}: {result.after} (correct)")
        summary = (
            f"Recounted {len(rows)} petition(s): {corrected} corrected, "
            f"{len(rows) - corrected} already correct; "
            f"{sum(pending.values())} newly confirmed signature(s) added first."
        )
        if slugs and len(rows) < len(slugs):
            summary += f" {len(slugs) - len(rows)} slug(s) not found."
        self.stdout.write(self.style.SUCCESS(summary))
