"""Individual signatures of open letters in the personal-data registry
(mechanisms.personal_data): what a signer sees and downloads, withdrawing, and anonymizing after
retention. Organizations' signatures are not personal data and stay."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import datetime

from django.utils import timezone

from letters.models import IndividualSignature
from mechanisms.personal_data import (
    PersonalRecord,
    SignatureProviderBase,
    iso_or_none,
    locked_batches,
    signature_status_shown,
)
from petitions.questions import answers_shown


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
            # The letter's own questions, in the words the signer saw, and their answers.
            "answers": [
                {"question": question, "answer": answer}
                for question, answer in answers_shown(
                    question_set=signature.question_set,
                    answers=signature.answers or {},
                    language=signature.language,
                )
            ],
        },
    )


class LetterSignatures(SignatureProviderBase):
    key = "letter"
    model = IndividualSignature

    def records(self, *, canonical_email: str) -> list[PersonalRecord]:
        signatures = (
            IndividualSignature.objects.filter(
                canonical_email=canonical_email, anonymized_at__isnull=True
            )
            .select_related("letter", "question_set")
            .order_by("-created_at")
        )
        return [_record(signature) for signature in signatures]

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
        def anonymize(pks: list[int]) -> None:
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
                # Answers may say who someone is; the snapshot stays, shared with others.
                answers={},
                question_set=None,
                anonymized_at=timezone.now(),
            )

        rows = IndividualSignature.objects.filter(
            anonymized_at__isnull=True, letter__closed_at__lt=closed_before
        )
        return locked_batches(rows, batch_size=batch_size, act=anonymize, of=("self",))
