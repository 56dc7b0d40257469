"""How long the request a thread now serves waited for that thread.

A gthread gunicorn worker puts each readable connection in its thread pool's queue; the request
is read only when a thread takes it, so nothing Django sees says how long it queued. Cosign's
worker class (config/gunicorn_worker.py) stamps the moment a connection is queued and hands it to
the thread that serves it, here; admission (mechanisms.admission) reads it. Other servers (the
test client, runserver, sync workers) set nothing, and then the wait is unknown: None.

Plain Python, no Django: gunicorn's worker imports it before Django is set up.
"""

from __future__ import annotations

import threading
import time

_serving = threading.local()


def queued_at(moment: float | None) -> None:
    """The `time.monotonic()` moment the request this thread is about to serve was queued (None
    when it is done, or unknown)."""
    _serving.queued_at = moment


def waited() -> float | None:
    """Seconds the request this thread serves waited in the queue before a thread took it."""
    moment: float | None = getattr(_serving, "queued_at", None)
    return None if moment is None else time.monotonic() - moment
