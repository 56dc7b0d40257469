"""The emails Cosign sends about petitions, each in its reader's language, in text and HTML.

Each kind's builder renders one email from its outbox row (mechanisms.outbox), reading again the
rows it names, so what a delayed or retried email says is true when it is sent; it returns None
when there is nothing to say any more (a withdrawn signature, an unsubscribed signer)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse
from django.utils import timezone, translation

from mechanisms.addresses import email_canonicalize
from mechanisms.bounces import email_suppressed
from mechanisms.confirmation import confirmation_emails
from mechanisms.mail import EmailKind, absolute_url, message_render
from mechanisms.models import OutboundEmail
from mechanisms.tokens import token_make
from petitions.models import Petition, PetitionMilestone, PetitionUpdate, Signature

CONFIRM_TOKEN_PURPOSE = "petitions.confirm"  # noqa: S105 (a salt, not a secret)
UNSUBSCRIBE_TOKEN_PURPOSE = "petitions.unsubscribe"  # noqa: S105 (a salt, not a secret)


def _signer_url(*, signature: Signature, view: str, purpose: str) -> str:
    """A link for one signer, under their language's prefix whatever the worker's language is."""
    token = token_make(purpose=purpose, value=signature.pk)
    with translation.override(signature.language):
        path = reverse(view, kwargs={"slug": signature.petition.slug, "token": token})
    return absolute_url(path)


def confirmation_url(*, signature: Signature) -> str:
    return _signer_url(signature=signature, view="petitions:confirm", purpose=CONFIRM_TOKEN_PURPOSE)


def unsubscribe_url(*, signature: Signature) -> str:
    return _signer_url(
        signature=signature, view="petitions:unsubscribe", purpose=UNSUBSCRIBE_TOKEN_PURPOSE
    )


def _message(
    *,
    to: str,
    language: str,
    template: str,
    petition: Petition,
    context: dict[str, Any],
    headers: dict[str, str] | None = None,
    attachments: list[tuple[str, str | bytes, str]] | None = None,
) -> EmailMultiAlternatives:
    # Links, dates and the petition's own translated text all follow the reader's language.
    with translation.override(language):
        petition_url = absolute_url(petition.get_absolute_url())
    return message_render(
        to=to,
        language=language,
        template=f"petitions/email/{template}",
        context={"petition": petition, "petition_url": petition_url, **context},
        headers=headers,
        attachments=attachments or (),
    )


def _signature(email: OutboundEmail) -> Signature | None:
    return (
        Signature.objects.select_related("petition")
        .filter(pk=email.ref.get("signature"), anonymized_at__isnull=True)
        .first()
    )


def signer_message(*, signature: Signature) -> EmailMultiAlternatives | None:
    """What a signer is owed when they sign or ask for their link: the confirmation link while
    their signature is pending, "you already signed" once it is confirmed (only to a confirmed
    signer, who chose the name it greets them by), nothing once it was rejected."""
    if signature.status == Signature.Status.PENDING:
        return _message(
            to=signature.email,
            language=signature.language,
            template="confirm",
            petition=signature.petition,
            context={
                "signature": signature,
                "confirm_url": confirmation_url(signature=signature),
                "valid_days": settings.SIGNATURE_CONFIRM_MAX_AGE.days,
            },
        )
    if signature.status == Signature.Status.CONFIRMED:
        return _message(
            to=signature.email,
            language=signature.language,
            template="already_signed",
            petition=signature.petition,
            context={"signature": signature},
        )
    return None


# The link while pending, "already signed" once confirmed (mechanisms.confirmation).
CONFIRMATIONS = confirmation_emails(
    name="petition",
    model=Signature,
    message=lambda s: signer_message(signature=s),
    related=["petition"],
)


def _new_link_sent(email: OutboundEmail) -> None:
    # The last link's time: retention deletes a pending signature whose last link expired.
    Signature.objects.filter(pk=email.ref.get("signature"), status=Signature.Status.PENDING).update(
        confirmation_sent_at=timezone.now()
    )


def _new_link_build(email: OutboundEmail) -> EmailMultiAlternatives | None:
    # The typed address decides whose link it is, and the link goes to the address that signed:
    # "mariarossi+x@gmail.com" canonicalizes like the signer's "Maria.Rossi@gmail.com".
    signature = (
        Signature.objects.select_related("petition")
        .filter(
            petition_id=email.ref.get("petition"),
            canonical_email=email_canonicalize(email.recipient),
            anonymized_at__isnull=True,
        )
        .first()
    )
    # An undeliverable signature's link bounced: nothing goes to it, as for an unknown address.
    if signature is None or signature.undeliverable_at is not None:
        return None
    message = signer_message(signature=signature)
    if message is not None and signature.status == Signature.Status.PENDING:
        email.ref["signature"] = signature.pk  # for _new_link_sent
    return message


# Someone who lost their link typed their address: whether it signed is the builder's to find
# out, in the worker, so the page answers alike for anyone.
NEW_LINK = EmailKind(
    "petition_new_link",
    build=_new_link_build,
    cooldown="SIGNATURE_NOTICE_INTERVAL",
    unsolicited=True,
    after_send=_new_link_sent,
)


def update_message(*, update: PetitionUpdate, signature: Signature) -> EmailMultiAlternatives:
    """An update to one signer who asked for them, with a way out that needs no login: a link in
    the text and the List-Unsubscribe headers mail programs turn into a button (RFC 8058)."""
    unsubscribe = unsubscribe_url(signature=signature)
    return _message(
        to=signature.email,
        language=signature.language,
        template="update",
        petition=signature.petition,
        context={"signature": signature, "update": update, "unsubscribe_url": unsubscribe},
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


def _update_build(email: OutboundEmail) -> EmailMultiAlternatives | None:
    update = PetitionUpdate.objects.filter(pk=email.ref.get("update")).first()
    signature = _signature(email)
    # Someone who unsubscribed (or was moderated away) since the mailing began gets nothing,
    # and nobody gets an update staff unpublished meanwhile.
    if (
        update is None
        or update.unpublished_at is not None
        or signature is None
        or not signature.consent_updates
        or signature.status != Signature.Status.CONFIRMED
        or signature.held
        # The address bounced or complained (mechanisms.bounces).
        or email_suppressed(recipient_key=email.recipient_key)
    ):
        return None
    return update_message(update=update, signature=signature)


# One per update and signer.
UPDATE = EmailKind("petition_update", build=_update_build)


def milestone_message(*, milestone: PetitionMilestone, to: str) -> EmailMultiAlternatives:
    """Tell one person of a sponsoring organization that their petition reached a goal (one
    message each: sponsors never see each other's addresses)."""
    petition = milestone.petition
    return _message(
        to=to,
        language=petition.language,
        template="milestone",
        petition=petition,
        context={"milestone": milestone, "next_goal": petition.next_goal_after(milestone.goal)},
    )


def _milestone_build(email: OutboundEmail) -> EmailMultiAlternatives | None:
    milestone = (
        PetitionMilestone.objects.select_related("petition")
        .filter(pk=email.ref.get("milestone"))
        .first()
    )
    return None if milestone is None else milestone_message(milestone=milestone, to=email.recipient)


# To sponsors' members, one per goal reached.
MILESTONE = EmailKind("petition_milestone", build=_milestone_build)
