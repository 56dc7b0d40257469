"""Per-address limits and signals on the sign form hold behind a proxy: a proxy's "unknown"
falls back to the proxy's own bucket instead of switching them off, and a client that reaches
gunicorn directly cannot pick its bucket with X-Forwarded-For (mechanisms.network.client_ip)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from mechanisms.network import ip_hash
from petitions.models import Petition, Signature

pytestmark = pytest.mark.django_db

VALID = {
    "name": "Maria Rossi",
    "email": "maria@example.org",
    "postal_code": "94612",
    "country": "US",
    "display": "short",
}
NO_LIMIT: dict[str, list[str]] = {"ip": [], "campaign": [], "global": []}
PROXY = "10.0.0.2"


@pytest.fixture(autouse=True)
def _behind_a_proxy(settings) -> None:
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]


@pytest.fixture
def one_per_address(settings) -> None:
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "sign": NO_LIMIT | {"ip": ["1/m"]},
    }


def _sign(client, petition: Petition, n: int, *, remote: str, forwarded: str) -> int:
    response = client.post(
        reverse("petitions:sign", kwargs={"slug": petition.slug}),
        VALID | {"email": f"p{n}@example.org"},
        REMOTE_ADDR=remote,
        HTTP_X_FORWARDED_FOR=forwarded,
    )
    return response.status_code


def test_clients_a_trusted_proxy_names_each_have_their_own_bucket(
    client, petition, one_per_address
) -> None:
    assert _sign(client, petition, 1, remote=PROXY, forwarded="198.51.100.1") == 302
    assert _sign(client, petition, 2, remote=PROXY, forwarded="198.51.100.1") == 429
    assert _sign(client, petition, 3, remote=PROXY, forwarded="198.51.100.2:4711") == 302
    assert _sign(client, petition, 4, remote=PROXY, forwarded="198.51.100.2:4712") == 429


@pytest.mark.parametrize("second", ["unknown", "_hidden", "", "garbage, unknown", PROXY])
def test_unknown_clients_of_a_trusted_proxy_share_the_proxys_bucket(
    client, petition, one_per_address, second: str
) -> None:
    assert _sign(client, petition, 1, remote=PROXY, forwarded="unknown") == 302
    assert _sign(client, petition, 2, remote=PROXY, forwarded=second) == 429
    # A client the proxy does name is not in that bucket.
    assert _sign(client, petition, 3, remote=PROXY, forwarded="198.51.100.1") == 302
    assert Signature.objects.count() == 2


def test_a_client_reaching_gunicorn_directly_cannot_leave_its_own_bucket(
    client, petition, one_per_address
) -> None:
    stranger = "203.0.113.9"
    assert _sign(client, petition, 1, remote=stranger, forwarded="198.51.100.1") == 302
    for n, spoofed in enumerate(["198.51.100.2", "10.0.0.3", "unknown", "2001:db8::1"], 2):
        assert _sign(client, petition, n, remote=stranger, forwarded=spoofed) == 429
    assert _sign(client, petition, 9, remote="203.0.113.10", forwarded="198.51.100.1") == 302


def test_unknown_clients_of_a_proxy_are_one_address_to_the_burst_signal(
    client, petition, settings
) -> None:
    settings.ABUSE_IP_BURST = ["1/m"]
    for n in range(2):
        assert _sign(client, petition, n, remote=PROXY, forwarded="unknown") == 302
    signatures = Signature.objects.order_by("pk")
    assert [s.flags for s in signatures] == ["", "ip_burst no_pow"]
    assert {s.ip_hash for s in signatures} == {ip_hash(PROXY)}
