"""Real moving parts shared by the integration and browser tests: an SMTP server and a Celery
worker process. Each conftest that needs them imports the fixtures by name."""

from __future__ import annotations

import email.policy
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.db import connection

from config.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[1]


def wait_until(condition: Callable[[], object], *, timeout: float, what: str) -> object:
    """Poll for something another process does; fail with `what` if it never happens."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def text_body(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
    raise AssertionError("no text/plain part")


class MailSink:
    """An aiosmtpd handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:
        with self._lock:
            # The modern policy unfolds long headers, as a mail program shows them.
            self.messages.append(
                message_from_bytes(envelope.original_content, policy=email.policy.default)
            )
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def smtp_serving(sink: MailSink) -> Iterator[int]:
    """An SMTP server on a free local port handing messages to `sink`; yields the port."""
    controller = Controller(sink, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield controller.port
    finally:
        controller.stop()


@pytest.fixture
def smtp_server() -> Iterator[tuple[MailSink, int]]:
    sink = MailSink()
    with smtp_serving(sink) as port:
        yield sink, port


# How the worker's database sessions are told apart from the test's and a live server's.
WORKER_APPLICATION = "cosign-test-worker"


def _database_url() -> str:
    db = connection.settings_dict
    host = db.get("HOST") or "localhost"
    port = db.get("PORT") or 5432
    user = db.get("USER") or ""
    auth = f"{user}@" if user else ""
    return f"postgres://{auth}{host}:{port}/{db['NAME']}?application_name={WORKER_APPLICATION}"


@pytest.fixture
def worker_site_url() -> str:
    """Where the links in the worker's emails point; the browser tests point them at their live
    server."""
    return "http://testserver"


@pytest.fixture
def celery_worker_process(
    transactional_db, smtp_server, worker_site_url, tmp_path
) -> Iterator[subprocess.Popen]:
    """`celery worker --beat` against Redis, the test database and the SMTP server above.

    The test process stops running tasks eagerly for the duration, so what it enqueues really goes
    through the broker to this worker.
    """
    _, smtp_port = smtp_server
    log_path = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "testserver",
        "SITE_URL": worker_site_url,
        "DATABASE_URL": _database_url(),
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        "COUNTER_INTERVAL_SECONDS": "1",
    }
    command = [
        sys.executable, "-m", "celery", "-A", "config", "worker", "--beat",
        "--pool=solo", "--loglevel=INFO", "--without-gossip", "--without-mingle",
        f"--schedule={tmp_path / 'beat-schedule'}",
        f"--queues={os.environ['CELERY_QUEUE']}",
    ]  # fmt: skip
    with log_path.open("wb") as log:
        worker = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    celery_app.conf.task_always_eager = False
    try:
        wait_until(
            lambda: b" ready." in log_path.read_bytes() or worker.poll() is not None,
            timeout=60,
            what="the Celery worker to start",
        )
        assert worker.poll() is None, log_path.read_text()
        yield worker
    finally:
        celery_app.conf.task_always_eager = True
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        if worker.returncode not in (0, -signal.SIGTERM):
            print(log_path.read_text())  # shown by pytest when the test failed
        # PostgreSQL notices a dead client's connection a moment after the process exits; wait,
        # or the flush (and later the DROP of the test database) finds it still "in use".
        wait_until(_worker_disconnected, timeout=10, what="the worker's connections to close")


def _worker_disconnected() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name = %s",
            [WORKER_APPLICATION],
        )
        return cursor.fetchone()[0] == 0
