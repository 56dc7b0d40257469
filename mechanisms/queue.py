"""Queueing a task from a request or a service: after the commit, and never at the cost of the
request that wrote the row.

The database is the source of truth: when the broker is down (or this process's breaker for it
is open) the task is not queued, and the periodic sweeps find the rows that still owe an email.
The person sees the same page either way, so a broker outage cannot reveal whether an address
had signed before.

The breaker is the Redis one when Redis is the broker: one outage, one timeout per period. With
another broker (RabbitMQ, CELERY_BROKER_URL) it is a breaker of its own, so a Redis outage never
stops a task from being queued and a broker outage never turns the cache off.
"""

from __future__ import annotations

import logging
from typing import Any

from amqp.exceptions import AMQPError, MessageNacked
from celery import Task
from django.conf import settings
from django.db import transaction
from kombu.exceptions import OperationalError

from mechanisms.redis_breaker import REDIS_ERRORS, RedisBreaker
from mechanisms.redis_breaker import breaker as redis_breaker

logger = logging.getLogger(__name__)

_PATH = "queueing tasks"
# What a broker outage raises when a task is queued: Redis's errors, RabbitMQ's (py-amqp's, and
# a publish the broker refused to confirm), and kombu's wrapping of either.
_BROKER_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    AMQPError,
    MessageNacked,
    *REDIS_ERRORS,
)
# For a broker that is not REDIS_URL's Redis.
broker_breaker = RedisBreaker(service="Celery's broker")


def _breaker(task: Task) -> RedisBreaker:
    # Celery's own setting, not Django's copy: a test may switch the app to another broker.
    return redis_breaker if task.app.conf.broker_url == settings.REDIS_URL else broker_breaker


def _publish_options(task: Task) -> dict[str, Any]:
    """RabbitMQ's publish waits for the broker's confirmation: at most RABBITMQ_TIMEOUT_MS, as a
    Redis publish waits at most REDIS_TIMEOUT_MS (its transport's socket timeout)."""
    if task.app.conf.broker_transport_options.get("confirm_publish"):
        timeout = settings.RABBITMQ_TIMEOUT_MS / 1000
        return {"timeout": timeout, "confirm_timeout": timeout}
    return {}


def enqueue_now(task: Task, *args: object) -> bool:
    """Queue `task` now, or not at all while its broker is away. Returns whether it was
    queued."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        try:
            task.delay(*args)
        except Exception:
            # Run in-process (development, tests): its failure is the sweep's to make good.
            logger.exception("Could not run %s%r; the sweep will retry", task.name, args)
            return False
        return True
    breaker = _breaker(task)
    if not breaker.available():
        breaker.degraded(_PATH)
        return False
    try:
        task.apply_async(args, **_publish_options(task))
    except _BROKER_ERRORS as error:
        breaker.failed(path=_PATH, error=error)
        return False
    except Exception:
        logger.exception("Could not queue %s%r; the sweep will retry", task.name, args)
        return False
    return True


def enqueue_after_commit(task: Task, *args: object) -> None:
    """Queue `task` once the transaction commits (enqueue_now)."""
    transaction.on_commit(lambda: enqueue_now(task, *args))
