"""Writes for staff moderation of individual signatures on open letters: the same actions and
rules as petition signatures (petitions.services.moderation), without a counter, since a letter's
signers are counted live from confirmed, not-held rows."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from accounts.models import User
from letters import emails
from letters.models import IndividualSignature
from mechanisms.moderation import (
    Moderated,
    moderation_confirm,
    moderation_reason_clean,
    moderation_remove,
    moderation_resend_confirmation,
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
    """Send pending signers their confirmation link again (mechanisms.moderation)."""
    return moderation_resend_confirmation(
        model=IndividualSignature,
        emails=emails.CONFIRMATIONS,
        signature_ids=signature_ids,
        moderator=moderator,
        now=now,
    )
