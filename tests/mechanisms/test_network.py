from datetime import UTC, datetime

import pytest
from django.db import transaction
from django.test import RequestFactory, override_settings
from django.utils.crypto import salted_hmac

from mechanisms.models import IpHashKey
from mechanisms.network import (
    client_ip,
    ip_hash,
    ip_hash_cache_clear,
    ip_hash_keys_prune,
    ip_hash_period,
    ip_hash_periods_kept,
    ip_hashed_part,
)
from tests.factories import IndividualSignatureFactory, SignatureFactory

ADDRESS = "203.0.113.9"
SEPTEMBER = datetime(2026, 9, 15, 12, tzinfo=UTC)
OCTOBER = datetime(2026, 10, 10, 12, tzinfo=UTC)
NOVEMBER = datetime(2026, 11, 20, 12, tzinfo=UTC)
DECEMBER = datetime(2026, 12, 1, 0, 0, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _no_cached_key():
    """The key cache lives in the process; the database rows it mirrors are rolled back."""
    ip_hash_cache_clear()
    yield
    ip_hash_cache_clear()


def _request(remote: str | None, forwarded: str | None = None, **headers: str):
    request = RequestFactory().post("/", **headers)
    if remote is None:
        del request.META["REMOTE_ADDR"]
    else:
        request.META["REMOTE_ADDR"] = remote
    if forwarded is not None:
        request.META["HTTP_X_FORWARDED_FOR"] = forwarded
    return request


# --- Who the client is: REMOTE_ADDR, and X-Forwarded-For only from trusted proxies -------------

PROXIES = ["10.0.0.0/8", "2001:db8:aaaa::/48"]
CLIENT = "198.51.100.7"


def test_client_ip_ignores_forwarded_header_without_proxies() -> None:
    # A client must not be able to choose the address our abuse checks see.
    assert client_ip(_request("203.0.113.9", "198.51.100.1")) == "203.0.113.9"


@override_settings(TRUSTED_PROXIES=PROXIES)
@pytest.mark.parametrize("remote", ["203.0.113.9", "2001:db8:bbbb::9"])
def test_a_client_reaching_us_directly_cannot_choose_its_address(remote: str) -> None:
    # It could name a trusted proxy as well, or anyone else: the connection is not one of ours.
    for spoofed in ("198.51.100.1", "10.0.0.2", "198.51.100.1, 10.0.0.2", "unknown"):
        assert client_ip(_request(remote, spoofed)) == remote


@override_settings(TRUSTED_PROXIES=PROXIES)
@pytest.mark.parametrize(
    ("forwarded", "client"),
    [
        # One proxy, which overwrote the header with the address it saw.
        (CLIENT, CLIENT),
        # One proxy that appends: what the client sent stays on the left, and is not read.
        (f"203.0.113.66, {CLIENT}", CLIENT),
        (f"10.0.0.9, {CLIENT}", CLIENT),
        # Several trusted proxies (a CDN node, then a load balancer), each appending.
        (f"{CLIENT}, 10.0.0.5, 10.1.2.3", CLIENT),
        (f"203.0.113.66, {CLIENT}, 10.0.0.5", CLIENT),
        # Every hop trusted: the request began inside our own network, at the leftmost.
        ("10.9.9.9, 10.0.0.5", "10.9.9.9"),
        # Whatever a client wrote beyond the first untrusted hop does not matter, even garbage.
        (f"unknown, {CLIENT}", CLIENT),
        (f"not an address, {CLIENT}, 10.0.0.5", CLIENT),
        # IPv6 clients and proxies, and an IPv6 proxy network.
        ("2001:db8:1::7", "2001:db8:1::7"),
        ("2001:db8:1::7, 2001:db8:aaaa::3", "2001:db8:1::7"),
        ("2001:db8:1::7, 2001:db8:aaab::3", "2001:db8:aaab::3"),
        # Ports, as some load balancers write them, are not part of the address.
        (f"{CLIENT}:51234", CLIENT),
        ("[2001:db8:1::7]:443", "2001:db8:1::7"),
        ("[2001:db8:1::7]", "2001:db8:1::7"),
        (f"{CLIENT}:51234, 10.0.0.5:8080, [2001:db8:aaaa::3]:443", CLIENT),
        # An IPv4-mapped IPv6 address is its IPv4 address, and so is trusted like one.
        (f"::ffff:{CLIENT}", CLIENT),
        (f"{CLIENT}, ::ffff:10.0.0.5", CLIENT),
        (f"[::ffff:{CLIENT}]:80", CLIENT),
        # Empty list entries are nothing, not an address (RFC 9110, 5.6.1.2).
        (f"{CLIENT},", CLIENT),
        (f" , {CLIENT} , , 10.0.0.5 ,, ", CLIENT),
        # A list spread over several header lines (joined with commas by the server), or tabs.
        (f"203.0.113.66,{CLIENT}\t,10.0.0.5", CLIENT),
    ],
)
def test_from_a_trusted_proxy_the_client_is_the_first_untrusted_hop_from_the_right(
    forwarded: str, client: str
) -> None:
    assert client_ip(_request("10.0.0.2", forwarded)) == client


@override_settings(TRUSTED_PROXIES=PROXIES)
@pytest.mark.parametrize(
    "forwarded",
    [
        # What a proxy writes when it does not know, or will not say (RFC 7239 obfuscation).
        "unknown",
        "_hidden",
        "UNKNOWN",
        # A name, garbage, a network, and addresses written wrongly.
        "client.example.org",
        "garbage",
        "198.51.100.0/24",
        "198.51.100.7.1",
        "198.51.100.256",
        "0198.51.100.7",
        # Ports that are not ports, brackets that are not an IPv6 address.
        "198.51.100.7:",
        "198.51.100.7:http",
        "198.51.100.7:123456",
        "198.51.100.7:\uff18\uff10",  # fullwidth digits
        "[198.51.100.7]:80",
        "[2001:db8:1::7",
        "[2001:db8:1::7]80",
        "[2001:db8:1::7]:",
        "2001:db8:1::7]:80",
        "[[2001:db8:1::7]]",
        # The malformed entry is the one the walk reaches, behind trusted hops.
        f"{CLIENT}, unknown",
        f"{CLIENT}, unknown, 10.0.0.5",
        f"{CLIENT}, 10.0.0.5:port",
        f"{CLIENT}, 10.0.0.5 10.0.0.6",
    ],
)
def test_a_malformed_chain_from_a_trusted_proxy_falls_back_to_the_proxy_not_to_nothing(
    forwarded: str,
) -> None:
    # So "unknown" clients share the proxy's bucket instead of escaping every per-address limit.
    assert client_ip(_request("10.0.0.2", forwarded)) == "10.0.0.2"


@override_settings(TRUSTED_PROXIES=PROXIES)
@pytest.mark.parametrize("forwarded", [None, "", " ", ",", " , ,"])
def test_a_trusted_proxy_that_names_no_client_is_the_client(forwarded: str | None) -> None:
    # Its own health checks, or a request it made itself.
    assert client_ip(_request("10.0.0.2", forwarded)) == "10.0.0.2"


@override_settings(TRUSTED_PROXIES=PROXIES)
def test_a_trusted_proxy_is_recognized_in_any_spelling_of_its_address() -> None:
    # A dual-stack socket reports an IPv4 proxy as an IPv4-mapped IPv6 address.
    assert client_ip(_request("::ffff:10.0.0.2", CLIENT)) == CLIENT
    assert client_ip(_request("::ffff:10.0.0.2", "unknown")) == "10.0.0.2"
    assert client_ip(_request("2001:db8:aaaa::2", CLIENT)) == CLIENT
    assert client_ip(_request("2001:db8:aaaa::2", "unknown")) == "2001:db8:aaaa::2"
    assert client_ip(_request("fe80::1%eth0")) == "fe80::1"


@override_settings(TRUSTED_PROXIES=PROXIES)
@pytest.mark.parametrize("remote", [None, "", "not-an-ip", "10.0.0.2.5", "unknown"])
def test_a_connection_with_no_valid_address_is_no_one_and_its_headers_are_not_read(
    remote: str | None,
) -> None:
    assert client_ip(_request(remote)) == ""
    assert client_ip(_request(remote, CLIENT)) == ""


@override_settings(TRUSTED_PROXIES=["unix"])
def test_a_trusted_proxy_on_a_unix_socket_is_read_and_stands_in_as_this_host() -> None:
    # gunicorn --bind unix:... leaves REMOTE_ADDR empty.
    assert client_ip(_request("", CLIENT)) == CLIENT
    assert client_ip(_request(None, f"203.0.113.66, {CLIENT}")) == CLIENT
    assert client_ip(_request("", "unknown")) == "127.0.0.1"
    assert client_ip(_request("")) == "127.0.0.1"
    # An address is not a UNIX socket: 127.0.0.1 is not trusted by "unix".
    assert client_ip(_request("127.0.0.1", CLIENT)) == "127.0.0.1"
    assert client_ip(_request("garbage", CLIENT)) == ""


@override_settings(TRUSTED_PROXIES=PROXIES)
def test_the_forwarded_header_is_ignored_from_anyone() -> None:
    # One header of record (X-Forwarded-For): Forwarded (RFC 7239) is not half-read beside it.
    forwarded = {"HTTP_FORWARDED": "for=203.0.113.66;proto=https"}
    assert client_ip(_request("10.0.0.2", **forwarded)) == "10.0.0.2"
    assert client_ip(_request("10.0.0.2", CLIENT, **forwarded)) == CLIENT
    assert client_ip(_request("203.0.113.9", **forwarded)) == "203.0.113.9"


def test_client_ip_rejects_garbage() -> None:
    assert client_ip(_request("not-an-ip")) == ""


@pytest.mark.django_db
def test_ip_hash_is_keyed_stable_and_not_the_address() -> None:
    first = ip_hash("203.0.113.9")
    assert first == ip_hash("203.0.113.9")
    assert first != ip_hash("203.0.113.10")
    assert "203.0.113.9" not in first
    assert len(first) == 64
    with override_settings(IP_HASH_KEY="another key"):
        assert ip_hash("203.0.113.9") != first


def test_ip_hash_of_nothing_is_empty() -> None:
    assert ip_hash("") == ""


@pytest.mark.django_db
@pytest.mark.parametrize("address", ["::1", "2001:db8::1"])
def test_ipv6_addresses_are_kept_as_hashes_too(address: str) -> None:
    assert client_ip(_request(address)) == address
    assert len(ip_hash(address)) == 64


@pytest.mark.django_db
def test_ipv6_addresses_of_one_64_share_a_hash_and_other_64s_do_not() -> None:
    # One host usually holds a whole /64 and may take a fresh address for every request.
    first = ip_hash("2001:db8:1:2::1")
    assert ip_hash("2001:db8:1:2:ffff:ffff:ffff:ffff") == first
    assert ip_hash("2001:db8:1:3::1") != first
    assert ip_hash("2001:db8:2:2::1") != first


@pytest.mark.parametrize(
    ("address", "hashed"),
    [
        ("2001:db8:1:2:a:b:c:d", "2001:db8:1:2::/64"),
        ("::1", "::/64"),
        ("203.0.113.9", "203.0.113.9"),
        # A dual-stack socket reports IPv4 clients this way: still one address, not a /64.
        ("::ffff:203.0.113.9", "203.0.113.9"),
        ("not-an-ip", ""),
        ("", ""),
    ],
)
def test_ipv4_is_hashed_per_address_and_ipv6_per_64(address: str, hashed: str) -> None:
    assert ip_hashed_part(address) == hashed


@pytest.mark.django_db
def test_ipv4_neighbours_do_not_share_a_hash() -> None:
    assert ip_hash("203.0.113.9") != ip_hash("203.0.113.8")
    assert ip_hash("::ffff:203.0.113.9") == ip_hash("203.0.113.9")


# --- Rotation ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_same_address_next_month_hashes_differently() -> None:
    november = ip_hash(ADDRESS, now=NOVEMBER)
    assert ip_hash(ADDRESS, now=NOVEMBER) == november
    december = ip_hash(ADDRESS, now=DECEMBER)
    assert december != november
    assert sorted(IpHashKey.objects.values_list("period", flat=True)) == ["2026-11", "2026-12"]
    secrets = set(IpHashKey.objects.values_list("secret", flat=True))
    assert len(secrets) == 2
    assert all(len(secret) == 64 for secret in secrets)


@pytest.mark.django_db
def test_the_key_is_read_once_per_period_not_on_every_request(django_assert_num_queries) -> None:
    IpHashKey.objects.create(period="2026-11", secret="committed-earlier")
    ip_hash(ADDRESS, now=NOVEMBER)
    with django_assert_num_queries(0):
        for last in range(1, 50):
            ip_hash(f"198.51.100.{last}", now=NOVEMBER)


@pytest.mark.django_db
def test_a_key_made_in_a_transaction_that_rolled_back_is_not_remembered() -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        lost = ip_hash(ADDRESS, now=NOVEMBER)
        raise RuntimeError("the request failed")
    assert not IpHashKey.objects.exists()
    # A fresh secret, this time in the database, where other processes and the pruning see it.
    assert ip_hash(ADDRESS, now=NOVEMBER) != lost
    assert IpHashKey.objects.count() == 1


@pytest.mark.django_db
def test_a_key_another_process_created_is_used_not_replaced() -> None:
    IpHashKey.objects.create(period="2026-11", secret="made-by-another-worker")
    expected = salted_hmac(
        "cosign.ip", ADDRESS, secret="test-key:made-by-another-worker", algorithm="sha256"
    ).hexdigest()
    with override_settings(IP_HASH_KEY="test-key"):
        assert ip_hash(ADDRESS, now=NOVEMBER) == expected
    assert IpHashKey.objects.count() == 1


@pytest.mark.django_db
def test_pruning_makes_an_old_hash_unmatchable() -> None:
    september_hash = ip_hash(ADDRESS, now=SEPTEMBER)
    october_hash = ip_hash(ADDRESS, now=OCTOBER)
    ip_hash(ADDRESS, now=NOVEMBER)
    old = SignatureFactory(ip_hash=september_hash, created_at=SEPTEMBER)
    old_expert = IndividualSignatureFactory(ip_hash=september_hash, created_at=SEPTEMBER)
    recent = SignatureFactory(ip_hash=october_hash, created_at=OCTOBER)

    pruned = ip_hash_keys_prune(now=NOVEMBER)

    assert pruned.keys_deleted == 1
    assert pruned.hashes_cleared == 2
    assert sorted(IpHashKey.objects.values_list("period", flat=True)) == ["2026-10", "2026-11"]
    old.refresh_from_db()
    old_expert.refresh_from_db()
    recent.refresh_from_db()
    assert old.ip_hash == old_expert.ip_hash == ""
    assert recent.ip_hash == october_hash
    # Recomputing the September hash of a suspect address now needs a key nobody has: a new one
    # is made, and the result matches nothing we ever stored.
    ip_hash_cache_clear()
    assert ip_hash(ADDRESS, now=SEPTEMBER) != september_hash
    # The kept month still matches, so rate limits and abuse signals keep working.
    assert ip_hash(ADDRESS, now=OCTOBER) == october_hash


@pytest.mark.django_db
def test_pruning_twice_deletes_nothing_more() -> None:
    ip_hash(ADDRESS, now=SEPTEMBER)
    ip_hash(ADDRESS, now=NOVEMBER)
    assert ip_hash_keys_prune(now=NOVEMBER).keys_deleted == 1
    assert ip_hash_keys_prune(now=NOVEMBER).keys_deleted == 0
    assert list(IpHashKey.objects.values_list("period", flat=True)) == ["2026-11"]


@pytest.mark.django_db
@override_settings(IP_HASH_KEYS_KEPT=1)
def test_keeping_one_key_deletes_last_month_too() -> None:
    ip_hash(ADDRESS, now=OCTOBER)
    ip_hash(ADDRESS, now=NOVEMBER)
    ip_hash_keys_prune(now=NOVEMBER)
    assert list(IpHashKey.objects.values_list("period", flat=True)) == ["2026-11"]


@override_settings(IP_HASH_KEY_ROTATION="week", IP_HASH_KEYS_KEPT=3)
def test_weekly_rotation_keeps_the_last_weeks() -> None:
    # Wednesday 25 November 2026 is in ISO week 48, which began on Monday the 23rd.
    wednesday = datetime(2026, 11, 25, 15, tzinfo=UTC)
    assert ip_hash_period(now=wednesday) == "2026-W48"
    kept = ip_hash_periods_kept(now=wednesday)
    assert kept.labels == ("2026-W48", "2026-W47", "2026-W46")
    assert kept.since == datetime(2026, 11, 9, tzinfo=UTC)


def test_monthly_periods_cross_the_year() -> None:
    kept = ip_hash_periods_kept(now=datetime(2027, 1, 3, tzinfo=UTC))
    assert kept.labels == ("2027-01", "2026-12")
    assert kept.since == datetime(2026, 12, 1, tzinfo=UTC)
