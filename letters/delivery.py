"""Delivering a letter to its targets: when it is published, and again after each update."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from letters import emails, selectors
from letters.models import LetterDelivery, LetterUpdate, OpenLetter
from mechanisms.mail import PERMANENT_MAIL_ERRORS, TRANSIENT_MAIL_ERRORS
from mechanisms.queue import enqueue_after_commit

logger = logging.getLogger(__name__)

# A worker that died holding a claim gives it up after this; the sweep sends it again.
LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 8


def letter_deliveries_create(*, letter_id: int, update: LetterUpdate | None = None) -> int:
    """One delivery per target with an email for this occasion; creating it twice creates
    nothing more. Returns how many were created."""
    occasion = f"update-{update.pk}" if update else "published"
    letter = OpenLetter.objects.get(pk=letter_id)
    targets = list(letter.targets.filter(active=True).exclude(email=""))
    existing = LetterDelivery.objects.filter(letter=letter, occasion=occasion)
    before = existing.count()
    LetterDelivery.objects.bulk_create(
        [
            LetterDelivery(letter=letter, target=target, occasion=occasion, update=update)
            for target in targets
        ],
        ignore_conflicts=True,
    )
    from letters.tasks import letter_delivery_send

    # bulk_create with ignore_conflicts gives no ids: send whatever waits for this occasion.
    for pk in LetterDelivery.objects.filter(
        letter=letter, occasion=occasion, status=LetterDelivery.Status.PENDING
    ).values_list("pk", flat=True):
        enqueue_after_commit(letter_delivery_send, pk)
    return existing.count() - before


def letter_delivery_send(*, delivery_id: int) -> bool:
    """Claim, send, mark sent. A transient mail error gives the claim back and raises for a
    retry; a refused address, or too many attempts, marks it failed. Returns whether it sent."""
    now = timezone.now()
    claimed = (
        LetterDelivery.objects.filter(pk=delivery_id, attempts__lt=MAX_ATTEMPTS)
        .filter(
            Q(status=LetterDelivery.Status.PENDING)
            | Q(status=LetterDelivery.Status.SENDING, claimed_at__lt=now - LEASE)
        )
        .update(status=LetterDelivery.Status.SENDING, claimed_at=now)
    )
    if not claimed:
        return False
    delivery = LetterDelivery.objects.select_related("letter", "target", "update").get(
        pk=delivery_id
    )
    organizations = selectors.letter_organizations_public(letter=delivery.letter)
    LetterDelivery.objects.filter(pk=delivery_id).update(attempts=delivery.attempts + 1)
    try:
        emails.letter_delivery_send(delivery=delivery, organizations=organizations)
    except PERMANENT_MAIL_ERRORS as error:
        _give_back(delivery_id, status=LetterDelivery.Status.FAILED, error=error)
        return False
    except TRANSIENT_MAIL_ERRORS as error:
        failed = delivery.attempts + 1 >= MAX_ATTEMPTS
        _give_back(
            delivery_id,
            status=LetterDelivery.Status.FAILED if failed else LetterDelivery.Status.PENDING,
            error=error,
        )
        if failed:
            return False
        raise
    LetterDelivery.objects.filter(pk=delivery_id).update(
        status=LetterDelivery.Status.SENT,
        sent_at=timezone.now(),
        organization_count=len(organizations),
        last_error="",
    )
    return True


def _give_back(delivery_id: int, *, status: str, error: Exception) -> None:
    logger.warning("Letter delivery %s: %s", delivery_id, error)
    LetterDelivery.objects.filter(pk=delivery_id).update(
        status=status, claimed_at=None, last_error=str(error)[:1000]
    )


def letter_delivery_retry(*, delivery_id: int) -> bool:
    retried = LetterDelivery.objects.filter(
        pk=delivery_id, status=LetterDelivery.Status.FAILED
    ).update(status=LetterDelivery.Status.PENDING, attempts=0, claimed_at=None)
    if retried:
        from letters.tasks import letter_delivery_send as task

        enqueue_after_commit(task, delivery_id)
    return bool(retried)
