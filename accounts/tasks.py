"""Thin Celery tasks for organizations joining: each takes ids, and what it calls checks the
state it sends about first, so a redelivered task sends nothing wrong."""

from __future__ import annotations

from celery import shared_task

from accounts import services
from mechanisms.mail import MAIL_RETRY


@shared_task(**MAIL_RETRY)
def organization_send_contact_confirmation(organization_id: int) -> bool:
    return services.organization_contact_confirmation_send(organization_id=organization_id)


@shared_task(**MAIL_RETRY)
def organization_send_admin_welcome(organization_id: int, user_id: int) -> bool:
    return services.organization_admin_welcome_send(
        organization_id=organization_id, user_id=user_id
    )


@shared_task(**MAIL_RETRY)
def organization_send_decision(organization_id: int, verification: str) -> bool:
    return services.organization_decision_send(
        organization_id=organization_id, verification=verification
    )


@shared_task(**MAIL_RETRY)
def membership_send_invitation(membership_id: int, inviter_id: int | None, language: str) -> bool:
    # `inviter_id` is no longer mailed (an inviter's typed name must not reach a stranger); the
    # argument stays so that tasks queued before an upgrade still run.
    return services.membership_invitation_send(membership_id=membership_id, language=language)


# No longer queued by this code; kept so tasks queued before an upgrade still run.
@shared_task(**MAIL_RETRY)
def user_send_password_link(user_id: int, language: str) -> bool:
    return services.password_link_send(user_id=user_id, language=language)


@shared_task(**MAIL_RETRY)
def user_send_password_link_to_address(email: str, language: str) -> bool:
    # Takes the typed address, not an id: whether it names an account is the task's to find out.
    return services.password_link_send_to_address(email=email, language=language)


# --- Privacy ----------------------------------------------------------------------------------


@shared_task(**MAIL_RETRY)
def my_signatures_send_link(email: str, language: str) -> bool:
    """The address is the only handle a signer gives; the service mails only if it has signed."""
    from accounts.my_signatures import my_signatures_link_send

    return my_signatures_link_send(email=email, language=language)
