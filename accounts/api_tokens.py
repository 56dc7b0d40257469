"""Organizations' API tokens: made, shown once, found again by their key, revoked.

A key reads `cosign_<prefix>_<secret>`: the prefix finds the row, and the SHA-256 of the whole
key must equal the stored digest (compared in constant time). The secret has 256 bits, so a
plain hash is enough: nobody guesses it, and a salt would add nothing against a stolen table.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import ApiToken, Capability, Membership, Organization, User
from accounts.selectors import roles_that_may
from mechanisms.audit import audit_log

KEY_START = "cosign_"
# How often a token's "last used" is written: not on every request of a busy integration.
LAST_USED_EVERY = timedelta(minutes=1)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_token_create(
    *, organization: Organization, user: User, name: str, scope: ApiToken.Scope
) -> tuple[ApiToken, str]:
    """A new token and its key, which the caller shows once and never keeps."""
    prefix = secrets.token_hex(6)
    key = f"{KEY_START}{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        token = ApiToken.objects.create(
            organization=organization,
            name=name,
            scope=scope,
            prefix=prefix,
            digest=_digest(key),
            created_by=user,
        )
        audit_log(
            user=user,
            objects=[token],
            message=gettext("API token made: %(scope)s.") % {"scope": token.get_scope_display()},
        )
    return token, key


def api_token_revoke(*, organization: Organization, token_id: int, user: User) -> bool:
    """Revoke one of the organization's tokens; it stops working at once. Returns whether it
    was still active."""
    with transaction.atomic():
        revoked = ApiToken.objects.filter(
            pk=token_id, organization=organization, revoked_at__isnull=True
        ).update(revoked_at=timezone.now())
        if revoked:
            audit_log(
                user=user,
                objects=[ApiToken.objects.get(pk=token_id)],
                message=gettext("API token revoked."),
            )
    return bool(revoked)


def api_token_for_key(key: str) -> ApiToken | None:
    """The active token a key stands for, or None; its `last_used_at` is brought up to date
    (at most once a minute)."""
    if not key.startswith(KEY_START):
        return None
    prefix, _sep, secret = key[len(KEY_START) :].partition("_")
    if not prefix or not secret:
        return None
    token = (
        ApiToken.objects.select_related("organization")
        # A token answers for what it reads through the person who made it (the audit log names
        # them): one whose maker's account is gone or deactivated stops working.
        .filter(prefix=prefix, revoked_at__isnull=True, created_by__is_active=True)
        .first()
    )
    if token is None or not hmac.compare_digest(token.digest, _digest(key)):
        return None
    # Its maker must still be an administrator of the organization: a token leaves with them.
    if not Membership.objects.filter(
        user_id=token.created_by_id or 0,
        organization_id=token.organization_id,
        role__in=roles_that_may(Capability.MANAGE_API),
    ).exists():
        return None
    now = timezone.now()
    if token.last_used_at is None or token.last_used_at < now - LAST_USED_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def api_tokens_of_organization(*, organization: Organization) -> list[ApiToken]:
    return list(organization.api_tokens.select_related("created_by"))
