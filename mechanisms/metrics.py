"""Prometheus metrics: a few chosen ones, counted where things happen, served at /metrics.

prometheus-client rather than django-prometheus: gunicorn runs several processes, and only
prometheus-client's multiprocess mode (PROMETHEUS_MULTIPROC_DIR, one memory-mapped file per
process, summed at scrape time) gives one answer for all of them; django-prometheus would also
export dozens of metrics per model and cache that nobody asked for. Here each metric answers a
question an operator has (README "Operating").

Hot path: a request costs one histogram observation (a lock and an add on a memory-mapped file
in multiprocess mode); no database or Redis work. Gauges that need the database or the broker
(outbox backlog, oldest unsent email, queue depth) are computed by `StateCollector` when
Prometheus scrapes, one cheap query each, never per request.

Labels are small fixed sets: a view's name (never a path, which may hold a token or an id), a
status class, a campaign kind, a form's rate-limit action. Nothing personal is ever a label.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from datetime import datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

REQUEST_SECONDS = Histogram(
    "cosign_http_request_duration_seconds",
    "Time to answer a request, by view name and status class (2xx, 3xx, 4xx, 5xx).",
    ["view", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
SIGNATURES = Counter(
    "cosign_signatures",
    "Signatures by what happened to them: accepted (a sign POST written), held (accepted with "
    "abuse flags, for a moderator), confirmed (pending to confirmed, by link or moderator), "
    "rejected and spam (by a moderator).",
    ["campaign", "event"],
)
RATE_LIMITED = Counter(
    "cosign_rate_limited",
    "Requests refused with 429 by a rate limit, by form (the rate limit's action).",
    ["form"],
)
DELIVERY_FAILURES = Counter(
    "cosign_delivery_failures",
    "Failed attempts to email a delivery to an official: retrying (will be tried again), "
    "failed (for staff to retry), bounced (the official's server returned it).",
    ["outcome"],
)
WEBHOOK_FAILURES = Counter(
    "cosign_webhook_failures",
    "Webhook POSTs that failed: status (the receiver answered outside 2xx) or error (no answer).",
    ["reason"],
)

# Events and campaign kinds as labels: fixed sets, so a caller cannot grow the series.
SIGNATURE_EVENTS = frozenset({"accepted", "held", "confirmed", "rejected", "spam"})
CAMPAIGNS = frozenset({"petition", "letter"})


def signatures_counted(*, campaign: str, event: str, count: int = 1) -> None:
    """Count `count` signatures of `campaign` ("petition", "letter") going through `event`."""
    if count <= 0:
        return
    # A metric never stops the work it counts: anything unforeseen is counted as "other".
    SIGNATURES.labels(
        campaign=campaign if campaign in CAMPAIGNS else "other",
        event=event if event in SIGNATURE_EVENTS else "other",
    ).inc(count)


def rate_limit_counted(*, form: str) -> None:
    """Count a 429 for the rate limit `form` (a settings.RATE_LIMITS action: a fixed set)."""
    RATE_LIMITED.labels(form=form if form in settings.RATE_LIMITS else "other").inc()


def delivery_failure_counted(*, outcome: str) -> None:
    DELIVERY_FAILURES.labels(outcome=outcome).inc()


def webhook_failure_counted(*, status: int | None) -> None:
    WEBHOOK_FAILURES.labels(reason="error" if status is None else "status").inc()


def request_observed(*, view: str, status: int, seconds: float) -> None:
    REQUEST_SECONDS.labels(view=view, status=f"{status // 100}xx").observe(seconds)


class StateCollector(Collector):
    """Gauges read at scrape time: the outbox's backlog and the age of its oldest unsent email
    (one aggregate over the partial index of owed rows), and the depth of each Celery queue.
    A source that fails (database or broker down) leaves its samples out rather than failing the
    scrape: /readyz says what is down, and the other metrics still arrive."""

    def collect(self) -> Iterator[Metric]:
        yield from self._outbox()
        yield from self._queues()

    def _outbox(self) -> Iterator[Metric]:
        from mechanisms.models import OutboundEmail

        owed = (OutboundEmail.State.PENDING, OutboundEmail.State.SENDING)
        try:
            row = OutboundEmail.objects.filter(state__in=owed).aggregate(
                count=Count("pk"), oldest=Min("created_at")
            )
        except Exception as error:
            logger.warning("metrics: outbox not read (%s)", type(error).__name__)
            return
        backlog = GaugeMetricFamily(
            "cosign_outbox_backlog", "Emails owed and not yet sent (pending or being sent)."
        )
        backlog.add_metric([], row["count"])
        yield backlog
        oldest: datetime | None = row["oldest"]
        age = GaugeMetricFamily(
            "cosign_outbox_oldest_unsent_age_seconds",
            "Age of the oldest email owed and not yet sent; 0 when none is.",
        )
        age.add_metric([], (timezone.now() - oldest).total_seconds() if oldest else 0.0)
        yield age

    def _queues(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily(
            "cosign_queue_depth",
            "Tasks waiting in each Celery queue of the broker.",
            labels=["queue"],
        )
        queues = _queue_names()
        for queue, count in queue_depths(broker_url=settings.CELERY_BROKER_URL, queues=queues):
            depth.add_metric([queue], count)
        yield depth


def _queue_names() -> list[str]:
    """The default queue and any a task route names."""
    names = {settings.CELERY_TASK_DEFAULT_QUEUE}
    routes = getattr(settings, "CELERY_TASK_ROUTES", None) or {}
    if isinstance(routes, dict):
        names |= {
            str(route["queue"])
            for route in routes.values()
            if isinstance(route, dict) and "queue" in route
        }
    return sorted(names)


# kombu's Redis transport keeps a queue's messages of priority p > 0 under the queue's name,
# this separator and p (kombu.transport.redis: PRIORITY_STEPS, sep "\x06\x16").
_REDIS_PRIORITY_SEPARATOR = "\x06\x16"
_REDIS_PRIORITY_STEPS = (0, 3, 6, 9)


def queue_depths(*, broker_url: str, queues: Iterable[str]) -> list[tuple[str, int]]:
    """How many messages wait in each queue, asked of the broker by its URL's scheme: Redis
    (LLEN of the queue's lists, one round trip) or AMQP (a passive queue_declare, which creates
    nothing). A broker that does not answer, or an in-memory one, gives no samples."""
    scheme = urlsplit(broker_url).scheme
    try:
        if scheme in ("redis", "rediss", "unix"):
            return _redis_depths(broker_url, list(queues))
        if scheme in ("amqp", "amqps", "pyamqp"):
            return _amqp_depths(broker_url, list(queues))
    except Exception as error:
        logger.warning("metrics: queue depth not read (%s)", type(error).__name__)
    return []


def _redis_depths(url: str, queues: list[str]) -> list[tuple[str, int]]:
    import redis

    timeout = settings.REDIS_TIMEOUT_MS / 1000
    client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        pipe = client.pipeline(transaction=False)
        for queue in queues:
            for step in _REDIS_PRIORITY_STEPS:
                pipe.llen(queue if step == 0 else f"{queue}{_REDIS_PRIORITY_SEPARATOR}{step}")
        lengths = pipe.execute()
    finally:
        client.close()
    steps = len(_REDIS_PRIORITY_STEPS)
    return [(queue, sum(lengths[i * steps : (i + 1) * steps])) for i, queue in enumerate(queues)]


def _amqp_depths(url: str, queues: list[str]) -> list[tuple[str, int]]:
    from kombu import Connection

    depths: list[tuple[str, int]] = []
    with Connection(url, connect_timeout=2) as connection:
        channel = connection.channel()
        for queue in queues:
            try:
                declared = channel.queue_declare(queue=queue, passive=True)  # type: ignore[attr-defined]
            except Exception:
                # Not declared yet (no worker ever started): nothing waits in it. The failed
                # passive declare closed the channel.
                channel = connection.channel()
                continue
            depths.append((queue, int(declared.message_count)))
    return depths


_state_collector = StateCollector()


def metrics_render() -> tuple[bytes, str]:
    """The exposition text of every metric and its content type: in multiprocess mode (gunicorn,
    PROMETHEUS_MULTIPROC_DIR set) summed over the files of every process, live or dead; else
    this process's own. The gauges of StateCollector are added at this moment either way."""
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
    if multiprocess:
        MultiProcessCollector(registry)
    registry.register(_state_collector)
    text = generate_latest(registry)
    if not multiprocess:
        text = generate_latest(REGISTRY) + text
    return text, CONTENT_TYPE_LATEST
