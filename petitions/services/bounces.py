"""What a bounce or a complaint about a petition's email means (mechanisms.bounces calls these
rules): a pending signer's link that bounced makes the signature undeliverable, and a spam
report about an update unsubscribes its signer as the link in it would."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext

from mechanisms.addresses import email_canonicalize
from mechanisms.bounces import COMPLAINED, UNDELIVERABLE, BounceReport, bounce_rule_register
from mechanisms.models import OutboundEmail
from petitions.emails import NEW_LINK, UPDATE
from petitions.models import Signature
from petitions.services.campaigns import signature_unsubscribe


def new_link_bounced(email: OutboundEmail, outcome: str, report: BounceReport) -> str:
    # The row does not name the signature (its builder found it by the typed address): the
    # report's recipient, checked against the row's key by bounce_record, finds it the same way.
    if outcome != UNDELIVERABLE or not report.recipient:
        return ""
    marked = Signature.objects.filter(
        petition_id=email.ref.get("petition"),
        canonical_email=email_canonicalize(report.recipient),
        status=Signature.Status.PENDING,
        undeliverable_at__isnull=True,
        confirmation_sent_at__isnull=False,
    ).update(undeliverable_at=timezone.now())
    if not marked:
        return ""
    return gettext("The pending signature is undeliverable: no link goes to it again.")


def update_bounced(email: OutboundEmail, outcome: str, report: BounceReport) -> str:
    if outcome != COMPLAINED or not email.ref.get("signature"):
        return ""
    signature_unsubscribe(signature_id=int(email.ref["signature"]))
    return gettext("The signer is unsubscribed from this petition's updates.")


bounce_rule_register(kind=NEW_LINK, rule=new_link_bounced)
bounce_rule_register(kind=UPDATE, rule=update_bounced)
