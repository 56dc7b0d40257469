"""The client's network address, and the only form in which we keep it."""

from __future__ import annotations

import functools
import ipaddress
import logging
import re
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import salted_hmac

from mechanisms.models import IpHashKey
from mechanisms.personal_data import ip_hashes_clear

logger = logging.getLogger(__name__)

# How the rotation period of IP_HASH_KEY_ROTATION is written in IpHashKey.period. Labels of one
# rotation sort in time order, which the pruning relies on only through ip_hash_periods_kept.
PERIOD_FORMATS = {"day": "%Y-%m-%d", "week": "%G-W%V", "month": "%Y-%m"}


# --- Who the client is -------------------------------------------------------------------------

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_PORT = re.compile(r"[0-9]{1,5}", re.ASCII)
# A proxy on a UNIX socket (gunicorn --bind unix:...) connects with no address; it is on this host,
# so where it has to stand for its client (see client_ip), the loopback address stands for it.
_LOCAL_HOST = ipaddress.IPv4Address("127.0.0.1")


def address_parse(value: str) -> Address | None:
    """An address as servers and proxies write it: bare, `ipv4:port`, `[ipv6]` or `[ipv6]:port`
    (some load balancers add the client's port to X-Forwarded-For). An IPv4-mapped IPv6 address
    is the IPv4 address it carries and an IPv6 zone is dropped, so that one host is always
    written one way. None for anything else: "unknown", RFC 7239's obfuscated "_hidden", a host
    name, "", garbage."""
    text = value.strip()
    if text.startswith("["):
        host, closed, port = text[1:].partition("]")
        if not closed or ":" not in host:
            return None
        if port and not (port.startswith(":") and _PORT.fullmatch(port[1:])):
            return None
    elif text.count(":") == 1:
        host, _, port = text.partition(":")
        if not _PORT.fullmatch(port):
            return None
    else:
        host = text
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.scope_id:
            return ipaddress.IPv6Address(int(address))
    return address


@dataclass(frozen=True)
class TrustedProxies:
    networks: tuple[Network, ...]
    # A connection with no address (a UNIX socket) is a trusted proxy: "unix" in the setting.
    unix: bool

    def __contains__(self, address: Address) -> bool:
        return any(address in network for network in self.networks)


@functools.lru_cache(maxsize=8)
def _trusted_proxies(entries: tuple[str, ...]) -> TrustedProxies:
    # config/settings.py has checked and normalized the entries; this only builds the objects,
    # once per value of the setting rather than on every request.
    return TrustedProxies(
        networks=tuple(ipaddress.ip_network(entry) for entry in entries if entry != "unix"),
        unix="unix" in entries,
    )


def _peer(request: HttpRequest, proxies: TrustedProxies) -> tuple[Address | None, bool]:
    """The address this connection comes from (None when it has none or an invalid one), and
    whether it is a trusted proxy."""
    raw = request.META.get("REMOTE_ADDR", "")
    peer = address_parse(raw)
    if peer is None:
        if proxies.unix and not raw.strip():
            return _LOCAL_HOST, True
        return None, False
    return peer, peer in proxies


def peer_is_trusted_proxy(request: HttpRequest) -> bool:
    """Whether this connection comes from one of settings.TRUSTED_PROXIES, so that what its
    forwarding headers say about the client may be believed."""
    return _peer(request, _trusted_proxies(tuple(settings.TRUSTED_PROXIES)))[1]


def client_ip(request: HttpRequest) -> str:
    """The client's address, the only place that reads REMOTE_ADDR or X-Forwarded-For.

    A connection that is not from one of settings.TRUSTED_PROXIES is its own client, whatever its
    headers say. From a trusted proxy, X-Forwarded-For is walked from the right (each proxy
    appends the address it saw, so only the right end is written by hops we trust) past every
    trusted hop: the first address that is not a trusted proxy is the client; if every one is,
    the leftmost. An entry that is not an address (a proxy's "unknown", garbage) leaves the chain
    unreadable from there, and the connecting proxy stands for its client, so its clients share
    one bucket rather than escaping every per-address limit. Empty list entries are skipped, as
    RFC 9110 (5.6.1.2) has recipients do. "" only when the connection itself has no valid
    address and is not a trusted proxy.

    The standard `Forwarded` header (RFC 7239) is ignored on purpose: one header of record, which
    the proxy is configured to set, leaves no question of which of two to believe (README,
    "Behind a proxy or load balancer").
    """
    proxies = _trusted_proxies(tuple(settings.TRUSTED_PROXIES))
    peer, trusted = _peer(request, proxies)
    if peer is None:
        return ""
    if not trusted:
        return str(peer)
    client = peer
    for entry in reversed(request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")):
        if not entry.strip():
            continue
        hop = address_parse(entry)
        if hop is None:
            return str(peer)
        client = hop
        if hop not in proxies:
            break
    return str(client)


# --- Rotating keys ----------------------------------------------------------------------------


def _period_start(moment: datetime) -> datetime:
    """The first instant (UTC) of the rotation period that contains `moment`."""
    moment = moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    rotation = settings.IP_HASH_KEY_ROTATION
    if rotation == "month":
        return moment.replace(day=1)
    if rotation == "week":
        return moment - timedelta(days=moment.weekday())
    return moment


def ip_hash_period(*, now: datetime | None = None) -> str:
    """The label of the rotation period `now` falls in: "2026-11" for a monthly rotation."""
    moment = (now or timezone.now()).astimezone(UTC)
    return moment.strftime(PERIOD_FORMATS[settings.IP_HASH_KEY_ROTATION])


@dataclass(frozen=True)
class KeptPeriods:
    labels: tuple[str, ...]
    # Hashes made before this were made with a key no longer kept.
    since: datetime


def ip_hash_periods_kept(*, now: datetime | None = None) -> KeptPeriods:
    """The current period and the IP_HASH_KEYS_KEPT - 1 before it, newest first."""
    start = _period_start(now or timezone.now())
    labels = []
    for _ in range(settings.IP_HASH_KEYS_KEPT):
        labels.append(ip_hash_period(now=start))
        oldest = start
        start = _period_start(start - timedelta(microseconds=1))
    return KeptPeriods(labels=tuple(labels), since=oldest)


# One (period, secret) per process: the sign form hashes on every POST and must not read the
# database for it. Only the current period is held, so a key deleted by the pruning task does not
# live on in a long-running web process beyond the end of its period.
_cached: tuple[str, str] | None = None
_cache_lock = threading.Lock()


def _period_secret(period: str) -> str:
    global _cached
    cached = _cached
    if cached is not None and cached[0] == period:
        return cached[1]
    with _cache_lock:
        secret, created = _secret_get_or_create(period)
        # A row created inside a transaction that may yet roll back is not cached: the next call
        # reads it again, so this process never keeps a secret the database does not have.
        if not (created and transaction.get_connection().in_atomic_block):
            _cached = (period, secret)
    return secret


def _secret_get_or_create(period: str) -> tuple[str, bool]:
    # Two processes starting a period at once both try to create its row; the unique period lets
    # one win and get_or_create reads the winner's secret. A second try covers the rare case where
    # the winner's row was not yet visible to our read.
    for attempt in range(2):
        try:
            key, created = IpHashKey.objects.get_or_create(
                period=period, defaults={"secret": secrets.token_hex(32)}
            )
        except IntegrityError:
            if attempt:
                raise
            continue
        return key.secret, created
    raise AssertionError("unreachable")  # pragma: no cover


def ip_hash_cache_clear() -> None:
    """Forget the cached key (tests, and after pruning in the same process)."""
    global _cached
    with _cache_lock:
        _cached = None


# One IPv6 host (a home router's LAN, a cloud VM) is usually given a whole /64 and can take a
# fresh address from it for every request: the /64 is the unit that stands for one subscriber.
IPV6_PREFIX_LENGTH = 64


def ip_hashed_part(ip: str) -> str:
    """What of an address is hashed: an IPv4 address whole (an IPv4-mapped IPv6 address as the
    IPv4 one it carries), an IPv6 address by its /64 network. "" for no valid address."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        network = ipaddress.IPv6Network((address, IPV6_PREFIX_LENGTH), strict=False)
        return str(network)
    return str(address)


def ip_hash(ip: str, *, now: datetime | None = None) -> str:
    """A keyed hash of an address: equal for equal addresses (for IPv6, addresses of one /64)
    within one rotation period, useless without the key.

    The key is IP_HASH_KEY together with the period's random secret (accounts.models.IpHashKey).
    The raw address is never stored; once the period's secret is deleted, the hash links to no one,
    not even to us: recomputing it for a suspect address is no longer possible. Rate limits,
    bursts and the stored hash all use this, so an IPv6 host cannot dodge them address by address,
    and what we keep is less precise.
    """
    part = ip_hashed_part(ip)
    if not part:
        return ""
    secret = f"{settings.IP_HASH_KEY}:{_period_secret(ip_hash_period(now=now))}"
    return salted_hmac("cosign.ip", part, secret=secret, algorithm="sha256").hexdigest()


@dataclass(frozen=True)
class Pruned:
    keys_deleted: int
    hashes_cleared: int


def ip_hash_keys_prune(*, now: datetime | None = None) -> Pruned:
    """Delete the keys of periods no longer kept, and blank the IP hashes made with them.

    Those hashes can no longer be matched with anything once their key is gone; keeping them
    would only keep a column of noise about people.
    """
    kept = ip_hash_periods_kept(now=now)
    deleted, _ = IpHashKey.objects.exclude(period__in=kept.labels).delete()
    cleared = ip_hashes_clear(created_before=kept.since)
    if deleted:
        ip_hash_cache_clear()
    logger.info(
        "IP hash keys: kept %s, deleted %d old keys, blanked %d old hashes",
        ", ".join(kept.labels),
        deleted,
        cleared,
    )
    return Pruned(keys_deleted=deleted, hashes_cleared=cleared)
