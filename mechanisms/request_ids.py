"""One id per request, on every log line the request causes: in the web process and in the Celery
tasks it enqueues.

The id is the incoming `X-Request-ID` when it comes from one of settings.TRUSTED_PROXIES and is
a plain one (the proxy's or load balancer's, so its log and ours can be joined), else a new
random one; either way the response echoes it. A client reaching us directly could otherwise
pick the id its lines are filed under, or reuse another request's to muddle an investigation;
and even a proxy's is held to a strict pattern (letters, digits and dashes, 8 to 64 of them), as
the proxy may have passed on what a client wrote.

A context variable holds it for the request's thread; `RequestIdFilter`, on every handler
(mechanisms.log_redaction.logging_configure), copies it onto each record as `request_id` ("-"
outside a request). A task published during the request carries it in a message header, and the
worker sets it around the task's run.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import Any

from celery import signals
from django.core.signals import request_finished
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
# The Celery message header that carries it to the worker.
TASK_HEADER = "cosign_request_id"
_VALID = re.compile(r"[A-Za-z0-9-]{8,64}")
NONE = "-"

_current: ContextVar[str] = ContextVar("cosign_request_id", default=NONE)


def request_id_get() -> str:
    """The id of the request (or task) this code runs for; "-" outside one."""
    return _current.get()


def request_id_choose(incoming: str | None) -> str:
    """`incoming` when it is a plain id, else a new one."""
    if incoming and _VALID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


@contextmanager
def request_id_bound(request_id: str) -> Iterator[str]:
    """Run the block as request `request_id`: its log lines and the tasks it enqueues carry it."""
    token = _current.set(request_id)
    try:
        yield request_id
    finally:
        _current.reset(token)


class RequestIdMiddleware:
    """First in MIDDLEWARE, so every line a request logs (health checks' included) has its id."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Set until the response is closed (request_finished), not only while the middleware
        # runs: Django logs a 4xx or 5xx ("Not Found: ...") after the last middleware returned.
        # Imported here: this module is loaded by LOGGING_CONFIG, before the apps are ready.
        from mechanisms.network import peer_is_trusted_proxy

        incoming = request.META.get("HTTP_X_REQUEST_ID") if peer_is_trusted_proxy(request) else None
        request_id = request_id_choose(incoming)
        _current.set(request_id)
        response = self.get_response(request)
        response[HEADER] = request_id
        return response


@receiver(request_finished, dispatch_uid="cosign.request_id.finished")
def _request_id_forget(**_: Any) -> None:
    _current.set(NONE)


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on a record as `request_id` (never drops one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = _current.get()
        return True


# Celery: the id goes with each task published inside a request, and is set while it runs.
_task_tokens: dict[str, Token[str]] = {}


@signals.before_task_publish.connect(dispatch_uid="cosign.request_id.publish")
def _request_id_publish(headers: dict[str, Any] | None = None, **_: Any) -> None:
    request_id = _current.get()
    if headers is not None and request_id != NONE:
        headers.setdefault(TASK_HEADER, request_id)


@signals.task_prerun.connect(dispatch_uid="cosign.request_id.prerun")
def _request_id_task_start(task_id: str = "", task: Any = None, **_: Any) -> None:
    request = getattr(task, "request", None)
    # A worker puts a message's headers on the request itself; `apply(headers=...)` under them.
    incoming = getattr(request, TASK_HEADER, None) or (getattr(request, "headers", None) or {}).get(
        TASK_HEADER
    )
    if isinstance(incoming, str) and _VALID.fullmatch(incoming):
        _task_tokens[task_id] = _current.set(incoming)


@signals.task_postrun.connect(dispatch_uid="cosign.request_id.postrun")
def _request_id_task_end(task_id: str = "", **_: Any) -> None:
    token = _task_tokens.pop(task_id, None)
    if token is not None:
        try:
            _current.reset(token)
        except ValueError:
            # Set in another context (a thread pool's): leave the id there, nothing to undo here.
            _current.set(NONE)
