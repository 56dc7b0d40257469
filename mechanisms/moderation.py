"""Moderating signatures, for petitions and letters alike: approve, reject, mark as spam, send the
confirmation again.

Every action works on a batch of ids (what an admin changelist selects), locks the rows it
changes, records who did it, when and why on the rows and in the admin's audit log (LogEntry),
and leaves rows that are already in the wanted state alone, so running it twice changes nothing
the second time. What differs per app comes in as arguments: the model, the campaign foreign key
and whether it is open, where a confirmed signer lives (`place`), and how a removed signature
leaves a count (`uncount`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from mechanisms import metrics
from mechanisms.audit import audit_log
from mechanisms.confirmation import (
    CONFIRMED,
    PENDING,
    ConfirmationEmails,
    SignatureT,
    confirmations_resend,
)
from mechanisms.model_fields import field_max_length
from mechanisms.models import ModeratedSignature

if TYPE_CHECKING:
    # django-stubs' name for the AUTH_USER_MODEL class, which this layer cannot import.
    from django.contrib.auth.models import _User

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
REASON_MAX_LENGTH = field_max_length(model=ModeratedSignature, name="moderation_reason")
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
    model: type[SignatureT],
    signature_ids: Collection[int],
    moderator: _User,
    campaign: str,
    campaign_open: Callable[[Any, datetime], bool],
    reason: str = "",
    place: Callable[[SignatureT], dict[str, object]] | None = None,
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
    with transaction.atomic():
        candidates = list(
            model._default_manager.filter(pk__in=wanted, anonymized_at__isnull=True)
            .filter(Q(status=PENDING) | Q(status=CONFIRMED, held=True))
            .select_related(campaign)
            # Only the signatures: the campaign row is read, and its lock is the counter's.
            .select_for_update(of=("self",))
            .order_by("pk")
        )
        rows = [
            row
            for row in candidates
            if row.status != PENDING or campaign_open(getattr(row, campaign), now)
        ]
        newly_confirmed = 0
        for row in rows:
            if row.status == PENDING:
                newly_confirmed += 1
                row.status, row.confirmed_at = CONFIRMED, now
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
    metrics.signatures_counted(campaign=campaign, event="confirmed", count=newly_confirmed)
    return Moderated(
        done=len(rows), skipped=len(wanted) - len(rows), closed=len(candidates) - len(rows)
    )


def moderation_remove(
    *,
    model: type[SignatureT],
    signature_ids: Collection[int],
    moderator: _User,
    status: str,
    reason: str,
    uncount: Callable[[list[SignatureT]], None] | None = None,
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
    metrics.signatures_counted(
        campaign=_campaign_kind(model),
        event="spam" if status == "spam" else "rejected",
        count=len(rows),
    )
    return Moderated(done=len(rows), skipped=len(wanted) - len(rows))


def _campaign_kind(model: type[ModeratedSignature]) -> str:
    """ "petition" or "letter": the campaign foreign key a signature model has (this layer
    imports neither app)."""
    names = {field.name for field in model._meta.get_fields()}
    return "letter" if "letter" in names and "petition" not in names else "petition"


def moderation_resend_confirmation(
    *,
    model: type[SignatureT],
    emails: ConfirmationEmails,
    signature_ids: Collection[int],
    moderator: _User,
    now: datetime | None = None,
) -> Moderated:
    """Send pending signers their confirmation link again (a lost email, a signer who asks).

    Each request owes each signer one more email in the outbox, whatever the notice interval
    (mechanisms.confirmation); confirmed, rejected and anonymized signatures get nothing.
    """
    now = now or timezone.now()
    wanted = set(signature_ids)
    with transaction.atomic():
        rows = list(
            model._default_manager.filter(pk__in=wanted, status=PENDING, anonymized_at__isnull=True)
            .select_for_update()
            .order_by("pk")
            .only("pk", "email", "language")
        )
        model._default_manager.filter(pk__in=[row.pk for row in rows]).update(
            moderated_at=now, moderated_by=moderator, moderation_reason=""
        )
        audit_log(
            user=moderator,
            objects=rows,
            message=gettext("Confirmation email sent again by a moderator."),
        )
        confirmations_resend(emails=emails, signatures=rows, now=now)
    return Moderated(done=len(rows), skipped=len(wanted) - len(rows))
