"""The emails a signer receives, each in the language they signed in, as plain text and HTML."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from accounts.tokens import token_make
from petitions.models import Signature

CONFIRM_TOKEN_PURPOSE = "petitions.confirm"  # noqa: S105 (a salt, not a secret)


def confirmation_url(*, signature: Signature) -> str:
    token = token_make(purpose=CONFIRM_TOKEN_PURPOSE, value=signature.pk)
    path = reverse("petitions:confirm", kwargs={"slug": signature.petition.slug, "token": token})
    return f"{settings.SITE_URL}{path}"


def _send(*, signature: Signature, template: str, context: dict[str, Any]) -> None:
    with translation.override(signature.language):
        context = {
            "signature": signature,
            "petition": signature.petition,
            "site_url": settings.SITE_URL,
            "petition_url": f"{settings.SITE_URL}{signature.petition.get_absolute_url()}",
            **context,
        }
        subject = render_to_string(f"petitions/email/{template}_subject.txt", context)
        message = EmailMultiAlternatives(
            subject=" ".join(subject.split()),
            body=render_to_string(f"petitions/email/{template}.txt", context),
            to=[signature.email],
            headers={"Auto-Submitted": "auto-generated"},
        )
        message.attach_alternative(
            render_to_string(f"petitions/email/{template}.html", context), "text/html"
        )
        message.send()


def confirmation_email_send(*, signature: Signature) -> None:
    _send(
        signature=signature,
        template="confirm",
        context={
            "confirm_url": confirmation_url(signature=signature),
            "valid_days": settings.SIGNATURE_CONFIRM_MAX_AGE.days,
        },
    )


def already_signed_email_send(*, signature: Signature) -> None:
    _send(signature=signature, template="already_signed", context={})
