"""Real moving parts shared by the integration and browser tests: an SMTP server and a Celery
worker process. Each conftest that needs them imports the fixtures by name."""

from __future__ import annotations

import email.policy
import os
import runpy
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import connection
from kombu import pools as kombu_pools

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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def smtp_serving(sink: MailSink) -> Iterator[int]:
    """An SMTP server on a free local port handing messages to `sink`; yields the port."""
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
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


def _database_url(application: str = WORKER_APPLICATION) -> str:
    db = connection.settings_dict
    host = db.get("HOST") or "localhost"
    port = db.get("PORT") or 5432
    user = db.get("USER") or ""
    auth = f"{user}@" if user else ""
    return f"postgres://{auth}{host}:{port}/{db['NAME']}?application_name={application}"


def _disconnected(application: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name = %s",
            [application],
        )
        return cursor.fetchone()[0] == 0


def _stop(process: subprocess.Popen, log_path: Path) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.returncode not in (0, -signal.SIGTERM):
        print(log_path.read_text())  # shown by pytest when the test failed


@dataclass(frozen=True)
class AppServer:
    url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextmanager
def app_server(
    tmp_path: Path, *, name: str = "app", env: dict[str, str] | None = None
) -> Iterator[AppServer]:
    """gunicorn serving Cosign with production settings (DEBUG off) against the test database,
    as a real process on a free port; `env` overrides its environment (REDIS_URL, a clock...).
    The caller's test must use `transactional_db`, so that the server sees its rows."""
    port = free_port()
    application = f"cosign-test-{name}"
    log_path = tmp_path / f"{name}.log"
    full_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.server_settings",
        "DEBUG": "0",
        "SECRET_KEY": settings.SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "DATABASE_URL": _database_url(application),
        "STAFF_REQUIRE_2FA": "0",
        "LOG_LEVEL": "INFO",
        **(env or {}),
    }
    command = [
        sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}",
        "--workers", "2", "--timeout", "30", "--graceful-timeout", "5",
    ]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT
        )
    server = AppServer(url=f"http://127.0.0.1:{port}", log_path=log_path)
    try:
        wait_until(
            lambda: _answers(port) or process.poll() is not None,
            timeout=60,
            what=f"gunicorn ({name}) to answer",
        )
        assert process.poll() is None, server.log()
        yield server
    finally:
        _stop(process, log_path)
        wait_until(lambda: _disconnected(application), timeout=10, what=f"{name} to disconnect")


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            return sock.recv(64).startswith(b"HTTP/1.")
    except OSError:
        return False


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
    with celery_worker(tmp_path, smtp_port=smtp_port, site_url=worker_site_url) as worker:
        yield worker


@contextmanager
def celery_worker(
    tmp_path: Path,
    *,
    smtp_port: int,
    site_url: str,
    env: dict[str, str] | None = None,
    beat: bool = True,
) -> Iterator[subprocess.Popen]:
    """The worker of `celery_worker_process`, for a test that sets its environment (`env`: a
    Redis of its own, faster sweeps). A test that will kill the worker with SIGKILL starts it
    without `beat`: the embedded beat is a child process that would outlive it."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    log_path = tmp_path / "worker.log"
    full_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "testserver",
        "SITE_URL": site_url,
        "DATABASE_URL": _database_url(),
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        "COUNTER_INTERVAL_SECONDS": "1",
        **(env or {}),
    }
    command = [
        sys.executable, "-m", "celery", "-A", "config", "worker",
        *(["--beat", f"--schedule={tmp_path / 'beat-schedule'}"] if beat else []),
        "--pool=solo", "--loglevel=INFO", "--without-gossip", "--without-mingle",
        f"--queues={full_env.get('CELERY_QUEUE', os.environ['CELERY_QUEUE'])}",
    ]  # fmt: skip
    with log_path.open("wb") as log:
        worker = subprocess.Popen(
            command, cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT
        )
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
        _stop(worker, log_path)
        # PostgreSQL notices a dead client's connection a moment after the process exits; wait,
        # or the flush (and later the DROP of the test database) finds it still "in use".
        wait_until(_worker_disconnected, timeout=10, what="the worker's connections to close")


def _worker_disconnected() -> bool:
    return _disconnected(WORKER_APPLICATION)


# --- The broker: Redis or RabbitMQ -----------------------------------------------------------

# This machine's RabbitMQ, without a virtual host: each test run adds its own (rabbitmq_url) with
# this machine's rabbitmqctl.
RABBITMQ_URL = os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672")


def rabbitmqctl(*args: str) -> bool:
    """Whether `rabbitmqctl ARGS` ran and succeeded (it needs to run as RabbitMQ's or root)."""
    try:
        done = subprocess.run(
            ["rabbitmqctl", *args], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


@pytest.fixture(scope="session")
def rabbitmq_url() -> Iterator[str]:
    """RabbitMQ, in a virtual host of this run's own so that runs side by side never share a
    queue, removed at the end with everything in it. Where rabbitmqctl cannot run, the default
    virtual host: the queue names are then this run's own (CELERY_QUEUE has the process id)."""
    vhost = f"cosign-test-{os.getpid()}"
    user = urlsplit(RABBITMQ_URL).username or "guest"
    if rabbitmqctl("add_vhost", vhost) and rabbitmqctl(
        "set_permissions", "-p", vhost, user, ".*", ".*", ".*"
    ):
        try:
            yield f"{RABBITMQ_URL}/{vhost}"
        finally:
            rabbitmqctl("delete_vhost", vhost)
    else:
        yield f"{RABBITMQ_URL}//"


def _celery_options(environ: dict[str, str]) -> dict[str, object]:
    """What config.settings gives Celery under `environ` (lower-case, as app.conf names them):
    what a worker started with that environment runs on."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(environ)
    try:
        names = runpy.run_path(str(ROOT / "config" / "settings.py"))
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return {
        name.removeprefix("CELERY_").lower(): value
        for name, value in names.items()
        # The tests' own: tasks run in-process unless a test starts a worker.
        if name.startswith("CELERY_") and name != "CELERY_TASK_ALWAYS_EAGER"
    }


def _reconnect() -> None:
    """Drop this process's broker connections and Celery's queue declarations made from the old
    configuration: the next publish connects to the broker configured now."""
    kombu_pools.reset()
    celery_app._pool = None
    celery_app.__dict__.pop("amqp", None)


@contextmanager
def broker_switched(url: str | None) -> Iterator[None]:
    """This process's Celery app, and every process a test starts (they inherit the environment),
    on the broker at `url` through CELERY_BROKER_URL; None: REDIS_URL's Redis, as without it."""
    saved_url = os.environ.get("CELERY_BROKER_URL")
    if url is None:
        os.environ.pop("CELERY_BROKER_URL", None)
    else:
        os.environ["CELERY_BROKER_URL"] = url
    options = _celery_options(dict(os.environ))
    saved = {name: celery_app.conf.get(name) for name in options}
    celery_app.conf.update(options)
    _reconnect()
    try:
        yield
    finally:
        _reconnect()
        celery_app.conf.update(saved)
        if saved_url is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = saved_url


def broker_queued(queue: str) -> int:
    """Tasks waiting in `queue` on this process's broker."""
    with celery_app.connection_for_write() as connection:
        if connection.transport.driver_type == "redis":
            # The Redis transport keeps a queue as a list of that name.
            return int(connection.default_channel.client.llen(queue))
        # RabbitMQ: a passive declaration of a missing queue closes its channel, hence its own.
        channel = connection.channel()
        try:
            return int(channel.queue_declare(queue=queue, passive=True).message_count)
        except connection.channel_errors:
            return 0  # not declared yet: nothing was published to it


def broker_purge(queue: str) -> None:
    """Drop every task waiting in `queue`, the default queue (declared first: on RabbitMQ a queue
    exists only once declared)."""
    with celery_app.connection_for_write() as connection:
        celery_app.amqp.queues[queue].bind(connection.default_channel).declare()
        connection.default_channel.queue_purge(queue)
