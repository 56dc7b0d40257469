from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.template.loader import render_to_string

from accounts.network import peer_is_trusted_proxy

# Headers in which a proxy speaks for its client: its address, the scheme and host it was asked
# for. Only X-Forwarded-For (accounts.network.client_ip) and X-Forwarded-Proto (Django, under
# TRUST_X_FORWARDED_PROTO) are read today; all of them go, so nothing added later can read one
# that a client wrote.
FORWARDING_HEADERS = (
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PORT",
    "HTTP_X_FORWARDED_PROTOCOL",
    "HTTP_X_FORWARDED_SSL",
    "HTTP_X_REAL_IP",
    "HTTP_FORWARDED",
)


class ForwardedHeadersMiddleware:
    """Drop the forwarding headers of a request whose connection is not one of
    settings.TRUSTED_PROXIES: a client reaching gunicorn directly must not tell Django it came
    over https (Django believes SECURE_PROXY_SSL_HEADER from anyone), nor anything else a proxy
    would say. First in MIDDLEWARE, before the page cache asks whether a request is secure."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        meta = request.META
        if any(header in meta for header in FORWARDING_HEADERS) and not peer_is_trusted_proxy(
            request
        ):
            for header in FORWARDING_HEADERS:
                meta.pop(header, None)
        return self.get_response(request)


class MethodNotAllowedPageMiddleware:
    """Give the bare 405 of `require_POST` and friends a page a person can read."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if isinstance(response, HttpResponseNotAllowed) and not response.content:
            response.content = render_to_string("405.html", request=request)
            response["Content-Type"] = "text/html; charset=utf-8"
        return response
