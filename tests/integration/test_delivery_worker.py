"""Deliveries on real services: a Celery worker process, Redis, an SMTP server. Each official
gets exactly one complete email, even when the worker sending it is killed mid-send."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from email.message import Message
from pathlib import Path

import pytest
from django.utils import timezone

from config.celery import app as celery_app
from mechanisms import tasks as mechanism_tasks
from mechanisms.models import OutboundEmail
from petitions import tasks
from petitions.models import Delivery, Petition, Target
from petitions.services import deliveries
from tests.factories import PetitionFactory, SignatureFactory, TargetFactory
from tests.services import (
    ROOT,
    MailSink,
    _database_url,
    _worker_disconnected,
    smtp_serving,
    text_body,
    wait_until,
)

# On Redis and on RabbitMQ (tests/integration/conftest.py).
pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("broker"),
]

DEMAND = "End the police partnership with the doorbell camera company."


def _petition(*targets: Target, **extra) -> Petition:
    return PetitionFactory(targets=targets, **{"demand": DEMAND} | extra)


def _csv_rows(message: Message) -> list[list[str]]:
    (attachment,) = [part for part in message.walk() if part.get_filename()]
    return list(csv.reader(io.StringIO(attachment.get_content())))


def test_a_worker_sends_each_official_of_a_petition_one_email(
    smtp_server, celery_worker_process
) -> None:
    sink, _ = smtp_server
    mayor = TargetFactory()
    council = TargetFactory(title="City Council of Oakland", email="council@oakland.example.gov")
    berkeley = TargetFactory(title="Mayor of Berkeley", locality="Berkeley", email="")
    petition = _petition(mayor, council, berkeley, delivery_schedule="daily")
    yesterday = timezone.now() - timedelta(days=1)
    for name in ("Maria Rossi", "John Smith"):
        SignatureFactory(
            petition=petition, name=name, display="full", confirmed=True, confirmed_at=yesterday,
            region="CA", locality="Oakland",
        )  # fmt: skip

    # Through the broker: the worker creates the day's deliveries and sends each.
    tasks.deliveries_schedule.delay()
    wait_until(
        lambda: Delivery.objects.filter(status=Delivery.Status.SENT).count() == 2,
        timeout=60,
        what="both deliveries to be sent",
    )
    assert sorted(message["To"] for message in sink.messages) == [
        "council@oakland.example.gov",
        "mayor@oakland.example.gov",
    ]
    message = next(m for m in sink.messages if m["To"] == mayor.email)
    assert message["Subject"] == f"2 constituents ask: {DEMAND}"
    assert "2 of your constituents have signed" in text_body(message)
    header, *rows = _csv_rows(message)
    assert header == ["name", "locality", "region", "date confirmed", "comment"]
    assert sorted(row[0] for row in rows) == ["John Smith", "Maria Rossi"]
    assert not Delivery.objects.filter(target=berkeley).exists()


class HoldFirstMessageSink(MailSink):
    """A mail server slow to answer the first message: it has the message but holds its reply,
    and drops the message if the client goes away first, as a server that never said "250"
    has not accepted it."""

    def __init__(self) -> None:
        super().__init__()
        self.holding = threading.Event()

    async def handle_DATA(self, server, session, envelope) -> str:
        if not self.holding.is_set():
            self.holding.set()
            # aiosmtpd cancels this when the client's connection drops.
            await asyncio.sleep(120)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def slow_smtp_server() -> Iterator[tuple[HoldFirstMessageSink, int]]:
    sink = HoldFirstMessageSink()
    with smtp_serving(sink) as port:
        yield sink, port


@contextmanager
def _worker(
    tmp_path: Path, name: str, *, smtp_port: int, env: dict[str, str] | None = None
) -> Iterator[tuple[subprocess.Popen, Path]]:
    """A `celery worker` (no beat: the test runs the sweep itself), like the shared fixture but
    one the test may kill and start again with different settings."""
    log_path = tmp_path / f"{name}.log"
    worker_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "testserver",
        "SITE_URL": "http://testserver",
        "DATABASE_URL": _database_url(),
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        **(env or {}),
    }
    command = [
        sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo",
        "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat",
        f"--hostname={name}@%h", f"--queues={os.environ['CELERY_QUEUE']}",
    ]  # fmt: skip
    with log_path.open("wb") as log:
        worker = subprocess.Popen(
            command, cwd=ROOT, env=worker_env, stdout=log, stderr=subprocess.STDOUT
        )
    celery_app.conf.task_always_eager = False
    try:
        wait_until(
            lambda: b" ready." in log_path.read_bytes() or worker.poll() is not None,
            timeout=60,
            what=f"the {name} worker to start",
        )
        assert worker.poll() is None, log_path.read_text()
        yield worker, log_path
    finally:
        celery_app.conf.task_always_eager = True
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
        if worker.returncode not in (0, -signal.SIGTERM, -signal.SIGKILL):
            print(log_path.read_text())  # shown by pytest when the test failed
        wait_until(_worker_disconnected, timeout=10, what="the worker's connections to close")


def _lease_over_or_sent(email_id: int) -> bool:
    email = OutboundEmail.objects.get(pk=email_id)
    if email.state == OutboundEmail.State.SENT:
        return True
    return email.claimed_until is not None and email.claimed_until < timezone.now()


def test_a_delivery_whose_worker_is_killed_mid_send_is_sent_once_by_the_next_worker(
    slow_smtp_server, tmp_path
) -> None:
    sink, smtp_port = slow_smtp_server
    mayor = TargetFactory()
    petition = _petition(mayor)
    for name in ("Maria Rossi", "John Smith", "Ada Byron"):
        SignatureFactory(
            petition=petition, name=name, display="full", confirmed=True, region="CA",
            locality="Oakland",
        )  # fmt: skip

    # The lease is the only thing that keeps the next worker from sending at once; keep it short.
    lease = {"OUTBOX_LEASE_SECONDS": "2"}
    with _worker(tmp_path, "doomed", smtp_port=smtp_port, env=lease) as (doomed, _log):
        # The delivery and its email, owed in one transaction; a dispatcher tick sends it.
        deliveries.deliveries_create(petition=petition, period="2026-11-24")
        mechanism_tasks.outbox_dispatch.delay()
        wait_until(sink.holding.is_set, timeout=30, what="the email to reach the mail server")
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(timeout=10)

    delivery = Delivery.objects.get(petition=petition, target=mayor)
    assert (delivery.status, delivery.attempts, delivery.sent_at) == ("sending", 1, None)
    assert sink.messages == []
    email = OutboundEmail.objects.get(kind=deliveries.DELIVERY.name)
    assert email.state == OutboundEmail.State.SENDING

    with _worker(tmp_path, "successor", smtp_port=smtp_port, env=lease) as (_worker_process, log):
        # On RabbitMQ the dead worker's dispatcher task comes back at once, to the successor,
        # and may send the email as soon as the lease has run out, before the sweep below.
        wait_until(
            lambda: _lease_over_or_sent(email.pk),
            timeout=10,
            what="the dead worker's lease to run out",
        )
        mechanism_tasks.outbox_sweep.delay()
        wait_until(
            lambda: Delivery.objects.get(pk=delivery.pk).status == Delivery.Status.SENT,
            timeout=60,
            what="the successor to send the delivery",
        )
        # A second sweep, or the dead worker's task coming back, finds nothing to send.
        again = [
            mechanism_tasks.outbox_sweep.delay(),
            mechanism_tasks.outbox_send.delay([email.pk]),
        ]
        wait_until(
            lambda: all(f"[{task.id}] succeeded" in log.read_text() for task in again),
            timeout=30,
            what="the second sweep and the repeated task to run",
        )

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.total_count) == ("sent", 2, 3)
    (message,) = sink.messages
    assert message["To"] == mayor.email
    assert "3 of your constituents have signed" in text_body(message)
    header, *rows = _csv_rows(message)
    assert header == ["name", "locality", "region", "date confirmed", "comment"]
    assert sorted(row[0] for row in rows) == ["Ada Byron", "John Smith", "Maria Rossi"]
