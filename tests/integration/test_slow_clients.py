"""Slow clients behind the proxy the README asks for (README "Behind a proxy or load balancer").

gunicorn's threads read requests themselves, so clients that send half a request and stop can
hold every thread (an outside review stopped the site with 30 sockets). HAProxy with the README's
settings keeps such requests to itself: here the site keeps answering with three times as many
stalled clients as gunicorn has workers, and the same clients sent straight to gunicorn stop it.
(Debian's HAProxy held the half-sent body even without `option http-buffer-request`; the README
keeps the option, which says so rather than relying on it.)
"""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.services import app_server, free_port, wait_until

pytestmark = pytest.mark.integration

HAPROXY = Path(os.environ.get("HAPROXY_PATH", "/usr/sbin/haproxy"))
# app_server runs two sync workers: two stalled requests already take every one.
STALLED = 6

# The README's settings for HAProxy in front of gunicorn.
CONFIG = """\
defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout http-request 10s
    option http-buffer-request
frontend web
    bind 127.0.0.1:{port}
    default_backend cosign
backend cosign
    server app {server}
"""


def _stalled(port: int) -> socket.socket:
    """A client that sent a form's headers and 5 of its 1,000 bytes, and nothing since."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(
        b"POST /en/p/no-such-petition/sign/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nname="
    )
    return sock


def _answers(port: int, *, within: float) -> bool:
    """Whether a plain page request gets an answer at all before `within` seconds pass."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=within) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            return sock.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


@pytest.fixture
def proxied(tmp_path, transactional_db) -> Iterator[tuple[int, int]]:
    """(HAProxy's port, gunicorn's port), gunicorn serving Cosign behind it."""
    assert HAPROXY.exists(), f"{HAPROXY} is missing: `make test` installs Debian's haproxy"
    # Nothing here sends mail; production settings require somewhere to send it.
    env = {"EMAIL_URL": "dummymail://"}
    with (
        app_server(tmp_path, env=env) as app,
        tempfile.TemporaryDirectory(prefix="haproxy") as folder,
    ):
        server = app.url.removeprefix("http://")
        port = free_port()
        config = Path(folder) / "haproxy.cfg"
        config.write_text(CONFIG.format(port=port, server=server))
        process = subprocess.Popen([HAPROXY, "-db", "-f", config], stdout=subprocess.DEVNULL)
        try:
            wait_until(lambda: _answers(port, within=2), timeout=20, what="HAProxy to answer")
            yield port, int(server.rsplit(":", 1)[1])
        finally:
            process.terminate()
            process.wait(timeout=10)


def test_stalled_clients_hold_gunicorn_but_not_the_site_behind_a_buffering_proxy(proxied) -> None:
    proxy, gunicorn = proxied
    with ExitStack() as stack:
        for _ in range(STALLED):
            stack.enter_context(_stalled(proxy))
        # HAProxy keeps the half-sent requests: gunicorn never sees them.
        assert _answers(proxy, within=10)
        assert _answers(gunicorn, within=10)

    # The same clients straight at gunicorn take every worker: the next request gets nothing.
    with ExitStack() as stack:
        for _ in range(STALLED):
            stack.enter_context(_stalled(gunicorn))
        assert not _answers(gunicorn, within=3)
