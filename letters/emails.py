"""The emails about open letters, each in its reader's language."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils import translation

from accounts.mail import absolute_url, mail_send
from accounts.tokens import token_make
from letters.models import IndividualSignature, OpenLetter, OrganizationSignature

CONFIRM_TOKEN_PURPOSE = "letters.confirm"  # noqa: S105 (a salt, not a secret)


def confirmation_url(*, signature: IndividualSignature) -> str:
    token = token_make(purpose=CONFIRM_TOKEN_PURPOSE, value=signature.pk)
    with translation.override(signature.language):
        path = reverse("letters:confirm", kwargs={"slug": signature.letter.slug, "token": token})
    return absolute_url(path)


def _letter_url(letter: OpenLetter, language: str, view: str = "letters:detail") -> str:
    with translation.override(language):
        return absolute_url(reverse(view, kwargs={"slug": letter.slug}))


def individual_confirmation_send(*, signature: IndividualSignature) -> None:
    mail_send(
        to=[signature.email],
        language=signature.language,
        template="letters/email/confirm",
        context={
            "signature": signature,
            "letter": signature.letter,
            "confirm_url": confirmation_url(signature=signature),
            "letter_url": _letter_url(signature.letter, signature.language),
        },
    )


def cosignature_waiting_send(*, signature: OrganizationSignature, to: str, language: str) -> None:
    """Tell one person of a lead organization that a co-signature waits for their approval."""
    mail_send(
        to=[to],
        language=language,
        template="letters/email/cosignature_waiting",
        context={
            "signature": signature,
            "letter": signature.letter,
            "manage_url": _letter_url(signature.letter, language, "letters:manage"),
        },
    )


def cosignature_rejected_send(
    *, signature: OrganizationSignature, to: str, language: str, reason: str, statement: bool
) -> None:
    mail_send(
        to=[to],
        language=language,
        template="letters/email/rejected",
        context={
            "signature": signature,
            "letter": signature.letter,
            "reason": reason,
            "statement": statement,
            "letter_url": _letter_url(signature.letter, language),
        },
    )


def letter_delivery_send(*, delivery, organizations) -> None:
    """The letter, or its update, to one target, with the organizations that signed it."""
    letter = delivery.letter
    # Officials read the letter in the site's language; letters are written in it first.
    language = settings.LANGUAGE_CODE
    mail_send(
        to=[delivery.target.email],
        language=language,
        template="letters/email/delivery",
        context={
            "letter": letter,
            "target": delivery.target,
            "update": delivery.update,
            "organizations": organizations,
            "letter_url": _letter_url(letter, language),
        },
    )


def letter_published_send(*, letter: OpenLetter, to: str, language: str) -> None:
    mail_send(
        to=[to],
        language=language,
        template="letters/email/published",
        context={
            "letter": letter,
            "letter_url": _letter_url(letter, language),
            "press_url": _letter_url(letter, language, "letters:press"),
        },
    )
