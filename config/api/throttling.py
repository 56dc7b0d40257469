"""The API's rate limits, counted as the site's forms count theirs (mechanisms.abuse): on a
keyed hash of the client's address, never the address, and per organization's token. Over a
limit the answer is 429 with Retry-After."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from accounts.models import ApiToken
from mechanisms import metrics
from mechanisms.abuse.rate_limits import rate_limited
from mechanisms.counters import counters_over

# The shortest window of the limits: a client told to wait this long finds the next one open.
RETRY_AFTER_SECONDS = 60


class AddressThrottle(BaseThrottle):
    """Anonymous readers of the public API, per address."""

    def allow_request(self, request: Request, view: Any) -> bool:
        return not rate_limited(request._request, action="api")

    def wait(self) -> float:
        return RETRY_AFTER_SECONDS


class TokenThrottle(BaseThrottle):
    """An organization's tools, per token (several integrations of one organization each have
    their own)."""

    def allow_request(self, request: Request, view: Any) -> bool:
        token = request.auth
        if not isinstance(token, ApiToken):
            return True  # refused before this by the view's authentication
        limits = settings.RATE_LIMITS["api_token"]["ip"]
        checks = [("rl:api_token", str(token.pk), limits)]
        if counters_over(request._request, checks, stop_all=True):
            metrics.rate_limit_counted(form="api_token")
            return False
        return True

    def wait(self) -> float:
        return RETRY_AFTER_SECONDS
