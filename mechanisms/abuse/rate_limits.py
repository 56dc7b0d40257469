"""Rate limits counted on a keyed hash of the client's address, never the address itself: one
budget per sender for every attempt, and shared budgets (per campaign, site-wide) that only valid
submissions spend. Counters fail open (mechanisms.counters)."""

from __future__ import annotations

from collections.abc import Mapping

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from mechanisms import metrics, network
from mechanisms.counters import Check, counters_over

RATE_LIMIT_MESSAGES = {
    "sign": _(
        "Too many signatures from your network right now. Please try again in a few minutes."
    ),
    "letter_sign": _(
        "Too many signatures from your network right now. Please try again in a few minutes."
    ),
}
_DEFAULT_RATE_LIMIT_MESSAGE = _(
    "Too many attempts from your network right now. Please try again in a few minutes."
)


def rate_limit_message(action: str) -> str:
    return str(RATE_LIMIT_MESSAGES.get(action, _DEFAULT_RATE_LIMIT_MESSAGE))


def request_ip_hash(request: HttpRequest) -> str:
    """The keyed hash of the client's address, computed once per request (the rate limits, the
    signals and the stored signature all use it, and the key may come from the database)."""
    cached = getattr(request, "_cosign_ip_hash", None)
    if cached is None:
        cached = network.ip_hash(network.client_ip(request))
        request._cosign_ip_hash = cached  # type: ignore[attr-defined]
    return cached


def rate_limited(request: HttpRequest, *, action: str) -> bool:
    """Count this attempt against `action`'s per-address limits (settings.RATE_LIMITS "ip": a
    burst and a sustained window) and say whether one is exceeded. Call it for every attempt,
    valid or not, before anything else: it is the one budget a sender spends for themselves."""
    over = bool(counters_over(request, address_checks(request, action=action), stop_all=True))
    if over:
        metrics.rate_limit_counted(form=action)
    return over


def address_checks(request: HttpRequest, *, action: str) -> list[Check]:
    """The checks rate_limited counts, for a caller that counts them with more (counters_count:
    a stage that stops everything after it once over)."""
    limits: Mapping[str, list[str]] = settings.RATE_LIMITS[action]
    ip = request_ip_hash(request)
    # No address (a misconfigured proxy): one shared bucket would lock everybody out together.
    return [(f"rl:{action}:ip", ip, limits["ip"])] if ip else []


def submission_rate_limited(request: HttpRequest, *, action: str, scope: str = "") -> bool:
    """Count a submission that passed validation (and the honeypot) against `action`'s shared
    budgets: per `scope` (a campaign id, when given) and site-wide, each a burst and a sustained
    window. Call it only once the form is valid: a budget everyone shares must not be spendable
    by empty or malformed posts, which anyone can send in bulk (a review locked the organization
    form for an hour with fifty). The campaign is checked first and stops the count, so a flood
    on one campaign does not use up the site's budget for every other."""
    checks = submission_checks(action=action, scope=scope)
    over = bool(counters_over(request, checks, stop_all=True))
    if over:
        metrics.rate_limit_counted(form=action)
    return over


def submission_checks(*, action: str, scope: str = "") -> list[Check]:
    """The checks submission_rate_limited counts, for a caller that counts them with more (a
    stage that stops everything after it once over)."""
    limits: Mapping[str, list[str]] = settings.RATE_LIMITS[action]
    return [
        (f"rl:{action}:campaign", str(scope), limits["campaign"] if scope else ()),
        (f"rl:{action}:global", "site", limits["global"]),
    ]


def login_rate_limited(request: HttpRequest) -> bool:
    """A login post (the site's or the admin's form): counted per address whatever it holds,
    and against the site-wide budget only when it is a guess at all, an address and a password,
    so that empty posts cannot lock everybody out of logging in."""
    if rate_limited(request, action="login"):
        return True
    guess = request.POST.get("username", "").strip() and request.POST.get("password", "")
    return bool(guess) and submission_rate_limited(request, action="login")
