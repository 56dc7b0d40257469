"""Redis may die at any moment, or hang (DESIGN.md): a circuit breaker per process, and the
cache backend that consults it.

Every use of Redis (the cache and what is built on it: the page cache, target counts, cooldowns,
spent proofs of work; the abuse counters' script; publishing tasks) asks `breaker.available()`
first and reports a failure with `breaker.failed()`. After a failure the process skips Redis for
REDIS_BREAKER_SECONDS, so a dead or hung Redis costs one timeout (REDIS_TIMEOUT_MS) per process
per period, not one per request; then one request tries again. Each degraded path logs once per
trip, not once per request.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache.backends.base import DEFAULT_TIMEOUT as DEFAULT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

T = TypeVar("T")

# What a Redis outage raises: refused or reset connections, timeouts, a server that is loading.
REDIS_ERRORS: tuple[type[BaseException], ...] = (RedisError, OSError)


class RedisBreaker:
    """`service`: what the log lines name; the broker's breaker (mechanisms.queue) is another
    instance, for a broker other than Redis."""

    def __init__(self, *, service: str = "Redis") -> None:
        self.service = service
        self._open_until = 0.0
        self._trip = 0
        self._logged: set[str] = set()
        self._lock = threading.Lock()

    def available(self) -> bool:
        """Whether this process may use the service now."""
        return time.monotonic() >= self._open_until

    def failed(self, *, path: str, error: BaseException) -> None:
        """The service failed `path`: skip it for REDIS_BREAKER_SECONDS."""
        with self._lock:
            now = time.monotonic()
            if now >= self._open_until:
                self._trip += 1
                self._logged = set()
            self._open_until = now + settings.REDIS_BREAKER_SECONDS
        self.degraded(path, error=error)

    def degraded(self, path: str, *, error: BaseException | None = None) -> None:
        """`path` went on without the service: logged once per trip."""
        with self._lock:
            if path in self._logged:
                return
            self._logged.add(path)
            trip = self._trip
        logger.warning(
            "%s unavailable (%s): %s goes on without it for at least %d s (trip %d)",
            self.service,
            f"{type(error).__name__}: {error}" if error else "breaker open",
            path,
            settings.REDIS_BREAKER_SECONDS,
            trip,
        )

    def reset(self) -> None:
        """Close the breaker (tests, and a process that knows the service is back)."""
        with self._lock:
            self._open_until = 0.0
            self._logged = set()

    def call(self, path: str, action: Callable[[], T], fallback: T) -> T:
        """`action()`, or `fallback` while the breaker is open or when Redis fails."""
        if not self.available():
            self.degraded(path)
            return fallback
        try:
            return action()
        except REDIS_ERRORS as error:
            self.failed(path=path, error=error)
            return fallback


breaker = RedisBreaker()


class BreakerRedisCache(RedisCache):
    """Django's Redis cache that fails open: while Redis is away, reads miss, writes do nothing,
    and `add` says it added (so a cooldown or a one-time claim lets the action through, as the
    abuse counters do: the database, not Redis, is the source of truth)."""

    def _guarded(self, method: str, fallback: T, *args: Any) -> T:
        parent = getattr(super(), method)
        return breaker.call("the cache", lambda: parent(*args), fallback)

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        return self._guarded("get", default, key, default, version)

    def get_many(self, keys: Iterable[Any], version: int | None = None) -> dict[Any, Any]:
        return self._guarded("get_many", {}, keys, version)

    def set(self, key: Any, value: Any, timeout: Any = DEFAULT, version: int | None = None) -> None:
        self._guarded("set", None, key, value, timeout, version)

    def set_many(
        self, data: dict[Any, Any], timeout: Any = DEFAULT, version: int | None = None
    ) -> list[Any]:
        return self._guarded("set_many", list(data), data, timeout, version)

    def add(self, key: Any, value: Any, timeout: Any = DEFAULT, version: int | None = None) -> bool:
        return self._guarded("add", True, key, value, timeout, version)

    def touch(self, key: Any, timeout: Any = DEFAULT, version: int | None = None) -> bool:
        return self._guarded("touch", False, key, timeout, version)

    def delete(self, key: Any, version: int | None = None) -> bool:
        return self._guarded("delete", False, key, version)

    def delete_many(self, keys: Iterable[Any], version: int | None = None) -> None:
        self._guarded("delete_many", None, keys, version)

    def has_key(self, key: Any, version: int | None = None) -> bool:
        return self._guarded("has_key", False, key, version)

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        # As if the key were new: what counts with it (a daily budget) lets the action through.
        return self._guarded("incr", delta, key, delta, version)

    def clear(self) -> None:
        self._guarded("clear", None)
