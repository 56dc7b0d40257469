"""Bounces and complaints: what mail providers' webhooks (django-anymail, mechanisms.
bounce_webhooks) and the bounce mailbox (mechanisms.bounce_mailbox) report about the emails Cosign
sent, and what each report means.

A report names an email by the Message-ID the outbox gave it (keyed, so a forged report cannot
name a row it never saw: mechanisms.message_ids) or by the provider's id kept on the outbox row.
A report that names no email of ours, or a recipient other than the one we mailed, is ignored. A
report heard twice (a provider's retry, a mailbox read again) is recorded once and acted on once:
BounceEvent is unique per source and event id.

- A hard bounce fails the outbox row, suppresses the address for updates (EmailSuppression, an
  HMAC of the canonical address) and does what the email's kind says (its rule, registered with
  bounce_rule_register): a pending signature becomes undeliverable and is never sent a link
  again; a delivery to an official fails, for staff to see.
- A soft bounce puts the email back in the outbox, within its attempts and backoff (the report's
  recipient, checked against the row's key, is the address it goes to again); past them it
  counts as a hard bounce.
- A complaint (a spam report) suppresses the address for updates, and the kind's rule
  unsubscribes the signer as the unsubscribe link does.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from mechanisms.mail import EmailKind
from mechanisms.message_ids import outbox_message_id_parse
from mechanisms.models import BounceEvent, EmailSuppression, OutboundEmail
from mechanisms.outbox import recipient_key
from mechanisms.outbox_sender import _backoff

logger = logging.getLogger(__name__)

Type = BounceEvent.Type
State = OutboundEmail.State

# What a report means for an email, as a kind's rule is told it.
UNDELIVERABLE = "undeliverable"
RETRYING = "retrying"
COMPLAINED = "complained"

_ADDRESS = re.compile(r"[^\s<>()\[\]\"',;:]+@[^\s<>()\[\]\"',;:]+")


@dataclass(frozen=True)
class BounceReport:
    """One report about one email, from any source."""

    source: str
    # Unique per source: the provider's event id, or what identifies a DSN's recipient line.
    event_id: str
    type: str
    # Our Message-ID as the report quotes it, or the provider's message id.
    message_id: str = ""
    recipient: str = ""
    status: str = ""
    description: str = ""


# (the email, what the report means for it, the report) -> what it did, for staff ("" = nothing)
BounceRule = Callable[[OutboundEmail, str, BounceReport], str]
_RULES: dict[str, BounceRule] = {}


def bounce_rule_register(*, kind: EmailKind, rule: BounceRule) -> None:
    """Say what a bounce or a complaint about an email of `kind` means to the app that sent it."""
    _RULES[kind.name] = rule


def address_scrub(text: str) -> str:
    """A mail server's diagnostic without the addresses in it (it often quotes the recipient):
    bounce records are kept for staff, not as a list of who bounced."""
    return _ADDRESS.sub("<address>", text or "")


def email_suppressed(*, recipient_key: str) -> bool:
    """Whether updates to the address with this key (mechanisms.outbox.recipient_key) are
    suppressed: it hard-bounced or complained."""
    return EmailSuppression.objects.filter(recipient_key=recipient_key).exists()


def _email_find(report: BounceReport) -> OutboundEmail | None:
    ours = outbox_message_id_parse(report.message_id)
    if ours is not None:
        return OutboundEmail.objects.filter(pk=ours.pk, kind=ours.kind).first()
    if report.message_id:
        return OutboundEmail.objects.filter(provider_message_id=report.message_id).first()
    return None


def bounce_record(*, report: BounceReport, now: datetime | None = None) -> BounceEvent | None:
    """Record one report and act on it, once. Returns its record (the earlier one for a report
    heard before, which does nothing more), or None when it was ignored."""
    now = now or timezone.now()
    email = _email_find(report)
    if email is None:
        logger.info(
            "Bounce report %s/%s ignored: it names no email of ours", report.source, report.event_id
        )
        return None
    if report.recipient and recipient_key(report.recipient) != email.recipient_key:
        logger.warning(
            "Bounce report %s/%s ignored: its recipient is not the one outbox email %s went to",
            report.source,
            report.event_id,
            email.pk,
        )
        return None
    with transaction.atomic():
        event, created = BounceEvent.objects.get_or_create(
            source=report.source[:32],
            event_id=report.event_id[:255],
            defaults={
                "type": report.type,
                "email": email,
                "email_kind": email.kind,
                "status": report.status[:32],
                "description": address_scrub(report.description)[:2000],
                "received_at": now,
            },
        )
        if not created:
            return event
        event.effect = _apply(email=email, report=report, now=now)[:300]
        event.save(update_fields=["effect"])
    logger.info(
        "Bounce %s on outbox email %s (%s): %s", report.type, email.pk, email.kind, event.effect
    )
    return event


def _apply(*, email: OutboundEmail, report: BounceReport, now: datetime) -> str:
    rule = _RULES.get(email.kind)
    if report.type == Type.COMPLAINT:
        _suppress(key=email.recipient_key, reason=Type.COMPLAINT, now=now)
        effects = [gettext("No more updates go to this address.")]
        if rule is not None:
            effects.append(rule(email, COMPLAINED, report))
        return " ".join(e for e in effects if e)
    if report.type == Type.SOFT and report.recipient:
        retried = _retry(email=email, report=report, now=now)
        if retried is not None:
            effects = [retried]
            if rule is not None:
                effects.append(rule(email, RETRYING, report))
            return " ".join(e for e in effects if e)
    # A hard bounce, or a soft one past the outbox's attempts: the address does not take mail.
    # The app's row first, then the outbox row: the order the sender takes their locks in.
    effects = []
    if rule is not None:
        effects.append(rule(email, UNDELIVERABLE, report))
    description = address_scrub(report.description or report.status)
    OutboundEmail.objects.filter(pk=email.pk).exclude(state=State.DROPPED).update(
        state=State.FAILED,
        claimed_until=None,
        recipient="",
        last_error=f"Bounced ({report.type}): {description}"[:1000],
    )
    _suppress(key=email.recipient_key, reason=Type.HARD, now=now)
    effects.insert(0, gettext("The email failed; no more updates go to this address."))
    return " ".join(e for e in effects if e)


def _retry(*, email: OutboundEmail, report: BounceReport, now: datetime) -> str | None:
    """Put a soft-bounced email back in the outbox with its backoff, if it has attempts left
    and is not in line already. None when it has none left (then it counts as a hard bounce)."""
    if email.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
        return None
    retried = OutboundEmail.objects.filter(pk=email.pk, state=State.SENT).update(
        state=State.PENDING,
        recipient=report.recipient,
        not_before=now + _backoff(email.attempts),
        last_error=f"Soft bounce: {address_scrub(report.description or report.status)}"[:1000],
    )
    if not retried:
        return gettext("The email was already waiting to be sent again.")
    return gettext("The email will be sent again (attempt %(next)d of %(max)d).") % {
        "next": email.attempts + 1,
        "max": settings.OUTBOX_MAX_ATTEMPTS,
    }


def _suppress(*, key: str, reason: str, now: datetime) -> None:
    EmailSuppression.objects.get_or_create(
        recipient_key=key, defaults={"reason": reason, "created_at": now}
    )


def bounces_prune(*, now: datetime | None = None) -> dict[str, int]:
    """Retention: bounce records after BOUNCE_KEEP_DAYS, suppressions after
    BOUNCE_SUPPRESSION_DAYS (an address may take mail again, and a key is still personal data)."""
    now = now or timezone.now()
    events, _ = BounceEvent.objects.filter(
        received_at__lt=now - timedelta(days=settings.BOUNCE_KEEP_DAYS)
    ).delete()
    suppressions, _ = EmailSuppression.objects.filter(
        Q(created_at__lt=now - timedelta(days=settings.BOUNCE_SUPPRESSION_DAYS))
    ).delete()
    return {"bounces_deleted": events, "suppressions_deleted": suppressions}
