"""Fixed-window counters in the cache for rate limits and abuse signals: all the counters of one
check in one Redis round trip (a small Lua script), the same counting through add/incr on any
other cache, and failing open when the cache is down.

Replaces django-ratelimit's per-counter add + incr, two round trips per counter (about 27 per sign
POST), which the bench's profile showed as half the time of the sign view. Keys are made as
django-ratelimit made them, so counters carry across the switch.
"""

from __future__ import annotations

import hashlib
import logging
import time
import zlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.redis import RedisCache
from django.http import HttpRequest

from mechanisms.redis_breaker import REDIS_ERRORS, breaker

logger = logging.getLogger(__name__)

_PATH = "the abuse counters (failing open)"

# Each counter lives for its window plus this margin, so a clock a little behind Redis's still finds
# it.
_EXPIRY_MARGIN = 5
_PERIODS = {"s": 1, "m": 60, "h": 60 * 60, "d": 24 * 60 * 60}

# Counts one request in all the counters of a call, in order and in one round trip: a counter over
# its limit ends its group (ARGV[1] = "group") or the whole call ("all"), so the counters after it
# are not used up. ARGV then holds the limit, expiry and group number of each key in turn; the
# answer is the numbers of the groups that went over a limit.
_COUNT_SCRIPT = """
local stop_all = ARGV[1] == 'all'
local over = {}
local skipped = nil
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[i * 3 - 1])
  local expiry = tonumber(ARGV[i * 3])
  local group = tonumber(ARGV[i * 3 + 1])
  if group ~= skipped then
    local count = redis.call('INCR', key)
    if count == 1 then
      redis.call('EXPIRE', key, expiry)
    end
    if count > limit then
      table.insert(over, group)
      if stop_all then
        break
      end
      skipped = group
    end
  end
end
return over
"""


def _now() -> float:
    # The tests freeze this clock (tests/conftest.py) so a window never ends halfway through one.
    return time.time()


def _window_offset(value: str, period: int) -> int:
    # Windows of different keys end at different moments, so no limit resets for everybody at once.
    return zlib.crc32(value.encode()) % period


def _split_rate(rate: str) -> tuple[int, int]:
    # "5/10m" is five per ten minutes: (5, 600). config.settings.env_rates has checked the form.
    count, per = rate.split("/")
    return int(count), int(per[:-1] or 1) * _PERIODS[per[-1]]


@dataclass(frozen=True)
class _Counter:
    key: str
    limit: int
    expiry: int
    group: int


def _counter(*, group: str, value: str, rate: str, number: int) -> _Counter:
    """The counter of this fixed window of `rate`. The key is a hash of the group, the value and
    the window (as django-ratelimit made them, so counters outlived its removal), so neither an
    IP hash nor a name is readable in Redis."""
    limit, period = _split_rate(rate)
    now = int(_now())
    window = now
    if period > 1:
        window = now - now % period + _window_offset(value, period)
        if window < now:
            window += period
    digest = hashlib.sha256(f"{group}{limit}/{period}s{value}{window}".encode()).hexdigest()
    return _Counter(key=f"rl:{digest}", limit=limit, expiry=period + _EXPIRY_MARGIN, group=number)


def _counters(checks: Sequence[tuple[str, str, Collection[str]]]) -> list[_Counter]:
    """The counters of (group, value, rates) checks, each check's rates in order."""
    return [
        _counter(group=f"{settings.ABUSE_CACHE_PREFIX}{group}", value=value, rate=rate, number=n)
        for n, (group, value, rates) in enumerate(checks)
        for rate in rates
    ]


def _count_in_redis(
    backend: RedisCache, counters: Sequence[_Counter], *, stop_all: bool
) -> set[int]:
    keys = [backend.make_and_validate_key(counter.key) for counter in counters]
    args: list[str | int] = ["all" if stop_all else "group"]
    for counter in counters:
        args += [counter.limit, counter.expiry, counter.group]
    # EVALSHA, and EVAL only the first time a Redis server sees the script.
    over = _script(backend)(keys=keys, args=args)
    return {int(group) for group in over}


# One client and script object per connection pool: Django's get_client() builds a new Redis
# client on every call, whose ~170 response callbacks cost more CPU than the round trip itself
# (bench profile, issue 8). The pool underneath is shared either way.
_scripts: dict[int, tuple[object, Any]] = {}


def _script(backend: RedisCache) -> Any:
    # Private to Django's RedisCacheClient, so undeclared in its stubs: the pool (for writes)
    # and the redis-py client class it builds clients from.
    pool = backend._cache._get_connection_pool(True)  # type: ignore[attr-defined]
    found = _scripts.get(id(pool))
    if found is None or found[0] is not pool:
        client = backend._cache._client(connection_pool=pool)  # type: ignore[attr-defined]
        found = _scripts[id(pool)] = (pool, client.register_script(_COUNT_SCRIPT))
    return found[1]


def _count_in_cache(
    backend: BaseCache, counters: Sequence[_Counter], *, stop_all: bool
) -> set[int]:
    # Any other cache (LocMemCache in development): the same counting, a call per counter.
    over: set[int] = set()
    for counter in counters:
        if counter.group in over:
            continue
        if backend.add(counter.key, 1, counter.expiry):
            count = 1
        else:
            try:
                count = backend.incr(counter.key)
            except ValueError:
                # Expired between the two calls: this window has no count to go over.
                continue
        if count > counter.limit:
            over.add(counter.group)
            if stop_all:
                break
    return over


def counters_over(
    request: HttpRequest, checks: Sequence[tuple[str, str, Collection[str]]], *, stop_all: bool
) -> set[int]:
    """Count one event in each check's fixed windows and return the checks (by position) that
    went over a limit. A check stops at its first window exceeded, and with `stop_all` the first
    one ends them all: a refused request must not use up a longer window or another's budget.

    Fails open: after the first cache failure in a request the rest are skipped, so a hung Redis
    costs one timeout, not one per check.
    """
    counters = _counters(checks)
    if not counters or getattr(request, "_cosign_cache_down", False):
        return set()
    backend = caches[DEFAULT_CACHE_ALIAS]
    redis = isinstance(backend, RedisCache)
    if redis and not breaker.available():
        # Redis failed a moment ago in this process: no timeout paid again for each request.
        breaker.degraded(_PATH)
        return set()
    try:
        if isinstance(backend, RedisCache):
            return _count_in_redis(backend, counters, stop_all=stop_all)
        return _count_in_cache(backend, counters, stop_all=stop_all)
    except Exception as error:
        # Any cache failure (connection refused, timeout, a full server): the counters are
        # advisory, a signature is not.
        if redis and isinstance(error, REDIS_ERRORS):
            breaker.failed(path=_PATH, error=error)
        else:
            logger.warning("Abuse counters unavailable, failing open", exc_info=True)
        request._cosign_cache_down = True  # type: ignore[attr-defined]
        return set()
