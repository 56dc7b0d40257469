"""The outbox: every email Cosign sends, once.

An app that owes someone an email writes an OutboundEmail row in the transaction that makes it
due (email_enqueue, emails_enqueue), and the row's send is queued after the commit. A worker
claims the row with a conditional UPDATE under a lease, renders it with its kind's builder,
sends it and marks it sent. So:

- a task run twice, or two workers, send it once (the claim);
- a task the broker lost, a request that could not queue while Redis was away, and a worker
  killed between claim and send leave a row the sweep finds (emails_sweep) and sends;
- a transient SMTP error puts the row back with a backoff, a permanent one fails it, and after
  OUTBOX_MAX_ATTEMPTS it fails for staff to see and retry in the admin (emails_retry);
- the uniqueness of (kind, about, recipient) is a database constraint: one email per kind,
  subject and person, or per notice period for kinds with a cooldown.

Sending takes a list of ids and one SMTP connection for all of them (emails_send), so many due
emails can go out over one connection.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import get_connection
from django.db import connections, router, transaction
from django.db.models import Count, Expression, F, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.crypto import salted_hmac

from mechanisms.addresses import email_canonicalize
from mechanisms.mail import (
    EMAIL_KINDS,
    TRANSIENT_MAIL_ERRORS,
    EmailKind,
    mail_error_is_permanent,
    unsolicited_budget_take,
)
from mechanisms.model_fields import field_column
from mechanisms.models import OutboundEmail
from mechanisms.queue import enqueue_after_commit, enqueue_now
from mechanisms.tasks import outbox_send
from mechanisms.upsert import row_insert_or_find

logger = logging.getLogger(__name__)

State = OutboundEmail.State
# Ids per send task: one SMTP connection carries this many emails.
SEND_CHUNK = 100


def _lease() -> timedelta:
    # Longer than a task may run, so a slow send still in progress is never claimed twice.
    return timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)


def _backoff(attempts: int) -> timedelta:
    """5 s, 10 s, 20 s ... up to 10 minutes, with jitter so a mail server coming back is not
    met by every retry at once."""
    seconds = min(600, 5 * 2 ** max(0, attempts - 1))
    return timedelta(seconds=seconds * random.uniform(0.8, 1.2))  # noqa: S311 (not a secret)


def recipient_key(address: str) -> str:
    # Canonical, so `jane+1@x` and `Jane+2@X` are one recipient; an HMAC, so the key kept after
    # the address is cleared does not say whose it was.
    return salted_hmac(
        "cosign.outbox.recipient", email_canonicalize(address), algorithm="sha256"
    ).hexdigest()


def about_key(*, kind: EmailKind, about: object, now: datetime) -> str:
    """What makes the row unique besides kind and recipient: the subject, and for a kind with a
    cooldown the period `now` falls in, so the next period may send again."""
    key = str(about)
    seconds = kind.cooldown_seconds
    if seconds > 0:
        key = f"{key}@{int(now.timestamp()) // seconds}"
    return key[:100]


def _row(
    *, kind: EmailKind, to: str, about: object, language: str, ref: dict[str, Any], now: datetime
) -> OutboundEmail:
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
    row = _row(
        kind=kind, to=to, about=about, language=language, ref=ref or {}, now=now or timezone.now()
    )
    email_id = row_insert_or_find(instance=row, constraint="mechanisms_outbound_email_once")
    if queue:
        enqueue_after_commit(outbox_send, [email_id])
    return email_id


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
        for start in range(0, len(ids), SEND_CHUNK):
            enqueue_after_commit(outbox_send, ids[start : start + SEND_CHUNK])
        batch.clear()

    for recipient in recipients:
        batch.append(
            _row(
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


# --- Sending ----------------------------------------------------------------------------------


def _claim(email_id: int, *, now: datetime) -> datetime | None:
    """Take the row for this worker until the returned lease end, or None when it is not due,
    already sent, or another worker holds it."""
    until = now + _lease()
    claimed = (
        OutboundEmail.objects.filter(
            pk=email_id, attempts__lt=settings.OUTBOX_MAX_ATTEMPTS, not_before__lte=now
        )
        .filter(Q(state=State.PENDING) | Q(state=State.SENDING, claimed_until__lt=now))
        .update(state=State.SENDING, claimed_until=until, attempts=F("attempts") + 1)
    )
    return until if claimed else None


def _settle(email: OutboundEmail, *, lease: datetime, **changes: Any) -> bool:
    """Write the outcome of this worker's attempt, unless its lease ran out and another worker
    took the row over meanwhile."""
    done = OutboundEmail.objects.filter(
        pk=email.pk, state=State.SENDING, claimed_until=lease
    ).update(claimed_until=None, **changes)
    if not done:
        logger.error("Outbox email %s: the lease ran out before its send was recorded", email.pk)
    return bool(done)


@dataclass
class Sent:
    sent: int = 0
    dropped: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0  # not claimed: sent already, or someone else's to send


def emails_send(*, email_ids: Sequence[int]) -> Sent:
    """Send the given outbox emails that this call can claim, over one SMTP connection (opened
    for the first one that is due; after a failure the next email opens a fresh one)."""
    outcome = Sent()
    smtp = _Connection()
    try:
        for email_id in email_ids:
            now = timezone.now()
            lease = _claim(email_id, now=now)
            if lease is None:
                outcome.skipped += 1
                continue
            result = _send_claimed(email_id, lease=lease, smtp=smtp, now=now)
            setattr(outcome, result, getattr(outcome, result) + 1)
    finally:
        smtp.close()
    return outcome


class _Connection:
    """One SMTP connection for a run of sends, opened when first needed; a send that fails
    closes it, so a dropped connection costs one retry, not the rest of the run."""

    def __init__(self) -> None:
        self._backend: Any = None

    def get(self) -> Any:
        if self._backend is None:
            self._backend = get_connection()
            # Opened here, the backend keeps it open across send_messages calls.
            self._backend.open()
        return self._backend

    def close(self) -> None:
        if self._backend is not None:
            backend, self._backend = self._backend, None
            try:
                backend.close()
            except Exception:
                logger.warning("Could not close the SMTP connection", exc_info=True)


def _message_id(email: OutboundEmail) -> str:
    # One per outbox row, the same on every attempt: should a worker die after the mail server
    # took the message but before the row says so, the copy sent again carries the same id, and
    # mail programs that deduplicate (most do) show it once.
    domain = urlsplit(settings.SITE_URL).hostname or "localhost"
    return f"<outbox-{email.pk}.{email.kind}@{domain}>"


def _send_claimed(email_id: int, *, lease: datetime, smtp: _Connection, now: datetime) -> str:
    email = OutboundEmail.objects.get(pk=email_id)
    kind = EMAIL_KINDS.get(email.kind)
    if kind is None:
        _settle(email, lease=lease, state=State.FAILED, last_error=f"Unknown kind {email.kind!r}")
        return "failed"
    try:
        message = kind.build(email)
        # The budget counts emails, not attempts: only the first attempt spends it, so retries
        # through a mail server's outage never drop an email the budget had let through.
        if (
            message is not None
            and kind.unsolicited
            and email.attempts == 1
            and not unsolicited_budget_take(email.recipient)
        ):
            _settle(
                email,
                lease=lease,
                state=State.DROPPED,
                last_error="Daily budget spent",
                recipient="",
            )
            return "dropped"
        if message is None:
            _settle(
                email, lease=lease, state=State.DROPPED, last_error="Nothing to send", recipient=""
            )
            return "dropped"
        message.extra_headers.setdefault("Message-ID", _message_id(email))
        message.connection = smtp.get()
        message.send()
    except Exception as error:
        smtp.close()
        return _failed(email, kind=kind, lease=lease, error=error, now=now)
    sent = {"state": State.SENT, "sent_at": timezone.now(), "recipient": "", "last_error": ""}
    after_send = kind.after_send
    _record(
        email,
        lease=lease,
        changes=sent,
        after=None if after_send is None else (lambda: after_send(email)),
    )
    return "sent"


def _record(
    email: OutboundEmail,
    *,
    lease: datetime,
    changes: dict[str, Any],
    after: Callable[[], None] | None,
) -> bool:
    """Record an attempt's outcome and what it means to the app, in one transaction, taking
    row locks in the order the app's own writes take them: its row (a signature, a delivery)
    first, the outbox row last, as signing again does (the signature, then its email). The
    other order deadlocks with a signer who signs again while their email is being recorded.
    Nothing is recorded if this worker's lease ran out meanwhile."""
    with transaction.atomic():
        if after is not None:
            after()
        settled = _settle(email, lease=lease, **changes)
        if not settled:
            transaction.set_rollback(True)
    return settled


def _failed(
    email: OutboundEmail, *, kind: EmailKind, lease: datetime, error: Exception, now: datetime
) -> str:
    description = f"{type(error).__name__}: {error}"[:1000]
    permanent = mail_error_is_permanent(error)
    if not isinstance(error, TRANSIENT_MAIL_ERRORS):
        # A bug or a database hiccup while rendering: worth the capped retries, and worth a trace.
        logger.exception("Outbox email %s (%s) could not be sent", email.pk, email.kind)
    else:
        logger.warning("Outbox email %s (%s): %s", email.pk, email.kind, description)
    # `attempts` already counts this one (the claim added it).
    if permanent or email.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
        _record(
            email,
            lease=lease,
            changes={"state": State.FAILED, "last_error": description},
            after=lambda: _after_failure(kind, email, description, final=True),
        )
        return "failed"
    retry_at = now + _backoff(email.attempts)
    settled = _record(
        email,
        lease=lease,
        changes={"state": State.PENDING, "not_before": retry_at, "last_error": description},
        after=lambda: _after_failure(kind, email, description, final=False),
    )
    if settled:
        # Best effort: the sweep sends it if this is lost.
        _retry_later(outbox_send, email.pk, retry_at)
    return "retrying"


def _after_failure(kind: EmailKind, email: OutboundEmail, error: str, *, final: bool) -> None:
    if kind.after_failure is not None:
        kind.after_failure(email, error, final)


def _retry_later(task: Any, email_id: int, when: datetime) -> None:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return  # in-process: the next sweep is the retry
    try:
        task.apply_async(([email_id],), eta=when)
    except Exception:
        logger.warning("Could not queue the retry of outbox email %s", email_id, exc_info=True)


# --- The sweep and staff's retry --------------------------------------------------------------


def emails_sweep(*, now: datetime | None = None, limit: int = 20_000) -> int:
    """Queue the sends a lost task, a dead worker or a backoff left owed (run every
    OUTBOX_SWEEP_SECONDS). A new row is left to its own task for OUTBOX_SWEEP_AGE_SECONDS; a row
    held by a dead worker once its lease ran out. Rows out of attempts are failed. Returns how
    many were queued."""
    now = now or timezone.now()
    _exhausted_fail(now=now)
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


def _exhausted_fail(*, now: datetime) -> None:
    """Fail the rows whose worker died holding them on their last attempt."""
    error = "The worker stopped during every attempt to send it."
    exhausted = OutboundEmail.objects.filter(
        state=State.SENDING, claimed_until__lt=now, attempts__gte=settings.OUTBOX_MAX_ATTEMPTS
    )
    for email in exhausted[:1000]:
        kind = EMAIL_KINDS.get(email.kind)
        with transaction.atomic():
            # The app's row first, then the outbox row (see _record).
            if kind is not None:
                _after_failure(kind, email, error, final=True)
            failed = OutboundEmail.objects.filter(
                pk=email.pk, state=State.SENDING, claimed_until=email.claimed_until
            ).update(state=State.FAILED, claimed_until=None, last_error=error)
            if not failed:
                transaction.set_rollback(True)


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
    for start in range(0, len(ids), SEND_CHUNK):
        enqueue_after_commit(outbox_send, ids[start : start + SEND_CHUNK])
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
    everything). Returns how many were dropped."""
    return OutboundEmail.objects.filter(
        recipient_key=recipient_key(canonical_email),
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
