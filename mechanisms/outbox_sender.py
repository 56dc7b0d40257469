"""The sending half of the outbox (mechanisms.outbox): claim due rows in batches, send each over
one SMTP connection, record each outcome as it happens.

A batch is claimed in one transaction (SELECT ... FOR UPDATE SKIP LOCKED, then one UPDATE), so
two workers never take the same row and neither waits for the other. Each email of the batch is
then built, sent and recorded on its own: a refused recipient fails (or retries) that email only,
and a worker killed mid-batch has recorded every email the mail server had accepted before the
one in flight. The rest of its batch waits for the lease to run out and is claimed again; only the
one in flight can go twice, with the same Message-ID, which mail programs show once.

The dispatcher (emails_dispatch, run every OUTBOX_DISPATCH_SECONDS by the `outbox_dispatch`
task) is what sends in production: a signer's request writes its row and publishes nothing, and
the next tick, within about a second, finds it with everything else due.
"""

from __future__ import annotations

import logging
import random
import smtplib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connections, router, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from mechanisms.mail import (
    EMAIL_KINDS,
    TRANSIENT_MAIL_ERRORS,
    EmailKind,
    mail_error_is_permanent,
    unsolicited_budgets_take,
)
from mechanisms.message_ids import outbox_message_id
from mechanisms.model_fields import field_column, model_field
from mechanisms.models import OutboundEmail

logger = logging.getLogger(__name__)

State = OutboundEmail.State
# Emails per claim: one transaction takes this many, one SMTP connection carries them.
BATCH_SIZE = 100
# A batch still sending when this share of its lease has gone puts the rest of its emails back:
# past the lease another worker may claim them, and an email must never be in two batches.
_LEASE_SHARE = 0.5
# SMTP answers after which the session still stands: smtplib sends RSET and the next message
# can go over the same connection (421 means the server is closing it).
_SESSION_KEPT = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError)


def lease_length() -> timedelta:
    # Longer than a task may run, so a slow send still in progress is never claimed twice.
    return timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)


def _backoff(attempts: int) -> timedelta:
    """5 s, 10 s, 20 s ... up to 10 minutes, with jitter so a mail server coming back is not
    met by every retry at once."""
    seconds = min(600, 5 * 2 ** max(0, attempts - 1))
    return timedelta(seconds=seconds * random.uniform(0.8, 1.2))  # noqa: S311 (not a secret)


def due(*, now: datetime) -> QuerySet[OutboundEmail]:
    """Rows to send now: pending and past their backoff, or held by a worker whose lease ran out
    (it died). Rows out of attempts are the sweep's to fail."""
    return OutboundEmail.objects.filter(attempts__lt=settings.OUTBOX_MAX_ATTEMPTS).filter(
        Q(state=State.PENDING, not_before__lte=now) | Q(state=State.SENDING, claimed_until__lt=now)
    )


@dataclass(frozen=True)
class Batch:
    emails: list[OutboundEmail]
    # The lease of every email in the batch: a row still holding it is this batch's.
    lease: datetime


def _claim(*, now: datetime, limit: int, ids: Sequence[int] | None = None) -> Batch:
    """Take up to `limit` due rows (of `ids`, when given; the oldest first) for this worker,
    in one transaction that skips rows another worker is claiming."""
    lease = now + lease_length()
    rows = due(now=now)
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    with transaction.atomic():
        picked = list(
            rows.select_for_update(skip_locked=True)
            .order_by("not_before", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        if not picked:
            return Batch(emails=[], lease=lease)
        OutboundEmail.objects.filter(pk__in=picked).update(
            state=State.SENDING, claimed_until=lease, attempts=F("attempts") + 1
        )
        emails = list(OutboundEmail.objects.filter(pk__in=picked).order_by("not_before", "pk"))
    return Batch(emails=emails, lease=lease)


def _settle(email: OutboundEmail, *, lease: datetime, **changes: Any) -> bool:
    """Write the outcome of this worker's attempt, unless its lease ran out and another worker
    took the row over meanwhile."""
    # One plain UPDATE: this runs once per email sent, and the ORM's compiling of an update cost
    # about as much CPU as rendering the email (bench profile).
    connection = connections[router.db_for_write(OutboundEmail)]
    quote = connection.ops.quote_name

    def column(name: str) -> str:
        return quote(field_column(field=model_field(model=OutboundEmail, name=name)))

    def prepared(name: str, value: Any) -> Any:
        return model_field(model=OutboundEmail, name=name).get_db_prep_save(value, connection)

    assignments = [f"{column('claimed_until')} = NULL"]
    values = []
    for name, value in changes.items():
        assignments.append(f"{column(name)} = %s")
        values.append(prepared(name, value))
    # Only quoted names from the model's own metadata are interpolated; values are parameters.
    statement = (
        f"UPDATE {quote(OutboundEmail._meta.db_table)} SET {', '.join(assignments)} "  # noqa: S608
        f"WHERE {column('id')} = %s AND {column('state')} = %s AND {column('claimed_until')} = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            statement, [*values, email.pk, State.SENDING, prepared("claimed_until", lease)]
        )
        done = cursor.rowcount
    if not done:
        logger.error("Outbox email %s: the lease ran out before its send was recorded", email.pk)
    return bool(done)


def _release(emails: Sequence[OutboundEmail], *, lease: datetime) -> None:
    """Put back, untried, emails this worker claimed but will not send in this batch."""
    OutboundEmail.objects.filter(
        pk__in=[email.pk for email in emails], state=State.SENDING, claimed_until=lease
    ).update(state=State.PENDING, claimed_until=None, attempts=F("attempts") - 1)


@dataclass
class Sent:
    sent: int = 0
    dropped: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0  # not claimed: sent already, or someone else's to send
    released: int = 0  # claimed, then put back untried: the batch ran long
    batches: int = 0

    def add(self, result: str) -> None:
        setattr(self, result, getattr(self, result) + 1)


class _Connection:
    """One SMTP connection for a run of sends, opened when first needed; a send that breaks the
    session closes it, so a dropped connection costs one retry, not the rest of the run."""

    def __init__(self) -> None:
        self._backend: Any = None

    def get(self) -> Any:
        if self._backend is None:
            self._backend = get_connection()
            # Opened here, the backend keeps it open across send_messages calls.
            self._backend.open()
        return self._backend

    def failed(self, error: Exception) -> None:
        # A refused recipient or message leaves the session usable (smtplib reset it); anything
        # else (a dropped connection, a timeout, "421 closing") may have broken it.
        kept = isinstance(error, _SESSION_KEPT) and getattr(error, "smtp_code", 0) != 421
        if not kept:
            self.close()

    def close(self) -> None:
        if self._backend is not None:
            backend, self._backend = self._backend, None
            try:
                backend.close()
            except Exception:
                logger.warning("Could not close the SMTP connection", exc_info=True)


@dataclass
class _Item:
    """One email of a batch, built before any is sent (so the budgets take one round trip)."""

    email: OutboundEmail
    kind: EmailKind | None
    message: EmailMultiAlternatives | None = None
    error: Exception | None = None
    within_budget: bool = True


def _prepare(emails: Sequence[OutboundEmail]) -> list[_Item]:
    """Build every email of a batch: each kind's `prepare` loads what its builder reads for all
    of its emails in one query; then each is built on its own, a failure its own."""
    items = [_Item(email=email, kind=EMAIL_KINDS.get(email.kind)) for email in emails]
    kinds: dict[str, list[OutboundEmail]] = {}
    for item in items:
        if item.kind is not None and item.kind.prepare is not None:
            kinds.setdefault(item.kind.name, []).append(item.email)
    for name, of_kind in kinds.items():
        prepare = EMAIL_KINDS[name].prepare
        try:
            if prepare is not None:
                prepare(of_kind)
        except Exception:
            # The builders read for themselves, one query each, as without `prepare`.
            logger.exception("Outbox: preparing %d %s emails failed", len(of_kind), name)
            for email in of_kind:
                email.prepared = None
    for item in items:
        if item.kind is None:
            continue
        try:
            item.message = item.kind.build(item.email)
        except Exception as error:
            item.error = error
    # The budget counts emails, not attempts: only the first attempt spends it, so retries
    # through a mail server's outage never drop an email the budget had let through.
    budgeted = [
        item
        for item in items
        if item.message is not None
        and item.kind is not None
        and item.kind.unsolicited
        and item.email.attempts == 1
    ]
    within = unsolicited_budgets_take([item.email.recipient for item in budgeted])
    for item, ok in zip(budgeted, within, strict=True):
        item.within_budget = ok
    return items


def _send_batch(batch: Batch, *, smtp: _Connection, outcome: Sent) -> None:
    outcome.batches += 1
    # Monotonic, against the lease as it was written: a batch stops well inside it.
    stop_at = time.monotonic() + lease_length().total_seconds() * _LEASE_SHARE
    items = _prepare(batch.emails)
    for n, item in enumerate(items):
        if time.monotonic() > stop_at:
            rest = batch.emails[n:]
            _release(rest, lease=batch.lease)
            outcome.released += len(rest)
            logger.warning("Outbox: a slow batch put %d emails back for the next one", len(rest))
            return
        outcome.add(_send_item(item, lease=batch.lease, smtp=smtp, now=timezone.now()))


def emails_send(*, email_ids: Sequence[int]) -> Sent:
    """Send those of the given outbox emails this call can claim (the rest are sent already, not
    due, or another worker's), BATCH_SIZE per claim, over one SMTP connection."""
    outcome = Sent()
    smtp = _Connection()
    try:
        for start in range(0, len(email_ids), BATCH_SIZE):
            ids = email_ids[start : start + BATCH_SIZE]
            batch = _claim(now=timezone.now(), limit=len(ids), ids=ids)
            outcome.skipped += len(ids) - len(batch.emails)
            if batch.emails:
                _send_batch(batch, smtp=smtp, outcome=outcome)
    finally:
        smtp.close()
    return outcome


def emails_dispatch(*, seconds: float, batch_size: int = BATCH_SIZE) -> Sent:
    """Send everything due, batch after batch, until nothing is due or `seconds` have passed
    (the next tick goes on). Several dispatchers at once share the work: each claim skips the
    rows another is taking. One SMTP connection carries the whole run."""
    outcome = Sent()
    deadline = time.monotonic() + seconds
    smtp = _Connection()
    try:
        while True:
            batch = _claim(now=timezone.now(), limit=batch_size)
            if not batch.emails:
                break
            _send_batch(batch, smtp=smtp, outcome=outcome)
            if time.monotonic() > deadline:
                break
    finally:
        smtp.close()
    return outcome


def _message_id(email: OutboundEmail) -> str:
    # The same on every attempt, and what a bounce names (mechanisms.message_ids).
    return outbox_message_id(pk=email.pk, kind=email.kind)


def _provider_message_id(message: EmailMultiAlternatives) -> str:
    """The id a django-anymail backend says the provider gave the message (its webhooks name
    it); blank over plain SMTP."""
    status = getattr(message, "anymail_status", None)
    value = getattr(status, "message_id", None)
    # One recipient, one id (a set would mean several); anymail's test backend counts in ints.
    return str(value)[:255] if isinstance(value, str | int) else ""


def _send_item(item: _Item, *, lease: datetime, smtp: _Connection, now: datetime) -> str:
    email, kind = item.email, item.kind
    if kind is None:
        _settle(email, lease=lease, state=State.FAILED, last_error=f"Unknown kind {email.kind!r}")
        return "failed"
    if item.error is not None:
        return _failed(email, kind=kind, lease=lease, error=item.error, now=now)
    message = item.message
    if message is None:
        _settle(email, lease=lease, state=State.DROPPED, last_error="Nothing to send", recipient="")
        return "dropped"
    if not item.within_budget:
        _settle(
            email, lease=lease, state=State.DROPPED, last_error="Daily budget spent", recipient=""
        )
        return "dropped"
    try:
        message.extra_headers.setdefault("Message-ID", _message_id(email))
        # django-anymail's backends hand metadata to the provider, whose webhooks return it.
        message.metadata = {"cosign_message_id": _message_id(email)}  # type: ignore[attr-defined]
        message.connection = smtp.get()
        message.send()
    except Exception as error:
        smtp.failed(error)
        return _failed(email, kind=kind, lease=lease, error=error, now=now)
    sent = {"state": State.SENT, "sent_at": timezone.now(), "recipient": "", "last_error": ""}
    provider_message_id = _provider_message_id(message)
    if provider_message_id:
        sent["provider_message_id"] = provider_message_id
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
    # No task is queued for the retry: the dispatcher claims the row once `not_before` passes.
    _record(
        email,
        lease=lease,
        changes={
            "state": State.PENDING,
            "not_before": now + _backoff(email.attempts),
            "last_error": description,
        },
        after=lambda: _after_failure(kind, email, description, final=False),
    )
    return "retrying"


def _after_failure(kind: EmailKind, email: OutboundEmail, error: str, *, final: bool) -> None:
    if kind.after_failure is not None:
        kind.after_failure(email, error, final)


def exhausted_fail(*, now: datetime) -> None:
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
