"""Queueing a task from a request or a service: after the commit, and never at the cost of the
request that wrote the row.

The database is the source of truth: when the broker is down (or this process's Redis breaker
is open) the task is not queued, and the periodic sweeps find the rows that still owe an email.
The person sees the same page either way, so a broker outage cannot reveal whether an address
had signed before.
"""

from __future__ import annotations

import logging

from celery import Task
from django.conf import settings
from django.db import transaction
from kombu.exceptions import OperationalError

from mechanisms.redis_breaker import REDIS_ERRORS, breaker

logger = logging.getLogger(__name__)

_PATH = "queueing tasks"
# What a broker outage raises when a task is queued.
_BROKER_ERRORS: tuple[type[BaseException], ...] = (OperationalError, *REDIS_ERRORS)


def enqueue_now(task: Task, *args: object) -> bool:
    """Queue `task` now, or not at all while Redis is away. Returns whether it was queued."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        try:
            task.delay(*args)
        except Exception:
            # Run in-process (development, tests): its failure is the sweep's to make good.
            logger.exception("Could not run %s%r; the sweep will retry", task.name, args)
            return False
        return True
    if not breaker.available():
        breaker.degraded(_PATH)
        return False
    try:
        task.delay(*args)
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
