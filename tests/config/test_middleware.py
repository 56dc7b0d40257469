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


# --- A form body in a charset Django cannot read ----------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "charset", ["utf-16", "UTF-32", "no-such-charset", "utf-7", "iso-8859-1", "utf8"]
)
def test_a_form_body_in_a_charset_we_cannot_read_gets_a_page_saying_so_and_writes_nothing(
    charset: str,
) -> None:
    petition = PetitionFactory()
    # As in production: the CSRF check reads the form first (the test client skips it).
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    for url in (reverse("petitions:sign", kwargs={"slug": petition.slug}), "/i18n/setlang/"):
        # generic(): post() would re-encode the body to the charset named.
        response = client.generic(
            "POST",
            url,
            data="name=Maria&email=maria%40example.org".encode("utf-16"),
            content_type=f"application/x-www-form-urlencoded; charset={charset}",
        )
        assert response.status_code == 400, url
        assert "We could not understand that request" in response.content.decode()
    assert not petition.signatures.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("charset", ["", "utf-8", "UTF-8"])
def test_the_charsets_browsers_send_are_read(charset: str) -> None:
    petition = PetitionFactory()
    content_type = "application/x-www-form-urlencoded" + (f"; charset={charset}" if charset else "")
    response = Client(raise_request_exception=False).generic(
        "POST",
        reverse("petitions:sign", kwargs={"slug": petition.slug}),
        data=b"name=Maria+Rossi&email=maria%40example.org&display=short",
        content_type=content_type,
    )
    assert response.status_code == 302
    assert petition.signatures.get().name == "Maria Rossi"
