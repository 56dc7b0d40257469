"""Writes about campaigns as a whole: opening and closing on their dates, milestones, updates to
signers and the way out of them. (Signing and counting live in petitions.services.)"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import WebhookEndpoint
from accounts.selectors import member_addresses
from mechanisms import outbox
from mechanisms.outbox import Recipient
from petitions import emails, webhook_events
from petitions.drafting.models import Review
from petitions.models import Petition, PetitionMilestone, PetitionUpdate, Signature
from petitions.services.counting import paper_batches_tally, petition_counts_update

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Transitions:
    opened: int
    closed: int


def petitions_open_and_close_due(*, now: datetime | None = None) -> Transitions:
    """Open scheduled drafts and close open petitions whose dates have come (run every minute).

    A draft opens by itself only if staff gave it an opening date; one without stays a draft.
    An organization's draft opens only once staff approved it (petitions.drafting), never while
    its editors are still writing it. Rows are locked and skipped by a concurrent run, so two
    runs at once change each petition once, and its sponsors' webhooks hear of it once.
    """
    now = now or timezone.now()
    with transaction.atomic():
        # Each row by one run (a concurrent one skips it); the ids for the sponsors' webhooks.
        opening = list(
            Petition.objects.select_for_update(skip_locked=True)
            .filter(
                Q(review="") | Q(review=Review.APPROVED),
                status=Petition.Status.DRAFT,
                opens_at__lte=now,
            )
            .exclude(closes_at__lte=now)
            .values_list("pk", flat=True)
        )
        opened = Petition.objects.filter(pk__in=opening).update(status=Petition.Status.OPEN)
        closing = list(
            Petition.objects.select_for_update(skip_locked=True)
            .filter(status=Petition.Status.OPEN, closes_at__lte=now)
            .values_list("pk", flat=True)
        )
        closed = Petition.objects.filter(pk__in=closing).update(
            status=Petition.Status.CLOSED, closed_at=now
        )
        webhook_events.petitions_changed(
            petition_ids=opening, event=WebhookEndpoint.Event.CAMPAIGN_PUBLISHED
        )
        webhook_events.petitions_changed(
            petition_ids=closing, event=WebhookEndpoint.Event.CAMPAIGN_CLOSED
        )
    if opened or closed:
        logger.info("Opened %d and closed %d petitions on their dates", opened, closed)
    return Transitions(opened=opened, closed=closed)


# --- Milestones -------------------------------------------------------------------------------


def petition_counts_and_milestones_update() -> dict[int, int]:
    """The counter's run: add newly confirmed signatures to their petitions' counts, then record
    the goals the new counts reached. Returns the increments."""
    added = petition_counts_update()
    tallied = paper_batches_tally()
    if added or tallied:
        petition_milestones_record(petition_ids=sorted(set(added) | set(tallied)))
    return added


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
    petition = Petition.objects.only("pk", "goal", "signature_count", "paper_count").get(
        pk=petition_id
    )
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
    petition = Petition.objects.get(pk=petition_id)
    outbox.emails_enqueue(
        kind=emails.MILESTONE,
        about=newest.pk,
        recipients=[
            Recipient(to=address, language=petition.language, ref={"milestone": newest.pk})
            for address in member_addresses(organizations=petition.sponsors.all())
        ],
    )
    PetitionMilestone.objects.filter(pk=newest.pk).update(notified_at=timezone.now())
    newest.petition = petition
    webhook_events.milestone_reached(milestone=newest)
    return newest


# --- Updates to signers -----------------------------------------------------------------------


def petition_update_publish(*, update_id: int, now: datetime | None = None) -> bool:
    """Publish an update on its petition's page and, if it asks to, owe it by email to every
    signer who consented (one outbox row each, written in this transaction). Publishing twice
    changes nothing. Returns whether this call published it."""
    now = now or timezone.now()
    with transaction.atomic():
        published = PetitionUpdate.objects.filter(pk=update_id, published_at__isnull=True).update(
            published_at=now
        )
        update = PetitionUpdate.objects.get(pk=update_id)
        if published and update.email_signers:
            PetitionUpdate.objects.filter(pk=update_id).update(mailing_started_at=now)
            signers = (
                _update_recipients(update)
                .order_by("pk")
                .values_list("pk", "email", "language")
                .iterator(chunk_size=2000)
            )
            outbox.emails_enqueue(
                kind=emails.UPDATE,
                about=update_id,
                recipients=(
                    Recipient(
                        to=address, language=language, ref={"update": update_id, "signature": pk}
                    )
                    for pk, address, language in signers
                ),
                now=now,
            )
    return bool(published)


def _update_recipients(update: PetitionUpdate) -> QuerySet[Signature]:
    return Signature.objects.filter(
        petition_id=update.petition_id,
        status=Signature.Status.CONFIRMED,
        held=False,
        consent_updates=True,
    )


def signature_unsubscribe(*, signature_id: int) -> None:
    """No more updates about this petition for this signer; safe to repeat."""
    Signature.objects.filter(Q(pk=signature_id), Q(consent_updates=True)).update(
        consent_updates=False
    )
