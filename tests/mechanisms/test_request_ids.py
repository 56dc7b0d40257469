"""Request ids: chosen or accepted per request, echoed, on every log line of the request, and
carried to the Celery tasks it publishes."""

from __future__ import annotations

import io
import json
import logging

import pytest
from celery import signals
from django.test import Client

from mechanisms import tasks
from mechanisms.log_format import JsonFormatter
from mechanisms.request_ids import (
    TASK_HEADER,
    RequestIdFilter,
    request_id_bound,
    request_id_choose,
    request_id_get,
)


@pytest.mark.parametrize(
    "incoming",
    [
        None,
        "",
        "short",
        "x" * 65,
        "has space-123456",
        "abc/../etc-1234",
        "ünïcode-12345678",
        "me@example.org-1",
    ],
)
def test_an_unusable_incoming_id_is_replaced_by_a_new_one(incoming) -> None:
    chosen = request_id_choose(incoming)
    assert chosen != incoming
    assert len(chosen) == 32
    assert request_id_choose(incoming) != chosen


def test_a_plain_incoming_id_is_kept() -> None:
    assert request_id_choose("6f1c2d3e-aaaa-bbbb") == "6f1c2d3e-aaaa-bbbb"


@pytest.mark.django_db
def test_each_response_echoes_its_id_and_the_request_logs_with_it(petition, settings) -> None:
    settings.TRUSTED_PROXIES = ["127.0.0.1"]  # the test client's address: the load balancer
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        given = Client().get("/no-such-page/", HTTP_X_REQUEST_ID="lb-0123456789abcdef")
        made = Client().get("/no-such-page/", HTTP_X_REQUEST_ID="bad id!")
        other = Client().get("/healthz")
    finally:
        logger.removeHandler(handler)
    assert given["X-Request-ID"] == "lb-0123456789abcdef"
    assert len(made["X-Request-ID"]) == 32
    assert len(other["X-Request-ID"]) == 32 and other["X-Request-ID"] != made["X-Request-ID"]
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["request_id"] for line in lines] == ["lb-0123456789abcdef", made["X-Request-ID"]]
    assert all(line["message"].startswith("Not Found") for line in lines)
    assert request_id_get() == "-"


def test_a_task_published_in_a_request_carries_its_id_in_a_header() -> None:
    published: list[dict] = []

    def seen(headers=None, **_):
        published.append(dict(headers or {}))

    # After the project's own receiver (connected at start-up), so it sees the header added.
    signals.before_task_publish.connect(seen, weak=False)
    try:
        with request_id_bound("req-12345678"):
            signals.before_task_publish.send(sender="x", headers=(headers := {}))
        signals.before_task_publish.send(sender="x", headers=(outside := {}))
    finally:
        signals.before_task_publish.disconnect(seen)
    assert headers == {TASK_HEADER: "req-12345678"}
    assert outside == {}


@pytest.mark.django_db
def test_a_task_runs_under_the_id_its_message_carries() -> None:
    ids: list[str] = []

    def during(**_):
        ids.append(request_id_get())

    signals.task_prerun.connect(during, weak=False)
    try:
        tasks.outbox_prune.apply(headers={TASK_HEADER: "from-request-1234"})
        tasks.outbox_prune.apply(headers={TASK_HEADER: "bad header!"})
    finally:
        signals.task_prerun.disconnect(during)
    assert ids == ["from-request-1234", "-"]
    assert request_id_get() == "-"


@pytest.mark.django_db
def test_an_id_from_a_client_that_is_not_a_trusted_proxy_is_replaced(settings) -> None:
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    direct = Client(REMOTE_ADDR="203.0.113.9").get("/healthz", HTTP_X_REQUEST_ID="chosen-by-me-1")
    proxied = Client(REMOTE_ADDR="10.0.0.1").get("/healthz", HTTP_X_REQUEST_ID="lb-0123456789")
    assert direct["X-Request-ID"] != "chosen-by-me-1" and len(direct["X-Request-ID"]) == 32
    assert proxied["X-Request-ID"] == "lb-0123456789"
