"""Fixed-window counters in the cache for rate limits and abuse signals: all the counters of a
request's stages, and a one-time claim after them, in one Redis round trip (a small Lua script),
the same counting through add/incr on any other cache, and failing open when the cache is down.

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

# Counts one request in the counters of its stages, in order, in one round trip, then makes its
# claim. ARGV[1] is the number of counters; then each counter's limit, expiry, check number and
# stop rule: over its limit, a counter ends its check ("check": that check's longer windows are
# not used up) or the whole call ("all": nor are later checks', nor the claim). When KEYS holds
# one key more than there are counters, it is the claim, set if absent for the last ARGV's
# seconds. The answer: the numbers of the checks that went over a limit, and whether the claim
# was new (1), already made (0) or not tried (-1).
_COUNT_SCRIPT = """
local n = tonumber(ARGV[1])
local over = {}
local skipped = nil
for i = 1, n do
  local base = i * 4 - 2
  local check = tonumber(ARGV[base + 2])
  if check ~= skipped then
    local count = redis.call('INCR', KEYS[i])
    if count == 1 then
      redis.call('EXPIRE', KEYS[i], tonumber(ARGV[base + 1]))
    end
    if count > tonumber(ARGV[base]) then
      table.insert(over, check)
      if ARGV[base + 3] == 'all' then
        return {over, -1}
      end
      skipped = check
    end
  end
end
local claimed = -1
if #KEYS > n then
  if redis.call('SET', KEYS[n + 1], 1, 'EX', tonumber(ARGV[n * 4 + 2]), 'NX') then
    claimed = 1
  else
    claimed = 0
  end
end
return {over, claimed}
"""

# A check: a group of counters (an action and tier, a signal on a campaign), the value counted
# (an IP hash, a domain), and its rates ("5/10m"), each a fixed window.
Check = tuple[str, str, Collection[str]]


@dataclass(frozen=True)
class Stage:
    """Checks counted together. With `stop_all`, the first one over a limit ends the count: the
    stages after it are not counted and the claim is not made (a refused request must not use
    up another's budget); without, each check stops only its own longer windows."""

    checks: Sequence[Check]
    stop_all: bool


@dataclass(frozen=True)
class Claim:
    """A cache key set once, for `seconds`, once every stage was counted and none stopped it
    (a spent proof of work)."""

    key: str
    seconds: int


@dataclass(frozen=True)
class Counted:
    # For each stage, the checks (by position in it) that went over a limit.
    over: tuple[frozenset[int], ...]
    # How many stages were counted: all of them, or up to the stop_all one that went over.
    reached: int
    # Whether the claim was new; None when there was none or it was not tried. Failing open,
    # every stage is reached, none over, and a claim counts as new.
    claimed: bool | None


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
    # The check's number among all the stages' checks.
    group: int
    stop_all: bool = True


def _counter(*, group: str, value: str, rate: str, number: int, stop_all: bool = True) -> _Counter:
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
    return _Counter(
        key=f"rl:{digest}",
        limit=limit,
        expiry=period + _EXPIRY_MARGIN,
        group=number,
        stop_all=stop_all,
    )


def _counters(checks: Sequence[Check], *, start: int = 0, stop_all: bool = True) -> list[_Counter]:
    """The counters of (group, value, rates) checks, each check's rates in order, the checks
    numbered from `start`."""
    return [
        _counter(
            group=f"{settings.ABUSE_CACHE_PREFIX}{group}",
            value=value,
            rate=rate,
            number=n,
            stop_all=stop_all,
        )
        for n, (group, value, rates) in enumerate(checks, start=start)
        for rate in rates
    ]


def _count_in_redis(
    backend: RedisCache, counters: Sequence[_Counter], claim: Claim | None
) -> tuple[set[int], bool | None]:
    keys = [backend.make_and_validate_key(counter.key) for counter in counters]
    args: list[str | int] = [len(counters)]
    for counter in counters:
        args += [
            counter.limit,
            counter.expiry,
            counter.group,
            "all" if counter.stop_all else "check",
        ]
    if claim is not None:
        keys.append(backend.make_and_validate_key(claim.key))
        args.append(claim.seconds)
    # EVALSHA, and EVAL only the first time a Redis server sees the script.
    over, claimed = _script(backend)(keys=keys, args=args)
    return {int(check) for check in over}, None if int(claimed) < 0 else bool(int(claimed))


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
    backend: BaseCache, counters: Sequence[_Counter], claim: Claim | None
) -> tuple[set[int], bool | None]:
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
            if counter.stop_all:
                return over, None
    if claim is None:
        return over, None
    return over, bool(backend.add(claim.key, 1, claim.seconds))


def counters_count(
    request: HttpRequest, stages: Sequence[Stage], *, claim: Claim | None = None
) -> Counted:
    """Count one event in each stage's checks, in order, then make `claim`: all of it in one
    Redis round trip (the sign POST's every counter). See Stage for what a check over its limit
    stops.

    Fails open: after the first cache failure in a request the rest are skipped, so a hung Redis
    costs one timeout, not one per call.
    """
    counters: list[_Counter] = []
    starts: list[int] = []
    start = 0
    for stage in stages:
        starts.append(start)
        counters += _counters(stage.checks, start=start, stop_all=stage.stop_all)
        start += len(stage.checks)
    over, claimed = _count(request, counters, claim)

    by_stage: list[frozenset[int]] = []
    reached = len(stages)
    for number, (stage, start) in enumerate(zip(stages, starts, strict=True)):
        mine = frozenset(n - start for n in over if start <= n < start + len(stage.checks))
        by_stage.append(mine)
        if stage.stop_all and mine:
            # This stage stopped the count: the ones after it were not counted.
            reached = min(reached, number + 1)
    return Counted(over=tuple(by_stage), reached=reached, claimed=claimed)


def counters_over(request: HttpRequest, checks: Sequence[Check], *, stop_all: bool) -> set[int]:
    """Count one event in each check's fixed windows and return the checks (by position) that
    went over a limit. A check stops at its first window exceeded, and with `stop_all` the first
    one ends them all: a refused request must not use up a longer window or another's budget.
    Fails open, as counters_count."""
    return set(counters_count(request, [Stage(checks=checks, stop_all=stop_all)]).over[0])


def _count(
    request: HttpRequest, counters: Sequence[_Counter], claim: Claim | None
) -> tuple[set[int], bool | None]:
    """The checks over a limit and whether the claim was new, or, failing open, none over and
    the claim new (as if Redis had never seen this request)."""
    fail_open = (set[int](), None if claim is None else True)
    if not counters and claim is None:
        return set(), None
    if getattr(request, "_cosign_cache_down", False):
        return fail_open
    backend = caches[DEFAULT_CACHE_ALIAS]
    redis = isinstance(backend, RedisCache)
    if redis and not breaker.available():
        # Redis failed a moment ago in this process: no timeout paid again for each request.
        breaker.degraded(_PATH)
        return fail_open
    try:
        if isinstance(backend, RedisCache):
            return _count_in_redis(backend, counters, claim)
        return _count_in_cache(backend, counters, claim)
    except Exception as error:
        # Any cache failure (connection refused, timeout, a full server): the counters are
        # advisory, a signature is not.
        if redis and isinstance(error, REDIS_ERRORS):
            breaker.failed(path=_PATH, error=error)
        else:
            logger.warning("Abuse counters unavailable, failing open", exc_info=True)
        request._cosign_cache_down = True  # type: ignore[attr-defined]
        return fail_open
