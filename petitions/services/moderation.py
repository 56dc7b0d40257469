"""Writes for staff moderation: confirm, reject, mark as spam, resend the confirmation.

Every action works on a batch of ids (what an admin changelist selects), locks the rows it
changes, records who did it, when and why on the rows and in the admin's audit log (LogEntry),
and leaves rows that are already in the wanted state alone, so running it twice changes nothing
the second time. Counts stay exact: a counted signature that a moderator removes is taken off
its petition's count in the same transaction; one a moderator approves is left to the batched
counter, like any confirmation.

The generic steps live in mechanisms.moderation, shared with letters' individual signatures;
this module says what is particular to petitions: places and the count.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from datetime import datetime

from django.db import transaction
from django.db.models import Q

from accounts.models import User
from mechanisms.moderation import (
    Moderated,
    moderation_confirm,
    moderation_reason_clean,
    moderation_remove,
    moderation_resend_confirmation,
)
from petitions import emails, webhook_events
from petitions.models import Signature
from petitions.services.counting import petition_counts_subtract
from petitions.services.signing import signature_place_resolve


def _uncount(rows: list[Signature]) -> None:
    """Take counted signatures off their petitions' counts (the caller sets counted=False).

    The rows are locked, so the batched counter (which skips locked rows) cannot count them
    meanwhile, and the recount, which locks the petition first and only reads signatures, sees
    them either before or after this transaction, never half of it.
    """
    petition_counts_subtract(removed=Counter(row.petition_id for row in rows if row.counted))


def signatures_confirm(
    *, signature_ids: Collection[int], moderator: User, now: datetime | None = None
) -> Moderated:
    """Approve petition signatures; the batched counter then counts them, and the
    organizations their signers opted in to hear of them (webhooks) as of a signer's own
    confirmation."""
    with transaction.atomic():
        waiting = list(
            Signature.objects.filter(pk__in=list(signature_ids))
            .filter(
                Q(status=Signature.Status.PENDING) | Q(status=Signature.Status.CONFIRMED, held=True)
            )
            .values_list("pk", flat=True)
        )
        done = moderation_confirm(
            model=Signature,
            signature_ids=signature_ids,
            moderator=moderator,
            campaign="petition",
            campaign_open=lambda petition, now: petition.is_accepting_signatures(now=now),
            place=lambda row: signature_place_resolve(signature=row),
            now=now,
        )
        for signature in Signature.objects.filter(
            pk__in=waiting, status=Signature.Status.CONFIRMED, held=False
        ).select_related("petition"):
            webhook_events.signature_confirmed(signature=signature)
    return done


def _remove(
    *,
    signature_ids: Collection[int],
    moderator: User,
    status: Signature.Status,
    reason: str,
    now: datetime | None,
) -> Moderated:
    """Reject or mark as spam; counted ones come off the count at once, and the organizations
    told of them (confirmed, not held, opted in) hear they are withdrawn."""
    with transaction.atomic():
        told = Signature.objects.filter(
            pk__in=list(signature_ids), status=Signature.Status.CONFIRMED, held=False
        ).values_list("pk", flat=True)
        webhook_events.signatures_withdrawn(signature_ids=list(told))
        webhook_events.signatures_forget(signature_ids=list(signature_ids))
        return moderation_remove(
            model=Signature,
            signature_ids=signature_ids,
            moderator=moderator,
            status=status,
            reason=reason,
            uncount=_uncount,
            now=now,
        )


def signatures_reject(
    *, signature_ids: Collection[int], moderator: User, reason: str, now: datetime | None = None
) -> Moderated:
    """Reject petition signatures, saying why (_remove)."""
    return _remove(
        signature_ids=signature_ids,
        moderator=moderator,
        status=Signature.Status.REJECTED,
        reason=moderation_reason_clean(reason, required=True),
        now=now,
    )


def signatures_mark_spam(
    *,
    signature_ids: Collection[int],
    moderator: User,
    reason: str = "",
    now: datetime | None = None,
) -> Moderated:
    """Mark petition signatures as spam (_remove)."""
    return _remove(
        signature_ids=signature_ids,
        moderator=moderator,
        status=Signature.Status.SPAM,
        reason=moderation_reason_clean(reason),
        now=now,
    )


def signatures_resend_confirmation(
    *, signature_ids: Collection[int], moderator: User, now: datetime | None = None
) -> Moderated:
    """Send pending signers their confirmation link again (mechanisms.moderation)."""
    return moderation_resend_confirmation(
        model=Signature,
        emails=emails.CONFIRMATIONS,
        signature_ids=signature_ids,
        moderator=moderator,
        now=now,
    )
