"""Writes about campaigns as a whole: opening and closing on their dates, milestones, updates to
signers and the way out of them. (Signing and counting live in petitions.services.)"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from mechanisms.mail import PERMANENT_MAIL_ERRORS
from mechanisms.queue import enqueue_after_commit
from petitions import emails
from petitions.models import Petition, PetitionMilestone, PetitionUpdate, Signature, UpdateEmail

logger = logging.getLogger(__name__)

UPDATE_BATCH_SIZE = 500


@dataclass(frozen=True)
class Transitions:
    opened: int
    closed: int


def petitions_open_and_close_due(*, now: datetime | None = None) -> Transitions:
    """Open scheduled drafts and close open petitions whose dates have come (run every minute).

    A draft opens by itself only if staff gave it an opening date; one without stays a draft.
    Each is one conditional UPDATE, so two runs at once change each petition once.
    """
    now = now or timezone.now()
    opened = (
        Petition.objects.filter(status=Petition.Status.DRAFT, opens_at__lte=now)
        .exclude(closes_at__lte=now)
        .update(status=Petition.Status.OPEN)
    )
    closed = Petition.objects.filter(status=Petition.Status.OPEN, closes_at__lte=now).update(
        status=Petition.Status.CLOSED, closed_at=now
    )
    if opened or closed:
        logger.info("Opened %d and closed %d petitions on their dates", opened, closed)
    return Transitions(opened=opened, closed=closed)


# --- Milestones -------------------------------------------------------------------------------


def petition_milestones_record(*, petition_ids: Iterable[int]) -> list[int]:
    """Record each goal the petitions' counts have reached; have sponsors told of the new ones.

    When one batch jumps several steps (0 to 300 passes 100 and 250), sponsors hear of the highest
    only. Two counters racing are serialized on the petition row, and only once a new goal is
    seen, so the usual run takes no lock; the unique (petition, goal) row is the last guard.
    Returns the ids of milestones whose email is queued.
    """
    queued = []
    for petition_id in petition_ids:
        if _new_goals(petition_id=petition_id):
            with transaction.atomic():
                milestone = _milestones_record_locked(petition_id=petition_id)
            if milestone is not None:
                queued.append(milestone.pk)
    return queued


def _new_goals(*, petition_id: int) -> list[int]:
    petition = Petition.objects.only("pk", "goal", "signature_count").get(pk=petition_id)
    known = set(PetitionMilestone.objects.filter(petition=petition).values_list("goal", flat=True))
    return [goal for goal in petition.goals_reached() if goal not in known]


def _milestones_record_locked(*, petition_id: int) -> PetitionMilestone | None:
    Petition.objects.select_for_update().filter(pk=petition_id).values_list("pk").get()
    new = _new_goals(petition_id=petition_id)  # again, now that no other counter is here
    if not new:
        return None
    created = PetitionMilestone.objects.bulk_create(
        PetitionMilestone(petition_id=petition_id, goal=goal) for goal in new
    )
    *passed, newest = created
    # Steps overtaken in the same batch count as told: one email, about the highest.
    PetitionMilestone.objects.filter(pk__in=[m.pk for m in passed]).update(
        notified_at=timezone.now()
    )
    from petitions.tasks import petition_milestone_notify

    enqueue_after_commit(petition_milestone_notify, newest.pk)
    return newest


def petition_milestone_notify(*, milestone_id: int) -> int:
    """Email the people of the sponsoring organizations, once: the conditional UPDATE claims the
    milestone, so a duplicated or redelivered task sends nothing. Returns how many were emailed."""
    claimed = PetitionMilestone.objects.filter(pk=milestone_id, notified_at__isnull=True).update(
        notified_at=timezone.now()
    )
    if not claimed:
        return 0
    milestone = PetitionMilestone.objects.select_related("petition").get(pk=milestone_id)
    recipients = list(
        User.objects.filter(
            is_active=True,
            memberships__organization__in=milestone.petition.sponsors.all(),
        )
        .values_list("email", flat=True)
        .distinct()
        .order_by("email")
    )
    for address in recipients:
        emails.milestone_email_send(milestone=milestone, to=address)
    return len(recipients)


# --- Updates to signers -----------------------------------------------------------------------


def petition_update_publish(*, update_id: int, now: datetime | None = None) -> bool:
    """Publish an update on its petition's page and, if it asks to, email it to the signers who
    consented. Publishing twice changes nothing. Returns whether this call published it."""
    now = now or timezone.now()
    published = PetitionUpdate.objects.filter(pk=update_id, published_at__isnull=True).update(
        published_at=now
    )
    if published and PetitionUpdate.objects.filter(pk=update_id, email_signers=True).exists():
        from petitions.tasks import petition_update_mail

        enqueue_after_commit(petition_update_mail, update_id)
    return bool(published)


def _update_recipients(update: PetitionUpdate):
    return Signature.objects.filter(
        petition_id=update.petition_id,
        status=Signature.Status.CONFIRMED,
        held=False,
        consent_updates=True,
    )


def petition_update_mail(*, update_id: int, batch_size: int = UPDATE_BATCH_SIZE) -> int:
    """Split an update's mailing into batches, once (claimed by a conditional UPDATE).

    A row per recipient is written before any email goes out, in the same transaction that
    claims the mailing, so the batches know exactly whom to send to. Returns the batch count.
    """
    with transaction.atomic():
        claimed = PetitionUpdate.objects.filter(
            pk=update_id, published_at__isnull=False, mailing_started_at__isnull=True
        ).update(mailing_started_at=timezone.now())
        if not claimed:
            return 0
        update = PetitionUpdate.objects.get(pk=update_id)
        recipient_ids = list(_update_recipients(update).order_by("pk").values_list("pk", flat=True))
        UpdateEmail.objects.bulk_create(
            [UpdateEmail(update_id=update_id, signature_id=pk) for pk in recipient_ids],
            batch_size=2000,
            ignore_conflicts=True,
        )
    from petitions.tasks import petition_update_send_batch

    batches = [
        recipient_ids[start : start + batch_size]
        for start in range(0, len(recipient_ids), batch_size)
    ]
    for batch in batches:
        petition_update_send_batch.delay(update_id, batch[0], batch[-1])
    return len(batches)


def petition_update_send_batch(*, update_id: int, first_id: int, last_id: int) -> int:
    """Send one batch of an update, each email at most once.

    Each recipient's row is claimed (sent_at set) by a conditional UPDATE before its email goes
    out and released if sending fails, so a batch run twice, or retried after a failure, sends
    only what was not sent. An address the server refuses for good is marked failed and the
    batch goes on; any other error stops it for a retry. Someone who unsubscribed meanwhile is
    skipped. Returns emails sent.
    """
    update = PetitionUpdate.objects.select_related("petition").get(pk=update_id)
    pending = (
        UpdateEmail.objects.filter(
            update_id=update_id,
            sent_at__isnull=True,
            failed_at__isnull=True,
            signature_id__gte=first_id,
            signature_id__lte=last_id,
        )
        .filter(signature__in=_update_recipients(update))
        .select_related("signature__petition")
        .order_by("signature_id")
    )
    sent = 0
    for row in pending:
        now = timezone.now()
        if not UpdateEmail.objects.filter(pk=row.pk, sent_at__isnull=True).update(sent_at=now):
            continue
        try:
            emails.update_email_send(update=update, signature=row.signature)
        except PERMANENT_MAIL_ERRORS:
            logger.warning("Update %s refused for signature %s", update_id, row.signature_id)
            UpdateEmail.objects.filter(pk=row.pk).update(sent_at=None, failed_at=now)
            continue
        except Exception:
            UpdateEmail.objects.filter(pk=row.pk, sent_at=now).update(sent_at=None)
            raise
        sent += 1
    return sent


# A batch that has not sent its rows by then was lost (a broker that dropped the task, a worker
# killed before it queued the batches) or gave up retrying: the sweep queues it again. Above
# the longest retry wait, so it never races a retry that is still coming.
UPDATE_RESEND_AFTER = timedelta(minutes=15)


def petition_update_emails_resend_lost(*, now: datetime | None = None) -> int:
    """Queue again the batches of update emails that are neither sent nor refused long after
    their mailing started. Batches send only unsent rows, so this never sends twice.
    Returns how many batches were queued."""
    now = now or timezone.now()
    lost = (
        UpdateEmail.objects.filter(
            sent_at__isnull=True,
            failed_at__isnull=True,
            update__mailing_started_at__lt=now - UPDATE_RESEND_AFTER,
        )
        .order_by("update_id", "signature_id")
        .values_list("update_id", "signature_id")
    )
    from petitions.tasks import petition_update_send_batch

    queued = 0
    batch: list[int] = []
    current = None
    for update_id, signature_id in lost.iterator(chunk_size=2000):
        if update_id != current or len(batch) == UPDATE_BATCH_SIZE:
            if batch:
                petition_update_send_batch.delay(current, batch[0], batch[-1])
                queued += 1
            current, batch = update_id, []
        batch.append(signature_id)
    if batch:
        petition_update_send_batch.delay(current, batch[0], batch[-1])
        queued += 1
    if queued:
        logger.warning("Queued %d lost batches of update emails again", queued)
    return queued


def signature_unsubscribe(*, signature_id: int) -> None:
    """No more updates about this petition for this signer; safe to repeat."""
    Signature.objects.filter(Q(pk=signature_id), Q(consent_updates=True)).update(
        consent_updates=False
    )
