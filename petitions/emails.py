"""The emails Cosign sends about petitions, each in its reader's language, in text and HTML."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import translation

from mechanisms.mail import EmailKind, mail_send
from mechanisms.mail import absolute_url as _absolute
from mechanisms.tokens import token_make
from petitions.models import Petition, PetitionMilestone, PetitionUpdate, Signature

CONFIRM_TOKEN_PURPOSE = "petitions.confirm"  # noqa: S105 (a salt, not a secret)
UNSUBSCRIBE_TOKEN_PURPOSE = "petitions.unsubscribe"  # noqa: S105 (a salt, not a secret)

# Anyone can type a stranger's address into the sign form: the confirmation carries no name.
CONFIRMATION = EmailKind(
    "petition_confirmation",
    cooldown="SIGNATURE_NOTICE_INTERVAL",
    unsolicited=True,
    claimed_by="Signature.notice_at and the confirmation claim",
)
# Only to a confirmed signer, who chose the name it greets them by.
ALREADY_SIGNED = EmailKind(
    "petition_already_signed",
    cooldown="SIGNATURE_NOTICE_INTERVAL",
    claimed_by="Signature.notice_at",
)
# One email per update and signer, and per delivery: rows unique in the database, claimed under a
# lease. A cache cooldown on top would be taken by a worker killed mid-send and would then stop
# its successor, so the claim alone keeps these from being sent twice.
UPDATE = EmailKind(
    "petition_update", cooldown=timedelta(days=1), claimed_by="UpdateEmail, one per signer"
)
DELIVERY = EmailKind(
    "petition_delivery", cooldown=timedelta(days=1), claimed_by="Delivery, one per period"
)
# To sponsors' members, one per goal reached.
MILESTONE = EmailKind("petition_milestone", cooldown=timedelta(days=1))


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
    kind: EmailKind,
    about: object,
    to: str,
    language: str,
    template: str,
    petition: Petition,
    context: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> bool:
    # Links, dates and the petition's own translated text all follow the reader's language.
    with translation.override(language):
        petition_url = _absolute(petition.get_absolute_url())
    return mail_send(
        kind=kind,
        about=about,
        to=to,
        language=language,
        template=f"petitions/email/{template}",
        context={"petition": petition, "petition_url": petition_url, **context},
        headers=headers,
    )


def _to_signer(*, signature: Signature, template: str, context: dict[str, Any], **kw: Any) -> bool:
    return _send(
        to=signature.email,
        language=signature.language,
        template=template,
        petition=signature.petition,
        context={"signature": signature, **context},
        **kw,
    )


def confirmation_email_send(*, signature: Signature) -> bool:
    return _to_signer(
        kind=CONFIRMATION,
        about=signature.petition_id,
        signature=signature,
        template="confirm",
        context={
            "confirm_url": confirmation_url(signature=signature),
            "valid_days": settings.SIGNATURE_CONFIRM_MAX_AGE.days,
        },
    )


def already_signed_email_send(*, signature: Signature) -> bool:
    return _to_signer(
        kind=ALREADY_SIGNED,
        about=signature.petition_id,
        signature=signature,
        template="already_signed",
        context={},
    )


def update_email_send(*, update: PetitionUpdate, signature: Signature) -> bool:
    """An update to one signer who asked for them, with a way out that needs no login: a link in
    the text and the List-Unsubscribe headers mail programs turn into a button (RFC 8058)."""
    unsubscribe = unsubscribe_url(signature=signature)
    return _to_signer(
        kind=UPDATE,
        about=update.pk,
        signature=signature,
        template="update",
        context={"update": update, "unsubscribe_url": unsubscribe},
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


def milestone_email_send(*, milestone: PetitionMilestone, to: str) -> bool:
    """Tell one person of a sponsoring organization that their petition reached a goal (one
    message each: sponsors never see each other's addresses)."""
    petition = milestone.petition
    return _send(
        kind=MILESTONE,
        about=milestone.pk,
        to=to,
        language=petition.language,
        template="milestone",
        petition=petition,
        context={"milestone": milestone, "next_goal": petition.next_goal_after(milestone.goal)},
    )
