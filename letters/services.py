"""Writes for open letters: organizations co-signing with statements, their approval and
withdrawal, individuals signing and confirming by email, publication."""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from accounts.models import Capability, Membership, Organization, User, WebhookEndpoint
from accounts.selectors import member_addresses, member_may, roles_that_may
from accounts.two_factor import staff_verified
from accounts.webhooks import webhook_events_emit
from letters import delivery, emails
from letters.models import (
    IndividualSignature,
    OpenLetter,
    OrganizationSignature,
    Statement,
)
from mechanisms import metrics, outbox
from mechanisms.addresses import email_canonicalize
from mechanisms.audit import audit_log
from mechanisms.confirmation import signature_record
from mechanisms.domains import domain_within, email_domain
from mechanisms.mail import EmailKind
from mechanisms.outbox import Recipient
from petitions.questions import answers_validate

logger = logging.getLogger(__name__)

_APPROVED = OrganizationSignature.Status.APPROVED
_PENDING = OrganizationSignature.Status.PENDING


class LetterNotOpen(Exception):
    """The letter takes no signatures now (a draft, or closed)."""


class AlreadySigned(Exception):
    """This organization's name is already on the letter (or was, and was withdrawn)."""


# --- Who may do what ---------------------------------------------------------------------------


def user_may_sign_for(*, user: User, organization: Organization) -> bool:
    """Its members who act for it (administrators and editors: a viewer or a data steward does
    not put the organization's name on a letter); and staff whose role lets them manage
    co-signatures (with their second factor, when staff need one)."""
    return user.is_active and (
        member_may(user=user, organization=organization, capability=Capability.EDIT_CAMPAIGNS)
        or staff_verified(user, perm="letters.add_organizationsignature")
    )


def _decides_as_staff(user: User) -> bool:
    return staff_verified(user, perm="letters.change_organizationsignature")


def user_leads(*, user: User, letter: OpenLetter) -> bool:
    """Staff, or an administrator or editor of one of the letter's lead organizations: who
    approves co-signers."""
    return user.is_active and (
        _decides_as_staff(user)
        or Membership.objects.filter(
            user=user,
            organization__in=letter.lead_organizations.all(),
            role__in=roles_that_may(Capability.EDIT_CAMPAIGNS),
        ).exists()
    )


# --- Organizations -----------------------------------------------------------------------------


def letter_cosign(
    *,
    letter: OpenLetter,
    organization: Organization,
    user: User,
    speaker_name: str = "",
    speaker_title: str = "",
    statement: str = "",
    now: datetime | None = None,
) -> OrganizationSignature:
    """Sign a letter for an organization, with an optional spokesperson statement.

    A lead organization's own signature needs no approval; any other waits for the lead
    organizations (or staff), who are told of it. An organization not yet verified may ask to
    sign: it appears only once staff verify it.
    """
    if not letter.accepts_signatures:
        raise LetterNotOpen
    if not user_may_sign_for(user=user, organization=organization):
        raise PermissionDenied(_("Only members of an organization can sign for it."))
    if organization.verification == Organization.Verification.REJECTED:
        raise PermissionDenied(_("Cosign's staff did not verify this organization."))
    now = now or timezone.now()
    is_lead = letter.lead_organizations.filter(pk=organization.pk).exists()
    signature = OrganizationSignature(
        letter=letter,
        organization=organization,
        signed_by=user,
        created_at=now,
        status=_APPROVED if is_lead else _PENDING,
        decided_at=now if is_lead else None,
    )
    quote = None
    if statement:
        quote = Statement(
            signature=signature,
            speaker_name=speaker_name,
            speaker_title=speaker_title,
            text=statement,
        )
        quote.full_clean(exclude=["signature"])
    try:
        with transaction.atomic():
            signature.save(force_insert=True)
            if quote is not None:
                quote.signature = signature
                quote.save(force_insert=True)
            if not is_lead or quote is not None:
                _tell_members(
                    kind=emails.COSIGNATURE_WAITING,
                    about=signature.pk,
                    organizations=letter.lead_organizations.all(),
                    ref={"signature": signature.pk},
                )
    except IntegrityError:
        if OrganizationSignature.objects.filter(letter=letter, organization=organization).exists():
            raise AlreadySigned from None
        raise
    return signature


def _tell_members(
    *,
    kind: EmailKind,
    about: object,
    organizations: QuerySet[Organization] | list[Organization],
    ref: dict[str, object],
) -> int:
    """Owe one email to each person of these organizations, in the site's language (members
    have no language of their own yet)."""
    return outbox.emails_enqueue(
        kind=kind,
        about=about,
        recipients=[
            Recipient(to=address, language=settings.LANGUAGE_CODE, ref=ref)
            for address in member_addresses(organizations=organizations)
        ],
    )


def _decide(user: User, letter: OpenLetter) -> None:
    if not user_leads(user=user, letter=letter):
        raise PermissionDenied(_("Only the lead organizations and staff approve co-signers."))


def _audit_decision(*, user: User, decided: models.Model, approve: bool, reason: str) -> None:
    """Staff decisions go to the audit log, from the admin or the letter's own page alike; a
    lead organization deciding on its own letter is not staff and is not logged there."""
    if not _decides_as_staff(user):
        return
    message = (
        gettext("Approved.")
        if approve
        else gettext("Rejected. Reason: %(reason)s") % {"reason": reason}
    )
    audit_log(user=user, objects=[decided], message=message)


def cosignature_decide(
    *, signature_id: int, user: User, approve: bool, reason: str = ""
) -> OrganizationSignature:
    """Approve or reject a waiting co-signature (a decided one is left as it is)."""
    signature = OrganizationSignature.objects.select_related("letter").get(pk=signature_id)
    _decide(user, signature.letter)
    if not approve and not reason.strip():
        raise ValidationError(_("Say why the signature is rejected; the organization is told."))
    new = _APPROVED if approve else OrganizationSignature.Status.REJECTED
    # The decision and its audit entry together, or neither.
    with transaction.atomic():
        decided = OrganizationSignature.objects.filter(
            pk=signature_id, status=OrganizationSignature.Status.PENDING
        ).update(
            status=new,
            decided_at=timezone.now(),
            decided_by=user,
            rejection_reason="" if approve else reason.strip(),
        )
        signature.refresh_from_db()
        if decided:
            _audit_decision(user=user, decided=signature, approve=approve, reason=reason.strip())
        if decided and not approve:
            _tell_rejected(signature_id=signature_id)
        if decided and approve:
            _webhook_cosignature_approved(signature)
    return signature


def _letter_data(letter: OpenLetter) -> dict[str, object]:
    return {
        "id": letter.pk,
        "slug": letter.slug,
        "title": letter.title,
        "url": f"{settings.SITE_URL}{letter.get_absolute_url()}",
    }


def _webhook_cosignature_approved(signature: OrganizationSignature) -> None:
    """To the letter's lead organizations and to the one whose name is now on it."""
    leads = list(signature.letter.lead_organizations.values_list("pk", flat=True))
    webhook_events_emit(
        organization_ids=[*leads, signature.organization_id],
        event=WebhookEndpoint.Event.COSIGNATURE_APPROVED,
        data={
            "letter": _letter_data(signature.letter),
            "organization": signature.organization.name,
        },
    )


def _tell_rejected(*, signature_id: int, statement: bool = False) -> None:
    """Owe the organization's people the reason its signature (or its statement) was not
    accepted, in the caller's transaction."""
    signature = OrganizationSignature.objects.select_related("organization").get(pk=signature_id)
    _tell_members(
        kind=emails.COSIGNATURE_REJECTED,
        about=f"{signature_id}:{'statement' if statement else 'signature'}",
        organizations=[signature.organization],
        ref={"signature": signature_id, "statement": statement},
    )


def statement_decide(
    *, statement_id: int, user: User, approve: bool, reason: str = ""
) -> Statement:
    statement = Statement.objects.select_related("signature__letter").get(pk=statement_id)
    _decide(user, statement.signature.letter)
    if not approve and not reason.strip():
        raise ValidationError(_("Say why the statement is rejected; the organization is told."))
    with transaction.atomic():
        decided = Statement.objects.filter(pk=statement_id, status=Statement.Status.PENDING).update(
            status=Statement.Status.APPROVED if approve else Statement.Status.REJECTED,
            decided_at=timezone.now(),
            rejection_reason="" if approve else reason.strip(),
        )
        statement.refresh_from_db()
        if decided:
            _audit_decision(user=user, decided=statement, approve=approve, reason=reason.strip())
        if decided and not approve:
            _tell_rejected(signature_id=statement.signature_id, statement=True)
    return statement


def cosignature_withdraw(*, signature_id: int, user: User) -> OrganizationSignature:
    """Take an organization's name off a letter, or its request to sign while it waits. The row
    stays, dated; one that was public shows in the letter's history. A rejected one stays rejected.
    """
    signature = OrganizationSignature.objects.select_related("organization").get(pk=signature_id)
    if not user_may_sign_for(user=user, organization=signature.organization):
        raise PermissionDenied(_("Only members of an organization can withdraw its signature."))
    OrganizationSignature.objects.filter(pk=signature_id, status__in=[_APPROVED, _PENDING]).update(
        status=OrganizationSignature.Status.WITHDRAWN, withdrawn_at=timezone.now()
    )
    signature.refresh_from_db()
    return signature


def letter_publish(*, letter_id: int, now: datetime | None = None) -> bool:
    """Publish a letter (once); the signing organizations hear of it."""
    now = now or timezone.now()
    published = (
        OpenLetter.objects.filter(pk=letter_id)
        .exclude(status__in=[OpenLetter.Status.PUBLISHED, OpenLetter.Status.CLOSED])
        .update(status=OpenLetter.Status.PUBLISHED)
    )
    if published:
        with transaction.atomic():
            OpenLetter.objects.filter(pk=letter_id, published_at__isnull=True).update(
                published_at=now
            )
            # The organizations on the public list: approved, and verified by staff.
            signing = Organization.objects.filter(
                letter_signatures__letter_id=letter_id,
                letter_signatures__status=OrganizationSignature.Status.APPROVED,
                verification=Organization.Verification.VERIFIED,
            )
            _tell_members(
                kind=emails.PUBLISHED,
                about=letter_id,
                organizations=signing,
                ref={"letter": letter_id},
            )
            delivery.letter_deliveries_create(letter_id=letter_id)
            letter = OpenLetter.objects.get(pk=letter_id)
            webhook_events_emit(
                organization_ids=[
                    *signing.values_list("pk", flat=True),
                    *letter.lead_organizations.values_list("pk", flat=True),
                ],
                event=WebhookEndpoint.Event.CAMPAIGN_PUBLISHED,
                data={"kind": "letter", "letter": _letter_data(letter), "status": letter.status},
            )
    return bool(published)


# --- Individuals -------------------------------------------------------------------------------


class DomainNotAllowed(ValidationError):
    pass


def individual_email_check(*, letter: OpenLetter, email: str) -> None:
    domains = letter.required_domains
    if not domains:
        return
    domain = email_domain(email)
    if not any(domain_within(domain, allowed) for allowed in domains):
        raise DomainNotAllowed(
            _("This letter is signed from an address at %(domains)s.")
            % {"domains": ", ".join(domains)},
            code="domain",
        )


def individual_signature_create(
    *,
    letter: OpenLetter,
    name: str,
    email: str,
    title: str = "",
    affiliation: str = "",
    withhold_name: bool = False,
    language: str = settings.LANGUAGE_CODE,
    ip_hash: str = "",
    flags: Collection[str] = (),
    now: datetime | None = None,
    answers: Mapping[str, Any] | None = None,
) -> int:
    """A pending signature and its confirmation email, as on a petition: one statement, the
    same work and the same answer whether or not the address had signed (a pending repeat is
    mailed its link again, at most once per notice interval). Returns the signature's id.

    `flags` (accounts.models.AbuseFlag codes) hold the signature for a moderator: confirmed like
    any other, but not counted or listed until approved. A repeat keeps the first one's flags.

    `answers` answer the letter's own questions by question key, checked against the snapshot
    the letter was read with (petitions.questions) and stored with it, as on a petition; a
    repeat keeps the first signature's answers.
    """
    if not letter.accepts_signatures or not letter.individuals_may_sign:
        raise LetterNotOpen
    individual_email_check(letter=letter, email=email)
    # Without questions, nothing to check and nothing read: the snapshot came with the letter.
    stored_answers = (
        answers_validate(question_set=letter.question_set, answers=answers or {})
        if letter.question_set_id is not None or answers
        else {}
    )
    now = now or timezone.now()
    signature = IndividualSignature(
        letter=letter,
        name=name,
        email=email,
        canonical_email=email_canonicalize(email),
        title=title,
        affiliation=affiliation,
        withhold_name=withhold_name and letter.names_may_be_withheld,
        language=language,
        ip_hash=ip_hash,
        flags=" ".join(flags),
        held=bool(flags),
        created_at=now,
        question_set_id=letter.question_set_id,
        answers=stored_answers,
    )
    return signature_record(
        signature=signature,
        campaign="letter",
        constraint="letters_one_signature_per_person",
        emails=emails.CONFIRMATIONS,
        now=now,
        # The question snapshot came with the letter: no need to read it again.
        known=("question_set",),
    )


def individual_signature_confirm(
    *, signature_id: int, name: str | None = None, withhold_name: bool | None = None
) -> IndividualSignature:
    """Confirm from the emailed link, with the name and choice the mailbox owner makes there:
    whoever filled in the form may not have been them (an employer could pre-fill a real name
    for an employee's address), so what they choose on the confirmation page wins."""
    signature = IndividualSignature.objects.select_related("letter").get(pk=signature_id)
    if not signature.letter.accepts_signatures:
        raise LetterNotOpen
    changes: dict[str, object] = {
        "status": IndividualSignature.Status.CONFIRMED,
        "confirmed_at": timezone.now(),
    }
    if name:
        changes["name"] = name
    if withhold_name is not None:
        changes["withhold_name"] = withhold_name and signature.letter.names_may_be_withheld
    confirmed = IndividualSignature.objects.filter(
        pk=signature_id, status=IndividualSignature.Status.PENDING
    ).update(**changes)
    metrics.signatures_counted(campaign="letter", event="confirmed", count=confirmed)
    return IndividualSignature.objects.select_related("letter").get(pk=signature_id)
