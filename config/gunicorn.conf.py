"""gunicorn's settings for Cosign, from the environment:

    gunicorn -c config/gunicorn.conf.py

Threaded workers (gthread) that keep connections alive: `make bench` measured them against sync
workers and against separate pools for pages and forms behind HAProxy (README "Benchmarks").
A sync worker serves one request at a time and closes every connection, so readers of the page
wait behind signers and every request pays a new TCP connection; here a process answers many
at once, and a reader served from the page cache needs a free thread for well under a
millisecond. Python runs one thread at a time per process, so processes use the cores and threads
cover the waits on PostgreSQL and Redis.

The worker class is gunicorn's gthread with a clock on its queue (config/gunicorn_worker.py):
admission needs to know how long a signer waited for a thread in a surge.

Sizes: GUNICORN_WORKERS processes (cores + 1), GUNICORN_THREADS threads each. Signers take at most
SIGN_CONCURRENCY + SIGN_QUEUE_LENGTH threads of a process (4 + 6, mechanisms.admission), so the
default leaves readers free threads even in a surge. Each thread that reaches the database keeps its
own connection (CONN_MAX_AGE): PostgreSQL's max_connections must cover workers x threads per host,
plus Celery's.
"""

from __future__ import annotations

import os
import sys
from typing import Any


def _whole(name: str, default: int) -> int:
    """A positive whole number from the environment; anything else stops start-up."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise RuntimeError(f"{name}: {raw!r} is not a positive whole number")
    return int(raw)


def _milliseconds(name: str) -> float | None:
    """A positive number of milliseconds from the environment, or None when unset; anything
    else stops start-up."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise RuntimeError(f"{name}: {raw!r} is not a positive number of milliseconds")
    return value


wsgi_app = "config.wsgi"
# Where only the proxy can connect (README "Behind a proxy or load balancer"); comma-separated
# for more than one address, `unix:/run/cosign.sock` for a UNIX socket.
bind = [address.strip() for address in os.environ.get("GUNICORN_BIND", "127.0.0.1:8000").split(",")]
worker_class = "config.gunicorn_worker.QueueTimedThreadWorker"
workers = _whole("GUNICORN_WORKERS", (os.cpu_count() or 1) + 1)
threads = _whole("GUNICORN_THREADS", 12)
# Seconds an idle kept-alive connection stays open: longer than the proxy's gap between two
# requests on one upstream connection, so the proxy reuses it rather than racing its close.
keepalive = _whole("GUNICORN_KEEPALIVE", 5)
# A worker silent this long is killed and replaced.
timeout = _whole("GUNICORN_TIMEOUT", 30)
# No access log: Cosign stores no client address, and secret links (confirmation, answer,
# unsubscribe, "your signatures"...) carry their tokens in the path. Turned on (--access-logfile),
# its lines pass through the filter Django puts on every handler (mechanisms.log_redaction), which
# blanks those tokens; the address (%(h)s) is for the format to leave out.
accesslog = None


# How long a thread running Python keeps the interpreter lock while another thread of its
# process waits for it (Python's default, 5 ms, if unset); read here so a bad value stops
# start-up rather than every worker's boot. make bench measured 0.5 ms: no steady gain.
switch_interval_ms = _milliseconds("GUNICORN_SWITCH_INTERVAL_MS")


def post_fork(server: Any, worker: Any) -> None:
    if switch_interval_ms is not None:
        sys.setswitchinterval(switch_interval_ms / 1000)


def _json_logs(server: Any) -> None:
    # LOG_FORMAT=json (README "Operating"): gunicorn's own lines (boot, worker timeouts) in the
    # same one-object-a-line format as Django's, so a log collector reads one stream. Set on its
    # handlers rather than through logconfig_dict, which would also switch its access log on.
    if os.environ.get("LOG_FORMAT", "").strip().lower() != "json":
        return
    from mechanisms.log_format import JsonFormatter

    for logger in (server.log.error_log, server.log.access_log):
        for handler in logger.handlers:
            handler.setFormatter(JsonFormatter())


def on_starting(server: Any) -> None:
    _json_logs(server)


def on_reload(server: Any) -> None:
    _json_logs(server)


def child_exit(server: Any, worker: Any) -> None:
    # Prometheus' multiprocess mode (mechanisms.metrics): a dead worker's counters stay in its
    # file and keep counting in the sums; this drops what only a live process may report.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
