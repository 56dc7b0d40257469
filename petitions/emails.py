"""The emails Cosign sends about petitions, each in its reader's language, in text and HTML."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import translation

from accounts.mail import absolute_url as _absolute
from accounts.mail import mail_send
from accounts.tokens import token_make
from petitions.models import Petition, PetitionMilestone, PetitionUpdate, Signature

CONFIRM_TOKEN_PURPOSE = "petitions.confirm"  # noqa: S105 (a salt, not a secret)
UNSUBSCRIBE_TOKEN_PURPOSE = "petitions.unsubscribe"  # noqa: S105 (a salt, not a secret)


def _signer_url(*, signature: Signature, view: str, purpose: str) -> str:
    """A link for one signer, under their language's prefix whatever the worker's language is."""
    token = token_make(purpose=purpose, value=signature.pk)
    with translation.override(signature.language):
        path = reverse(view, kwargs={"slug": signature.petition.slug, "token": token})
    return _absolute(path)


def confirmation_url(*, signature: Signature) -> str:
    return _signer_url(signature=signature, view="petitions:confirm", purpose=CONFIRM_TOKEN_PURPOSE)


def unsubscribe_url(*, signature: Signature) -> str:
    return _signer_url(
        signature=signature, view="petitions:unsubscribe", purpose=UNSUBSCRIBE_TOKEN_PURPOSE
    )


def _send(
    *,
    to: Sequence[str],
    language: str,
    template: str,
    petition: Petition,
    context: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> None:
    # Links, dates and the petition's own translated text all follow the reader's language.
    with translation.override(language):
        petition_url = _absolute(petition.get_absolute_url())
    mail_send(
        to=to,
        language=language,
        template=f"petitions/email/{template}",
        context={"petition": petition, "petition_url": petition_url, **context},
        headers=headers,
    )


def _to_signer(*, signature: Signature, template: str, context: dict[str, Any], **kw: Any) -> None:
    _send(
        to=[signature.email],
        language=signature.language,
        template=template,
        petition=signature.petition,
        context={"signature": signature, **context},
        **kw,
    )


def confirmation_email_send(*, signature: Signature) -> None:
    _to_signer(
        signature=signature,
        template="confirm",
        context={
            "confirm_url": confirmation_url(signature=signature),
            "valid_days": settings.SIGNATURE_CONFIRM_MAX_AGE.days,
        },
    )


def already_signed_email_send(*, signature: Signature) -> None:
    _to_signer(signature=signature, template="already_signed", context={})


def update_email_send(*, update: PetitionUpdate, signature: Signature) -> None:
    """An update to one signer who asked for them, with a way out that needs no login: a link in
    the text and the List-Unsubscribe headers mail programs turn into a button (RFC 8058)."""
    unsubscribe = unsubscribe_url(signature=signature)
    _to_signer(
        signature=signature,
        template="update",
        context={"update": update, "unsubscribe_url": unsubscribe},
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


def milestone_email_send(*, milestone: PetitionMilestone, to: str) -> None:
    """Tell one person of a sponsoring organization that their petition reached a goal (one
    message each: sponsors never see each other's addresses)."""
    petition = milestone.petition
    _send(
        to=[to],
        language=petition.language,
        template="milestone",
        petition=petition,
        context={"milestone": milestone, "next_goal": petition.next_goal_after(milestone.goal)},
    )
