"""Individual signatures of open letters in the personal-data registry
(accounts.personal_data): what a signer sees and downloads, withdrawing, and anonymizing after
retention. Organizations' signatures are not personal data and stay."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.personal_data import PersonalRecord, iso_or_none, signature_status_shown
from letters.models import IndividualSignature


def _record(signature: IndividualSignature) -> PersonalRecord:
    letter = signature.letter
    return PersonalRecord(
        kind=LetterSignatures.key,
        pk=signature.pk,
        campaign_title=letter.title,
        campaign_url=letter.get_absolute_url(),
        shown_as=signature.public_name,
        status=signature_status_shown(signature),
        signed_at=signature.created_at,
        data={
            "name": signature.name,
            "email": signature.email,
            "title": signature.title,
            "affiliation": signature.affiliation,
            "name_withheld": signature.withhold_name,
            "language": signature.language,
            "status": signature.status,
            # Held or not, never why: which signal fired would tell a bot's operator what to
            # change. The flags are for staff.
            "held_for_review": signature.held,
            "moderation_reason": signature.moderation_reason,
            "ip_hash": signature.ip_hash,
            "signed_at": iso_or_none(signature.created_at),
            "confirmed_at": iso_or_none(signature.confirmed_at),
        },
    )


class LetterSignatures:
    key = "letter"

    def records(self, *, canonical_email: str) -> list[PersonalRecord]:
        signatures = (
            IndividualSignature.objects.filter(
                canonical_email=canonical_email, anonymized_at__isnull=True
            )
            .select_related("letter")
            .order_by("-created_at")
        )
        return [_record(signature) for signature in signatures]

    def owner_email(self, *, pk: int) -> tuple[str, str] | None:
        return (
            IndividualSignature.objects.filter(pk=pk, anonymized_at__isnull=True)
            .values_list("email", "canonical_email")
            .first()
        )

    def withdraw(self, *, canonical_email: str, pks: Collection[int] | None) -> int:
        # Letters count their signers when a page or a press release asks; no stored count to
        # follow.
        if not canonical_email:
            return 0
        rows = IndividualSignature.objects.filter(
            canonical_email=canonical_email, anonymized_at__isnull=True
        )
        if pks is not None:
            rows = rows.filter(pk__in=list(pks))
        _, deleted = rows.delete()
        return deleted.get(IndividualSignature._meta.label, 0)

    def anonymize_expired(self, *, closed_before: datetime, batch_size: int) -> Iterator[int]:
        while True:
            with transaction.atomic():
                pks = list(
                    IndividualSignature.objects.filter(
                        anonymized_at__isnull=True, letter__closed_at__lt=closed_before
                    )
                    .order_by("pk")
                    .select_for_update(skip_locked=True, of=("self",))
                    .values_list("pk", flat=True)[:batch_size]
                )
                if not pks:
                    return
                # A title and an affiliation together often name a person as surely as a name.
                IndividualSignature.objects.filter(pk__in=pks).update(
                    name="",
                    email="",
                    canonical_email="",
                    title="",
                    affiliation="",
                    ip_hash="",
                    # A moderator's note may name the person.
                    moderation_reason="",
                    withhold_name=True,
                    anonymized_at=timezone.now(),
                )
            yield len(pks)

    def unconfirmed_delete(self, *, last_link_before: datetime, batch_size: int) -> Iterator[int]:
        # Never listed or counted while pending. Its last link went out when it was made or,
        # signed again, re-sent (confirmation_sent_at): both before the cutoff.
        while True:
            with transaction.atomic():
                pks = list(
                    IndividualSignature.objects.filter(
                        status=IndividualSignature.Status.PENDING,
                        created_at__lt=last_link_before,
                    )
                    .filter(
                        Q(confirmation_sent_at__isnull=True)
                        | Q(confirmation_sent_at__lt=last_link_before)
                    )
                    .order_by("pk")
                    .select_for_update(skip_locked=True)
                    .values_list("pk", flat=True)[:batch_size]
                )
                if not pks:
                    return
                IndividualSignature.objects.filter(
                    pk__in=pks, status=IndividualSignature.Status.PENDING
                ).delete()
            yield len(pks)

    def ip_hashes_clear(self, *, created_before: datetime) -> int:
        return (
            IndividualSignature.objects.filter(created_at__lt=created_before)
            .exclude(ip_hash="")
            .update(ip_hash="")
        )
