"""Writes for delivering signatures to the officials each petition targets, and publishing what
they answer.

Each delivery is a row unique per (petition, target, period), created with its email in the
outbox (mechanisms.outbox) in one transaction, so two schedulers, a task run twice or a dead
worker never send one twice and a lost task never loses one. The one window no protocol closes is
a worker dying after the mail server accepted the message but before the outbox says so: the
retry then sends it again, under the same Message-ID, so mail programs that deduplicate show it
once. We prefer that to an official never hearing.
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mechanisms.deliveries import delivery_email_owe, delivery_kind, delivery_send_now
from mechanisms.deliveries import delivery_retry as mechanisms_delivery_retry
from mechanisms.mail import absolute_url, message_render
from mechanisms.models import OutboundEmail
from mechanisms.spreadsheet import csv_cell
from petitions import routing, webhook_events
from petitions.models import (
    Delivery,
    DeliverySchedule,
    PaperBatch,
    PaperSignature,
    Petition,
    PetitionMilestone,
    PetitionUpdate,
    Response,
    Signature,
    Target,
)
from petitions.services import campaigns

logger = logging.getLogger(__name__)

CSV_CHUNK_SIZE = 2000
# What an official receives about each signer, in this order: the privacy page lists these, so
# adding a column here tells the public at once.
DELIVERY_CSV_COLUMNS = (
    gettext_lazy("name"),
    gettext_lazy("locality"),
    gettext_lazy("region"),
    gettext_lazy("date confirmed"),
    # The sign form tells signers their comment is delivered with their signature.
    gettext_lazy("comment"),
)

# Levels whose targets answer to the people of a place; the others hear from every signer.
_PLACE_LEVELS = (Target.Level.LOCAL, Target.Level.STATE, Target.Level.NATIONAL)


# --- Creating deliveries ----------------------------------------------------------------------


@dataclass(frozen=True)
class Created:
    delivery_ids: list[int]
    # Active targets of the petition that have no delivery email, so received nothing.
    without_email: list[Target]


def _has_news(petition: Petition, target: Target) -> bool:
    """Whether constituents confirmed after the previous sent delivery was claimed (as
    new_count counts them), or at all if nothing was sent yet."""
    previous = (
        Delivery.objects.filter(petition=petition, target=target, status=Delivery.Status.SENT)
        .order_by("-sent_at")
        .values_list("claimed_at", flat=True)
        .first()
    )
    news = routing.constituents(petition_id=petition.pk, target=target)
    if previous is not None:
        news = news.filter(confirmed_at__gt=previous)
    return news.exists()


def deliveries_create(*, petition: Petition, period: str, enqueue: bool = True) -> Created:
    """Create one pending delivery per active target with an email for this period, unless it
    exists, and (if `enqueue`) have each new one sent after commit. Safe to run twice at once:
    the unique (petition, target, period) row decides, and only the run that created a row
    enqueues it."""
    targets = list(petition.targets.filter(active=True).order_by("title", "pk"))
    # An official gets an email only when some of their constituents signed since the last one:
    # no "0 constituents" or "0 new" digests to hundreds of mayors every day.
    with_email = [target for target in targets if target.email and _has_news(petition, target)]
    without_email = [target for target in targets if not target.email]
    with transaction.atomic():
        existing = set(
            Delivery.objects.filter(petition=petition, period=period).values_list(
                "target_id", flat=True
            )
        )
        # In target order, so two runs inserting at once wait on each other, never deadlock.
        missing = sorted(target.pk for target in with_email if target.pk not in existing)
        if not missing:
            return Created(delivery_ids=[], without_email=without_email)
        # bulk_create with ignore_conflicts gives back no ids; this run's own timestamp tells
        # the rows it inserted from those a concurrent run inserted first.
        marker = timezone.now()
        Delivery.objects.bulk_create(
            [
                Delivery(petition=petition, target_id=pk, period=period, created_at=marker)
                for pk in missing
            ],
            ignore_conflicts=True,
        )
        created = list(
            Delivery.objects.filter(
                petition=petition, period=period, target_id__in=missing, created_at=marker
            )
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        emails_by_target = dict(Target.objects.filter(pk__in=missing).values_list("pk", "email"))
        for delivery_id, target_id in Delivery.objects.filter(pk__in=created).values_list(
            "pk", "target_id"
        ):
            delivery_email_owe(
                kind=DELIVERY,
                delivery_id=delivery_id,
                to=emails_by_target[target_id],
                language=petition.language,
                queue=enqueue,
            )
    return Created(delivery_ids=created, without_email=without_email)


def deliveries_schedule(*, now: datetime | None = None) -> int:
    """Create the deliveries each petition's schedule makes due now (beat runs this every few
    minutes; a period's rows are created once however often it runs). Returns how many were
    created."""
    now = now or timezone.now()
    petitions = (
        Petition.objects.exclude(delivery_schedule=DeliverySchedule.NONE)
        .filter(status__in=(Petition.Status.OPEN, Petition.Status.CLOSED))
        .filter(targets__active=True)
        .distinct()
        .order_by("pk")
    )
    created = 0
    without_email = 0
    for petition in petitions:
        period = _period_due(petition=petition, now=now)
        if period is None:
            continue
        result = deliveries_create(petition=petition, period=period)
        created += len(result.delivery_ids)
        if result.delivery_ids:
            without_email += len(result.without_email)
    if created or without_email:
        logger.info(
            "Scheduled %d deliveries; skipped %d targets without a delivery email",
            created,
            without_email,
        )
    return created


def _period_due(*, petition: Petition, now: datetime) -> str | None:
    schedule = petition.delivery_schedule
    ended = petition.status == Petition.Status.CLOSED or (
        petition.closes_at is not None and petition.closes_at <= now
    )
    if schedule == DeliverySchedule.CLOSE:
        return "close" if ended else None
    if schedule == DeliverySchedule.MILESTONE:
        if petition.status != Petition.Status.OPEN:
            return None
        # Like the sponsors' notice, a batch that passes two goals makes one delivery, about
        # the highest; older goals not delivered by then are covered by it.
        goal = (
            PetitionMilestone.objects.filter(petition=petition)
            .order_by("-goal")
            .values_list("goal", flat=True)
            .first()
        )
        return None if goal is None else f"goal-{goal}"
    if schedule in (DeliverySchedule.DAILY, DeliverySchedule.WEEKLY):
        today = timezone.localdate(now)
        if schedule == DeliverySchedule.DAILY:
            first_day = today - timedelta(days=1)
            period = first_day.isoformat()
            days = 1
        else:
            first_day = today - timedelta(days=today.isoweekday() - 1 + 7)
            year, week, _weekday = first_day.isocalendar()
            period = f"{year}-W{week:02d}"
            days = 7
        # Only a period in which someone signed: a quiet petition (or one that closed long
        # ago) writes to nobody. One that closed during the period still delivers its end.
        signed = (
            Signature.objects.filter(
                petition=petition,
                status=Signature.Status.CONFIRMED,
                held=False,
                confirmed_at__gte=_midnight(first_day),
                confirmed_at__lt=_midnight(first_day + timedelta(days=days)),
            ).exists()
            or PaperBatch.objects.filter(
                petition=petition,
                counted_at__gte=_midnight(first_day),
                counted_at__lt=_midnight(first_day + timedelta(days=days)),
            ).exists()
        )
        return period if signed else None
    return None


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


# --- Sending ----------------------------------------------------------------------------------


def _delivery_message(delivery: Delivery, email: OutboundEmail) -> EmailMultiAlternatives:
    """The email to the target, with their constituents as of the claim (claimed_at): the counts
    are written on the delivery, for the next delivery's "new" to start there."""
    counted_at = delivery.claimed_at or timezone.now()
    petition, target = delivery.petition, delivery.target
    signatures = routing.constituents(petition_id=petition.pk, target=target).filter(
        confirmed_at__lte=counted_at
    )
    # Paper signatures join a delivery once their batch is counted (they have no confirmation).
    paper = routing.paper_constituents(petition_id=petition.pk, target=target).filter(
        batch__counted_at__lte=counted_at
    )
    total_count = signatures.count() + paper.count()
    previous = (
        Delivery.objects.filter(
            petition_id=petition.pk, target_id=target.pk, status=Delivery.Status.SENT
        )
        .exclude(pk=delivery.pk)
        .order_by("-sent_at")
        .first()
    )
    # The previous delivery counted up to its claim, so "new" starts there: a signature
    # confirmed while that email was in flight is new now rather than lost between the two.
    new_count = (
        signatures.filter(confirmed_at__gt=previous.claimed_at).count()
        + paper.filter(batch__counted_at__gt=previous.claimed_at).count()
        if previous is not None and previous.claimed_at is not None
        else total_count
    )
    Delivery.objects.filter(pk=delivery.pk).update(total_count=total_count, new_count=new_count)
    with translation.override(petition.language):
        petition_url = absolute_url(petition.get_absolute_url())
        attachment = delivery_csv(signatures=signatures, paper=paper)
    return message_render(
        to=target.email,
        language=petition.language,
        template="petitions/email/delivery",
        context={
            "petition": petition,
            "petition_url": petition_url,
            "target": target,
            "delivery": delivery,
            "total_count": total_count,
            "new_count": new_count,
            "is_constituency": target.level in _PLACE_LEVELS,
        },
        attachments=[(f"{petition.slug}-{delivery.period}.csv", attachment, "text/csv")],
    )


DELIVERY = delivery_kind(
    name="petition_delivery",
    model=Delivery,
    build=_delivery_message,  # type: ignore[arg-type]
    related=("petition", "target"),
    on_sent=webhook_events.delivery_sent,
)


def delivery_send(*, delivery_id: int) -> bool:
    """Send one delivery here and now (the `deliver` command); whether this call sent it."""
    return delivery_send_now(kind=DELIVERY, delivery_id=delivery_id)


def delivery_csv(
    *, signatures: QuerySet[Signature], paper: QuerySet[PaperSignature] | None = None
) -> str:
    """The signatures as a CSV: the name each signer chose to show, their place and the date
    they confirmed. Never an email or postal address; every cell safe from formula injection.
    Call in the reader's language (the header, "Name withheld")."""
    buffer = io.StringIO()
    # Every cell quoted, so a ";" in a name never splits it into a new cell (and formula) in a
    # spreadsheet whose list separator is ";"; csv_cell guards each cell's start.
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL)
    writer.writerow([csv_cell(str(cell)) for cell in DELIVERY_CSV_COLUMNS])
    rows = (
        signatures.only("name", "display", "locality", "region", "confirmed_at", "comment")
        .order_by("confirmed_at", "pk")
        .iterator(chunk_size=CSV_CHUNK_SIZE)
    )
    for signature in rows:
        writer.writerow(
            [
                csv_cell(signature.public_name),
                csv_cell(signature.locality),
                csv_cell(signature.region),
                csv_cell(timezone.localdate(signature.confirmed_at).isoformat()),
                csv_cell(signature.comment),
            ]
        )
    # Paper signers chose no display: shown as first name and initial, as the sheet says.
    paper_rows = (
        paper.select_related("batch").order_by("batch__counted_at", "pk")
        if paper is not None
        else []
    )
    for row in paper_rows:
        counted_at = row.batch.counted_at or timezone.now()
        writer.writerow(
            [
                csv_cell(Signature(name=row.name, display=Signature.Display.SHORT).public_name),
                csv_cell(row.locality),
                csv_cell(row.region),
                csv_cell(timezone.localdate(counted_at).isoformat()),
                csv_cell(str(_("Signed on paper"))),
            ]
        )
    return buffer.getvalue()


def delivery_retry(*, delivery_id: int) -> bool:
    """Put a failed delivery back in line; whether it was failed."""
    return mechanisms_delivery_retry(kind=DELIVERY, model=Delivery, delivery_id=delivery_id)


# --- Responses --------------------------------------------------------------------------------


def response_publish(*, response_id: int) -> bool:
    """Publish a target's response as an update on the petition, emailed to the signers who
    asked for updates. Once: a second call finds the update linked and does nothing. Returns
    whether this call published it."""
    with transaction.atomic():
        response = Response.objects.select_for_update().select_related("target").get(pk=response_id)
        if response.update_id is not None:
            return False
        fields: dict[str, str] = {}
        for language, _name in settings.LANGUAGES:
            with translation.override(language):
                fields[f"title_{language}"] = _("Response from %(target)s") % {
                    "target": response.target.title
                }
            # The official's own words, the same in every language.
            fields[f"body_{language}"] = _markdown_quote(response.text)
        update = PetitionUpdate.objects.create(
            petition_id=response.petition_id, email_signers=True, **fields
        )
        response.update = update
        response.save(update_fields=["update"])
        campaigns.petition_update_publish(update_id=update.pk)
        webhook_events.response_published(response=response)
    return True


def _markdown_quote(text: str) -> str:
    return "\n".join(f"> {line}".rstrip() for line in text.strip().splitlines())
