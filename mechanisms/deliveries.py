"""The delivery protocol petitions and letters share: a delivery record (mechanisms.models.
DeliveryRecord, unique per what is delivered, to whom and when) owes its target one email in the
outbox, written in the transaction that creates the record. The record mirrors the email's fate
for staff (waiting, being sent, sent, failed and why), and staff retry a failed one from it.
Each app says what its email says (`build`) and when records are created."""

from __future__ import annotations

from collections.abc import Callable

from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext

from mechanisms import metrics, outbox
from mechanisms.bounces import (
    RETRYING,
    UNDELIVERABLE,
    BounceReport,
    address_scrub,
    bounce_rule_register,
)
from mechanisms.mail import EmailKind
from mechanisms.models import DeliveryRecord, OutboundEmail

# How a delivery's last error starts when the official's mail server returned it (the admin
# shows staff those deliveries).
BOUNCED_PREFIX = "Bounced: "


def delivery_kind(
    *,
    name: str,
    model: type[DeliveryRecord],
    build: Callable[[DeliveryRecord, OutboundEmail], EmailMultiAlternatives],
    related: tuple[str, ...] = (),
    on_sent: Callable[[int], None] | None = None,
) -> EmailKind:
    """Declare the email of one kind of delivery. `build(delivery, email)` renders it for a
    delivery not yet sent; what it writes on the delivery (counts) stays with this attempt.
    `on_sent(delivery_id)` runs in the sender's transaction once it is sent (webhooks)."""
    Status = DeliveryRecord.Status

    def built(email: OutboundEmail) -> EmailMultiAlternatives | None:
        delivery = (
            model._default_manager.select_related(*related)
            .filter(pk=email.ref.get("delivery"))
            .exclude(status=Status.SENT)
            .first()
        )
        if delivery is None:
            return None
        model._default_manager.filter(pk=delivery.pk).update(
            status=Status.SENDING, claimed_at=timezone.now(), attempts=F("attempts") + 1
        )
        delivery.refresh_from_db(fields=["claimed_at", "attempts"])
        return build(delivery, email)

    def sent(email: OutboundEmail) -> None:
        updated = (
            model._default_manager.filter(pk=email.ref.get("delivery"))
            .exclude(status=Status.SENT)
            .update(status=Status.SENT, sent_at=timezone.now(), last_error="")
        )
        if updated and on_sent is not None:
            on_sent(int(email.ref["delivery"]))

    def failed(email: OutboundEmail, error: str, final: bool) -> None:
        # Staff see a delivery that will not go by itself as failed, with the reason.
        metrics.delivery_failure_counted(outcome="failed" if final else "retrying")
        model._default_manager.filter(pk=email.ref.get("delivery")).exclude(
            status=Status.SENT
        ).update(status=Status.FAILED if final else Status.PENDING, last_error=error)

    def bounced(email: OutboundEmail, outcome: str, report: BounceReport) -> str:
        # The official's mail server returned it after it was sent: staff see the delivery
        # failed, with why, and may retry it once the address is mended; a soft bounce waits
        # for the outbox's next attempt.
        deliveries = model._default_manager.filter(pk=email.ref.get("delivery"))
        why = address_scrub(report.description or report.status)
        if outcome == RETRYING:
            deliveries.update(status=Status.PENDING, last_error=f"Soft bounce: {why}")
            return gettext("The delivery waits for the next attempt.")
        if outcome == UNDELIVERABLE:
            metrics.delivery_failure_counted(outcome="bounced")
            deliveries.update(
                status=Status.FAILED,
                last_error=BOUNCED_PREFIX + why,
            )
            return gettext("The delivery failed: staff see it among failed deliveries.")
        return ""

    kind = EmailKind(name, build=built, after_send=sent, after_failure=failed)
    bounce_rule_register(kind=kind, rule=bounced)
    return kind


def delivery_email_owe(
    *, kind: EmailKind, delivery_id: int, to: str, language: str, queue: bool = True
) -> int:
    """Owe the target of this (just created) delivery its email, in the caller's transaction."""
    return outbox.email_enqueue(
        kind=kind,
        to=to,
        language=language,
        about=delivery_id,
        ref={"delivery": delivery_id},
        queue=queue,
    )


def delivery_email_id(*, kind: EmailKind, delivery_id: int) -> int | None:
    return (
        OutboundEmail.objects.filter(kind=kind.name, about=str(delivery_id))
        .values_list("pk", flat=True)
        .first()
    )


def delivery_send_now(*, kind: EmailKind, delivery_id: int) -> bool:
    """Send one delivery's email here and now if it is owed and nobody else is sending it (a
    management command); returns whether this call sent it."""
    email_id = delivery_email_id(kind=kind, delivery_id=delivery_id)
    if email_id is None:
        return False
    return outbox.emails_send(email_ids=[email_id]).sent == 1


def delivery_retry(*, kind: EmailKind, model: type[DeliveryRecord], delivery_id: int) -> bool:
    """Put a failed delivery back in line with a fresh set of attempts; returns whether it was
    failed (a delivery in any other state is left alone)."""
    with transaction.atomic():
        retried = model._default_manager.filter(
            pk=delivery_id, status=DeliveryRecord.Status.FAILED
        ).update(status=DeliveryRecord.Status.PENDING, attempts=0, last_error="")
        email_id = delivery_email_id(kind=kind, delivery_id=delivery_id)
        if retried and email_id is not None:
            outbox.emails_retry(email_ids=[email_id])
    return bool(retried)
