"""A dead or hung Redis costs a process one timeout per breaker period, not one per request, and
every use of it has a degraded behaviour (issue 15). Unit tests against a real closed port and a
real listener that never answers; the whole site under both is tests/integration."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from unittest import mock

import pytest
from celery import shared_task
from django.core.cache import cache
from kombu.exceptions import OperationalError

from mechanisms import queue
from mechanisms.redis_breaker import BreakerRedisCache, breaker

TIMEOUTS = {"socket_connect_timeout": 0.1, "socket_timeout": 0.1, "retry": None}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def silent_port() -> Iterator[tuple[int, list[socket.socket]]]:
    """A listener that accepts connections and never answers: a hung Redis."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(50)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.05)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], accepted
    stop.set()
    thread.join()
    for connection in accepted:
        connection.close()
    server.close()


def _cache(port: int) -> BreakerRedisCache:
    return BreakerRedisCache(f"redis://127.0.0.1:{port}/0", {"OPTIONS": TIMEOUTS})


def test_a_refused_redis_reads_as_a_miss_and_writes_as_nothing(caplog) -> None:
    cache = _cache(_closed_port())
    with caplog.at_level(logging.WARNING, logger="mechanisms.redis_breaker"):
        assert cache.get("page", "rendered anew") == "rendered anew"
        cache.set("page", "copy")
        # A claim (a cooldown, a spent proof of work) is let through: Redis is not the truth.
        assert cache.add("cooldown", 1) is True
        assert cache.get_many(["a", "b"]) == {}
        assert cache.incr("budget") == 1
        assert cache.delete("page") is False
    # One line for the whole trip, not one per call.
    assert len(caplog.records) == 1
    assert "the cache" in caplog.records[0].getMessage()


def test_a_hung_redis_costs_one_timeout_then_the_breaker_skips_it(silent_port) -> None:
    port, accepted = silent_port
    cache = _cache(port)
    assert cache.get("page") is None
    assert len(accepted) == 1, "the first call waited for Redis, and timed out"
    for _ in range(20):
        assert cache.get("page") is None
    assert len(accepted) == 1, "while the breaker is open, no call reaches Redis"
    assert not breaker.available()


def test_after_the_breaker_period_one_call_tries_redis_again(settings) -> None:
    settings.REDIS_BREAKER_SECONDS = 5
    cache = _cache(_closed_port())
    cache.get("page")
    assert not breaker.available()
    later = time.monotonic() + 6
    with mock.patch("mechanisms.redis_breaker.time.monotonic", return_value=later):
        assert breaker.available()


def test_the_real_cache_works_through_the_breaker(settings) -> None:
    # The test settings' own Redis: nothing degraded when it answers.
    cache.set("breaker-check", "here", 5)
    assert cache.get("breaker-check") == "here"
    assert breaker.available()


@shared_task
def _noop() -> None:
    return None


def test_no_task_is_queued_while_the_breaker_is_open(settings, caplog) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = False
    breaker.failed(path="the test", error=ConnectionError("down"))
    with mock.patch.object(_noop, "apply_async") as publish:
        assert queue.enqueue_now(_noop) is False
    publish.assert_not_called()


def test_a_broker_that_fails_opens_the_breaker_and_the_request_goes_on(settings) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = False
    with mock.patch.object(
        _noop, "apply_async", side_effect=OperationalError("refused")
    ) as publish:
        assert queue.enqueue_now(_noop) is False
        assert queue.enqueue_now(_noop) is False
    assert publish.call_count == 1
    assert not breaker.available()
