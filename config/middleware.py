from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseNotAllowed,
    JsonResponse,
)
from django.template.loader import render_to_string
from django.utils.crypto import constant_time_compare
from django.utils.http import parse_header_parameters

from config import health
from mechanisms import metrics, page_cache
from mechanisms.network import peer_is_trusted_proxy

# Headers in which a proxy speaks for its client: its address, the scheme and host it was asked
# for. Only X-Forwarded-For (mechanisms.network.client_ip) and X-Forwarded-Proto (Django, under
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


class HealthCheckMiddleware:
    """Answer /healthz and /readyz before anything reads the Host header or the scheme.

    Load balancers check over plain http, often in HTTP/1.0 without a Host header (HAProxy's
    `option httpchk`): CommonMiddleware would refuse them as DisallowedHost (a 400 and a logged
    error per poll) and SecurityMiddleware would redirect them to https. First in MIDDLEWARE, so
    neither they nor the page cache, CSRF or locale see these paths.

    /healthz: the process is alive, and answers without touching the database or Redis.
    /readyz: it can serve (config.health).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if path not in ("/healthz", "/readyz"):
            return self.get_response(request)
        response: HttpResponse
        if request.method not in ("GET", "HEAD"):
            response = HttpResponseNotAllowed(["GET", "HEAD"])
        elif path == "/healthz":
            response = HttpResponse("ok", content_type="text/plain")
        else:
            status, body = health.readiness()
            response = JsonResponse(body, status=status)
            # An expected answer while a host is out of rotation, already logged by config.health
            # when it began: not an error line from django.request on every poll.
            response._has_been_logged = True  # type: ignore[attr-defined]
        # A proxy or cache between the balancer and the host must not answer for the host.
        response["Cache-Control"] = "no-store"
        return response


class MetricsMiddleware:
    """Time every request for Prometheus (by view name and status class), and answer /metrics.

    /metrics answers only a bearer of settings.METRICS_TOKEN: without a token set it does not
    exist (404, as any unknown path); with one, a request without it or with another gets 401
    and `WWW-Authenticate: Bearer`. The endpoint's path is documented, so hiding it behind a 404
    protects nothing, while a 401 tells an operator whose Prometheus is refused that the token,
    not the path, is wrong. The token is compared in constant time. Answered here, before the
    Host header is checked or http redirected to https, as /readyz is: Prometheus scrapes each
    host by its address.

    After HealthCheckMiddleware, so the load balancer's polls are neither timed nor counted. The
    view label is the URL pattern's name (never the path, which may carry a token or an id);
    a page served from the page cache, which resolves no URL, is "page_cache", and a path that
    matches no pattern "unmatched".
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == "/metrics":
            return self._metrics(request)
        started = time.perf_counter()
        response = self.get_response(request)
        match = request.resolver_match
        if match is not None:
            view = match.view_name or "unnamed"
        elif getattr(request, page_cache.HIT_MARK, False):
            view = "page_cache"
        else:
            view = "unmatched"
        metrics.request_observed(
            view=view, status=response.status_code, seconds=time.perf_counter() - started
        )
        return response

    @staticmethod
    def _metrics(request: HttpRequest) -> HttpResponse:
        token = settings.METRICS_TOKEN
        if not token:
            return HttpResponse("Not Found", status=404, content_type="text/plain")
        given = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _, credentials = given.partition(" ")
        if scheme.lower() != "bearer" or not constant_time_compare(credentials.strip(), token):
            response = HttpResponse("Unauthorized", status=401, content_type="text/plain")
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            response._has_been_logged = True  # type: ignore[attr-defined]
            return response
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        body, content_type = metrics.metrics_render()
        response = HttpResponse(body, content_type=content_type)
        response["Cache-Control"] = "no-store"
        return response


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


# What a form body may name: our pages are UTF-8, and browsers send their forms so (naming no
# charset at all for an urlencoded body). Django refuses any other for an urlencoded body, even
# "utf8" and "us-ascii", in a way that ends in a 500 (below).
_READABLE_CHARSETS = frozenset({"utf-8"})


class RequestCharsetMiddleware:
    """Answer a body that names a charset we do not read with the 400 page, before anything
    reads it.

    Django reads a form body by the charset its Content-Type names, and refuses an urlencoded one
    in any but UTF-8 with BadRequest; raised while CsrfViewMiddleware reads the form, whose 400
    answer then reads it again and fails the same way, that was a 500 and three tracebacks, for
    a request anyone can send. Placed before CsrfViewMiddleware, after LocaleMiddleware (the
    page is in the reader's language)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            _, params = parse_header_parameters(request.META.get("CONTENT_TYPE", ""))
            charset = params.get("charset", "").strip().lower()
            if charset and charset not in _READABLE_CHARSETS:
                return HttpResponseBadRequest(render_to_string("400.html", request=request))
        return self.get_response(request)
