"""Two checks that a person, not a script, filled a form, neither of which refuses on its own:
a signed timestamp of when the form was rendered (sent too soon is suspicious), and a
self-hosted ALTCHA proof of work that the browser solves while the person types. Both only
feed the signals (mechanisms.abuse.signals)."""

from __future__ import annotations

import base64
import binascii
import json
import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

import altcha
from altcha.v1 import PayloadType
from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.utils import timezone
from django.utils.crypto import salted_hmac

from mechanisms.counters import Claim

logger = logging.getLogger(__name__)

_STARTED_SALT = "cosign.abuse.form-started"
# A form left open longer than this is sent with a timestamp that counts as missing: a token
# harvested once must not serve a bot for ever.
STARTED_MAX_AGE = timedelta(days=1)
_PROOF_MAX_LENGTH = 2000


# --- Fill time ------------------------------------------------------------------------------------


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


# --- Proof of work --------------------------------------------------------------------------------


def _altcha_key() -> str:
    return salted_hmac("cosign.abuse.altcha", "challenge key").hexdigest()


def pow_challenge_create() -> dict[str, Any]:
    """A fresh ALTCHA v1 challenge (SHA-256, the work a browser's crypto.subtle can do)."""
    challenge = altcha.create_challenge_v1(
        altcha.ChallengeOptionsV1(
            algorithm="SHA-256",
            max_number=settings.ALTCHA_MAX_NUMBER,
            hmac_key=_altcha_key(),
            expires=timezone.now() + timedelta(seconds=settings.ALTCHA_EXPIRES_SECONDS),
        )
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


def _proof_parse(payload: str) -> PayloadType | None:
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
    # The fields' types are checked above; the algorithm's name is checked by verify_solution.
    return cast(PayloadType, data)


@dataclass(frozen=True)
class ProofChecked:
    """A proof checked but not yet spent: pow_verify's answer, which for a good proof depends on
    making its one-time `claim` (the first use of this challenge)."""

    result: str
    claim: Claim | None = None

    def spent(self, *, first_use: bool | None) -> str:
        """The answer once the claim was tried: replayed when it had been made before. An
        untried or failed claim (the cache down) counts as the first use."""
        if self.claim is not None and first_use is False:
            return Proof.REPLAYED
        return self.result


def pow_check(payload: str, *, now: float | None = None) -> ProofChecked:
    """pow_verify without the cache: what the proof is worth, and for a good one the claim that
    spends it, for the caller to make (mechanisms.signing makes it with the request's counters,
    in the same round trip)."""
    if not payload:
        return ProofChecked(Proof.MISSING)
    data = _proof_parse(payload)
    if data is None:
        return ProofChecked(Proof.BAD)
    valid, _error = altcha.verify_solution_v1(data, _altcha_key(), check_expires=False)
    if not valid:
        return ProofChecked(Proof.BAD)
    expires = altcha.extract_params_v1(data).get("expires", [""])[0]
    try:
        remaining = (
            int(expires)
            + settings.CLOCK_SKEW_ALLOWANCE_SECONDS
            - (time.time() if now is None else now)
        )
    except ValueError:
        return ProofChecked(Proof.BAD)
    if remaining <= 0:
        return ProofChecked(Proof.EXPIRED)
    claim = Claim(
        key=f"{settings.ABUSE_CACHE_PREFIX}pow:{data['challenge']}", seconds=int(remaining) + 5
    )
    return ProofChecked(Proof.GOOD, claim=claim)


def pow_verify(payload: str, *, now: float | None = None) -> str:
    """Check a solved challenge: one of the `Proof` values, and a good one only once.

    An expired or replayed proof counts as no proof (a person who left the page open for an hour,
    or went back and sent the form again, is no bot), never as a bad one; only a forged or
    malformed proof is bad. The challenge may come from another host, whose clock is ahead of
    this one's: it expires CLOCK_SKEW_ALLOWANCE_SECONDS after the time it names.
    """
    checked = pow_check(payload, now=now)
    if checked.claim is None:
        return checked.result
    try:
        first_use = cache.add(checked.claim.key, 1, checked.claim.seconds)
    except Exception:
        logger.warning("Cannot record a used proof of work, accepting it", exc_info=True)
        return Proof.GOOD
    return checked.spent(first_use=first_use)
