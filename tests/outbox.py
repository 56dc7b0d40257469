"""Helpers for tests that look at what the outbox owes and sends (mechanisms.outbox)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from types import SimpleNamespace
from unittest import mock

from mechanisms import outbox, outbox_sender
from mechanisms.models import OutboundEmail


def owed(kind: str | None = None, **filters: object) -> list[OutboundEmail]:
    """The outbox rows not yet sent (pending or being sent), oldest first."""
    rows = OutboundEmail.objects.filter(
        state__in=(OutboundEmail.State.PENDING, OutboundEmail.State.SENDING), **filters
    )
    if kind is not None:
        rows = rows.filter(kind=kind)
    return list(rows.order_by("pk"))


def outbox_drain() -> outbox.Sent:
    """Send every row that is due now, in this process, as the sweep's tasks would."""
    ids = list(
        OutboundEmail.objects.filter(state=OutboundEmail.State.PENDING)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return outbox.emails_send(email_ids=ids)


@contextmanager
def outbox_clock(now: datetime) -> Iterator[None]:
    """Move the outbox's clock (only its own) to `now`: a later notice period for kinds with a
    cooldown, or past a retry's backoff."""
    clock = SimpleNamespace(now=lambda: now)
    with (
        mock.patch.object(outbox, "timezone", clock),
        mock.patch.object(outbox_sender, "timezone", clock),
    ):
        yield
