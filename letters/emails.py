"""The emails about open letters, each in its reader's language."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import translation

from accounts.models import Organization
from letters.models import IndividualSignature, OpenLetter, OrganizationSignature
from mechanisms.mail import EmailKind, absolute_url, mail_send
from mechanisms.tokens import token_make

CONFIRM_TOKEN_PURPOSE = "letters.confirm"  # noqa: S105 (a salt, not a secret)

# Anyone can type a stranger's address into the sign form: the confirmation carries no name.
CONFIRMATION = EmailKind(
    "letter_confirmation",
    cooldown="SIGNATURE_NOTICE_INTERVAL",
    unsolicited=True,
    claimed_by="IndividualSignature.confirmation_sent_at",
)
# To members of the organizations concerned; one per co-signature (or decision) each.
COSIGNATURE_WAITING = EmailKind("letter_cosignature_waiting", cooldown=timedelta(days=1))
COSIGNATURE_REJECTED = EmailKind("letter_cosignature_rejected", cooldown=timedelta(days=1))
PUBLISHED = EmailKind("letter_published", cooldown=timedelta(days=1))
# Claimed under a lease, one per target and update (see petitions.emails.DELIVERY).
DELIVERY = EmailKind(
    "letter_delivery", cooldown=timedelta(days=1), claimed_by="LetterDelivery, one per update"
)


def confirmation_url(*, signature: IndividualSignature) -> str:
    token = token_make(purpose=CONFIRM_TOKEN_PURPOSE, value=signature.pk)
    with translation.override(signature.language):
        path = reverse("letters:confirm", kwargs={"slug": signature.letter.slug, "token": token})
    return absolute_url(path)


def _letter_url(letter: OpenLetter, language: str, view: str = "letters:detail") -> str:
    with translation.override(language):
        return absolute_url(reverse(view, kwargs={"slug": letter.slug}))


def individual_confirmation_send(*, signature: IndividualSignature) -> bool:
    return mail_send(
        kind=CONFIRMATION,
        about=signature.letter_id,
        to=signature.email,
        language=signature.language,
        template="letters/email/confirm",
        context={
            "signature": signature,
            "letter": signature.letter,
            "confirm_url": confirmation_url(signature=signature),
            "letter_url": _letter_url(signature.letter, signature.language),
        },
    )


def cosignature_waiting_send(*, signature: OrganizationSignature, to: str, language: str) -> bool:
    """Tell one person of a lead organization that a co-signature waits for their approval. The
    organization is named only once Cosign's staff have verified it: its name is whatever its
    registrant typed, and this email may reach members who never confirmed their address."""
    return mail_send(
        kind=COSIGNATURE_WAITING,
        about=signature.pk,
        to=to,
        language=language,
        template="letters/email/cosignature_waiting",
        context={
            "organization_name": signature.organization.name
            if signature.organization.verification == Organization.Verification.VERIFIED
            else "",
            "signature": signature,
            "letter": signature.letter,
            "manage_url": _letter_url(signature.letter, language, "letters:manage"),
        },
    )


def cosignature_rejected_send(
    *, signature: OrganizationSignature, to: str, language: str, reason: str, statement: bool
) -> bool:
    return mail_send(
        kind=COSIGNATURE_REJECTED,
        about=f"{signature.pk}:{'statement' if statement else 'signature'}",
        to=to,
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
        kind=DELIVERY,
        about=delivery.pk,
        to=delivery.target.email,
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


def letter_published_send(*, letter: OpenLetter, to: str, language: str) -> bool:
    return mail_send(
        kind=PUBLISHED,
        about=letter.pk,
        to=to,
        language=language,
        template="letters/email/published",
        context={
            "letter": letter,
            "letter_url": _letter_url(letter, language),
            "press_url": _letter_url(letter, language, "letters:press"),
        },
    )
