"""Signed, expiring tokens for links we email (confirmations, later self-service links)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core import signing


class TokenInvalid(Exception):
    """The token was not made by us for this purpose (tampered, truncated or for another use)."""


@dataclass(frozen=True)
class TokenExpired(Exception):
    """The token is genuine but too old; `value` lets the caller offer a fresh one."""

    value: Any


def _salt(purpose: str) -> str:
    return f"cosign.tokens.{purpose}"


def token_make(*, purpose: str, value: Any) -> str:
    return signing.dumps(value, salt=_salt(purpose))


def token_read(*, purpose: str, token: str, max_age: timedelta | None) -> Any:
    """The value a token carries; `max_age=None` for links that must keep working (unsubscribe)."""
    try:
        return signing.loads(token, salt=_salt(purpose), max_age=max_age)
    except signing.SignatureExpired:
        # The signature itself is good, only its age is not: read the value without the limit.
        raise TokenExpired(signing.loads(token, salt=_salt(purpose))) from None
    except signing.BadSignature:
        raise TokenInvalid from None
