"""Petition signatures in the personal-data registry (mechanisms.personal_data): what a signer
sees and downloads, withdrawing, and anonymizing after retention."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterator
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from mechanisms.models import OutboundEmail
from mechanisms.outbox import recipient_key
from mechanisms.personal_data import (
    PersonalRecord,
    SignatureProviderBase,
    iso_or_none,
    locked_batches,
    signature_status_shown,
)
from petitions import emails, supporters, webhook_events
from petitions.models import PetitionUpdate, Signature, SponsorOptIn
from petitions.questions import answers_shown
from petitions.services.counting import petition_counts_subtract


def _updates_sent(*, canonical_email: str) -> dict[int, list[tuple[str, datetime | None]]]:
    """The updates the outbox sent this person, by signature: (title, when)."""
    sent = list(
        OutboundEmail.objects.filter(
            kind=emails.UPDATE.name,
            state=OutboundEmail.State.SENT,
            recipient_key=recipient_key(canonical_email),
        ).values_list("ref", "sent_at")
    )
    titles = {
        update.pk: update.title
        for update in PetitionUpdate.objects.filter(pk__in={ref.get("update") for ref, _ in sent})
    }
    by_signature: dict[int, list[tuple[str, datetime | None]]] = {}
    for ref, sent_at in sent:
        if ref.get("update") in titles:
            by_signature.setdefault(ref.get("signature"), []).append(
                (titles[ref["update"]], sent_at)
            )
    return by_signature


def _record(
    signature: Signature, *, updates_sent: dict[int, list[tuple[str, datetime | None]]]
) -> PersonalRecord:
    petition = signature.petition
    return PersonalRecord(
        kind=PetitionSignatures.key,
        pk=signature.pk,
        campaign_title=petition.title,
        campaign_url=petition.get_absolute_url(),
        shown_as=signature.public_name,
        status=signature_status_shown(signature),
        signed_at=signature.created_at,
        data={
            "name": signature.name,
            "email": signature.email,
            "postal_code": signature.postal_code,
            "country": signature.country.code or "",
            "region": signature.region,
            "locality": signature.locality,
            "show_name_as": signature.display,
            "comment": signature.comment,
            # The petition's own questions, in the words the signer saw, and their answers.
            "answers": [
                {"question": question, "answer": answer}
                for question, answer in answers_shown(
                    question_set=signature.question_set,
                    answers=signature.answers or {},
                    language=signature.language,
                )
            ],
            "came_through_the_link_of": signature.source.name if signature.source else None,
            "wants_updates": signature.consent_updates,
            "language": signature.language,
            "status": signature.status,
            "counted": signature.counted,
            # Held or not, never why: which signal fired would tell a bot's operator what to
            # change. The flags are for staff.
            "held_for_review": signature.held,
            "moderation_reason": signature.moderation_reason,
            # Kept until its key is deleted (see the privacy page); it cannot be turned back into
            # the address, but it is data about this person, so it is theirs to see.
            "ip_hash": signature.ip_hash,
            "signed_at": iso_or_none(signature.created_at),
            "confirmed_at": iso_or_none(signature.confirmed_at),
            "sponsors_allowed_to_contact": [
                opt_in.organization.name for opt_in in signature.sponsor_opt_ins.all()
            ],
            "sponsors_consent": [
                {
                    "organization": opt_in.organization.name,
                    "given_at": iso_or_none(opt_in.created_at),
                    "wording": opt_in.wording.text if opt_in.wording else None,
                    "last_downloaded_by_it_at": iso_or_none(opt_in.exported_at),
                }
                for opt_in in signature.sponsor_opt_ins.all()
            ],
            "updates_emailed": [
                {"update": title, "sent_at": iso_or_none(sent_at)}
                for title, sent_at in updates_sent.get(signature.pk, [])
            ],
        },
        shared_with=[
            (opt_in.organization.name, opt_in.exported_at)
            for opt_in in signature.sponsor_opt_ins.all()
        ],
        # What an organization's export holds, read from the export itself.
        shared_details=", ".join(str(label) for _key, label in supporters.SUPPORTER_COLUMNS),
    )


class PetitionSignatures(SignatureProviderBase):
    key = "petition"
    model = Signature

    def records(self, *, canonical_email: str) -> list[PersonalRecord]:
        signatures = (
            Signature.objects.filter(canonical_email=canonical_email, anonymized_at__isnull=True)
            .select_related("petition", "source", "question_set")
            .prefetch_related("sponsor_opt_ins__organization", "sponsor_opt_ins__wording")
            .order_by("-created_at")
        )
        updates_sent = _updates_sent(canonical_email=canonical_email)
        return [_record(signature, updates_sent=updates_sent) for signature in signatures]

    def withdraw(self, *, canonical_email: str, pks: Collection[int] | None) -> int:
        """Delete the signatures (their opt-ins and update emails go with them) and take the
        counted ones off their petitions' counts, in one transaction.

        The rows are locked first: the batched counter claims uncounted rows with SKIP LOCKED, so
        it either counted a row before we locked it (we then read counted=True and subtract it)
        or skips it and never sees it again.
        """
        if not canonical_email:
            return 0
        with transaction.atomic():
            rows = Signature.objects.filter(
                canonical_email=canonical_email, anonymized_at__isnull=True
            )
            if pks is not None:
                rows = rows.filter(pk__in=list(pks))
            locked = list(
                rows.order_by("pk").select_for_update().values_list("pk", "petition_id", "counted")
            )
            if not locked:
                return 0
            # The organizations the signer opted in to hear of it, before the opt-ins go, and
            # the webhook outbox forgets them.
            webhook_events.signatures_withdrawn(signature_ids=[pk for pk, _, _ in locked])
            webhook_events.signatures_forget(signature_ids=[pk for pk, _, _ in locked])
            Signature.objects.filter(pk__in=[pk for pk, _, _ in locked]).delete()
            petition_counts_subtract(
                removed=Counter(petition_id for _, petition_id, was in locked if was)
            )
        return len(locked)

    def anonymize_expired(self, *, closed_before: datetime, batch_size: int) -> Iterator[int]:
        def anonymize(pks: list[int]) -> None:
            SponsorOptIn.objects.filter(signature_id__in=pks).delete()
            webhook_events.signatures_forget(signature_ids=pks)
            # Status, counted, country, region, locality and the dates stay: counts and
            # "signatures from your area" keep adding up after the people are gone.
            Signature.objects.filter(pk__in=pks).update(
                name="",
                email="",
                canonical_email="",
                postal_code="",
                comment="",
                # Answers may say who someone is; the questions (the snapshot) stay, they are
                # no one's.
                answers={},
                question_set=None,
                ip_hash="",
                # A moderator's note may name the person ("her brother signed for her").
                moderation_reason="",
                display=Signature.Display.WITHHELD,
                consent_updates=False,
                anonymized_at=timezone.now(),
            )

        rows = Signature.objects.filter(
            anonymized_at__isnull=True, petition__closed_at__lt=closed_before
        )
        return locked_batches(rows, batch_size=batch_size, act=anonymize, of=("self",))
