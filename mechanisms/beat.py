"""An active and a standby Celery beat: only the beat holding a PostgreSQL advisory lock schedules.

Run two beats (on two hosts) with `CELERY_BEAT_SCHEDULER` set to this scheduler (the settings do
so whenever the database is PostgreSQL). Each opens a connection of its own and tries
`pg_try_advisory_lock`; the one that gets it schedules as plain Celery beat does, the other checks
again every BEAT_STANDBY_SECONDS. The lock is session-level: it goes with the connection, so when
the active beat dies (a crash, `kill -9`, its host powered off) PostgreSQL releases it and the
standby takes over at its next try.

Why an advisory lock and not celery-redbeat, the usual answer:
- no extra dependency: psycopg is already installed and PostgreSQL already runs;
- PostgreSQL is the source of truth (DESIGN.md): every periodic task claims its work there, so a
  lock held there cannot disagree with the data the tasks act on;
- Redis may be down, or skipped by this process's breaker (mechanisms.redis_breaker): a Redis lock
  would then stop every beat, or let two schedule at once; tasks lost with Redis are swept from
  the database once it is back, but a beat whose lock lived in Redis would not know who leads.

Why its own psycopg connection and not Django's: Django closes and reopens its connection
(CONN_MAX_AGE, health checks, PgBouncer in transaction mode), and each close would drop the lock.

A dead host's TCP connection is never closed by it: PostgreSQL finds out through keepalives, which
this connection asks the server for (tcp_keepalives_*, about 25 s in all), after which the standby
takes over. The active beat, for its part, checks its connection on every tick and gives up
after at most 10 s without an answer (tcp_user_timeout), before the server would release the
lock, so the two never schedule at the same time.

After a takeover the standby's own schedule file may find entries overdue and send them once at
once; every task is idempotent (it claims its work with a conditional UPDATE), so that is safe.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from typing import Any

import psycopg
from celery.beat import PersistentScheduler
from django.conf import settings

logger = logging.getLogger(__name__)

# One lock per database: advisory locks are scoped to the current database, so sites that share a
# PostgreSQL server but not a database never wait for each other.
LOCK_KEY = int.from_bytes(
    hashlib.blake2b(b"cosign.beat", digest_size=8).digest(), "big", signed=True
)

# Server-side keepalives (seconds): a dead beat host's lock is released after about
# idle + interval * count = 25 s. The client gives up first (TCP_USER_TIMEOUT_MS).
KEEPALIVES_IDLE = 10
KEEPALIVES_INTERVAL = 5
KEEPALIVES_COUNT = 3
TCP_USER_TIMEOUT_MS = 10_000
CONNECT_TIMEOUT_SECONDS = 5

# Django-only keys of DATABASES OPTIONS that libpq would refuse.
_DJANGO_OPTIONS = {
    "pool",
    "server_side_binding",
    "isolation_level",
    "assume_role",
    "cursor_factory",
}


def lock_connection_params() -> dict[str, Any]:
    """libpq parameters for the lock's own connection, from Django's database settings."""
    database = settings.DATABASES["default"]
    options = {
        key: value
        for key, value in (database.get("OPTIONS") or {}).items()
        if key not in _DJANGO_OPTIONS
    }
    params: dict[str, Any] = {
        "dbname": database["NAME"],
        "host": database.get("HOST") or None,
        "port": database.get("PORT") or None,
        "user": database.get("USER") or None,
        "password": database.get("PASSWORD") or None,
        "application_name": "cosign-beat",
        **options,
        "autocommit": True,
        "connect_timeout": CONNECT_TIMEOUT_SECONDS,
        # The client's side: notice a dead server or network, and give up on an unanswered write.
        "keepalives": 1,
        "keepalives_idle": KEEPALIVES_IDLE,
        "keepalives_interval": KEEPALIVES_INTERVAL,
        "keepalives_count": KEEPALIVES_COUNT,
        "tcp_user_timeout": TCP_USER_TIMEOUT_MS,
        # The server's side, which is what releases the lock of a host that vanished.
        "options": (
            f"-c tcp_keepalives_idle={KEEPALIVES_IDLE}"
            f" -c tcp_keepalives_interval={KEEPALIVES_INTERVAL}"
            f" -c tcp_keepalives_count={KEEPALIVES_COUNT}"
        ),
    }
    return {key: value for key, value in params.items() if value is not None}


class AdvisoryLockScheduler(PersistentScheduler):
    """Celery beat's persistent scheduler, scheduling only while it holds the beat lock."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._lock_connection: psycopg.Connection[Any] | None = None
        self._active = False
        self._announced: bool | None = None
        super().__init__(*args, **kwargs)

    def tick(self, *args: Any, **kwargs: Any) -> float:
        standby_seconds = float(settings.BEAT_STANDBY_SECONDS)
        if not self._holds_lock():
            return standby_seconds
        # Wake at least every BEAT_STANDBY_SECONDS, to notice a lost connection within that.
        return min(super().tick(*args, **kwargs), standby_seconds)

    def _holds_lock(self) -> bool:
        try:
            if self._lock_connection is None or self._lock_connection.closed:
                self._lock_connection = psycopg.connect(**lock_connection_params())
                self._active = False
            if self._active:
                # Still connected means still holding: the lock lives as long as the session.
                self._lock_connection.execute("SELECT 1")
                return True
            row = self._lock_connection.execute(
                "SELECT pg_try_advisory_lock(%s)", [LOCK_KEY]
            ).fetchone()
        except psycopg.Error as error:
            if self._active:
                logger.error("beat: lost the beat lock (%s); stopped scheduling", error)
            else:
                logger.warning("beat: cannot reach the database for the beat lock (%s)", error)
            self._drop_connection()
            return False
        self._active = bool(row and row[0])
        if self._announced is not self._active:
            # Once per change, not once per try.
            self._announced = self._active
            if self._active:
                logger.warning("beat: holding the beat lock; this beat schedules")
            else:
                logger.warning("beat: standby; another beat holds the lock")
        return self._active

    def _drop_connection(self) -> None:
        self._active = False
        self._announced = None
        if self._lock_connection is not None:
            # Closing a broken connection may fail; it is dropped all the same.
            with contextlib.suppress(psycopg.Error):
                self._lock_connection.close()
        self._lock_connection = None

    def close(self) -> None:
        super().close()
        self._drop_connection()
