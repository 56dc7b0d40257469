"""Writes for accounts: organizations registering, confirming their contact, being verified by
staff, inviting their members and giving them roles."""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from accounts import organization_emails as emails
from accounts import privacy_emails, selectors
from accounts.models import Membership, Organization, User
from mechanisms import outbox
from mechanisms.audit import audit_read, audit_save_record
from mechanisms.domains import domain_is_free_mail, domain_within, email_domain, website_domain
from mechanisms.model_fields import field_max_length
from mechanisms.web_urls import web_url_normalize

logger = logging.getLogger(__name__)

_SLUG_MAX_LENGTH = field_max_length(model=Organization, name="slug")
# A member hears from the campaigns their organization sponsors or leads; an administrator also
# brings in members. Who joins, and with what role, is audited (mechanisms.audit).
MEMBERSHIP_AUDITED_FIELDS = ("user", "organization", "role")


class OrganizationAlreadyRegistered(Exception):
    """Another organization with the same email domain is verified or awaiting verification."""

    def __init__(self, organization: Organization | None) -> None:
        super().__init__(organization.slug if organization else "")
        self.organization = organization


class LastAdministrator(Exception):
    """The change would leave the organization with no administrator: nobody could then invite
    members or give roles but Cosign's staff."""


class NotAdministrator(Exception):
    """Only an organization's administrators (and Cosign's staff) give its members roles."""


class AlreadyMember(Exception):
    def __init__(self, membership: Membership) -> None:
        super().__init__(membership.pk)
        self.membership = membership


def _already_registered_error(organization: Organization) -> ValidationError:
    return ValidationError(
        _(
            "%(organization)s is already on Cosign with addresses at %(domain)s. Ask one of its "
            "administrators to invite you."
        ),
        code="already_registered",
        params={"organization": organization.name, "domain": organization.email_domain},
    )


def _website_normalized(website: str) -> str:
    """The website as a browser reads it: the address we store and link to, and whose host the
    contact's address must be at."""
    try:
        return web_url_normalize(website)
    except ValidationError as error:
        raise ValidationError({"website": error}) from None


def _check_contact_email(*, website: str, contact_email: str) -> str:
    """The domain of a contact address that may speak for the organization at `website`."""
    domain = email_domain(contact_email)
    if domain_is_free_mail(domain):
        raise ValidationError(
            {
                "contact_email": ValidationError(
                    _(
                        "Use an address at your organization's own domain; free-mail addresses "
                        "cannot show that you speak for it."
                    ),
                    code="free_mail",
                )
            }
        )
    site = website_domain(website)
    if not domain_within(domain, site):
        raise ValidationError(
            {
                "contact_email": ValidationError(
                    _(
                        "Use an address at your organization's website domain (%(site)s), so we "
                        "can tell it is yours: %(domain)s is not %(site)s or one of its "
                        "subdomains."
                    ),
                    code="domain_mismatch",
                    params={"site": site or "-", "domain": domain},
                )
            }
        )
    existing = selectors.organization_active_for_domain(domain=domain)
    if existing is not None:
        raise ValidationError({"contact_email": _already_registered_error(existing)})
    return domain


def _slug_candidates(name: str, *, limit: int = 50) -> list[str]:
    base = slugify(name)[: _SLUG_MAX_LENGTH - 6].strip("-") or "organization"
    return [base] + [f"{base}-{n}" for n in range(2, limit + 2)]


def _free_slug(name: str, *, exclude_pk: int | None = None) -> str:
    candidates = _slug_candidates(name)
    others = Organization.objects.filter(slug__in=candidates)
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    taken = set(others.values_list("slug", flat=True))
    for slug in candidates:
        if slug not in taken:
            return slug
    # Fifty organizations of one name: fall back on something no one typed.
    return f"{candidates[0]}-{timezone.now():%Y%m%d%H%M%S%f}"[:_SLUG_MAX_LENGTH]


def organization_register(
    *,
    name: str,
    website: str,
    contact_name: str,
    contact_email: str,
    language: str = settings.LANGUAGE_CODE,
) -> Organization:
    """Record an organization that asks to join, not yet verified, and email its contact a link
    to confirm the address.

    Raises ValidationError, keyed by field, when the address is at a free-mail provider, is not
    at the website's domain, or its domain already belongs to an organization on Cosign.

    Registering again with the same address makes a new registration with its own link; it
    never changes an earlier one, so nobody can rename another person's registration before
    they confirm it. Whoever reads the mailbox confirms the one they recognize.
    """
    fields = organization_register_check(
        name=name,
        website=website,
        contact_name=contact_name,
        contact_email=contact_email,
        language=language,
    )
    with transaction.atomic():
        organization = _organization_save(fields)
        # One contact link per address and notice interval, whatever the organization.
        outbox.email_enqueue(
            kind=emails.CONTACT_CONFIRMATION,
            to=organization.contact_email,
            language=organization.language,
            ref={"organization": organization.pk},
        )
    return organization


def organization_register_check(
    *,
    name: str,
    website: str,
    contact_name: str,
    contact_email: str,
    language: str = settings.LANGUAGE_CODE,
) -> dict[str, str]:
    """What organization_register checks, writing nothing: the fields it would save, or the
    same ValidationError. The join form asks this first, so that a registration that would be
    refused spends none of the budget everyone shares."""
    contact_email = User.objects.login_email(contact_email)
    website = _website_normalized(website)
    domain = _check_contact_email(website=website, contact_email=contact_email)
    return {
        "name": name,
        "website": website,
        "contact_name": contact_name,
        "contact_email": contact_email,
        "email_domain": domain,
        "language": language,
    }


def _organization_save(fields: dict[str, str]) -> Organization:
    organization = Organization(**fields, slug=_free_slug(fields["name"]))
    # The slug is ours to choose, and its uniqueness the database's to keep.
    organization.full_clean(exclude=["slug"])
    for attempt in range(3):
        try:
            with transaction.atomic():
                organization.save()
            break
        except IntegrityError:
            # Another registration took the slug between our read and our write: pick again.
            if attempt == 2:
                raise
            organization.slug = _free_slug(fields["name"], exclude_pk=organization.pk)
    return organization


def _user_get_or_create(*, email: str, full_name: str) -> User:
    """The account for an address, created without a usable password when there is none (its
    owner chooses one from an emailed link)."""
    email = User.objects.login_email(email)
    user = User.objects.filter(email__iexact=email).first()
    if user is not None:
        return user
    try:
        with transaction.atomic():
            return User.objects.create_user(email, password=None, full_name=full_name)
    except IntegrityError:
        return User.objects.get(email__iexact=email)


def organization_contact_confirm(
    *, organization_id: int, now: datetime | None = None
) -> Organization:
    """The contact proved they read mail at the organization's domain: the organization awaits
    staff verification, and the contact administers it on Cosign (an account is made for them if
    they have none) and is emailed a link to choose a password. Confirming twice changes nothing.

    Raises OrganizationAlreadyRegistered when another organization with the same domain became
    verified or pending since this one registered.
    """
    now = now or timezone.now()
    with transaction.atomic():
        organization = Organization.objects.select_for_update().get(pk=organization_id)
        if organization.contact_confirmed_at is not None:
            return organization
        organization.contact_confirmed_at = now
        if organization.verification == Organization.Verification.UNVERIFIED:
            organization.verification = Organization.Verification.PENDING
        try:
            with transaction.atomic():
                organization.save(update_fields=["contact_confirmed_at", "verification"])
        except IntegrityError:
            existing = selectors.organization_active_for_domain(domain=organization.email_domain)
            raise OrganizationAlreadyRegistered(existing) from None
        if organization.verification == Organization.Verification.REJECTED:
            # Staff turned it down before the contact confirmed: nothing to administer.
            return organization
        user = _user_get_or_create(
            email=organization.contact_email, full_name=organization.contact_name
        )
        current = Membership.objects.filter(user=user, organization=organization).first()
        before = (
            audit_read(model=Membership, pk=current.pk, fields=MEMBERSHIP_AUDITED_FIELDS)
            if current
            else None
        )
        membership, _created = Membership.objects.update_or_create(
            user=user, organization=organization, defaults={"role": Membership.Role.ADMIN}
        )
        # By the contact themselves: confirming the address is what made them administrator.
        audit_save_record(
            user=user,
            obj=membership,
            fields=MEMBERSHIP_AUDITED_FIELDS,
            before=before,
            note=_("The organization's contact confirmed their address."),
        )
        outbox.email_enqueue(
            kind=emails.ADMIN_WELCOME,
            to=organization.contact_email,
            language=organization.language,
            about=organization.pk,
            ref={"organization": organization.pk, "user": user.pk},
        )
    return organization


def organization_verify(*, organization_id: int, now: datetime | None = None) -> bool:
    """Staff vouch for an organization whose contact has confirmed their address; the contact is
    told. Only organizations awaiting verification change; returns whether this one did."""
    with transaction.atomic():
        verified = Organization.objects.filter(
            pk=organization_id,
            verification=Organization.Verification.PENDING,
            contact_confirmed_at__isnull=False,
        ).update(
            verification=Organization.Verification.VERIFIED,
            verified_at=now or timezone.now(),
            rejection_reason="",
        )
        if verified:
            _decision_tell(organization_id=organization_id)
    return bool(verified)


def organization_reject(*, organization_id: int, reason: str) -> bool:
    """Staff turn an organization down, or withdraw its verification, saying why; a contact who
    confirmed their address is emailed the reason. Returns whether this one changed (an
    organization already rejected is left as it was)."""
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("Say why the organization is rejected."), code="required")
    with transaction.atomic():
        rejected = (
            Organization.objects.filter(pk=organization_id)
            .exclude(verification=Organization.Verification.REJECTED)
            .update(
                verification=Organization.Verification.REJECTED,
                rejection_reason=reason,
                verified_at=None,
            )
        )
        if rejected:
            _decision_tell(organization_id=organization_id)
    return bool(rejected)


def _decision_tell(*, organization_id: int) -> None:
    """Owe the contact staff's decision; the builder sends it only if it still stands and the
    contact confirmed their address."""
    organization = Organization.objects.get(pk=organization_id)
    if organization.contact_email:
        outbox.email_enqueue(
            kind=emails.DECISION,
            to=organization.contact_email,
            language=organization.language,
            about=f"{organization.pk}:{organization.verification}",
            ref={"organization": organization.pk, "verification": organization.verification},
        )


def membership_invite(
    *,
    organization: Organization,
    email: str,
    full_name: str = "",
    invited_by: User | None = None,
    language: str = settings.LANGUAGE_CODE,
) -> Membership:
    """Add a person to an organization as a member and email them: a link to choose a password
    if they have none yet, a note that they were added if they do.

    Raises AlreadyMember if they belong to it already. Whether the inviter may invite is the
    caller's question (an organization administrator, or staff).
    """
    with transaction.atomic():
        user = _user_get_or_create(email=email, full_name=full_name)
        existing = Membership.objects.filter(user=user, organization=organization).first()
        if existing is not None:
            raise AlreadyMember(existing)
        try:
            with transaction.atomic():
                membership = Membership.objects.create(
                    user=user, organization=organization, role=Membership.Role.VIEWER
                )
        except IntegrityError:
            raise AlreadyMember(
                Membership.objects.get(user=user, organization=organization)
            ) from None
        if invited_by is not None:
            audit_save_record(
                user=invited_by,
                obj=membership,
                fields=MEMBERSHIP_AUDITED_FIELDS,
                before=None,
                note=_("Invited."),
            )
        outbox.email_enqueue(
            kind=emails.INVITATION,
            to=user.email,
            language=language,
            about=organization.pk,
            ref={"membership": membership.pk},
        )
    return membership


def membership_role_set(
    *,
    organization: Organization,
    membership_id: int,
    role: str,
    changed_by: User,
    by_staff: bool = False,
) -> Membership:
    """Give a member of `organization` another role (Membership.Role), audited, as one of its
    administrators (or, `by_staff`, as Cosign's staff, whose right the caller checked).

    Raises Membership.DoesNotExist for a membership of any other organization, NotAdministrator
    when `changed_by` is not (or, a moment ago, stopped being) an administrator of it, and
    LastAdministrator when the organization's only administrator would lose the role.
    """
    role = Membership.Role(role)
    with transaction.atomic():
        # The organization's memberships are locked together, and who may change them is read
        # under the lock: two administrators making each other editors at once must not both
        # succeed.
        members = list(
            Membership.objects.select_for_update()
            .filter(organization=organization)
            .order_by("pk")
            .values_list("pk", "role", "user_id")
        )
        roles = {pk: held for pk, held, _user in members}
        if membership_id not in roles:
            raise Membership.DoesNotExist
        if not by_staff and not any(
            user == changed_by.pk and held == Membership.Role.ADMIN for _pk, held, user in members
        ):
            raise NotAdministrator
        administrators = [pk for pk, held, _user in members if held == Membership.Role.ADMIN]
        if role != Membership.Role.ADMIN and administrators == [membership_id]:
            raise LastAdministrator
        if roles[membership_id] == role:
            return Membership.objects.get(pk=membership_id)
        before = audit_read(model=Membership, pk=membership_id, fields=MEMBERSHIP_AUDITED_FIELDS)
        Membership.objects.filter(pk=membership_id).update(role=role)
        membership = Membership.objects.select_related("user").get(pk=membership_id)
        audit_save_record(
            user=changed_by,
            obj=membership,
            fields=MEMBERSHIP_AUDITED_FIELDS,
            before=before,
            note=_("Role changed on the members page."),
        )
    return membership


def password_link_request(*, email: str, language: str = settings.LANGUAGE_CODE) -> None:
    """Have a link to choose a password emailed to the account with this address, if there is
    an active one, at most once per address and SIGNATURE_NOTICE_INTERVAL. Only writes an outbox
    row, the same for any address: a lookup here would make the page answer at another speed for
    an account holder, and so tell who has an account (the builder looks it up)."""
    with transaction.atomic():
        # One per account spelling, not per mailbox: the builder mails only an account with
        # this very address, so another spelling of the mailbox (jane+x@) must not take the
        # owner's one link of the period. An HMAC: the row keeps `about` after it is sent.
        login = User.objects.login_email(email)
        outbox.email_enqueue(
            kind=emails.PASSWORD_LINK,
            to=email,
            language=language,
            about=salted_hmac("cosign.password_link", login).hexdigest(),
        )


def my_signatures_link_request(*, email: str, language: str) -> None:
    """Have a link to someone's signatures mailed if that address has any, at most once per
    SIGNATURE_NOTICE_INTERVAL; nothing otherwise. Only writes an outbox row, the same for any
    address, so the page answers at the same speed either way (the builder looks it up)."""
    with transaction.atomic():
        outbox.email_enqueue(kind=privacy_emails.MY_SIGNATURES, to=email, language=language)
