"""Public pages served from the cache to anonymous readers, so a viral petition's readers do not
reach the database on every refresh.

A petition page holds two things that must differ per reader: the CSRF token of its forms (bound
to the reader's own cookie) and the signed time the sign form was shown (the fill-time signal).
The cache keeps the page with markers in their place, and each hit puts in fresh values; anything
else on the page is the same for every anonymous reader of one language.

Only readers who cannot see anything of their own are served a copy: no session cookie (staff
and members have one), no pending messages and no query string (the language switcher echoes the
path back). Entries live PETITION_PAGE_CACHE_SECONDS and are keyed by the time bucket, so the
count a reader sees is at most that much older than the stored count.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.utils.cache import patch_cache_control, patch_vary_headers

from accounts.abuse import STARTED_FIELD, form_started_token

logger = logging.getLogger(__name__)

_CSRF_MARK = "\x00csrf\x00"
_STARTED_MARK = "\x00started\x00"
_CSRF_VALUE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_STARTED_VALUE = re.compile(rf'name="{STARTED_FIELD}" value="([^"]+)"')


def page_cacheable(request: HttpRequest) -> bool:
    """Whether this reader sees only what every anonymous reader sees (decided from cookies, so
    that a hit never loads a session)."""
    return (
        settings.PETITION_PAGE_CACHE_SECONDS > 0
        and request.method in ("GET", "HEAD")
        and not request.GET
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and "messages" not in request.COOKIES
    )


def _clock() -> float:
    return time.time()


def _key(name: str, request: HttpRequest) -> str:
    seconds = settings.PETITION_PAGE_CACHE_SECONDS
    bucket = int(_clock() // seconds)
    return f"page:{name}:{request.LANGUAGE_CODE}:{bucket}"


def _personalize(html: str, request: HttpRequest) -> str:
    if _CSRF_MARK in html:
        html = html.replace(_CSRF_MARK, get_token(request))
    if _STARTED_MARK in html:
        html = html.replace(_STARTED_MARK, form_started_token())
    return html


def _template_of(html: str) -> str:
    """The page with this reader's CSRF token and form time swapped for markers."""
    for pattern, mark in ((_CSRF_VALUE, _CSRF_MARK), (_STARTED_VALUE, _STARTED_MARK)):
        found = pattern.search(html)
        if found:
            html = html.replace(found.group(1), mark)
    return html


def page_cached(
    request: HttpRequest, *, name: str, render: Callable[[], HttpResponse]
) -> HttpResponse:
    """The page `name` from the cache when this reader may share it, else `render()`d (and kept
    for the next reader when it is a plain 200)."""
    if not page_cacheable(request):
        return render()
    key = _key(name, request)
    try:
        stored = cache.get(key)
    except Exception:
        # A cache that is down must not take the page down: render it.
        logger.warning("Page cache unavailable", exc_info=True)
        stored = None
    if stored is not None:
        content_type, html = stored
        response = HttpResponse(_personalize(html, request), content_type=content_type)
    else:
        response = render()
        if response.status_code != 200 or response.streaming:
            return response
        html = response.content.decode(response.charset)
        try:
            cache.set(
                key,
                (response["Content-Type"], _template_of(html)),
                settings.PETITION_PAGE_CACHE_SECONDS,
            )
        except Exception:
            # The page was rendered; the next reader renders it again.
            logger.warning("Page cache unavailable", exc_info=True)
    # The copy carries this reader's CSRF token: no shared cache may keep it.
    patch_cache_control(response, private=True, max_age=settings.PETITION_PAGE_CACHE_SECONDS)
    patch_vary_headers(response, ("Cookie",))
    return response
