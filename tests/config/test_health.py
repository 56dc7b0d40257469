"""/healthz and /readyz answer a load balancer whatever its request looks like (HTTP/1.0, no Host,
plain http), and /readyz says whether this host can serve: the database, Redis, migrations."""

from __future__ import annotations

import json
import logging
import re
import socket
from unittest import mock

import pytest
from django.db import OperationalError, connections
from django.test import Client
from django.urls import reverse

from config import health
from tests.services import free_port

HEALTH_PATHS = ["/healthz", "/readyz"]

# The ways a load balancer's check reaches Django. HAProxy's `option httpchk GET /readyz` sends
# HTTP/1.0 without a Host header, and the WSGI server then names the host by its own address.
LOAD_BALANCER_REQUESTS = {
    "no Host header": {"SERVER_NAME": "10.0.1.10", "SERVER_PROTOCOL": "HTTP/1.0"},
    "an unknown host": {"HTTP_HOST": "10.0.1.10:8000"},
    "an empty Host header": {"HTTP_HOST": ""},
}


@pytest.fixture(autouse=True)
def _fresh_health_state(monkeypatch) -> None:
    """Each test starts as a new process would: migrations not yet seen applied, nothing failing."""
    monkeypatch.setattr(health, "_migrations_applied", False)
    monkeypatch.setattr(health, "_last", {})


@pytest.fixture
def production(settings) -> None:
    """Production settings a load balancer's check must get through."""
    settings.ALLOWED_HOSTS = ["cosign.example"]
    settings.SECURE_SSL_REDIRECT = True


def _readyz(client: Client | None = None) -> tuple[int, dict[str, object]]:
    response = (client or Client()).get("/readyz")
    assert response["Content-Type"] == "application/json"
    return response.status_code, json.loads(response.content)


def _complaints(caplog) -> list[str]:
    """What Django would log about a check: DisallowedHost (django.security), 4xx/5xx answers
    (django.request), or anything else at WARNING or above."""
    return [
        f"{record.name}: {record.getMessage()}"
        for record in caplog.records
        if record.levelno >= logging.WARNING
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("path", HEALTH_PATHS)
@pytest.mark.parametrize("request_kind", LOAD_BALANCER_REQUESTS)
def test_a_load_balancers_check_is_answered_whatever_the_host_over_plain_http(
    production, caplog, path: str, request_kind: str
) -> None:
    caplog.set_level(logging.INFO)
    response = Client().get(path, **LOAD_BALANCER_REQUESTS[request_kind])
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert _complaints(caplog) == []


@pytest.mark.django_db
@pytest.mark.parametrize("request_kind", LOAD_BALANCER_REQUESTS)
def test_other_pages_still_refuse_a_host_not_allowed(production, request_kind: str) -> None:
    # The requests above are the ones Django refuses everywhere else.
    response = Client().get(reverse("privacy"), **LOAD_BALANCER_REQUESTS[request_kind])
    assert response.status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize("path", HEALTH_PATHS)
def test_no_https_redirect_for_a_check_over_plain_http(production, path: str) -> None:
    assert Client().get(path, HTTP_HOST="cosign.example").status_code == 200


def test_healthz_touches_neither_database_nor_redis(production, settings) -> None:
    # No django_db mark: pytest-django fails any database query. Redis points nowhere.
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"


@pytest.mark.django_db
def test_head_is_answered_too() -> None:
    assert Client().head("/healthz").status_code == 200
    assert Client().head("/readyz").status_code == 200


@pytest.mark.parametrize("path", HEALTH_PATHS)
@pytest.mark.parametrize("method", ["post", "put", "delete", "options"])
def test_other_methods_are_not_allowed(path: str, method: str) -> None:
    response = getattr(Client(), method)(path)
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_readyz_is_ok_when_database_redis_and_migrations_are() -> None:
    assert _readyz() == (
        200,
        {"status": "ok", "checks": {"database": "ok", "redis": "ok", "migrations": "ok"}},
    )


@pytest.mark.django_db
def test_without_redis_configured_readyz_is_ok(settings) -> None:
    settings.REDIS_URL = ""
    status, body = _readyz()
    assert status == 200
    assert body["status"] == "ok"
    assert body["checks"]["redis"] == "not configured"  # type: ignore[index]


@pytest.mark.django_db
def test_database_down_takes_the_host_out_of_rotation(caplog) -> None:
    failing = OperationalError("connection to server at 10.0.2.5 failed: Connection refused")
    with mock.patch.object(connections["default"], "cursor", side_effect=failing):
        status, body = _readyz()
    assert status == 503
    assert body == {
        "status": "unavailable",
        "checks": {"database": "down", "redis": "ok", "migrations": "unknown"},
    }
    # No IP address reaches a log line, a server's included (mechanisms.log_redaction).
    assert _complaints(caplog) == [
        "config.health: readyz: database down (OperationalError: connection to server at "
        "[ip] failed: Connection refused)"
    ]
    assert all(record.exc_info is None for record in caplog.records)


@pytest.mark.django_db
@pytest.mark.parametrize("redis_down", ["redis_refusing", "redis_never_answering"])
def test_redis_down_keeps_the_host_in_rotation_as_degraded(request, redis_down: str) -> None:
    request.getfixturevalue(redis_down)
    assert _readyz() == (
        200,
        {"status": "degraded", "checks": {"database": "ok", "redis": "down", "migrations": "ok"}},
    )


@pytest.mark.django_db
def test_pending_migrations_take_the_host_out_of_rotation() -> None:
    with mock.patch.object(health, "MigrationExecutor") as executor:
        executor.return_value.migration_plan.return_value = [(mock.Mock(), False)]
        status, body = _readyz()
    assert status == 503
    assert body["status"] == "unavailable"
    assert body["checks"]["migrations"] == "pending"  # type: ignore[index]


@pytest.mark.django_db
def test_migrations_once_applied_are_not_read_again() -> None:
    assert _readyz()[0] == 200
    with mock.patch.object(health, "MigrationExecutor") as executor:
        assert _readyz()[0] == 200
    executor.assert_not_called()


@pytest.mark.django_db
def test_a_failure_is_logged_once_when_it_begins_and_once_when_it_ends(
    settings, redis_refusing, caplog
) -> None:
    caplog.set_level(logging.INFO, logger="config.health")
    for _ in range(3):
        assert _readyz()[1]["status"] == "degraded"
    settings.REDIS_URL = "redis://127.0.0.1:6379/0"
    for _ in range(2):
        assert _readyz()[1]["status"] == "ok"
    logged = [(record.levelname, record.getMessage()) for record in caplog.records]
    assert len(logged) == 2
    assert logged[0][0] == "WARNING"
    assert logged[0][1].startswith("readyz: redis down (ConnectionError: ")
    assert logged[1] == ("INFO", "readyz: redis ok again")
    assert all(record.exc_info is None for record in caplog.records)


def _raw_http_1_0(address: str, path: str) -> str:
    """What a load balancer sends: one HTTP/1.0 request line, no Host header."""
    host, port = address.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(f"GET {path} HTTP/1.0\r\n\r\n".encode())
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer.decode()


@pytest.mark.parametrize("path", HEALTH_PATHS)
def test_a_real_server_answers_http_1_0_without_a_host(
    live_server, production, caplog, path: str
) -> None:
    caplog.set_level(logging.INFO)
    answer = _raw_http_1_0(live_server.url, path)
    assert re.match(r"HTTP/1\.[01] 200 ", answer), answer.splitlines()[0]
    assert "Cache-Control: no-store" in answer
    assert _complaints(caplog) == []
