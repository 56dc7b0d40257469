"""What /readyz checks: the database, Redis and applied migrations.

Each check catches its own failure and answers with a word; a load balancer polls every few
seconds, so a failure is logged once when it begins (a WARNING, no traceback) and once when it
ends, not once per poll.
"""

from __future__ import annotations

import logging
import threading

import redis
from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from redis.backoff import NoBackoff
from redis.retry import Retry

logger = logging.getLogger(__name__)

OK = "ok"
DOWN = "down"
NOT_CONFIGURED = "not configured"
PENDING = "pending"
# Migrations cannot be read while the database is down.
UNKNOWN = "unknown"

# Once every migration is applied it stays so for the life of the process (new migrations come
# with new code, and so with a new process): later polls skip loading the migration graph.
_migrations_applied = False
# The last result of each check in this process, to log a failure when it begins and ends.
_last: dict[str, str] = {}
_clients: dict[tuple[str, float], redis.Redis] = {}
_lock = threading.Lock()


def readiness() -> tuple[int, dict[str, object]]:
    """The HTTP status and JSON body of /readyz: 503 when this process cannot serve (no
    database, or code ahead of its schema), 200 "degraded" when only Redis is down, because pages
    and signing go on without it."""
    checks = {"database": _database_check(), "redis": _redis_check()}
    checks["migrations"] = _migrations_check() if checks["database"] == OK else UNKNOWN
    if checks["database"] != OK or checks["migrations"] != OK:
        return 503, {"status": "unavailable", "checks": checks}
    if checks["redis"] == DOWN:
        return 200, {"status": "degraded", "checks": checks}
    return 200, {"status": "ok", "checks": checks}


def _database_check() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:
        return _failed("database", DOWN, error)
    return _passed("database")


def _redis_check() -> str:
    if not settings.REDIS_URL:
        return NOT_CONFIGURED
    try:
        _redis_client(settings.REDIS_URL).ping()
    except Exception as error:
        return _failed("redis", DOWN, error)
    return _passed("redis")


def _migrations_check() -> str:
    global _migrations_applied
    if _migrations_applied:
        return OK
    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as error:
        return _failed("migrations", UNKNOWN, error)
    if plan:
        return _failed("migrations", PENDING, f"{len(plan)} not applied")
    _migrations_applied = True
    return _passed("migrations")


def _redis_client(url: str) -> redis.Redis:
    """One client per process (its pool keeps the connection between polls), with the short
    timeout every use of Redis has and no retries: a Redis that accepts connections and never
    answers must not hold the check past the load balancer's own timeout."""
    timeout = settings.REDIS_TIMEOUT_MS / 1000
    with _lock:
        client = _clients.get((url, timeout))
        if client is None:
            client = _clients[url, timeout] = redis.Redis.from_url(
                url,
                socket_timeout=timeout,
                socket_connect_timeout=timeout,
                retry=Retry(NoBackoff(), 0),
            )
        return client


def _failed(check: str, result: str, error: object) -> str:
    if _last.get(check, OK) != result:
        reason = f"{type(error).__name__}: {error}" if isinstance(error, Exception) else error
        logger.warning("readyz: %s %s (%s)", check, result, str(reason).strip())
    _last[check] = result
    return result


def _passed(check: str) -> str:
    if _last.get(check, OK) != OK:
        logger.info("readyz: %s ok again", check)
    _last[check] = OK
    return OK
