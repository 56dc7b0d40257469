"""The emails Cosign sends to organizations' contacts and members, in the reader's language,
in text and HTML."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import Membership, Organization, User
from mechanisms.mail import EmailKind, absolute_url, message_render
from mechanisms.models import OutboundEmail
from mechanisms.tokens import token_make

CONTACT_TOKEN_PURPOSE = "accounts.organization_contact"  # noqa: S105 (a salt, not a secret)
CONTACT_CONFIRM_MAX_AGE = timedelta(days=7)


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
    *, organization: Organization, template: str, context: dict[str, Any]
) -> EmailMultiAlternatives | None:
    if not organization.contact_email:
        return None
    return message_render(
        to=organization.contact_email,
        language=organization.language,
        template=f"accounts/email/{template}",
        context={"organization": organization, **context},
    )


def _organization(email: OutboundEmail, **filters: Any) -> Organization | None:
    return Organization.objects.filter(pk=email.ref.get("organization"), **filters).first()


def _contact_confirmation_build(email: OutboundEmail) -> EmailMultiAlternatives | None:
    # Unless the contact confirmed meanwhile.
    organization = _organization(email, contact_confirmed_at__isnull=True)
    if organization is None:
        return None
    return _to_contact(
        organization=organization,
        template="contact_confirm",
        context={
            "confirm_url": contact_confirmation_url(organization=organization),
            "valid_days": CONTACT_CONFIRM_MAX_AGE.days,
        },
    )


def _admin_welcome_build(email: OutboundEmail) -> EmailMultiAlternatives | None:
    organization = _organization(email)
    user = User.objects.filter(pk=email.ref.get("user"), is_active=True).first()
    if organization is None or user is None:
        return None
    return _to_contact(
        organization=organization,
        template="admin_welcome",
        context={"user": user, **_account_access(user=user, language=organization.language)},
    )


def _decision_build(email: OutboundEmail) -> EmailMultiAlternatives | None:
    """Staff's decision, if it still stands (an email delayed past a change of mind sends
    nothing), to a contact who confirmed their address (we write to no one else)."""
    verification = email.ref.get("verification")
    organization = _organization(
        email, verification=verification, contact_confirmed_at__isnull=False
    )
    if organization is None:
        return None
    if verification == Organization.Verification.VERIFIED:
        return _to_contact(
            organization=organization,
            template="verified",
            context={"login_url": _url("accounts:login", language=organization.language)},
        )
    if verification == Organization.Verification.REJECTED:
        return _to_contact(organization=organization, template="rejected", context={})
    return None


def _invitation_build(email: OutboundEmail) -> EmailMultiAlternatives | None:
    membership = (
        Membership.objects.select_related("user", "organization")
        .filter(pk=email.ref.get("membership"), user__is_active=True)
        .first()
    )
    if membership is None:
        return None
    organization, user, language = membership.organization, membership.user, email.language
    return message_render(
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


def _password_link_build(email: OutboundEmail) -> EmailMultiAlternatives | None:
    """To the account with the typed address, if there is an active one: the lookup is the
    worker's, so the page answers alike for anyone."""
    user = User.objects.filter(
        email__iexact=User.objects.login_email(email.recipient), is_active=True
    ).first()
    if user is None:
        return None
    return message_render(
        to=user.email,
        language=email.language,
        template="accounts/email/password_link",
        context={
            "set_password_url": password_set_url(user=user, language=email.language),
            "valid_days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
        },
    )


# Anyone can register an organization with a stranger's address as its contact: the link carries
# none of what they typed (the page it opens shows it), and one address gets one such email per
# notice interval, however many organizations name it.
CONTACT_CONFIRMATION = EmailKind(
    "organization_contact_confirmation",
    build=_contact_confirmation_build,
    cooldown="SIGNATURE_NOTICE_INTERVAL",
    unsolicited=True,
)
# Sent once the contact confirmed: the organization's name is one they confirmed.
ADMIN_WELCOME = EmailKind("organization_admin_welcome", build=_admin_welcome_build)
# One per decision; a decision taken again within 15 minutes (undone and redone) is not re-sent.
DECISION = EmailKind("organization_decision", build=_decision_build, cooldown=timedelta(minutes=15))
# An administrator can add any address as a member, of an organization staff may not have
# verified yet: no typed name, and the organization's name only once staff verified it.
INVITATION = EmailKind(
    "organization_invitation",
    build=_invitation_build,
    cooldown=timedelta(hours=1),
    unsolicited=True,
)
PASSWORD_LINK = EmailKind(
    "password_link",
    build=_password_link_build,
    cooldown="SIGNATURE_NOTICE_INTERVAL",
    unsolicited=True,
)
