"""gunicorn's gthread worker, with a clock on its queue (mechanisms.queueing).

In a surge a request's longest wait is for a thread: each of a process's connections with a
request waiting is queued for the pool, and under four times the load the site can serve that
queue holds hundreds of milliseconds. Admission (mechanisms.admission) turns a signer away rather
than start work whose answer would come too late; to know how late, it needs the moment the
request was queued, which only the worker sees. Everything else is gunicorn's own gthread worker.
"""

from __future__ import annotations

import time
from typing import Any

from gunicorn.workers.gthread import ThreadWorker  # type: ignore[import-untyped]

from mechanisms import queueing


class QueueTimedThreadWorker(ThreadWorker):
    def enqueue_req(self, conn: Any) -> None:
        # On accepting a connection and whenever a kept-alive one has a request again.
        conn.cosign_queued_at = time.monotonic()
        super().enqueue_req(conn)

    def handle(self, conn: Any) -> Any:
        queueing.queued_at(getattr(conn, "cosign_queued_at", None))
        try:
            return super().handle(conn)
        finally:
            queueing.queued_at(None)
