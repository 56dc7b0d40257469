"""Thin Celery tasks: each takes ids, and the service it calls is safe to run twice."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from mechanisms.mail import MAIL_RETRY
from petitions import services
from petitions.models import Petition
from petitions.services import campaigns, deliveries


@shared_task(**MAIL_RETRY)
def signature_send_confirmation(signature_id: int) -> bool:
    return services.signature_confirmation_send(signature_id=signature_id)


@shared_task(**MAIL_RETRY)
def signature_mail_signer(signature_id: int) -> str:
    # Enqueued by every sign POST, new address or not: the request must not tell them apart.
    return services.signature_signer_mail(signature_id=signature_id)


@shared_task(**MAIL_RETRY)
def signature_send_notice(signature_id: int) -> str:
    return services.signature_notice_send(signature_id=signature_id)


@shared_task
def signature_send_new_link(petition_id: int, email: str) -> bool:
    # Takes the typed address, not an id: which signature it names is the task's to find out.
    return services.signature_new_link_send(petition_id=petition_id, email=email)


@shared_task
def signature_confirmations_sweep() -> int:
    return services.signature_confirmations_resend_lost(
        older_than_seconds=settings.CONFIRMATION_SWEEP_AGE_SECONDS
    )


@shared_task
def petition_counts_update() -> dict[str, int]:
    added = services.petition_counts_update()
    if added:
        campaigns.petition_milestones_record(petition_ids=added)
    return {str(k): v for k, v in added.items()}


@shared_task
def petitions_open_and_close() -> dict[str, int]:
    transitions = campaigns.petitions_open_and_close_due()
    return {"opened": transitions.opened, "closed": transitions.closed}


@shared_task(**MAIL_RETRY)
def petition_milestone_notify(milestone_id: int) -> int:
    return campaigns.petition_milestone_notify(milestone_id=milestone_id)


@shared_task
def petition_update_mail(update_id: int) -> int:
    return campaigns.petition_update_mail(update_id=update_id)


@shared_task
def petition_update_emails_resend_lost() -> int:
    return campaigns.petition_update_emails_resend_lost()


@shared_task(**MAIL_RETRY)
def petition_update_send_batch(update_id: int, first_id: int, last_id: int) -> int:
    return campaigns.petition_update_send_batch(
        update_id=update_id, first_id=first_id, last_id=last_id
    )


@shared_task
def petition_recount_all() -> int:
    """Nightly drift correction; returns how many petitions were corrected."""
    corrected = 0
    for petition_id in Petition.objects.values_list("pk", flat=True).iterator():
        corrected += services.petition_recount(petition_id=petition_id).drift != 0
    services.petition_counts_update()
    return corrected


# --- Deliveries to targets --------------------------------------------------------------------


@shared_task
def deliveries_schedule() -> int:
    return deliveries.deliveries_schedule()


# The service retries nothing itself: it gives the delivery back and raises a transient error
# for these options to retry, and marks it failed (without raising) when it should stop.
@shared_task(**MAIL_RETRY)
def delivery_send(delivery_id: int) -> bool:
    return deliveries.delivery_send(delivery_id=delivery_id)


@shared_task
def deliveries_resend_stale() -> int:
    return deliveries.deliveries_resend_stale()
