from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db.models import QuerySet
from django.utils import timezone

from mechanisms.model_fields import field_max_length
from petitions.models import Delivery, Petition
from petitions.services import deliveries


class Command(BaseCommand):
    help = (
        "Deliver signatures to the targets of the given petitions now (default: every petition "
        "with targets that is not a draft), sending each email here rather than through a worker."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slugs", nargs="*", help="Only these petitions.")
        parser.add_argument(
            "--period",
            default="",
            help="What this delivery is called; one per target per period (default: "
            "manual-YYYY-MM-DD-HHMM). Running again with the same period sends nothing twice.",
        )

    def handle(self, *args: Any, slugs: list[str], period: str, **options: Any) -> None:
        period = period.strip() or f"manual-{timezone.localtime():%Y-%m-%d-%H%M}"
        if len(period) > field_max_length(model=Delivery, name="period"):
            self.stderr.write(f"The period {period!r} is too long.")
            return
        petitions = self._petitions(slugs)
        totals = {"sent": 0, "skipped": 0, "nobody": 0, "failed": 0, "already": 0}
        for petition in petitions:
            self.stdout.write(f"{petition.slug} ({period}):")
            deliveries.deliveries_create(petition=petition, period=period, enqueue=False)
            by_target = {
                delivery.target_id: delivery
                for delivery in Delivery.objects.filter(petition=petition, period=period)
            }
            for target in petition.targets.filter(active=True).order_by("title", "pk"):
                delivery = by_target.get(target.pk)
                if not target.email:
                    self.stdout.write(f"  {target.title} — no email, skipped")
                    totals["skipped"] += 1
                    continue
                if delivery is None:
                    self.stdout.write(f"  {target.title} — no constituent has signed yet")
                    totals["nobody"] += 1
                    continue
                outcome, line = self._send(delivery)
                totals[outcome] += 1
                self.stdout.write(f"  {target.title}{line}")
        summary = (
            f"Delivered {len(petitions)} petition(s): {totals['sent']} sent, "
            f"{totals['skipped']} skipped (no email), {totals['nobody']} with no constituents "
            f"yet, {totals['failed']} failed."
        )
        if totals["already"]:
            summary += f" {totals['already']} already sent for this period."
        style = self.style.ERROR if totals["failed"] else self.style.SUCCESS
        self.stdout.write(style(summary))

    def _petitions(self, slugs: list[str]) -> list[Petition]:
        petitions: QuerySet[Petition] = Petition.objects.order_by("pk")
        if slugs:
            petitions = petitions.filter(slug__in=slugs)
            missing = sorted(set(slugs) - set(petitions.values_list("slug", flat=True)))
            for slug in missing:
                self.stderr.write(f"No petition with slug {slug!r}: skipped.")
        else:
            petitions = petitions.exclude(status=Petition.Status.DRAFT).filter(
                targets__isnull=False
            )
        return list(petitions.distinct())

    def _send(self, delivery: Delivery) -> tuple[str, str]:
        sent = deliveries.delivery_send(delivery_id=delivery.pk)
        delivery.refresh_from_db()
        counts = f": {delivery.total_count} in total, {delivery.new_count} new"
        if sent:
            return "sent", f"{counts} — sent"
        if delivery.status == Delivery.Status.SENT:
            return "already", f"{counts} — already sent on {delivery.sent_at:%Y-%m-%d}"
        if delivery.status == Delivery.Status.FAILED:
            return "failed", f" — failed: {delivery.last_error}"
        if delivery.last_error:
            # A transient error: the outbox tries again after a backoff (its sweep).
            return "failed", f" — failed: {delivery.last_error} (it will be retried)"
        return "failed", f" — not sent: {delivery.get_status_display()}"
