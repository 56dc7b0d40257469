"""The emails about open letters, each in its reader's language. Each kind's builder renders one
email from its outbox row (mechanisms.outbox), reading again the rows it names."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse
from django.utils import translation

from accounts.models import Organization
from letters.models import IndividualSignature, OpenLetter, OrganizationSignature
from mechanisms.confirmation import confirmation_emails
from mechanisms.mail import EmailKind, absolute_url, message_render
from mechanisms.models import OutboundEmail
from mechanisms.tokens import token_make

CONFIRM_TOKEN_PURPOSE = "letters.confirm"  # noqa: S105 (a salt, not a secret)


def confirmation_url(*, signature: IndividualSignature) -> str:
    token = token_make(purpose=CONFIRM_TOKEN_PURPOSE, value=signature.pk)
    with translation.override(signature.language):
        path = reverse("letters:confirm", kwargs={"slug": signature.letter.slug, "token": token})
    return absolute_url(path)


def letter_url(letter: OpenLetter, language: str, view: str = "letters:detail") -> str:
    with translation.override(language):
        return absolute_url(reverse(view, kwargs={"slug": letter.slug}))


def individual_message(*, signature: IndividualSignature) -> EmailMultiAlternatives | None:
    """The confirmation link while the signature is pending. A confirmed signer who signs again
    gets nothing: the letter's page already lists them (or withholds them, as they chose)."""
    if signature.status != IndividualSignature.Status.PENDING:
        return None
    return message_render(
        to=signature.email,
        language=signature.language,
        template="letters/email/confirm",
        context={
            "signature": signature,
            "letter": signature.letter,
            "confirm_url": confirmation_url(signature=signature),
            "letter_url": letter_url(signature.letter, signature.language),
        },
    )


CONFIRMATIONS = confirmation_emails(
    name="letter",
    model=IndividualSignature,
    message=lambda signature: individual_message(signature=signature),
    related=["letter"],
)


def _organization_signature(email: OutboundEmail) -> OrganizationSignature | None:
    return (
        OrganizationSignature.objects.select_related("letter", "organization")
        .filter(pk=email.ref.get("signature"))
        .first()
    )


def _cosignature_waiting_build(email: OutboundEmail) -> EmailMultiAlternatives | None:
    """Tell one person of a lead organization that a co-signature waits for their approval. The
    organization is named only once Cosign's staff have verified it: its name is whatever its
    registrant typed, and this email may reach members who never confirmed their address."""
    signature = _organization_signature(email)
    if signature is None:
        return None
    return message_render(
        to=email.recipient,
        language=email.language,
        template="letters/email/cosignature_waiting",
        context={
            "organization_name": signature.organization.name
            if signature.organization.verification == Organization.Verification.VERIFIED
            else "",
            "signature": signature,
            "letter": signature.letter,
            "manage_url": letter_url(signature.letter, email.language, "letters:manage"),
        },
    )


def _rejected_build(email: OutboundEmail) -> EmailMultiAlternatives | None:
    """Tell the organization's people why its signature (or its statement) was not accepted."""
    signature = _organization_signature(email)
    if signature is None:
        return None
    statement = bool(email.ref.get("statement"))
    reason = signature.statement.rejection_reason if statement else signature.rejection_reason
    return message_render(
        to=email.recipient,
        language=email.language,
        template="letters/email/rejected",
        context={
            "signature": signature,
            "letter": signature.letter,
            "reason": reason,
            "statement": statement,
            "letter_url": letter_url(signature.letter, email.language),
        },
    )


def _published_build(email: OutboundEmail) -> EmailMultiAlternatives | None:
    letter = OpenLetter.objects.filter(pk=email.ref.get("letter")).first()
    if letter is None:
        return None
    return message_render(
        to=email.recipient,
        language=email.language,
        template="letters/email/published",
        context={
            "letter": letter,
            "letter_url": letter_url(letter, email.language),
            "press_url": letter_url(letter, email.language, "letters:press"),
        },
    )


# To members of the organizations concerned; one per co-signature (or decision) each.
COSIGNATURE_WAITING = EmailKind("letter_cosignature_waiting", build=_cosignature_waiting_build)
COSIGNATURE_REJECTED = EmailKind("letter_cosignature_rejected", build=_rejected_build)
PUBLISHED = EmailKind("letter_published", build=_published_build)
# Officials read the letter in the site's language; letters are written in it first.
DELIVERY_LANGUAGE = settings.LANGUAGE_CODE
