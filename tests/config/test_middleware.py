"""Forwarding headers are believed only from TRUSTED_PROXIES: a client that reaches gunicorn
directly cannot tell Django it came over https, nor anything else a proxy would say."""

from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse

from config.middleware import FORWARDING_HEADERS, ForwardedHeadersMiddleware
from mechanisms import page_cache
from tests.factories import PetitionFactory

PROXY = "10.0.0.2"
STRANGER = "203.0.113.9"


@pytest.fixture
def behind_a_tls_proxy(settings) -> None:
    """Production behind a proxy that terminates TLS (TRUST_X_FORWARDED_PROTO=1)."""
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True


def _headers_seen(remote: str) -> dict[str, str]:
    request = RequestFactory().get("/", REMOTE_ADDR=remote)
    request.META.update(dict.fromkeys(FORWARDING_HEADERS, "https"))
    seen: dict[str, str] = {}

    def view(request) -> HttpResponse:
        seen.update({key: request.META[key] for key in FORWARDING_HEADERS if key in request.META})
        return HttpResponse()

    ForwardedHeadersMiddleware(view)(request)
    return seen


def test_a_trusted_proxy_keeps_its_forwarding_headers(settings) -> None:
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert set(_headers_seen(PROXY)) == set(FORWARDING_HEADERS)


@pytest.mark.parametrize("remote", [STRANGER, "", "garbage", "::1"])
def test_any_other_connection_loses_them(settings, remote: str) -> None:
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert _headers_seen(remote) == {}


def test_without_trusted_proxies_nobody_keeps_them(settings) -> None:
    settings.TRUSTED_PROXIES = []
    assert _headers_seen(PROXY) == {}
    assert _headers_seen("127.0.0.1") == {}


@pytest.mark.django_db
def test_a_trusted_proxy_says_the_request_came_over_https(behind_a_tls_proxy) -> None:
    # Not /healthz: load balancers' checks are answered over plain http too (test_health.py).
    response = Client().get(reverse("privacy"), REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 200


@pytest.mark.django_db
def test_a_client_reaching_gunicorn_directly_cannot_pass_http_off_as_https(
    behind_a_tls_proxy,
) -> None:
    url = reverse("privacy")
    response = Client().get(url, REMOTE_ADDR=STRANGER, HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 301
    assert response["Location"] == f"https://testserver{url}"


@pytest.mark.django_db
def test_nor_be_served_the_shared_copy_of_a_page_over_http(behind_a_tls_proxy, settings) -> None:
    # The page cache answers before SecurityMiddleware: it must see the header already gone.
    settings.PETITION_PAGE_CACHE_SECONDS = 60
    page_cache._local.clear()
    page_cache._shared_paths.clear()
    url = reverse("petitions:detail", kwargs={"slug": PetitionFactory().slug})
    https = {"HTTP_X_FORWARDED_PROTO": "https"}
    try:
        assert Client().get(url, REMOTE_ADDR=PROXY, **https).status_code == 200
        assert Client().get(url, REMOTE_ADDR=PROXY, **https).status_code == 200
        assert Client().get(url, REMOTE_ADDR=STRANGER, **https).status_code == 301
    finally:
        page_cache._local.clear()
        page_cache._shared_paths.clear()
