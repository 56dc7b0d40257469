"""Paper signatures in the personal-data registry (mechanisms.personal_data): a person who wrote
their email on a sheet sees, downloads and withdraws that line from their "your signatures"
page like an online signature; retention anonymizes the lines with the petition's signatures."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mechanisms.personal_data import PersonalRecord, iso_or_none, locked_batches
from petitions.models import PaperSignature
from petitions.services.counting import paper_counts_update


def _record(row: PaperSignature) -> PersonalRecord:
    petition = row.petition
    counted = row.batch.counted_at is not None
    return PersonalRecord(
        kind=PaperSignatures.key,
        pk=row.pk,
        campaign_title=petition.title,
        campaign_url=petition.get_absolute_url(),
        shown_as=_("Not listed publicly"),
        status=_("Signed on paper, counted")
        if counted and not row.duplicate
        else _("Signed on paper, counted once: online or on another sheet")
        if row.duplicate
        else _("Signed on paper, being typed in"),
        signed_at=row.created_at,
        data={
            "signed_on": "paper",
            "name": row.name,
            "email": row.email,
            "postal_code": row.postal_code,
            "country": row.country.code or "",
            "region": row.region,
            "locality": row.locality,
            "sheet": row.sheet,
            "line": row.line,
            "typed_at": iso_or_none(row.created_at),
            "counted_at": iso_or_none(row.batch.counted_at),
            "counted_elsewhere": row.duplicate,
        },
    )


class PaperSignatures:
    key = "paper"

    def records(self, *, canonical_email: str) -> list[PersonalRecord]:
        if not canonical_email:
            return []
        rows = (
            PaperSignature.objects.filter(canonical_email=canonical_email, anonymized_at=None)
            .select_related("petition", "batch")
            .order_by("-created_at")
        )
        return [_record(row) for row in rows]

    def owner_email(self, *, pk: int) -> tuple[str, str] | None:
        return (
            PaperSignature.objects.filter(pk=pk, anonymized_at=None)
            .exclude(canonical_email="")
            .values_list("email", "canonical_email")
            .first()
        )

    def withdraw(self, *, canonical_email: str, pks: Collection[int] | None) -> int:
        """Delete the person's paper lines and set their petitions' paper counts again."""
        if not canonical_email:
            return 0
        with transaction.atomic():
            rows = PaperSignature.objects.filter(
                canonical_email=canonical_email, anonymized_at=None
            )
            if pks is not None:
                rows = rows.filter(pk__in=list(pks))
            locked = list(rows.order_by("pk").select_for_update().values_list("pk", "petition_id"))
            if not locked:
                return 0
            PaperSignature.objects.filter(pk__in=[pk for pk, _ in locked]).delete()
            paper_counts_update(petition_ids={petition_id for _, petition_id in locked})
        return len(locked)

    def anonymize_expired(self, *, closed_before: datetime, batch_size: int) -> Iterator[int]:
        def anonymize(pks: list[int]) -> None:
            # The place, the duplicate mark and the batch stay: the paper count and each
            # target's constituents keep adding up after the people are gone.
            PaperSignature.objects.filter(pk__in=pks).update(
                name="",
                email="",
                canonical_email="",
                postal_code="",
                anonymized_at=timezone.now(),
            )

        rows = PaperSignature.objects.filter(
            anonymized_at__isnull=True, petition__closed_at__lt=closed_before
        )
        return locked_batches(rows, batch_size=batch_size, act=anonymize, of=("self",))

    def unconfirmed_delete(self, *, last_link_before: datetime, batch_size: int) -> Iterator[int]:
        # Nothing on paper waits for an email confirmation.
        return iter(())

    def ip_hashes_clear(self, *, created_before: datetime) -> int:
        return 0  # no address of a network is ever recorded for paper
