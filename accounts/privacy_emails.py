"""The email that brings a signer to their signatures: see them, download them, withdraw them."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils import translation

from mechanisms.mail import EmailKind, absolute_url, mail_send
from mechanisms.tokens import token_make

MY_SIGNATURES_TOKEN_PURPOSE = "accounts.my_signatures"  # noqa: S105 (a salt, not a secret)

# Anyone can ask for the link to be sent to an address that has signed: at most one per notice
# interval, and nothing typed in it.
MY_SIGNATURES = EmailKind(
    "my_signatures_link", cooldown="SIGNATURE_NOTICE_INTERVAL", unsolicited=True
)


def my_signatures_url(*, refs: list[str], language: str) -> str:
    token = token_make(purpose=MY_SIGNATURES_TOKEN_PURPOSE, value=refs)
    with translation.override(language):
        path = reverse("accounts:my_signatures_list", kwargs={"token": token})
    return absolute_url(path)


def my_signatures_email_send(*, email: str, language: str, refs: list[str]) -> bool:
    max_age = settings.MY_SIGNATURES_LINK_MAX_AGE
    return mail_send(
        kind=MY_SIGNATURES,
        to=email,
        language=language,
        template="accounts/email/my_signatures",
        context={
            "link": my_signatures_url(refs=refs, language=language),
            "valid_hours": int(max_age.total_seconds() // 3600),
        },
    )
