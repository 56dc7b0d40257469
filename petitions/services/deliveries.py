"""Writes for delivering signatures to the officials each petition targets, and publishing what
they answer.

Each delivery is a row unique per (petition, target, period), created before anything is sent.
A worker claims it with a conditional UPDATE (pending -> sending) before the email goes out and
marks it sent afterwards, so a duplicated task or a second worker finds nothing to claim. A worker
that dies mid-send leaves the row "sending"; once its lease has passed, the sweep has it sent
again. The one window no protocol closes is a worker dying after the mail server accepted the
message but before the row says so: the retry then sends it again, under the same Message-ID, so
mail programs that deduplicate show it once. We prefer that to an official never hearing.
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mechanisms.mail import PERMANENT_MAIL_ERRORS, absolute_url, mail_send
from mechanisms.queue import enqueue_after_commit
from mechanisms.spreadsheet import csv_cell
from petitions import emails, routing
from petitions.models import (
    Delivery,
    DeliverySchedule,
    Petition,
    PetitionMilestone,
    PetitionUpdate,
    Response,
    Signature,
    Target,
)
from petitions.services import campaigns

logger = logging.getLogger(__name__)

# Each claim counts as an attempt; after this many the delivery fails and waits for a person.
MAX_DELIVERY_ATTEMPTS = 8
# A new delivery whose task has not claimed it by then was lost with the broker.
PENDING_GRACE = timedelta(minutes=3)
# A delivery given back after a transient error is retried by Celery with backoff (at most
# 600 s apart); one untouched for longer than this lost its retry.
RETRY_GRACE = timedelta(minutes=15)
SWEEP_LIMIT = 1000
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


def delivery_lease() -> timedelta:
    """How long a claimed delivery is left to its worker before another may take it over (read
    at each call, so a test's worker can be given a short one)."""
    return timedelta(seconds=settings.DELIVERY_LEASE_SECONDS)


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
        if enqueue:
            from petitions.tasks import delivery_send as delivery_send_task

            for delivery_id in created:
                enqueue_after_commit(delivery_send_task, delivery_id)
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
        signed = Signature.objects.filter(
            petition=petition,
            status=Signature.Status.CONFIRMED,
            held=False,
            confirmed_at__gte=_midnight(first_day),
            confirmed_at__lt=_midnight(first_day + timedelta(days=days)),
        ).exists()
        return period if signed else None
    return None


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


# --- Sending ----------------------------------------------------------------------------------


def delivery_send(*, delivery_id: int) -> bool:
    """Send one delivery if this call can claim it; returns whether it was sent now.

    A transient mail error gives the delivery back (pending) and is raised, for Celery to retry
    with backoff; a refused address, or the last allowed attempt failing, marks it failed for
    staff to see and retry, without raising.
    """
    now = timezone.now()
    claimed = (
        Delivery.objects.filter(pk=delivery_id, attempts__lt=MAX_DELIVERY_ATTEMPTS)
        .filter(
            Q(status=Delivery.Status.PENDING)
            | Q(status=Delivery.Status.SENDING, claimed_at__lt=now - delivery_lease())
        )
        .update(status=Delivery.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    )
    if not claimed:
        return False
    delivery = Delivery.objects.select_related("petition", "target").get(pk=delivery_id)
    mine = Delivery.objects.filter(pk=delivery_id, status=Delivery.Status.SENDING, claimed_at=now)
    try:
        total_count, new_count = _delivery_email_send(delivery=delivery, counted_at=now)
    except PERMANENT_MAIL_ERRORS as error:
        logger.warning("Delivery %s refused: %s", delivery_id, error)
        mine.update(status=Delivery.Status.FAILED, last_error=_describe(error))
        return False
    except Exception as error:
        if delivery.attempts >= MAX_DELIVERY_ATTEMPTS:
            logger.exception("Delivery %s failed for good", delivery_id)
            mine.update(status=Delivery.Status.FAILED, last_error=_describe(error))
            return False
        # Given back for the retry; claimed_at stays as the time of this attempt.
        mine.update(status=Delivery.Status.PENDING, last_error=_describe(error))
        raise
    updated = mine.update(
        status=Delivery.Status.SENT,
        sent_at=timezone.now(),
        total_count=total_count,
        new_count=new_count,
        last_error="",
    )
    if not updated:
        logger.error("Delivery %s was sent after its lease ran out", delivery_id)
    return True


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:1000]


def _delivery_email_send(*, delivery: Delivery, counted_at: datetime) -> tuple[int, int]:
    """Email the target their constituents as of `counted_at`; returns (total, new)."""
    petition, target = delivery.petition, delivery.target
    signatures = routing.constituents(petition_id=petition.pk, target=target).filter(
        confirmed_at__lte=counted_at
    )
    total_count = signatures.count()
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
        if previous is not None and previous.claimed_at is not None
        else total_count
    )
    with translation.override(petition.language):
        petition_url = absolute_url(petition.get_absolute_url())
        attachment = delivery_csv(signatures=signatures)
    mail_send(
        kind=emails.DELIVERY,
        about=delivery.pk,
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
        headers={"Message-ID": _message_id(delivery)},
        attachments=[(f"{petition.slug}-{delivery.period}.csv", attachment, "text/csv")],
    )
    return total_count, new_count


def _message_id(delivery: Delivery) -> str:
    domain = urlsplit(settings.SITE_URL).hostname or "localhost"
    return f"<delivery-{delivery.pk}@{domain}>"


def delivery_csv(*, signatures: QuerySet[Signature]) -> str:
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
    return buffer.getvalue()


def delivery_retry(*, delivery_id: int) -> bool:
    """Put a failed delivery back in line with a fresh set of attempts; returns whether it was
    failed (a delivery in any other state is left alone)."""
    with transaction.atomic():
        retried = Delivery.objects.filter(pk=delivery_id, status=Delivery.Status.FAILED).update(
            status=Delivery.Status.PENDING, attempts=0, claimed_at=None
        )
        if retried:
            from petitions.tasks import delivery_send as delivery_send_task

            enqueue_after_commit(delivery_send_task, delivery_id)
    return bool(retried)


def deliveries_resend_stale(*, now: datetime | None = None) -> int:
    """Have sent what a lost task or a dead worker left behind (run every minute): deliveries
    stuck "sending" past their lease, new ones never claimed, and ones whose retry was lost.
    One that used up its attempts while stuck is marked failed. Returns how many were queued."""
    now = now or timezone.now()
    lease_cutoff = now - delivery_lease()
    Delivery.objects.filter(
        status=Delivery.Status.SENDING,
        claimed_at__lt=lease_cutoff,
        attempts__gte=MAX_DELIVERY_ATTEMPTS,
    ).update(
        status=Delivery.Status.FAILED,
        last_error=_("The worker stopped during every attempt to send it."),
    )
    stale = Delivery.objects.filter(
        Q(status=Delivery.Status.SENDING, claimed_at__lt=lease_cutoff)
        | Q(status=Delivery.Status.PENDING, attempts=0, created_at__lt=now - PENDING_GRACE)
        | Q(status=Delivery.Status.PENDING, attempts__gt=0, claimed_at__lt=now - RETRY_GRACE),
        attempts__lt=MAX_DELIVERY_ATTEMPTS,
    )
    ids = list(stale.order_by("created_at").values_list("pk", flat=True)[:SWEEP_LIMIT])
    from petitions.tasks import delivery_send as delivery_send_task

    for delivery_id in ids:
        delivery_send_task.delay(delivery_id)
    if ids:
        logger.info("Queued %d stale deliveries again", len(ids))
    return len(ids)


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
    return True


def _markdown_quote(text: str) -> str:
    return "\n".join(f"> {line}".rstrip() for line in text.strip().splitlines())
