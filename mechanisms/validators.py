"""Validators for what people type into our forms."""

from __future__ import annotations

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.core.mail.message import sanitize_address
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from mechanisms.addresses import email_delivery_address
from mechanisms.domains import domain_is_internationalized, domain_normalize_strict


def validate_no_control_characters(value: str) -> None:
    """Refuse control and formatting characters (NUL, escapes, bidi overrides) in names.

    They hide or reorder text in admin lists, CSV exports and emails to officials.
    """
    # Zl and Zp: the line and paragraph separators, which some mail and CSV readers break on.
    if any(unicodedata.category(char) in {"Cc", "Cf", "Co", "Cs", "Zl", "Zp"} for char in value):
        raise ValidationError(
            _("Please remove the invisible or control characters from this field."),
            code="control_characters",
        )


# Nearly every address: ASCII letters, digits and ._+- only, and no xn-- label. One of those that
# passed validate_email is sent as typed; the header parser and IDNA (a tenth of a sign POST's
# CPU) are for the rest. tests/mechanisms/test_validators.py checks that the full check agrees.
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9._+-]+@(?!xn--)[A-Za-z0-9-]+(?:\.(?!xn--)[A-Za-z0-9-]+)*")


def validate_deliverable_email(value: str) -> None:
    """Refuse addresses that pass the syntax check but that no mail server could be sent to
    (an internationalized domain that IDNA rejects), so they fail here and not in a worker."""
    try:
        validate_email(value)
    except ValidationError:
        # A malformed address gets the email field's own message, not a second one from here.
        return
    # A plain address's ASCII form is itself: only its length is left to check.
    if len(value) > 254 if _plain(value) else undeliverable(value):
        raise ValidationError(
            _("We cannot send email to this address. Please check it for typing mistakes."),
            code="undeliverable",
        )


def _plain(value: str) -> bool:
    # ASCII first: lower-casing (for the xn-- test, which IDNA makes without regard to case)
    # turns some other characters into ASCII ones, the Kelvin sign into k.
    return value.isascii() and _PLAIN_ADDRESS.fullmatch(value.lower()) is not None


def undeliverable(value: str) -> bool:
    """The full check of an address validate_email accepted: whether no mail could be sent to it
    as stored."""
    local, _at, domain = value.rpartition("@")
    try:
        # An RFC 2047 encoded word ("=?utf-8?q?...?=") in the local part is decoded on its way
        # to the mail server: endless spellings of one mailbox, each compared as typed. No real
        # address has one.
        if "=?" in local and "?=" in local:
            raise ValueError(local)
        sanitize_address(value, "utf-8")
        # Mail goes to, and addresses are compared by, the domain's IDNA 2008 form: one that has
        # none (a symbol like ☃, which IDNA 2003 let through) would be two mailboxes at once.
        if domain_is_internationalized(domain) and domain_normalize_strict(domain) is None:
            raise ValueError(domain)
        # Its ASCII form, the one stored and sent to, must fit an address's 254 characters.
        if len(email_delivery_address(value)) > 254:
            raise ValueError(value)
    except (UnicodeError, ValueError):
        return True
    return False


def validate_not_an_email(value: str) -> None:
    """A name field holding an email address would publish that address as the signer's name."""
    if "@" in value:
        raise ValidationError(
            _("Please enter your name here, not your email address."), code="email_as_name"
        )
