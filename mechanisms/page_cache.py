"""Public pages served from the cache to anonymous readers, so a viral petition's readers do not
reach the database, the templates or most of Django on every refresh.

A petition page holds two things that must differ per reader: the CSRF token of its forms (bound
to the reader's own cookie) and the signed time the sign form was shown (the fill-time signal).
The cache keeps the page with markers in their place, and each hit puts in fresh values; anything
else on the page is the same for every anonymous reader of one language (the language is in the
path, and so in the key).

Only readers who cannot see anything of their own are served a copy: no session cookie (staff
and members have one), no pending messages and no query string (the language switcher echoes the
path back). Entries live PETITION_PAGE_CACHE_SECONDS and are keyed by the time bucket, so the
count a reader sees is at most that much older than the stored count; at most STALE_BUCKETS + 1
times that while a new copy is being made.

At the turn of a bucket one reader renders the new copy and the others are served the newest copy
the worker holds (of the last STALE_BUCKETS buckets: a render slower than a bucket, or a quiet
second between readers, must not undo it) meanwhile: one thread per worker (the others of the worker
see it busy), and one worker for the site (it holds a short lock in the cache; other workers take
its copy from Redis once stored). Without that, every reader arriving in the first tens of
milliseconds of a bucket rendered the page again, each a database read and a template render: at a
thousand readers a second, dozens of renders a second and every one of those readers waiting for
their own.

Two parts: a view opts a page in with `page_cached()`, which renders it and marks the response
as shareable; `PageCacheMiddleware`, the outermost middleware, stores such a response with every
header the middleware below added (security headers, CSP, Vary) and answers later readers itself,
before sessions, locale, CSRF or URL resolving run. A hit costs a dictionary lookup in the worker's
own memory (or one Redis GET, once per bucket and worker), a CSRF token and a signed timestamp.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware, InvalidTokenFormat, get_token
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers

from mechanisms.abuse.forms import STARTED_FIELD
from mechanisms.abuse.proof_of_work import form_started_token

logger = logging.getLogger(__name__)

_CSRF_MARK = "\x00csrf\x00"
_STARTED_MARK = "\x00started\x00"
_CSRF_VALUE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_STARTED_VALUE = re.compile(rf'name="{STARTED_FIELD}" value="([^"]+)"')
# Set by page_cached() on a response every anonymous reader may share.
_SHAREABLE = "_cosign_page_shareable"
# Set on a request answered from a copy, which resolves no URL: the metrics name its view by it.
HIT_MARK = "_cosign_page_cache_hit"
# Headers that are this reader's own or that the personalized body changes.
_NOT_STORED = frozenset({"content-length", "set-cookie"})


@dataclass(frozen=True)
class _Copy:
    status: int
    headers: tuple[tuple[str, str], ...]
    html: str  # with markers where each reader's own values go
    charset: str


# Buckets back a copy may come from, served while a thread makes the new one: three seconds at
# the default PETITION_PAGE_CACHE_SECONDS, within the count's five seconds of staleness.
STALE_BUCKETS = 3
# This worker's copies, of the newest bucket and the STALE_BUCKETS before it: most hits never
# leave the process.
_local: dict[str, _Copy] = {}
# Pages (host and path) a thread of this worker is making the new copy of now.
_refreshing: set[str] = set()
_refreshing_lock = threading.Lock()
# Host and path of every page this worker has seen shared: only those are looked up in Redis, so
# an anonymous reader of any other page costs no round trip. A worker learns a path by rendering
# it once.
_shared_paths: set[str] = set()
_SHARED_PATHS_MAX = 10_000


def page_cacheable(request: HttpRequest) -> bool:
    """Whether this reader sees only what every anonymous reader sees (decided from cookies, so
    that a hit never loads a session)."""
    return (
        settings.PETITION_PAGE_CACHE_SECONDS > 0
        and request.method == "GET"
        and not request.META.get("QUERY_STRING")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and "messages" not in request.COOKIES
    )


def _clock() -> float:
    return time.time()


def _key(request: HttpRequest) -> str | None:
    """The copy's key: host, path (which holds the language) and time bucket; None when Django
    would not serve this request a page at all (a host not allowed, plain http under
    SECURE_SSL_REDIRECT), so that it gets Django's own answer."""
    try:
        host = request.get_host()
    except DisallowedHost:
        return None
    if settings.SECURE_SSL_REDIRECT and not request.is_secure():
        return None
    bucket = int(_clock() // settings.PETITION_PAGE_CACHE_SECONDS)
    return f"page:{host}:{request.path}:{bucket}"


def _path_of(key: str) -> str:
    return key.rsplit(":", 1)[0]


def _bucket_of(key: str) -> int:
    return int(key.rsplit(":", 1)[1])


def _rendering_key(key: str) -> str:
    """The cache's lock on making the copy `key`: held by the one worker rendering it."""
    return f"{key}:rendering"


def page_cached(
    request: HttpRequest,
    *,
    render: Callable[[], HttpResponse],
    public_max_age: int | None = None,
) -> HttpResponse:
    """`render()` the page, marked for PageCacheMiddleware to keep for the next anonymous reader
    when this reader may share it and it is a plain 200. A page that carries nothing of its
    reader's (no form, so no CSRF token: the API's answers) gives `public_max_age`, for which
    browsers and shared caches may keep it too."""
    response = render()
    if not page_cacheable(request) or response.status_code != 200 or response.streaming:
        return response
    setattr(response, _SHAREABLE, True)
    if public_max_age is not None:
        patch_cache_control(response, public=True, max_age=public_max_age)
        return response
    # The copy carries this reader's CSRF token: no shared cache may keep it.
    patch_cache_control(response, private=True, max_age=settings.PETITION_PAGE_CACHE_SECONDS)
    patch_vary_headers(response, ("Cookie",))
    return response


def _template_of(html: str) -> str:
    """The page with this reader's CSRF token and form time swapped for markers."""
    for pattern, mark in ((_CSRF_VALUE, _CSRF_MARK), (_STARTED_VALUE, _STARTED_MARK)):
        found = pattern.search(html)
        if found:
            html = html.replace(found.group(1), mark)
    return html


class PageCacheMiddleware:
    """Answers anonymous readers of shareable pages from the copy (see the module docstring).
    Outermost in MIDDLEWARE but for ForwardedHeadersMiddleware (which adds no header), so that the
    stored headers are the ones readers would get anyway."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        # For its cookie handling only: reading a reader's CSRF cookie and setting a new one
        # exactly as the middleware itself does for pages it renders.
        self.csrf = CsrfViewMiddleware(get_response)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = _key(request) if page_cacheable(request) else None
        refreshing = stored = False
        if key is not None:
            copy, refreshing = self._lookup(key)
            if copy is not None:
                return self._serve(request, copy)
        try:
            response = self.get_response(request)
            shareable = getattr(response, _SHAREABLE, False) and self._shareable(response)
            if key is not None and shareable:
                self._store(key, response)
                stored = True
        finally:
            if refreshing:
                assert key is not None
                self._refreshed(key, stored=stored)
        return response

    @staticmethod
    def _refreshed(key: str, *, stored: bool) -> None:
        """This thread has made the new copy, or failed to: either way the next reader of this
        worker may try, and after a failure so may the next of any worker."""
        with _refreshing_lock:
            _refreshing.discard(_path_of(key))
        if not stored:
            try:
                cache.delete(_rendering_key(key))
            except Exception:
                logger.warning("Page cache unavailable", exc_info=True)

    @staticmethod
    def _shareable(response: HttpResponse) -> bool:
        # A cookie other than the CSRF one (a session, a message) is this reader's own.
        return set(response.cookies) <= {settings.CSRF_COOKIE_NAME}

    def _lookup(self, key: str) -> tuple[_Copy | None, bool]:
        """The copy to serve for `key`, and whether this thread is to make the new one (and
        must say so when done); (None, False) when it renders for itself, as on a first visit."""
        copy = _local.get(key)
        page = _path_of(key)
        if copy is not None or page not in _shared_paths:
            return copy, False
        # The turn of a bucket. The newest earlier copy, served while one thread makes the new one.
        bucket = _bucket_of(key)
        previous = next(
            (
                found
                for back in range(1, STALE_BUCKETS + 1)
                if (found := _local.get(f"{page}:{bucket - back}")) is not None
            ),
            None,
        )
        if previous is not None:
            with _refreshing_lock:
                if page in _refreshing:
                    return previous, False
                _refreshing.add(page)
        try:
            copy = cache.get(key)
            if isinstance(copy, _Copy):
                self._keep_locally(key, copy)
            elif previous is not None and not cache.add(
                _rendering_key(key), 1, settings.PETITION_PAGE_CACHE_SECONDS
            ):
                # Another worker is making it: the earlier copy until it is in the cache.
                copy = previous
            else:
                # This thread renders (and says so when done, in __call__).
                return None, previous is not None
        except Exception:
            # A cache that is down must not take the page down: render it.
            logger.warning("Page cache unavailable", exc_info=True)
            return None, previous is not None
        if previous is not None:
            with _refreshing_lock:
                _refreshing.discard(page)
        return copy, False

    @staticmethod
    def _keep_locally(key: str, copy: _Copy) -> None:
        bucket = _bucket_of(key)
        # Copies older than STALE_BUCKETS are never read again: drop them as the clock moves on.
        # (list() copies the keys at once: other threads add copies meanwhile.)
        for old in [k for k in list(_local) if _bucket_of(k) < bucket - STALE_BUCKETS]:
            _local.pop(old, None)
        _local[key] = copy

    def _store(self, key: str, response: HttpResponse) -> None:
        copy = _Copy(
            status=response.status_code,
            headers=tuple((k, v) for k, v in response.items() if k.lower() not in _NOT_STORED),
            html=_template_of(response.content.decode(response.charset)),
            charset=response.charset,
        )
        self._keep_locally(key, copy)
        if len(_shared_paths) >= _SHARED_PATHS_MAX:
            _shared_paths.clear()  # a bound against a flood of distinct paths; relearned at once
        _shared_paths.add(_path_of(key))
        try:
            cache.set(key, copy, settings.PETITION_PAGE_CACHE_SECONDS)
        except Exception:
            # The page was rendered; other workers render it again.
            logger.warning("Page cache unavailable", exc_info=True)

    def _serve(self, request: HttpRequest, copy: _Copy) -> HttpResponse:
        setattr(request, HIT_MARK, True)
        # The reader's own CSRF secret when their cookie holds a valid one, else a new one that
        # the response sets, as CsrfViewMiddleware.process_request does.
        try:
            # Private to CsrfViewMiddleware (undeclared in its stubs); it reads and checks the
            # cookie exactly as the middleware's own request handling does.
            secret = self.csrf._get_secret(request)  # type: ignore[attr-defined]
        except InvalidTokenFormat:
            secret = None
        if secret is not None:
            request.META["CSRF_COOKIE"] = secret
        html = copy.html
        if _CSRF_MARK in html:
            html = html.replace(_CSRF_MARK, get_token(request))
        if _STARTED_MARK in html:
            html = html.replace(_STARTED_MARK, form_started_token())
        response = HttpResponse(html.encode(copy.charset), status=copy.status)
        for name, value in copy.headers:
            response[name] = value
        response["Content-Length"] = str(len(response.content))
        # It sets the CSRF cookie on this response and returns the same object.
        self.csrf.process_response(request, response)
        if response.has_header("ETag"):
            # A reader holding this very copy (the API's clients) is told so in a few bytes.
            conditional = get_conditional_response(
                request, etag=response["ETag"], response=response
            )
            return conditional or response
        return response
