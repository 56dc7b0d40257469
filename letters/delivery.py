"""Delivering a letter to its targets: when it is published, and again after each update. Each
delivery owes its target one email in the outbox (mechanisms.deliveries)."""

from __future__ import annotations

from django.core.mail import EmailMultiAlternatives
from django.db import transaction

from letters import emails, selectors
from letters.models import LetterDelivery, LetterUpdate, OpenLetter
from mechanisms.deliveries import delivery_email_owe, delivery_kind
from mechanisms.deliveries import delivery_retry as mechanisms_delivery_retry
from mechanisms.mail import message_render
from mechanisms.models import OutboundEmail


def _delivery_message(delivery: LetterDelivery, email: OutboundEmail) -> EmailMultiAlternatives:
    """The letter, or its update, to one target, with the organizations that signed it."""
    letter = delivery.letter
    organizations = selectors.letter_organizations_public(letter=letter)
    LetterDelivery.objects.filter(pk=delivery.pk).update(organization_count=len(organizations))
    language = emails.DELIVERY_LANGUAGE
    return message_render(
        to=delivery.target.email,
        language=language,
        template="letters/email/delivery",
        context={
            "letter": letter,
            "target": delivery.target,
            "update": delivery.update,
            "organizations": organizations,
            "letter_url": emails.letter_url(letter, language),
        },
    )


DELIVERY = delivery_kind(
    name="letter_delivery",
    model=LetterDelivery,
    build=_delivery_message,  # type: ignore[arg-type]
    related=("letter", "target", "update"),
)


def letter_deliveries_create(*, letter_id: int, update: LetterUpdate | None = None) -> int:
    """One delivery per target with an email for this occasion, each owing its email; creating
    it twice creates nothing more. Returns how many were created."""
    occasion = f"update-{update.pk}" if update else "published"
    letter = OpenLetter.objects.get(pk=letter_id)
    targets = list(letter.targets.filter(active=True).exclude(email=""))
    with transaction.atomic():
        existing = set(
            LetterDelivery.objects.filter(letter=letter, occasion=occasion).values_list(
                "target_id", flat=True
            )
        )
        created = 0
        for target in sorted(targets, key=lambda target: target.pk):
            if target.pk in existing:
                continue
            delivery, made = LetterDelivery.objects.get_or_create(
                letter=letter, target=target, occasion=occasion, defaults={"update": update}
            )
            if made:
                created += 1
                delivery_email_owe(
                    kind=DELIVERY,
                    delivery_id=delivery.pk,
                    to=target.email,
                    language=emails.DELIVERY_LANGUAGE,
                )
    return created


def letter_delivery_retry(*, delivery_id: int) -> bool:
    return mechanisms_delivery_retry(kind=DELIVERY, model=LetterDelivery, delivery_id=delivery_id)
