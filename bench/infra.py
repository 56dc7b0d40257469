"""The moving parts a bench run starts and always stops: child processes, its own Redis, its own
PostgreSQL database, a local SMTP sink, and a tiny HTTP client.

Nothing here knows about petitions; bench/run.py drives the scenarios.
"""

from __future__ import annotations

import email.policy
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from email import message_from_bytes
from http.client import HTTPConnection
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
from aiosmtpd.controller import Controller
from psycopg import sql


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_for(condition: Callable[[], object], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")


def tool(name: str) -> str:
    """The absolute path of a program (the Makefile installs what is missing)."""
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"{name} not found; `make bench` installs it")
    return path


# --- Child processes ------------------------------------------------------------------------------


@dataclass
class Processes:
    """Every process the bench starts, each in a session of its own, so that it can be killed
    whole (a Celery worker and its pool children, gunicorn and its workers) and so that Ctrl-C in
    the terminal reaches only the driver, which then stops them in order."""

    logs: Path
    running: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, name: str, argv: Sequence[str], *, env: Mapping[str, str]) -> None:
        log = (self.logs / f"{name}.log").open("ab")
        self.running[name] = subprocess.Popen(  # noqa: S603 (argv is ours, no shell)
            list(argv),
            env=dict(env),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()

    def wait(self, name: str, *, timeout: float) -> int:
        """Wait for a child that ends by itself (wrk, a manage.py command); kill it if it hangs."""
        try:
            return self.running[name].wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill(name)
            raise RuntimeError(f"{name} still running after {timeout:.0f} s") from None
        finally:
            self.running.pop(name, None)

    def pid(self, name: str) -> int:
        return self.running[name].pid

    def manage(self, *args: str, python: Path, env: Mapping[str, str]) -> None:
        """Run one manage.py command to its end (a migration, a seed), or fail the run."""
        name = f"manage-{args[0]}"
        self.start(name, [str(python), "manage.py", *args], env=env)
        if self.wait(name, timeout=300) != 0:
            raise RuntimeError(f"manage.py {args[0]} failed; see {self.logs}/{name}.log")

    def redis_start(self, *, port: int, env: Mapping[str, str]) -> None:
        """A Redis of the run's own, on 127.0.0.1:`port`. Nothing persists: a restart loses every
        queued task and counter, the worst case."""
        argv = [tool("redis-server"), "--port", str(port), "--bind", "127.0.0.1"]
        argv += ["--save", "", "--appendonly", "no", "--dir", str(self.logs)]
        self.start("redis", argv, env=env)
        wait_for(lambda: port_open(port), timeout=10, what="redis")

    def kill(self, name: str, sig: signal.Signals = signal.SIGKILL) -> None:
        """Signal the process group (its own session) of one child, then reap it."""
        proc = self.running.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    def check_alive(self) -> None:
        for name, proc in self.running.items():
            if proc.poll() is not None:
                raise RuntimeError(
                    f"{name} exited with {proc.returncode}; see {self.logs}/{name}.log"
                )

    def stop_all(self) -> None:
        # Newest first: load generators before the server, the server before its database.
        for name in reversed(list(self.running)):
            self.kill(name, signal.SIGTERM)


# --- PostgreSQL -----------------------------------------------------------------------------------


def database_recreate(url: str) -> None:
    """Drop (a crashed run may have left it) and create the bench database named by `url`."""
    with _server(url) as conn:
        name = sql.Identifier(_dbname(url))
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(name))


def database_drop(url: str) -> None:
    with _server(url) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(_dbname(url)))
        )


def _dbname(url: str) -> str:
    name = urlsplit(url).path.lstrip("/")
    # A guard against a mistyped BENCH_DATABASE_URL dropping someone else's database.
    if not name.startswith("cosign_bench"):
        raise RuntimeError(
            f"refusing to create or drop {name!r}: bench databases are cosign_bench*"
        )
    return name


def _server(url: str) -> psycopg.Connection[Any]:
    parts = urlsplit(url)
    return psycopg.connect(
        host=parts.hostname or "localhost",
        port=parts.port or 5432,
        user=parts.username or None,
        password=parts.password or None,
        dbname="postgres",
        autocommit=True,
    )


# --- SMTP sink ------------------------------------------------------------------------------------

_CONFIRM_URL = re.compile(r"https?://\S+/confirm/[^/\s]+/")


@dataclass(frozen=True)
class Mail:
    arrived: float  # time.time(), comparable with the server's timestamps on this machine
    recipients: tuple[str, ...]
    raw: bytes

    @property
    def message_id(self) -> str:
        """The Message-ID the outbox gives each email, the same on every attempt: two arrivals
        with one id are one email the mail server took twice (a worker killed after the server's
        "250" and before the outbox recorded it), which mail programs show once."""
        message = message_from_bytes(self.raw, policy=email.policy.default)
        return str(message.get("Message-ID", "")) or f"no-id-{id(self)}"

    def confirm_url(self) -> str | None:
        message = message_from_bytes(self.raw, policy=email.policy.default)
        for part in message.walk():
            if part.get_content_type() == "text/plain":
                match = _CONFIRM_URL.search(part.get_content())
                return match.group(0) if match else None
        return None


class MailSink:
    """An SMTP server that accepts everything and records when each message arrived and to whom.
    Parsing waits until a message is asked about: the handler must keep up with the worker."""

    def __init__(self) -> None:
        self.mails: list[Mail] = []
        self._lock = threading.Lock()
        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        mail = Mail(time.time(), tuple(r.lower() for r in envelope.rcpt_tos), envelope.content)
        with self._lock:
            self.mails.append(mail)
        return "250 Message accepted for delivery"

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()

    def snapshot(self) -> list[Mail]:
        with self._lock:
            return list(self.mails)

    def by_recipient(self) -> dict[str, list[Mail]]:
        found: dict[str, list[Mail]] = {}
        for mail in self.snapshot():
            for rcpt in mail.recipients:
                found.setdefault(rcpt, []).append(mail)
        return found


# --- HTTP -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    cookies: dict[str, str]
    body: str


def fetch(
    port: int,
    method: str,
    path: str,
    *,
    body: str = "",
    headers: Mapping[str, str] | None = None,
) -> Response:
    """One request on a fresh connection (gunicorn's sync workers close each one anyway)."""
    conn = HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body.encode() or None, headers=dict(headers or {}))
        reply = conn.getresponse()
        cookies = {}
        for name, value in reply.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                cookies[key.strip()] = rest.split(";", 1)[0]
        return Response(
            reply.status,
            {k.lower(): v for k, v in reply.getheaders()},
            cookies,
            reply.read().decode("utf-8", "replace"),
        )
    finally:
        conn.close()


def hidden_input(html: str, name: str) -> str:
    match = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', html)
    if match is None:
        raise RuntimeError(f"no {name} field on the page")
    return match.group(1)


# --- CPU accounting -------------------------------------------------------------------------------

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(groups: Mapping[str, int], *, by_name: Sequence[str] = ()) -> dict[str, float]:
    """CPU time (user + system) used so far by each of our children, whole (every process in the
    session it leads, so gunicorn's and Celery's workers count), and by every process on the
    machine whose command is one of `by_name` (PostgreSQL's backends are not our children).

    Exited processes are not counted, so take two readings around a load and subtract: what a
    scenario costs, per part, is where its two cores went."""
    sessions = {sid: name for name, sid in groups.items()}
    used: dict[str, float] = dict.fromkeys([*groups, *by_name], 0.0)
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue  # ended while we looked
        # The command sits in parentheses and may hold spaces: split after the last ")".
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        # Fields from 3 (state): session is field 6, utime 14 and stime 15 (proc(5)).
        session, utime, stime = int(fields[3]), int(fields[11]), int(fields[12])
        name = sessions.get(session) or (comm if comm in by_name else None)
        if name is not None:
            used[name] += (utime + stime) / _TICKS
    return used


def machine_busy_seconds() -> float:
    """CPU time the whole machine spent not idle (every core, the kernel's own work included):
    what our processes account for, subtracted from this, is the rest (mostly the kernel's
    network stack, which a request per TCP connection keeps busy)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle, iowait = fields[3], fields[4]
    return (sum(fields[:8]) - idle - iowait) / _TICKS
