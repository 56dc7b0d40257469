"""The emails Cosign sends to organizations' contacts and members, in the reader's language,
in text and HTML."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import Organization, User
from mechanisms.mail import EmailKind, absolute_url, mail_send
from mechanisms.tokens import token_make

CONTACT_TOKEN_PURPOSE = "accounts.organization_contact"  # noqa: S105 (a salt, not a secret)
CONTACT_CONFIRM_MAX_AGE = timedelta(days=7)

# Anyone can register an organization with a stranger's address as its contact: the link carries
# none of what they typed (the page it opens shows it), and one address gets one such email per
# notice interval, however many organizations name it.
CONTACT_CONFIRMATION = EmailKind(
    "organization_contact_confirmation", cooldown="SIGNATURE_NOTICE_INTERVAL", unsolicited=True
)
# Sent once the contact confirmed: the organization's name is one they confirmed.
ADMIN_WELCOME = EmailKind("organization_admin_welcome", cooldown=timedelta(days=1))
DECISION = EmailKind("organization_decision", cooldown=timedelta(minutes=15))
# An administrator can add any address as a member, of an organization staff may not have
# verified yet: no typed name, and the organization's name only once staff verified it.
INVITATION = EmailKind("organization_invitation", cooldown=timedelta(hours=1), unsolicited=True)
PASSWORD_LINK = EmailKind("password_link", cooldown="SIGNATURE_NOTICE_INTERVAL", unsolicited=True)


def _url(view: str, *, language: str, **kwargs: Any) -> str:
    """A link under the reader's language prefix, whatever language the worker runs in."""
    with translation.override(language):
        return absolute_url(reverse(view, kwargs=kwargs or None))


def contact_confirmation_token(*, organization: Organization) -> str:
    # The address is part of the token, so a link stops working if staff correct the address.
    return token_make(
        purpose=CONTACT_TOKEN_PURPOSE, value=[organization.pk, organization.contact_email]
    )


def contact_confirmation_url(*, organization: Organization) -> str:
    return _url(
        "accounts:organization_confirm",
        language=organization.language,
        token=contact_confirmation_token(organization=organization),
    )


def password_set_url(*, user: User, language: str) -> str:
    """Django's own reset link (PasswordResetConfirmView): it stops working once the password is
    set, or after PASSWORD_RESET_TIMEOUT."""
    return _url(
        "accounts:password_set",
        language=language,
        uidb64=urlsafe_base64_encode(force_bytes(user.pk)),
        token=default_token_generator.make_token(user),
    )


def _account_access(*, user: User, language: str) -> dict[str, Any]:
    """A link to choose a password for someone who has none, or to log in for who has one."""
    if user.has_usable_password():
        return {"login_url": _url("accounts:login", language=language)}
    return {
        "set_password_url": password_set_url(user=user, language=language),
        "valid_days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
    }


def _to_contact(
    *, kind: EmailKind, organization: Organization, template: str, context: dict[str, Any]
) -> bool:
    return mail_send(
        kind=kind,
        # One contact confirmation per address whatever the organization; others per organization.
        about="" if kind is CONTACT_CONFIRMATION else f"{organization.pk}:{template}",
        to=organization.contact_email,
        language=organization.language,
        template=f"accounts/email/{template}",
        context={"organization": organization, **context},
    )


def contact_confirmation_email_send(*, organization: Organization) -> bool:
    return _to_contact(
        kind=CONTACT_CONFIRMATION,
        organization=organization,
        template="contact_confirm",
        context={
            "confirm_url": contact_confirmation_url(organization=organization),
            "valid_days": CONTACT_CONFIRM_MAX_AGE.days,
        },
    )


def admin_welcome_email_send(*, organization: Organization, user: User) -> bool:
    return _to_contact(
        kind=ADMIN_WELCOME,
        organization=organization,
        template="admin_welcome",
        context={"user": user, **_account_access(user=user, language=organization.language)},
    )


def verified_email_send(*, organization: Organization) -> bool:
    return _to_contact(
        kind=DECISION,
        organization=organization,
        template="verified",
        context={"login_url": _url("accounts:login", language=organization.language)},
    )


def rejected_email_send(*, organization: Organization) -> bool:
    return _to_contact(kind=DECISION, organization=organization, template="rejected", context={})


def invitation_email_send(*, organization: Organization, user: User, language: str) -> bool:
    return mail_send(
        kind=INVITATION,
        about=organization.pk,
        to=user.email,
        language=language,
        template="accounts/email/invitation",
        context={
            # Whatever its registrant typed, until staff have verified it.
            "organization_name": organization.name
            if organization.verification == Organization.Verification.VERIFIED
            else "",
            "members_url": _url(
                "accounts:organization_members", language=language, slug=organization.slug
            ),
            **_account_access(user=user, language=language),
        },
    )


def password_link_email_send(*, user: User, language: str) -> bool:
    return mail_send(
        kind=PASSWORD_LINK,
        to=user.email,
        language=language,
        template="accounts/email/password_link",
        context={
            "set_password_url": password_set_url(user=user, language=language),
            "valid_days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
        },
    )
