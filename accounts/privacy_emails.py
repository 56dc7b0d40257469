"""The email that brings a signer to their signatures: see them, download them, withdraw them."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse
from django.utils import translation

from accounts import my_signatures
from mechanisms.mail import EmailKind, absolute_url, message_render
from mechanisms.models import OutboundEmail
from mechanisms.tokens import token_make

MY_SIGNATURES_TOKEN_PURPOSE = my_signatures.MY_SIGNATURES_TOKEN_PURPOSE


def my_signatures_url(*, refs: list[str], language: str) -> str:
    token = token_make(purpose=MY_SIGNATURES_TOKEN_PURPOSE, value=refs)
    with translation.override(language):
        path = reverse("accounts:my_signatures_list", kwargs={"token": token})
    return absolute_url(path)


def _my_signatures_build(email: OutboundEmail) -> EmailMultiAlternatives | None:
    """A link to someone's signatures if the typed address has any, to the address stored with
    them, not the one typed: "mariarossi+x@gmail.com" canonicalizes like
    "Maria.Rossi@gmail.com", and only the address that signed may receive it."""
    refs, owner = my_signatures.link_for(email=email.recipient)
    if owner is None:
        return None
    max_age = settings.MY_SIGNATURES_LINK_MAX_AGE
    return message_render(
        to=owner.email,
        language=email.language,
        template="accounts/email/my_signatures",
        context={
            "link": my_signatures_url(refs=refs, language=email.language),
            "valid_hours": int(max_age.total_seconds() // 3600),
        },
    )


# Anyone can ask for the link to be sent to an address that has signed: at most one per notice
# interval, and nothing typed in it.
MY_SIGNATURES = EmailKind(
    "my_signatures_link",
    build=_my_signatures_build,
    cooldown="SIGNATURE_NOTICE_INTERVAL",
    unsolicited=True,
)
