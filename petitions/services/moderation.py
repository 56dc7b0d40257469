"""Writes for staff moderation: confirm, reject, mark as spam, resend the confirmation.

Every action works on a batch of ids (what an admin changelist selects), locks the rows it
changes, records who did it, when and why on the rows and in the admin's audit log (LogEntry),
and leaves rows that are already in the wanted state alone, so running it twice changes nothing
the second time. Counts stay exact: a counted signature that a moderator removes is taken off
its petition's count in the same transaction; one a moderator approves is left to the batched
counter, like any confirmation.

The generic `moderation_*` functions serve letters' individual signatures too
(letters.moderation), which share the status, hold and moderation fields but have no counter.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from mechanisms.audit import audit_log
from mechanisms.queue import enqueue_after_commit
from petitions.models import Signature
from petitions.services.counting import petition_counts_subtract
from petitions.services.signing import signature_place_resolve

# What an approval sets on each row besides the place fields.
_CONFIRM_FIELDS = (
    "status",
    "confirmed_at",
    "held",
    "moderated_at",
    "moderated_by",
    "moderation_reason",
)
_PLACE_FIELDS = ("region", "locality", "postal_code_known", "country")
REASON_MAX_LENGTH = Signature._meta.get_field("moderation_reason").max_length
# Rows per UPDATE when approving a large selection (each row may get its own place).
_BULK_BATCH = 500


@dataclass(frozen=True)
class Moderated:
    """What a moderation action did: `done` rows changed, `skipped` selected ids left alone
    (already in that state, not eligible, or gone). `closed` counts those of the skipped that
    awaited confirmation on a campaign that no longer takes signatures."""

    done: int
    skipped: int
    closed: int = 0


def moderation_reason_clean(reason: str, *, required: bool = False) -> str:
    """The reason as stored: trimmed, present when required, and within its column."""
    reason = reason.strip()
    if required and not reason:
        raise ValidationError(_("Say why the signatures are rejected."), code="required")
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError(
            _("Keep the reason to %(limit)d characters or fewer.") % {"limit": REASON_MAX_LENGTH},
            code="max_length",
        )
    return reason


def _reason_message(action: str, reason: str) -> str:
    if not reason:
        return action
    return gettext("%(action)s Reason: %(reason)s") % {"action": action, "reason": reason}


def moderation_confirm(
    *,
    model: type[models.Model],
    signature_ids: Collection[int],
    moderator: User,
    campaign: str,
    campaign_open: Callable[[Any, datetime], bool],
    reason: str = "",
    place: Callable[[models.Model], dict[str, object]] | None = None,
    now: datetime | None = None,
) -> Moderated:
    """Approve pending or held signatures: each becomes confirmed and not held.

    A pending one is confirmed by the moderator instead of by its email link (it gets its place
    from `place`, as the link would have given it), but only while its campaign (the `campaign`
    foreign key; `campaign_open(campaign, now)` says whether it takes signatures) is open: the
    link itself no longer confirms once it closed. A held one the signer confirmed while it was
    open may still be approved. Rejected and spam ones are not brought back: the signer may
    have withdrawn, and a mistake is better undone by hand, one at a time. Anonymized rows have
    no signer left to vouch for.
    """
    now = now or timezone.now()
    wanted = set(signature_ids)
    status = model.Status
    with transaction.atomic():
        candidates = list(
            model._default_manager.filter(pk__in=wanted, anonymized_at__isnull=True)
            .filter(Q(status=status.PENDING) | Q(status=status.CONFIRMED, held=True))
            .select_related(campaign)
            # Only the signatures: the campaign row is read, and its lock is the counter's.
            .select_for_update(of=("self",))
            .order_by("pk")
        )
        rows = [
            row
            for row in candidates
            if row.status != status.PENDING or campaign_open(getattr(row, campaign), now)
        ]
        for row in rows:
            if row.status == status.PENDING:
                row.status, row.confirmed_at = status.CONFIRMED, now
                for field, value in (place(row) if place else {}).items():
                    setattr(row, field, value)
            row.held = False
            row.moderated_at, row.moderated_by, row.moderation_reason = now, moderator, reason
        fields = _CONFIRM_FIELDS + (_PLACE_FIELDS if place else ())
        model._default_manager.bulk_update(rows, fields, batch_size=_BULK_BATCH)
        audit_log(
            user=moderator,
            objects=rows,
            message=_reason_message(gettext("Approved by a moderator."), reason),
        )
    return Moderated(
        done=len(rows), skipped=len(wanted) - len(rows), closed=len(candidates) - len(rows)
    )


def moderation_remove(
    *,
    model: type[models.Model],
    signature_ids: Collection[int],
    moderator: User,
    status: str,
    reason: str,
    uncount: Callable[[list[models.Model]], None] | None = None,
    now: datetime | None = None,
) -> Moderated:
    """Reject signatures, or mark them as spam (`status`): they leave public lists, counts and
    deliveries, and are no longer held. Rows already in that state are left alone, so their
    count is never taken off twice. `uncount` runs inside the transaction, on the locked rows."""
    now = now or timezone.now()
    wanted = set(signature_ids)
    with transaction.atomic():
        rows = list(
            model._default_manager.filter(pk__in=wanted)
            .exclude(status=status)
            .select_for_update()
            .order_by("pk")
        )
        changes: dict[str, object] = {
            "status": status,
            "held": False,
            "moderated_at": now,
            "moderated_by": moderator,
            "moderation_reason": reason,
        }
        if uncount is not None:
            uncount(rows)
            changes["counted"] = False
        model._default_manager.filter(pk__in=[row.pk for row in rows]).update(**changes)
        action = (
            gettext("Marked as spam by a moderator.")
            if status == "spam"
            else gettext("Rejected by a moderator.")
        )
        audit_log(user=moderator, objects=rows, message=_reason_message(action, reason))
    return Moderated(done=len(rows), skipped=len(wanted) - len(rows))


def _uncount(rows: list[models.Model]) -> None:
    """Take counted signatures off their petitions' counts (the caller sets counted=False).

    The rows are locked, so the batched counter (which skips locked rows) cannot count them
    meanwhile, and the recount, which locks the petition first and only reads signatures, sees
    them either before or after this transaction, never half of it.
    """
    petition_counts_subtract(removed=Counter(row.petition_id for row in rows if row.counted))


def signatures_confirm(
    *, signature_ids: Collection[int], moderator: User, now: datetime | None = None
) -> Moderated:
    """Approve petition signatures; the batched counter then counts them."""
    return moderation_confirm(
        model=Signature,
        signature_ids=signature_ids,
        moderator=moderator,
        campaign="petition",
        campaign_open=lambda petition, now: petition.is_accepting_signatures(now=now),
        place=lambda row: signature_place_resolve(signature=row),
        now=now,
    )


def signatures_reject(
    *, signature_ids: Collection[int], moderator: User, reason: str, now: datetime | None = None
) -> Moderated:
    """Reject petition signatures, saying why; counted ones come off the count at once."""
    return moderation_remove(
        model=Signature,
        signature_ids=signature_ids,
        moderator=moderator,
        status=Signature.Status.REJECTED,
        reason=moderation_reason_clean(reason, required=True),
        uncount=_uncount,
        now=now,
    )


def signatures_mark_spam(
    *,
    signature_ids: Collection[int],
    moderator: User,
    reason: str = "",
    now: datetime | None = None,
) -> Moderated:
    """Mark petition signatures as spam; counted ones come off the count at once."""
    return moderation_remove(
        model=Signature,
        signature_ids=signature_ids,
        moderator=moderator,
        status=Signature.Status.SPAM,
        reason=moderation_reason_clean(reason),
        uncount=_uncount,
        now=now,
    )


def signatures_resend_confirmation(
    *, signature_ids: Collection[int], moderator: User, now: datetime | None = None
) -> Moderated:
    """Send pending signers their confirmation link again (a lost email, a signer who asks).

    The send bookkeeping starts over, so the send task, which sends only what it can claim,
    sends once more; confirmed, rejected and anonymized signatures get nothing.
    """
    now = now or timezone.now()
    wanted = set(signature_ids)
    with transaction.atomic():
        rows = list(
            Signature.objects.filter(
                pk__in=wanted, status=Signature.Status.PENDING, anonymized_at__isnull=True
            )
            .select_for_update()
            .order_by("pk")
            .only("pk")
        )
        Signature.objects.filter(pk__in=[row.pk for row in rows]).update(
            confirmation_sent_at=None,
            confirmation_claimed_at=None,
            confirmation_attempts=0,
            # Counts as the latest notice, so signing again right after sends no third email.
            notice_at=now,
            moderated_at=now,
            moderated_by=moderator,
            moderation_reason="",
        )
        audit_log(
            user=moderator,
            objects=rows,
            message=gettext("Confirmation email sent again by a moderator."),
        )
        from petitions.tasks import signature_send_confirmation

        for row in rows:
            enqueue_after_commit(signature_send_confirmation, row.pk)
    return Moderated(done=len(rows), skipped=len(wanted) - len(rows))
