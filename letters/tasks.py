"""Thin Celery tasks: each takes ids and calls code that is safe to run twice."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from accounts.models import Organization, User
from letters import delivery, emails, services
from letters.models import OpenLetter, OrganizationSignature
from mechanisms.mail import MAIL_RETRY


def _members_of(organizations) -> list[str]:
    return list(
        User.objects.filter(is_active=True, memberships__organization__in=organizations)
        .values_list("email", flat=True)
        .distinct()
        .order_by("email")
    )


@shared_task(**MAIL_RETRY)
def individual_send_confirmation(signature_id: int, resend: bool = False) -> bool:
    return services.individual_confirmation_send(signature_id=signature_id, resend=resend)


@shared_task(**MAIL_RETRY)
def cosignature_notify_leads(signature_id: int) -> int:
    """One email per person of the lead organizations; a retry may repeat some, which is a
    reminder, not a second signature."""
    signature = OrganizationSignature.objects.select_related("letter", "organization").get(
        pk=signature_id
    )
    recipients = _members_of(signature.letter.lead_organizations.all())
    for address in recipients:
        emails.cosignature_waiting_send(
            signature=signature, to=address, language=settings.LANGUAGE_CODE
        )
    return len(recipients)


@shared_task(**MAIL_RETRY)
def cosignature_notify_rejected(signature_id: int, statement: bool = False) -> int:
    """Tell the organization's people why its signature (or its statement) was not accepted."""
    signature = OrganizationSignature.objects.select_related("letter", "organization").get(
        pk=signature_id
    )
    reason = signature.statement.rejection_reason if statement else signature.rejection_reason
    recipients = _members_of([signature.organization])
    for address in recipients:
        emails.cosignature_rejected_send(
            signature=signature,
            to=address,
            language=settings.LANGUAGE_CODE,
            reason=reason,
            statement=statement,
        )
    return len(recipients)


@shared_task(**{**MAIL_RETRY, "dont_autoretry_for": ()})
def letter_delivery_send(delivery_id: int) -> bool:
    return delivery.letter_delivery_send(delivery_id=delivery_id)


@shared_task(**MAIL_RETRY)
def letter_published_notify(letter_id: int) -> int:
    letter = OpenLetter.objects.get(pk=letter_id)
    # The organizations on the public list: approved, and verified by staff.
    signing = letter.organization_signatures.filter(
        status=OrganizationSignature.Status.APPROVED,
        organization__verification=Organization.Verification.VERIFIED,
    ).values("organization")
    recipients = _members_of(signing)
    for address in recipients:
        emails.letter_published_send(letter=letter, to=address, language=settings.LANGUAGE_CODE)
    return len(recipients)
