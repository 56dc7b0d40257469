"""Abuse resistance that tracks no one: rate limits on keyed IP hashes, a honeypot, a minimum fill
time, a self-hosted proof of work, and signals that hold a signature for a moderator.

Only a rate limit and the honeypot refuse; every other signal flags (`accounts.models.AbuseFlag`)
and the signature waits, uncounted, for a moderator. Counters live in the cache (Redis in
production) and fail open: the database is the source of truth and Redis may die at any moment.
Nothing here imports petitions or letters; their views pass a campaign id as `scope`.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import time
import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import cache as _memoize
from typing import Any

import altcha
from disposable_email_domains import blocklist as _DISPOSABLE_DOMAINS
from django import forms
from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from publicsuffixlist import PublicSuffixList

from mechanisms import network
from mechanisms.counters import counters_over
from mechanisms.domains import domain_is_free_mail, domain_normalize, domain_within, email_domain
from mechanisms.models import AbuseFlag

logger = logging.getLogger(__name__)

HONEYPOT_FIELD = "ref_code"
STARTED_FIELD = "form_started"
PROOF_FIELD = "altcha"

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

_STARTED_SALT = "cosign.abuse.form-started"
# A form left open longer than this is sent with a timestamp that counts as missing: a token
# harvested once must not serve a bot for ever.
STARTED_MAX_AGE = timedelta(days=1)
_PROOF_MAX_LENGTH = 2000


def rate_limit_message(action: str) -> str:
    return str(RATE_LIMIT_MESSAGES.get(action, _DEFAULT_RATE_LIMIT_MESSAGE))


# --- The request's network, hashed ----------------------------------------------------------------


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
    limits: Mapping[str, list[str]] = settings.RATE_LIMITS[action]
    ip = request_ip_hash(request)
    # No address (a misconfigured proxy): one shared bucket would lock everybody out together.
    checks = [(f"rl:{action}:ip", ip, limits["ip"])] if ip else []
    return bool(counters_over(request, checks, stop_all=True))


def submission_rate_limited(request: HttpRequest, *, action: str, scope: str = "") -> bool:
    """Count a submission that passed validation (and the honeypot) against `action`'s shared
    budgets: per `scope` (a campaign id, when given) and site-wide, each a burst and a sustained
    window. Call it only once the form is valid: a budget everyone shares must not be spendable
    by empty or malformed posts, which anyone can send in bulk (a review locked the organization
    form for an hour with fifty). The campaign is checked first and stops the count, so a flood
    on one campaign does not use up the site's budget for every other."""
    limits: Mapping[str, list[str]] = settings.RATE_LIMITS[action]
    checks = [
        (f"rl:{action}:campaign", str(scope), limits["campaign"] if scope else ()),
        (f"rl:{action}:global", "site", limits["global"]),
    ]
    return bool(counters_over(request, checks, stop_all=True))


def login_rate_limited(request: HttpRequest) -> bool:
    """A login post (the site's or the admin's form): counted per address whatever it holds,
    and against the site-wide budget only when it is a guess at all, an address and a password,
    so that empty posts cannot lock everybody out of logging in."""
    if rate_limited(request, action="login"):
        return True
    guess = request.POST.get("username", "").strip() and request.POST.get("password", "")
    return bool(guess) and submission_rate_limited(request, action="login")


# --- Honeypot, fill time and proof of work on a form ----------------------------------------------


class HoneypotInput(forms.TextInput):
    """A text field people never see or reach, which form-filling bots fill.

    Rendered with its own label inside an aria-hidden wrapper moved off-screen by CSS (never
    `display: none`, which bots detect). It reports itself hidden so crispy forms renders no
    label or wrapper of its own around it.
    """

    def __init__(self) -> None:
        super().__init__(attrs={"tabindex": "-1", "autocomplete": "off"})

    @property
    def is_hidden(self) -> bool:
        return True

    def render(
        self,
        name: str,
        value: Any,
        attrs: dict[str, Any] | None = None,
        renderer: Any = None,
    ) -> str:
        attrs = attrs or {}
        # Never echo a value back: re-rendering a page must not keep a trap sprung.
        field = super().render(name, "", attrs, renderer)
        return format_html(
            '<div class="form-trap" aria-hidden="true"><label for="{}">{}</label>{}</div>',
            attrs.get("id", ""),
            _("Leave this field empty"),
            field,
        )


class _RawField(forms.Field):
    """Whatever was sent, as text, never an error: a person cannot fix a field they cannot see."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, **kwargs)

    def to_python(self, value: Any) -> str:
        return value if isinstance(value, str) else ""


@dataclass(frozen=True)
class HumanCheck:
    """What the invisible fields of a submitted form said."""

    honeypot: str = ""
    started: str = ""
    proof: str = ""

    @property
    def honeypot_filled(self) -> bool:
        return bool(self.honeypot.strip())


class HoneypotMixin:
    """Adds the honeypot to a form. After validation `form.human_check` holds what the invisible
    fields said, and they are removed from `cleaned_data`, which views pass on to services."""

    human_check: HumanCheck
    fields: dict[str, forms.Field]
    cleaned_data: dict[str, Any]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields[HONEYPOT_FIELD] = _RawField(
            label=_("Leave this field empty"), widget=HoneypotInput()
        )
        self.human_check = HumanCheck()

    def clean(self) -> dict[str, Any]:
        data = super().clean()  # type: ignore[misc]
        self.human_check = HumanCheck(
            honeypot=data.pop(HONEYPOT_FIELD, "") or "",
            started=data.pop(STARTED_FIELD, "") or "",
            proof=data.pop(PROOF_FIELD, "") or "",
        )
        return data


class HumanCheckMixin(HoneypotMixin):
    """The honeypot, a signed timestamp of when the form was rendered, and a hidden field for the
    proof of work that static/js/proof-of-work.js fills in. The challenge comes from
    `GET /abuse/challenge`, not the page, so the page itself stays cacheable for readers."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields[STARTED_FIELD] = _RawField(widget=forms.HiddenInput, initial=form_started_token)
        self.fields[PROOF_FIELD] = _RawField(
            widget=forms.HiddenInput(
                attrs={"data-pow-challenge": reverse("abuse_challenge"), "class": "pow-proof"}
            )
        )


def form_started_token(*, now: float | None = None) -> str:
    """When a form was rendered, signed so it cannot be forged. A page cached for a few seconds
    carries an older time, which only errs towards a person."""
    return signing.dumps(int(time.time() if now is None else now), salt=_STARTED_SALT)


def fill_too_fast(token: str, *, now: float | None = None) -> bool:
    """Sent sooner than ABUSE_MIN_FILL_SECONDS after rendering, or with no valid timestamp
    (a missing, forged, or older than STARTED_MAX_AGE one).

    The form may have been rendered by another host, whose clock is up to
    CLOCK_SKEW_ALLOWANCE_SECONDS ahead of this one's: that much is added to the time measured,
    so a person who took the minimum is never held for a clock. A timestamp further in the future
    than the allowance still fails (the minimum is above zero), as a bad token does.
    """
    minimum = settings.ABUSE_MIN_FILL_SECONDS
    if minimum <= 0:
        return False
    allowance = settings.CLOCK_SKEW_ALLOWANCE_SECONDS
    try:
        # SignatureExpired is a BadSignature. The signature's age, too, is the renderer's clock
        # read on this host's, so it gets the same allowance.
        started = signing.loads(
            token, salt=_STARTED_SALT, max_age=STARTED_MAX_AGE + timedelta(seconds=allowance)
        )
    except (signing.BadSignature, ValueError, TypeError, UnicodeError):
        return True
    if not isinstance(started, int):
        return True
    elapsed = (time.time() if now is None else now) - started
    return elapsed + allowance < minimum


def _altcha_key() -> str:
    return salted_hmac("cosign.abuse.altcha", "challenge key").hexdigest()


def pow_challenge_create() -> dict[str, Any]:
    """A fresh ALTCHA v1 challenge (SHA-256, the work a browser's crypto.subtle can do)."""
    challenge = altcha.create_challenge_v1(
        algorithm="SHA-256",
        max_number=settings.ALTCHA_MAX_NUMBER,
        hmac_key=_altcha_key(),
        expires=timezone.now() + timedelta(seconds=settings.ALTCHA_EXPIRES_SECONDS),
    )
    return challenge.to_dict()


class Proof:
    MISSING = "missing"
    EXPIRED = "expired"
    # A genuine proof already spent: a person's back button and resubmit does this as surely as
    # a bot, so it counts as no proof, never as a bad one.
    REPLAYED = "replayed"
    BAD = "bad"
    GOOD = "good"


_PROOF_TYPES = {"algorithm": str, "challenge": str, "number": int, "salt": str, "signature": str}


_SCALARS = (str, int, float, bool, type(None))


def _proof_parse(payload: str) -> dict[str, Any] | None:
    """The proof as a flat JSON object of the expected fields, or None."""
    if len(payload) > _PROOF_MAX_LENGTH:
        return None
    try:
        text = base64.b64decode(payload, validate=True).decode()
        # Even under the length cap, "[[[[..." nests deeper than the parser's recursion limit.
        data = json.loads(text)
    except (ValueError, binascii.Error, UnicodeError, RecursionError):
        return None
    if not isinstance(data, dict) or any(
        type(data.get(key)) is not kind for key, kind in _PROOF_TYPES.items()
    ):
        return None
    # A real proof is flat; anything nested is not one, whatever else it carries.
    if not all(isinstance(value, _SCALARS) for value in data.values()):
        return None
    return data


def pow_verify(payload: str, *, now: float | None = None) -> str:
    """Check a solved challenge: one of the `Proof` values, and a good one only once.

    An expired or replayed proof counts as no proof (a person who left the page open for an hour,
    or went back and sent the form again, is no bot), never as a bad one; only a forged or
    malformed proof is bad. The challenge may come from another host, whose clock is ahead of
    this one's: it expires CLOCK_SKEW_ALLOWANCE_SECONDS after the time it names.
    """
    if not payload:
        return Proof.MISSING
    data = _proof_parse(payload)
    if data is None:
        return Proof.BAD
    valid, _error = altcha.verify_solution_v1(data, _altcha_key(), check_expires=False)
    if not valid:
        return Proof.BAD
    expires = altcha.extract_params_v1(data).get("expires", [""])[0]
    try:
        remaining = (
            int(expires)
            + settings.CLOCK_SKEW_ALLOWANCE_SECONDS
            - (time.time() if now is None else now)
        )
    except ValueError:
        return Proof.BAD
    if remaining <= 0:
        return Proof.EXPIRED
    try:
        first_use = cache.add(
            f"{settings.ABUSE_CACHE_PREFIX}pow:{data['challenge']}", 1, int(remaining) + 5
        )
    except Exception:
        logger.warning("Cannot record a used proof of work, accepting it", exc_info=True)
        return Proof.GOOD
    return Proof.GOOD if first_use else Proof.REPLAYED


# --- Signals that flag ----------------------------------------------------------------------------


def email_is_disposable(email: str) -> bool:
    """The address's domain, or any domain it is under, is a known throwaway-mail provider."""
    labels = domain_normalize(email_domain(email)).split(".")
    return any(".".join(labels[i:]) in _DISPOSABLE_DOMAINS for i in range(len(labels) - 1))


@_memoize
def _public_suffixes() -> PublicSuffixList:
    # Parsing the bundled list takes a moment: once per process, on first use.
    return PublicSuffixList()


def registrable_domain(domain: str) -> str:
    """The domain someone registered ("spam.example" for "s1.spam.example", "b.co.uk" for
    "a.b.co.uk"), or the domain itself when the list knows no such thing (a bare suffix)."""
    return _public_suffixes().privatesuffix(domain) or domain


def name_skeleton(name: str) -> str:
    """A name reduced to its letters: no accents, digits, punctuation, spacing or case, so
    "Jöhn  Smith-2" and "john smith" compare equal."""
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(ch for ch in decomposed if ch.isalpha()).casefold()


def signing_flags(
    *,
    request: HttpRequest,
    form: HoneypotMixin,
    scope: str,
    email: str,
    name: str,
    trusted_domains: Collection[str] = (),
) -> list[str]:
    """The abuse flags (AbuseFlag codes) for a signature about to be recorded on campaign `scope`.

    Call after validation and only for a signature that will be written: it counts the bursts and
    spends the proof of work. `trusted_domains` are ones the campaign expects many signers from (a
    letter signed by one company's employees): no domain burst for them. A missing proof of work
    (JavaScript off; an expired or replayed one counts alike) is added only when another signal
    fired.
    """
    check = form.human_check
    flags: set[str] = set()
    if fill_too_fast(check.started):
        flags.add(AbuseFlag.TOO_FAST)
    proof = pow_verify(check.proof)
    if proof == Proof.BAD:
        flags.add(AbuseFlag.BAD_PROOF_OF_WORK)
    if email_is_disposable(email):
        flags.add(AbuseFlag.DISPOSABLE_EMAIL)

    ip = request_ip_hash(request)
    # Each signal is a check of its own: one over its limit does not stop the others counting.
    signals: list[tuple[str, tuple[str, str, Collection[str]]]] = []
    if ip:
        signals.append((AbuseFlag.IP_BURST, (f"ip:{scope}", ip, settings.ABUSE_IP_BURST)))
    domain = email_domain(email)
    if domain and not any(domain_within(domain, parent) for parent in trusted_domains):
        rates = (
            settings.ABUSE_FREE_MAIL_BURST
            if domain_is_free_mail(domain)
            else settings.ABUSE_DOMAIN_BURST
        )
        # Keyed on the registrable domain: with a wildcard MX a spammer can mint a subdomain per
        # signature.
        signals.append(
            (AbuseFlag.DOMAIN_BURST, (f"domain:{scope}", registrable_domain(domain), rates))
        )
    signals.append(
        (
            AbuseFlag.NEAR_DUPLICATE,
            (f"name:{scope}", name_skeleton(name), settings.ABUSE_NEAR_DUPLICATE),
        )
    )
    over = counters_over(request, [check for _flag, check in signals], stop_all=False)
    flags.update(signals[n][0] for n in over)

    if flags and proof in (Proof.MISSING, Proof.EXPIRED, Proof.REPLAYED):
        flags.add(AbuseFlag.NO_PROOF_OF_WORK)
    # In AbuseFlag's own order, so equal signals always read the same.
    return [code for code in AbuseFlag.values if code in flags]
