"""Links that let someone without an account act on one row (a target answering a petition),
of which the database keeps only a digest.

A token reads `<key>_<secret>`: the key (random, stored, unique) finds the row; the secret is
an HMAC of the key under SECRET_KEY, so the outbox can render the same link again on a retry
without the secret ever being stored; the row keeps the SHA-256 of the whole token, compared in
constant time. A stolen table therefore opens no link (it lacks SECRET_KEY), a rotated
SECRET_KEY leaves links already sent working (their digest still matches), and a new key kills
the previous link. The secret has 256 bits: nobody guesses it, and the digest needs no salt.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from django.utils.crypto import salted_hmac

_TOKEN = re.compile(r"([0-9a-f]{16})_([0-9a-f]{64})")


def link_key_new() -> str:
    return secrets.token_hex(8)


def link_token(*, purpose: str, key: str) -> str:
    secret = salted_hmac(f"cosign.links.{purpose}", key, algorithm="sha256").hexdigest()
    return f"{key}_{secret}"


def link_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_key_of(token: str) -> str | None:
    """The key a well-formed token names, or None (nothing else is worth a query)."""
    found = _TOKEN.fullmatch(token)
    return found.group(1) if found else None


def link_token_matches(*, digest: str, token: str) -> bool:
    return bool(digest) and hmac.compare_digest(digest, link_digest(token))
