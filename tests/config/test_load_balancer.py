"""A real HAProxy in front of a real server, configured as the README says: its health check
(HTTP/1.0, no Host header, plain http) keeps the host in rotation while it can serve, also with
Redis hanging, and takes it out while it cannot."""

from __future__ import annotations

import csv
import os
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import pytest

from config import health
from tests.services import free_port, wait_until

pytestmark = pytest.mark.integration

# Debian's haproxy package; `make test` installs it.
HAPROXY = Path(os.environ.get("HAPROXY_PATH", "/usr/sbin/haproxy"))

CONFIG = """\
global
    stats socket {stats} mode 600 level admin
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    timeout check 2s
frontend web
    bind 127.0.0.1:{port}
    default_backend cosign
backend cosign
    option httpchk GET /readyz
    http-check expect status 200
    server app {server} check inter 100ms fall 1 rise 1
"""


@dataclass
class Balancer:
    port: int
    stats: str

    def server(self) -> dict[str, str]:
        """The backend server's row of HAProxy's `show stat`."""
        with socket.socket(socket.AF_UNIX) as sock:
            sock.connect(self.stats)
            sock.sendall(b"show stat\n")
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        rows = csv.DictReader(answer.decode().removeprefix("# ").splitlines())
        return next(row for row in rows if (row["pxname"], row["svname"]) == ("cosign", "app"))

    def get(self, path: str) -> tuple[str, str]:
        """The status line and body of a request through the balancer."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as sock:
            sock.sendall(
                f"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode()
            )
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        head, _, body = answer.decode().partition("\r\n\r\n")
        return head.splitlines()[0], body


@pytest.fixture
def balancer(live_server) -> Iterator[Balancer]:
    assert HAPROXY.exists(), f"{HAPROXY} is missing: `make test` installs Debian's haproxy"
    with tempfile.TemporaryDirectory(prefix="haproxy") as folder:
        # A short path: a UNIX socket's name may not be longer than 107 bytes.
        stats = str(Path(folder) / "stats")
        port = free_port()
        config = Path(folder) / "haproxy.cfg"
        server = live_server.url.removeprefix("http://")
        config.write_text(CONFIG.format(stats=stats, port=port, server=server))
        # -db: in the foreground, so it ends with the test.
        process = subprocess.Popen([HAPROXY, "-db", "-f", config], stdout=subprocess.DEVNULL)
        try:
            wait_until(lambda: os.path.exists(stats), timeout=10, what="haproxy's stats socket")
            yield Balancer(port=port, stats=stats)
        finally:
            process.terminate()
            process.wait(timeout=10)


def _state(balancer: Balancer) -> tuple[str, str, str]:
    """The server's state, and the result and HTTP status of its last check."""
    server = balancer.server()
    return server["status"], server["check_status"], server["check_code"]


def _in_rotation(balancer: Balancer) -> bool:
    return _state(balancer) == ("UP", "L7OK", "200")


def test_haproxy_keeps_a_host_that_can_serve_and_drops_one_that_cannot(
    balancer: Balancer, monkeypatch
) -> None:
    wait_until(lambda: _in_rotation(balancer), timeout=10, what="the host passing HAProxy's check")
    status, body = balancer.get("/readyz")
    assert status == "HTTP/1.1 200 OK"
    assert '"status": "ok"' in body

    # Code ahead of its schema: out of rotation, and HAProxy answers for it.
    monkeypatch.setattr(health, "_migrations_applied", False)
    with mock.patch.object(health, "MigrationExecutor") as executor:
        executor.return_value.migration_plan.return_value = [(mock.Mock(), False)]
        wait_until(
            lambda: _state(balancer) == ("DOWN", "L7STS", "503"),
            timeout=10,
            what="HAProxy taking the host out of rotation",
        )
        status, body = balancer.get("/readyz")
        assert status == "HTTP/1.1 503 Service Unavailable"
        assert "No server is available" in body

    wait_until(lambda: _in_rotation(balancer), timeout=10, what="the host back in rotation")


def test_haproxy_keeps_a_host_whose_redis_hangs(
    balancer: Balancer, redis_never_answering, settings
) -> None:
    # A check that waited on Redis takes at least its timeout; then the host must still be in.
    wait_until(
        lambda: int(balancer.server()["check_duration"] or 0) >= settings.REDIS_TIMEOUT_MS,
        timeout=10,
        what="a health check that waited on Redis",
    )
    assert _in_rotation(balancer)
    status, body = balancer.get("/readyz")
    assert status == "HTTP/1.1 200 OK"
    assert '"status": "degraded"' in body
