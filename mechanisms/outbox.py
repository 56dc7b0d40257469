"""The outbox: every email Cosign sends, once.

An app that owes someone an email writes an OutboundEmail row in the transaction that makes it
due (email_enqueue, emails_enqueue), and publishes nothing: the dispatcher
(mechanisms.outbox_sender.emails_dispatch, ticked every OUTBOX_DISPATCH_SECONDS by the
`outbox_dispatch` task) claims due rows in batches under a lease, renders each with its kind's
builder, sends it and marks it sent, one SMTP connection per run. So:

- two dispatchers, or a dispatcher and a command sending in-process, send a row once (the claim);
- a worker killed mid-batch leaves the rows it had not recorded to their lease, after which the
  dispatcher claims them again; a request never depended on the broker at all;
- a transient SMTP error puts the row back with a backoff, a permanent one fails it, and after
  OUTBOX_MAX_ATTEMPTS it fails for staff to see and retry in the admin (emails_retry);
- the uniqueness of (kind, about, recipient) is a database constraint: one email per kind,
  subject and person, or per notice period for kinds with a cooldown.

In-process (development, most tests: CELERY_TASK_ALWAYS_EAGER) there is no dispatcher: a row is
sent after its commit (send_soon). The sweep (emails_sweep) is the backstop for a site whose
dispatcher is not ticking, and fails the rows a dead worker held on their last attempt.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connections, router
from django.db.models import Count, Expression, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.crypto import salted_hmac

from mechanisms.addresses import email_canonicalize
from mechanisms.mail import EmailKind
from mechanisms.model_fields import field_column
from mechanisms.models import EmailSuppression, OutboundEmail
from mechanisms.outbox_sender import (  # noqa: F401 (the outbox's API, with the sending half)
    BATCH_SIZE,
    Sent,
    emails_dispatch,
    emails_send,
    exhausted_fail,
)
from mechanisms.queue import enqueue_after_commit, enqueue_now
from mechanisms.tasks import outbox_send
from mechanisms.upsert import row_insert_or_find

logger = logging.getLogger(__name__)

State = OutboundEmail.State
# Ids per send task (in-process sends and the sweep's backstop).
SEND_CHUNK = BATCH_SIZE


def recipient_key(address: str) -> str:
    # Canonical, so `jane+1@x` and `Jane+2@X` are one recipient; an HMAC, so the key kept after
    # the address is cleared does not say whose it was.
    return salted_hmac(
        "cosign.outbox.recipient", email_canonicalize(address), algorithm="sha256"
    ).hexdigest()


# The unique constraint that makes an email once per kind, subject and recipient.
ONCE = "mechanisms_outbound_email_once"


def about_key(*, kind: EmailKind, about: object, now: datetime) -> str:
    """What makes the row unique besides kind and recipient: the subject, and for a kind with a
    cooldown the period `now` falls in, so the next period may send again."""
    return f"{about}{about_period(kind=kind, now=now)}"[:100]


def about_period(*, kind: EmailKind, now: datetime) -> str:
    """What about_key adds to the subject: "@<period>" for a kind with a cooldown, else "". (For
    a statement that knows the subject only in SQL: mechanisms.confirmation.)"""
    seconds = kind.cooldown_seconds
    return f"@{int(now.timestamp()) // seconds}" if seconds > 0 else ""


def email_row(
    *, kind: EmailKind, to: str, about: object, language: str, ref: dict[str, Any], now: datetime
) -> OutboundEmail:
    """The row email_enqueue writes (unique on ONCE), for a caller that writes it in a statement
    of its own."""
    return OutboundEmail(
        kind=kind.name,
        about=about_key(kind=kind, about=about, now=now),
        recipient=to,
        recipient_key=recipient_key(to),
        language=language,
        ref=ref,
        not_before=now,
        created_at=now,
    )


def email_enqueue(
    *,
    kind: EmailKind,
    to: str,
    language: str,
    about: object = "",
    ref: dict[str, Any] | None = None,
    now: datetime | None = None,
    queue: bool = True,
) -> int:
    """Owe `to` one email of `kind` about `about`, in the caller's transaction, and queue its send
    after the commit. Returns the row's id: a new one, or the row already owed or sent for the
    same kind, subject and recipient (in this notice period), which the queued send then leaves
    alone. Either way the same work is done, so a caller's response time says nothing about
    whether the email was new. With `queue` False the row waits for whoever sends it in-process
    (a management command), or for the sweep."""
    row = email_row(
        kind=kind, to=to, about=about, language=language, ref=ref or {}, now=now or timezone.now()
    )
    email_id = row_insert_or_find(instance=row, constraint=ONCE)
    if queue:
        send_soon([email_id])
    return email_id


def send_soon(email_ids: Sequence[int]) -> None:
    """Have these just-written rows sent once the caller's transaction commits.

    In production that is the dispatcher's job (mechanisms.outbox_dispatch): it finds due rows
    within about a second, so a request publishes nothing per email. In-process (development,
    most tests: CELERY_TASK_ALWAYS_EAGER) there is no dispatcher, and the send runs after the
    commit, as a task would.
    """
    # Celery's own setting, not Django's copy: a test may switch the app to a real broker.
    if outbox_send.app.conf.task_always_eager:
        for start in range(0, len(email_ids), SEND_CHUNK):
            enqueue_after_commit(outbox_send, list(email_ids[start : start + SEND_CHUNK]))


@dataclass(frozen=True)
class Recipient:
    to: str
    language: str
    ref: dict[str, Any] = field(default_factory=dict)


def emails_enqueue(
    *,
    kind: EmailKind,
    about: object,
    recipients: Iterable[Recipient],
    now: datetime | None = None,
    batch_size: int = 1000,
) -> int:
    """Owe each recipient one email of `kind` about `about` (an update to its subscribers, a
    notice to an organization's members) and queue their sends, SEND_CHUNK per task, after the
    commit. Recipients already owed or sent this email are skipped. Returns how many were new."""
    now = now or timezone.now()
    created = 0
    batch: list[OutboundEmail] = []

    def flush() -> None:
        nonlocal created
        ids = _insert_new(batch)
        created += len(ids)
        send_soon(ids)
        batch.clear()

    for recipient in recipients:
        batch.append(
            email_row(
                kind=kind,
                to=recipient.to,
                about=about,
                language=recipient.language,
                ref=recipient.ref,
                now=now,
            )
        )
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()
    return created


def _insert_new(rows: Sequence[OutboundEmail]) -> list[int]:
    """INSERT the rows that are not there yet, in one statement; returns the new rows' ids."""
    if not rows:
        return []
    meta = OutboundEmail._meta
    connection = connections[router.db_for_write(OutboundEmail)]
    quote = connection.ops.quote_name
    fields = [f for f in meta.local_concrete_fields if not f.primary_key]
    values: list[Any] = []
    for row in rows:
        values += [f.get_db_prep_save(f.pre_save(row, True), connection) for f in fields]
    one = f"({', '.join(['%s'] * len(fields))})"
    # Only quoted names from the model's own metadata are interpolated; values are parameters.
    statement = (
        f"INSERT INTO {quote(meta.db_table)} "  # noqa: S608
        f"({', '.join(quote(field_column(field=f)) for f in fields)}) "
        f"VALUES {', '.join([one] * len(rows))} "
        f"ON CONFLICT DO NOTHING RETURNING {quote(field_column(field=meta.pk))}"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, values)
        return [int(pk) for (pk,) in cursor.fetchall()]


# --- The sweep and staff's retry --------------------------------------------------------------


def emails_sweep(*, now: datetime | None = None, limit: int = 20_000) -> int:
    """The backstop of the dispatcher (run every OUTBOX_SWEEP_SECONDS): queue send tasks for what
    it has not taken, should it not be ticking: rows owed for over OUTBOX_SWEEP_AGE_SECONDS,
    retries past their backoff, rows a dead worker held once its lease ran out. Rows out of
    attempts are failed. Returns how many were queued."""
    now = now or timezone.now()
    exhausted_fail(now=now)
    grace = now - timedelta(seconds=settings.OUTBOX_SWEEP_AGE_SECONDS)
    ids = list(
        OutboundEmail.objects.filter(attempts__lt=settings.OUTBOX_MAX_ATTEMPTS)
        .filter(
            Q(state=State.PENDING, attempts=0, not_before__lt=grace)
            | Q(state=State.PENDING, attempts__gt=0, not_before__lte=now)
            | Q(state=State.SENDING, claimed_until__lt=now)
        )
        .order_by("not_before")
        .values_list("pk", flat=True)[:limit]
    )
    for start in range(0, len(ids), SEND_CHUNK):
        enqueue_now(outbox_send, ids[start : start + SEND_CHUNK])
    if ids:
        logger.info("The outbox sweep queued %d emails", len(ids))
    return len(ids)


def emails_retry(*, email_ids: Iterable[int]) -> int:
    """Put failed emails back in line with a fresh set of attempts (staff's admin action).
    Returns how many were failed and are now queued."""
    ids = list(
        OutboundEmail.objects.filter(pk__in=list(email_ids), state=State.FAILED).values_list(
            "pk", flat=True
        )
    )
    OutboundEmail.objects.filter(pk__in=ids, state=State.FAILED).update(
        state=State.PENDING, attempts=0, not_before=timezone.now(), claimed_until=None
    )
    send_soon(ids)
    return len(ids)


def emails_prune(*, now: datetime | None = None) -> int:
    """Delete sent and dropped rows older than OUTBOX_KEEP_DAYS (their address is gone already;
    what is left is the uniqueness that kept them from going twice, needed no longer)."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.OUTBOX_KEEP_DAYS)
    deleted, _ = OutboundEmail.objects.filter(
        state__in=(State.SENT, State.DROPPED), created_at__lt=cutoff
    ).delete()
    return deleted


def emails_forget(*, canonical_email: str) -> int:
    """Drop the emails not yet sent to this person, and their address (someone who withdrew
    everything), and forget that their address bounced or complained (mechanisms.bounces).
    Returns how many emails were dropped."""
    key = recipient_key(canonical_email)
    EmailSuppression.objects.filter(recipient_key=key).delete()
    return OutboundEmail.objects.filter(
        recipient_key=key,
        state__in=(State.PENDING, State.FAILED),
    ).update(state=State.DROPPED, recipient="", last_error="Withdrawn")


def sent_count(*, kind: EmailKind, about: Expression) -> Coalesce:
    """An annotation: how many emails of `kind` about the outer row were sent (an update's
    emails, say: `about=Cast(OuterRef("pk"), CharField())`)."""
    sent = (
        OutboundEmail.objects.filter(kind=kind.name, about=about, state=State.SENT)
        .order_by()
        .values("kind")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Coalesce(Subquery(sent), Value(0))
