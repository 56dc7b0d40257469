"""Writes for staff moderation of individual signatures on open letters: the same actions and
rules as petition signatures (petitions.services.moderation), without a counter, since a letter's
signers are counted live from confirmed, not-held rows."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import User
from letters.models import IndividualSignature
from mechanisms.audit import audit_log
from mechanisms.queue import enqueue_after_commit
from petitions.services.moderation import (
    Moderated,
    moderation_confirm,
    moderation_reason_clean,
    moderation_remove,
)


def individual_signatures_confirm(
    *, signature_ids: Collection[int], moderator: User, now: datetime | None = None
) -> Moderated:
    """Approve pending or held signatures; they show on the letter at once."""
    return moderation_confirm(
        model=IndividualSignature,
        signature_ids=signature_ids,
        moderator=moderator,
        campaign="letter",
        campaign_open=lambda letter, now: letter.accepts_signatures,
        now=now,
    )


def individual_signatures_reject(
    *, signature_ids: Collection[int], moderator: User, reason: str, now: datetime | None = None
) -> Moderated:
    return moderation_remove(
        model=IndividualSignature,
        signature_ids=signature_ids,
        moderator=moderator,
        status=IndividualSignature.Status.REJECTED,
        reason=moderation_reason_clean(reason, required=True),
        now=now,
    )


def individual_signatures_mark_spam(
    *,
    signature_ids: Collection[int],
    moderator: User,
    reason: str = "",
    now: datetime | None = None,
) -> Moderated:
    return moderation_remove(
        model=IndividualSignature,
        signature_ids=signature_ids,
        moderator=moderator,
        status=IndividualSignature.Status.SPAM,
        reason=moderation_reason_clean(reason),
        now=now,
    )


def individual_signatures_resend_confirmation(
    *, signature_ids: Collection[int], moderator: User, now: datetime | None = None
) -> Moderated:
    """Send pending signers their confirmation link again; the send task claims it as new."""
    now = now or timezone.now()
    wanted = set(signature_ids)
    with transaction.atomic():
        rows = list(
            IndividualSignature.objects.filter(
                pk__in=wanted,
                status=IndividualSignature.Status.PENDING,
                anonymized_at__isnull=True,
            )
            .select_for_update()
            .order_by("pk")
            .only("pk")
        )
        IndividualSignature.objects.filter(pk__in=[row.pk for row in rows]).update(
            confirmation_sent_at=None,
            moderated_at=now,
            moderated_by=moderator,
            moderation_reason="",
        )
        audit_log(
            user=moderator,
            objects=rows,
            message=gettext("Confirmation email sent again by a moderator."),
        )
        from letters.tasks import individual_send_confirmation

        for row in rows:
            enqueue_after_commit(individual_send_confirmation, row.pk, False)
    return Moderated(done=len(rows), skipped=len(wanted) - len(rows))
