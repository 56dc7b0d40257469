"""What petitions tell organizations' webhooks (accounts.webhooks): each event, owed in the
transaction of what caused it, to the organizations it concerns. A signer's details go only to
the organizations that signer opted in to; everything else goes to the petition's sponsors."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.conf import settings
from django.utils import timezone

from accounts.models import WebhookDelivery, WebhookEndpoint
from accounts.webhooks import AFTER_SENT, webhook_deliveries_forget, webhook_events_emit
from petitions.models import (
    Delivery,
    Petition,
    PetitionMilestone,
    Response,
    Signature,
    SponsorOptIn,
)

Event = WebhookEndpoint.Event


def _petition(petition: Petition) -> dict[str, Any]:
    return {
        "id": petition.pk,
        "slug": petition.slug,
        "title": petition.title,
        "url": f"{settings.SITE_URL}{petition.get_absolute_url()}",
        "signature_count": petition.signature_count,
    }


def _sponsors(petition_id: int) -> list[int]:
    return list(
        Petition.sponsors.through.objects.filter(petition_id=petition_id).values_list(
            "organization_id", flat=True
        )
    )


def signature_confirmed(*, signature: Signature) -> None:
    """To each organization the signer opted in to, with their details and consent."""
    opt_ins = list(
        SponsorOptIn.objects.filter(signature=signature).select_related(
            "wording", "signature__source"
        )
    )
    for opt_in in opt_ins:
        webhook_events_emit(
            organization_ids=[opt_in.organization_id],
            event=Event.SIGNATURE_CONFIRMED,
            data={
                "petition": _petition(signature.petition),
                "signature": {
                    "id": signature.pk,
                    "name": signature.name,
                    "email": signature.email,
                    "postal_code": signature.postal_code,
                    "country": signature.country.code or "",
                    "language": signature.language,
                    "confirmed_at": signature.confirmed_at,
                    "source": signature.source.slug if signature.source else "",
                },
                "consent": {
                    "at": opt_in.created_at,
                    "wording": opt_in.wording.text if opt_in.wording else "",
                },
            },
        )


def signatures_withdrawn(*, signature_ids: Collection[int]) -> None:
    """To each organization a withdrawing signer had opted in to and whose details it was sent
    (confirmed, not held): who, so its systems forget. Their details still waiting in the
    webhook outbox are forgotten there."""
    told = Signature.objects.filter(
        pk__in=list(signature_ids), status=Signature.Status.CONFIRMED, held=False
    )
    opt_ins = SponsorOptIn.objects.filter(signature__in=told).select_related("signature__petition")
    for opt_in in opt_ins:
        signature = opt_in.signature
        webhook_events_emit(
            organization_ids=[opt_in.organization_id],
            event=Event.SIGNATURE_WITHDRAWN,
            data={
                "petition": _petition(signature.petition),
                "signature": {"id": signature.pk, "email": signature.email},
            },
        )


def milestone_reached(*, milestone: PetitionMilestone) -> None:
    webhook_events_emit(
        organization_ids=_sponsors(milestone.petition_id),
        event=Event.MILESTONE_REACHED,
        data={"petition": _petition(milestone.petition), "goal": milestone.goal},
    )


def delivery_sent(delivery_id: int) -> None:
    delivery = Delivery.objects.select_related("petition", "target").get(pk=delivery_id)
    webhook_events_emit(
        organization_ids=_sponsors(delivery.petition_id),
        event=Event.DELIVERY_SENT,
        data={
            "petition": _petition(delivery.petition),
            "target": str(delivery.target),
            "signatures": delivery.total_count,
            "new_signatures": delivery.new_count,
            "sent_at": delivery.sent_at,
        },
    )


def response_published(*, response: Response) -> None:
    webhook_events_emit(
        organization_ids=_sponsors(response.petition_id),
        event=Event.RESPONSE_PUBLISHED,
        data={
            "petition": _petition(response.petition),
            "target": str(response.target),
            "text": response.text,
        },
    )


def petitions_changed(*, petition_ids: Collection[int], event: WebhookEndpoint.Event) -> None:
    """A petition published (opened) or closed: to its sponsors."""
    for petition in Petition.objects.filter(pk__in=list(petition_ids)):
        webhook_events_emit(
            organization_ids=_sponsors(petition.pk),
            event=event,
            data={"kind": "petition", "petition": _petition(petition), "status": petition.status},
        )


def signatures_forget(*, signature_ids: Collection[int]) -> None:
    """Their details leave the webhook outbox: not sent, nor sent again (withdrawal,
    retention)."""
    webhook_deliveries_forget(
        event=Event.SIGNATURE_CONFIRMED, key="signature.id", values=list(signature_ids)
    )


def _sent(delivery: WebhookDelivery) -> None:
    """A supporter's details delivered are an export: the signer's "Your signatures" page says
    the organization received them, as after a steward's download."""
    signature_id = delivery.payload.get("data", {}).get("signature", {}).get("id")
    SponsorOptIn.objects.filter(
        signature_id=signature_id, organization_id=delivery.endpoint.organization_id
    ).update(exported_at=timezone.now())


AFTER_SENT[Event.SIGNATURE_CONFIRMED] = _sent
