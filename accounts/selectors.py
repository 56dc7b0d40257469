"""Reads for accounts: who belongs to which organization, and what an emailed link stands for."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest

from accounts.models import ROLE_CAPABILITIES, Capability, Membership, Organization, User
from accounts.organization_emails import CONTACT_CONFIRM_MAX_AGE, CONTACT_TOKEN_PURPOSE
from mechanisms.tokens import TokenExpired, TokenInvalid, token_read


def user_logged_in(*, request: HttpRequest) -> User:
    """The request's user, in a view that only a logged-in user reaches (login_required, or a
    check like it, ran first); anyone else is refused rather than passed on."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    return user


def organizations_for_user(*, user: User | AnonymousUser) -> list[Organization]:
    """Every organization the user is a member of, in any verification state, by name.

    Whoever decides what an organization may do (sign a letter) checks `is_verified` too.
    """
    if not user.is_authenticated:
        return []
    return list(Organization.objects.filter(memberships__user=user).order_by("name", "pk"))


def membership_get(*, user: User | AnonymousUser, organization: Organization) -> Membership | None:
    """The user's membership of the organization (its `role` says whether they administer it),
    or None for anyone else, the anonymous included."""
    if not user.is_authenticated:
        return None
    return (
        Membership.objects.select_related("user", "organization")
        .filter(user=user, organization=organization)
        .first()
    )


def member_may(
    *, user: User | AnonymousUser, organization: Organization, capability: Capability
) -> bool:
    """Whether the user's role in the organization gives them `capability` (accounts.models
    ROLE_CAPABILITIES); False for anyone outside it. Staff rights are the caller's question."""
    membership = membership_get(user=user, organization=organization)
    return membership is not None and membership.may(capability)


def organization_for_member(
    *, user: User | AnonymousUser, slug: str, capability: Capability, staff_perm: str
) -> Organization:
    """The organization, for a member whose role gives `capability` or for staff holding
    `staff_perm`; a 404 for anyone else, so that whether an organization runs something is not
    told outside it."""
    # Here, not at the top: accounts.two_factor reads the logged-in user from this module.
    from accounts.two_factor import staff_verified

    organization = Organization.objects.filter(slug=slug).first()
    if organization is None or not (
        member_may(user=user, organization=organization, capability=capability)
        or staff_verified(user, perm=staff_perm)
    ):
        raise Http404
    return organization


def roles_that_may(capability: Capability) -> list[str]:
    """The roles giving `capability`, for a query over memberships."""
    return [role for role, given in ROLE_CAPABILITIES.items() if capability in given]


def organizations_acted_for(*, user: User) -> QuerySet[Organization]:
    """The organizations the user may act for (administrator or editor): whose name they may
    put on a letter."""
    return Organization.objects.filter(
        memberships__user=user,
        memberships__role__in=roles_that_may(Capability.EDIT_CAMPAIGNS),
    )


def memberships_of_organization(*, organization: Organization) -> list[Membership]:
    """The members, administrators first."""
    return list(
        Membership.objects.filter(organization=organization)
        .select_related("user")
        .order_by("role", "user__full_name", "user__email")
    )


def memberships_of_user(*, user: User) -> list[Membership]:
    return list(
        Membership.objects.filter(user=user)
        .select_related("organization")
        .order_by("organization__name", "organization__pk")
    )


def organization_active_for_domain(*, domain: str) -> Organization | None:
    """The organization already verified, or awaiting verification, for an email domain."""
    if not domain:
        return None
    return (
        Organization.objects.filter(
            verification__in=(
                Organization.Verification.PENDING,
                Organization.Verification.VERIFIED,
            ),
            email_domain__iexact=domain,
        )
        .order_by("pk")
        .first()
    )


def organization_from_contact_token(*, token: str) -> Organization:
    """The organization a contact confirmation link stands for.

    Raises TokenInvalid for a tampered link, or one whose address is no longer the contact's, and
    TokenExpired carrying the organization for a genuine but expired one.
    """
    try:
        value = token_read(
            purpose=CONTACT_TOKEN_PURPOSE, token=token, max_age=CONTACT_CONFIRM_MAX_AGE
        )
    except TokenExpired as expired:
        raise TokenExpired(_organization_for(expired.value)) from None
    return _organization_for(value)


def _organization_for(value: object) -> Organization:
    if not (isinstance(value, list) and len(value) == 2):
        raise TokenInvalid
    organization_id, email = value
    if not isinstance(organization_id, int) or not isinstance(email, str):
        raise TokenInvalid
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None or organization.contact_email.lower() != email.lower():
        raise TokenInvalid
    return organization


def member_addresses(
    *, organizations: QuerySet[Organization] | Iterable[Organization]
) -> list[str]:
    """The addresses of the active people of these organizations, each once: whom an email to
    "the organization's people" goes to (milestones, co-signatures, publications)."""
    return list(
        User.objects.filter(is_active=True, memberships__organization__in=organizations)
        .values_list("email", flat=True)
        .distinct()
        .order_by("email")
    )
