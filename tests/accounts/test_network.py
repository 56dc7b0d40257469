import pytest
from django.test import RequestFactory, override_settings

from accounts.network import client_ip, ip_hash


def _request(remote: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().post("/", **extra)


def test_client_ip_ignores_forwarded_header_without_proxies() -> None:
    # A client must not be able to choose the address our abuse checks see.
    assert client_ip(_request("203.0.113.9", "198.51.100.1")) == "203.0.113.9"


@override_settings(NUM_PROXIES=1)
def test_client_ip_takes_the_address_our_proxy_saw() -> None:
    request = _request("10.0.0.2", "198.51.100.1, 203.0.113.9")
    assert client_ip(request) == "203.0.113.9"


def test_client_ip_rejects_garbage() -> None:
    assert client_ip(_request("not-an-ip")) == ""


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


@pytest.mark.parametrize("address", ["::1", "2001:db8::1"])
def test_ipv6_addresses_are_kept_as_hashes_too(address: str) -> None:
    assert client_ip(_request(address)) == address
    assert len(ip_hash(address)) == 64
