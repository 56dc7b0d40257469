"""When Redis fails, the site stays up (issue 15): real gunicorn, a real Celery worker and a real
SMTP server, with Redis stopped, and with Redis accepting connections but never answering.

In each: every public page answers 200 (within 1 s: the request's own timeout), signing answers
as usual with the row stored, and the admin works. Then, by broker (tests/integration/conftest.py):
- Redis as the broker: no task can be queued; once Redis is back the confirmation email arrives
  exactly once (the sweep queues what the request could not);
- RabbitMQ as the broker: tasks are still queued and run, so the confirmation email arrives while
  Redis is still down, and exactly once when it is back.
"""

from __future__ import annotations

import os
import select
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from accounts.models import User
from petitions.models import Signature
from tests.factories import OpenLetterFactory, PetitionFactory
from tests.integration.web_client import Answer, Browser, hidden_fields
from tests.services import (
    MailSink,
    app_server,
    celery_worker,
    free_port,
    text_body,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("broker")]

SIGNER = "outage@example.org"
# Each request must finish within this: a hung Redis must not hang a page.
REQUEST_TIMEOUT = 1.0
STAFF_PASSWORD = "a-long-password-for-tests"


class Client:
    """A browser (tests/integration/web_client) on one server, whose every request must be
    answered within REQUEST_TIMEOUT."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.browser = Browser(timeout=REQUEST_TIMEOUT)

    def request(self, path: str, data: dict[str, str] | None = None) -> Answer:
        if data is None:
            return self.browser.get(self.base + path)
        return self.browser.post(self.base + path, data)


# --- Redis, stopped or hung ------------------------------------------------------------------


class RedisServer:
    """A redis-server of the test's own, on a free port, to stop and start again."""

    def __init__(self, work: Path) -> None:
        self.port = free_port()
        self.work = work
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        argv += ["--save", "", "--appendonly", "no", "--dir", str(self.work)]
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
        wait_until(self._answers, timeout=10, what="redis-server to start")

    def stop(self) -> None:
        assert self.process is not None
        self.process.terminate()
        self.process.wait(timeout=10)
        self.process = None

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False


class HangingProxy:
    """A TCP proxy in front of a real Redis that can stop answering: connections are accepted
    and what they send is read, but nothing comes back, as when Redis hangs or a network drops
    packets."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(100)
        self.port = self.server.getsockname()[1]
        self.hung = threading.Event()
        self.stopped = threading.Event()
        self.threads = [threading.Thread(target=self._accept, daemon=True)]
        self.threads[0].start()

    def url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def _accept(self) -> None:
        self.server.settimeout(0.1)
        while not self.stopped.is_set():
            try:
                client, _ = self.server.accept()
            except TimeoutError:
                continue
            thread = threading.Thread(target=self._relay, args=(client,), daemon=True)
            thread.start()

    def _relay(self, client: socket.socket) -> None:
        upstream = socket.create_connection(("127.0.0.1", self.target_port))
        with client, upstream:
            while not self.stopped.is_set():
                ready, _, _ = select.select([client, upstream], [], [], 0.1)
                if self.hung.is_set():
                    # Swallow what the client says and answer nothing.
                    if client in ready and not client.recv(65536):
                        return
                    continue
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    (upstream if sock is client else client).sendall(data)

    def close(self) -> None:
        self.stopped.set()
        self.threads[0].join()
        self.server.close()


# --- The scenario ----------------------------------------------------------------------------


def _public_paths(petition_slug: str, letter_slug: str) -> list[str]:
    return [
        "/en/",
        f"/en/p/{petition_slug}/",
        f"/it/p/{petition_slug}/",
        f"/en/p/{petition_slug}/embed/",
        f"/en/p/{petition_slug}/new-link/",
        f"/en/letters/{letter_slug}/",
        f"/en/letters/{letter_slug}/press/",
        "/en/privacy/",
        "/en/my-signatures/",
        "/en/organizations/join/",
        "/en/accounts/login/",
        "/abuse/challenge",
    ]


def _env(redis_url: str, smtp_port: int, name: str) -> dict[str, str]:
    return {
        "REDIS_URL": redis_url,
        # This run's own, as the tests' queue is (config.settings_test).
        "CELERY_QUEUE": f"cosign-outage-{name}-{os.getpid()}",
        "CACHE_KEY_PREFIX": f"cosign-outage-{name}-{os.getpid()}",
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        # The sweep that queues what a request could not, fast enough for a test.
        "OUTBOX_SWEEP_SECONDS": "1",
        "OUTBOX_SWEEP_AGE_SECONDS": "2",
        "REDIS_BREAKER_SECONDS": "2",
    }


def _sign(client: Client, slug: str) -> Answer:
    path = f"/en/p/{slug}/"
    page = client.request(path)
    assert page.status == 200
    fields = hidden_fields(page.body, action=f"/en/p/{slug}/sign/")
    form = fields | {
        "name": "Maria Rossi",
        "email": SIGNER,
        "postal_code": "94612",
        "country": "US",
        "display": "short",
    }
    return client.request(f"/en/p/{slug}/sign/", form)


def _admin_works(client: Client) -> None:
    login = client.request("/admin/login/")
    assert login.status == 200
    fields = hidden_fields(login.body, action="/admin/login/")
    answer = client.request(
        "/admin/login/",
        fields | {"username": "staff@cosign.test", "password": STAFF_PASSWORD, "next": "/admin/"},
    )
    assert answer.status == 302, answer.body[:500]
    for path in ("/admin/", "/admin/petitions/signature/", "/admin/petitions/petition/"):
        assert client.request(path).status == 200, path


def _site_stays_up_without_redis(app_url: str, petition_slug: str, letter_slug: str) -> None:
    reader = Client(app_url)
    for path in _public_paths(petition_slug, letter_slug):
        answer = reader.request(path)
        assert answer.status == 200, f"{path} answered {answer.status}"
    # A sign POST with an invalid form answered 500 in the review.
    invalid = Client(app_url)
    page = invalid.request(f"/en/p/{petition_slug}/")
    fields = hidden_fields(page.body, action=f"/en/p/{petition_slug}/sign/")
    assert invalid.request(f"/en/p/{petition_slug}/sign/", fields).status == 400
    signed = _sign(Client(app_url), petition_slug)
    assert (signed.status, signed.location) == (302, f"/en/p/{petition_slug}/check-your-inbox/")
    assert Signature.objects.filter(petition__slug=petition_slug, email=SIGNER).count() == 1
    _admin_works(Client(app_url))


def _mailed(sink: MailSink, *, what: str) -> None:
    wait_until(
        lambda: any(SIGNER in str(message["To"]) for message in sink.messages),
        timeout=60,
        what=what,
    )


def _mailed_once(sink: MailSink) -> None:
    # Two more sweeps find nothing left to send.
    time.sleep(3)
    mails = [message for message in sink.messages if SIGNER in str(message["To"])]
    assert len(mails) == 1
    assert "/confirm/" in text_body(mails[0])


@pytest.fixture
def campaign(transactional_db) -> tuple[str, str]:
    User.objects.create_superuser("staff@cosign.test", STAFF_PASSWORD)
    petition = PetitionFactory(slug="outage-petition")
    letter = OpenLetterFactory(slug="outage-letter", individuals_may_sign=True)
    return petition.slug, letter.slug


@dataclass
class Outage:
    """How Redis fails in one run: `fail()` and `heal()` around a Redis the site reaches at
    `url`."""

    url: str
    fail: Callable[[], object]
    heal: Callable[[], object]


@contextmanager
def _redis_failing(how: str, work: Path) -> Iterator[Outage]:
    redis = RedisServer(work)
    redis.start()
    if how == "stopped":
        try:
            yield Outage(url=redis.url, fail=redis.stop, heal=redis.start)
        finally:
            if redis.process is not None:
                redis.stop()
        return
    # Hung: connections are accepted and read, and nothing comes back.
    proxy = HangingProxy(redis.port)
    try:
        yield Outage(url=proxy.url(0), fail=proxy.hung.set, heal=proxy.hung.clear)
    finally:
        proxy.close()
        redis.stop()


@pytest.mark.parametrize("how", ["stopped", "hung"])
def test_without_redis_the_site_stays_up_and_mails_once_redis_is_back(
    campaign, smtp_server, tmp_path, how: str, broker: str
) -> None:
    petition_slug, letter_slug = campaign
    sink, smtp_port = smtp_server
    with _redis_failing(how, tmp_path) as outage:
        env = _env(outage.url, smtp_port, how)
        with app_server(tmp_path, env=env) as app:
            assert Client(app.url).request(f"/en/p/{petition_slug}/").status == 200
            if broker == "redis":
                outage.fail()
                _site_stays_up_without_redis(app.url, petition_slug, letter_slug)
                # Logged once per breaker trip and path, never as a traceback per request.
                assert "Traceback" not in app.log()
                outage.heal()
                with celery_worker(tmp_path, smtp_port=smtp_port, site_url=app.url, env=env):
                    _mailed(sink, what="the confirmation email, once Redis is back")
                    _mailed_once(sink)
                return
            # RabbitMQ: the worker, its beat and the dispatcher need no Redis to send.
            with celery_worker(tmp_path, smtp_port=smtp_port, site_url=app.url, env=env) as w:
                outage.fail()
                _site_stays_up_without_redis(app.url, petition_slug, letter_slug)
                assert "Traceback" not in app.log()
                _mailed(sink, what="the confirmation email, with Redis still down")
                assert w.poll() is None
                outage.heal()
                _mailed_once(sink)
