"""Email addresses as people type them, and as we compare them."""

from __future__ import annotations

import unicodedata
from email.errors import HeaderParseError
from email.headerregistry import Address

from mechanisms.domains import domain_normalize

# Gmail ignores dots in the local part and treats googlemail.com as the same mailbox.
_GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})


def _local_and_domain(email: str) -> tuple[str, str] | None:
    """The mailbox name and domain of an address as mail software reads them: a quoted local part
    unquoted (`"vo\\ter"@x` is `voter@x`, where Django's mailer sends it), or None for no `@`."""
    text = unicodedata.normalize("NFC", email.strip())
    if not text.startswith('"'):
        # A dot-atom, all the email fields accept besides a quoted string, reads as written;
        # the parser below costs ~25 µs, on the sign POST's path.
        local, sep, domain = text.rpartition("@")
        return (local, domain) if sep else None
    try:
        address = Address(addr_spec=text)
    except (HeaderParseError, ValueError, IndexError, TypeError):
        local, sep, domain = text.rpartition("@")
        return (local, domain) if sep else None
    return address.username, address.domain


def email_address_normalize(email: str) -> str:
    """One spelling of one address, still an address to write to: the local part as mail
    software reads it (unquoted, in Unicode's composed form, NFC, as RFC 6532 asks of
    internationalized addresses) and lower-cased, the domain by UTS #46 in ASCII
    (domain_normalize). `voter@Bücher.example`, `"voter"@bücher.example` and
    `voter@xn--bcher-kva.example` become one; `+tags` and Gmail's dots are kept, since a mail
    server other than Gmail may deliver them elsewhere."""
    parts = _local_and_domain(email)
    if parts is None:
        return email.strip().lower()
    local, domain = parts
    return f"{local.lower()}@{domain_normalize(domain)}"


def email_delivery_address(email: str) -> str:
    """The address to hand the mail server: as typed, but with the domain in the ASCII form
    domain_normalize gives, so that mail goes to the very domain every comparison used (Django
    would otherwise encode it by IDNA 2003, which sends `faß.de` to `fass.de`)."""
    local, sep, domain = email.strip().rpartition("@")
    if not sep:
        return email.strip()
    return f"{local}@{domain_normalize(domain)}"


def email_canonicalize(email: str) -> str:
    """The form under which two spellings of one mailbox compare equal: "same person".

    email_address_normalize, then `+suffix` dropped, and for Gmail the dots in the local part
    dropped, so that Jane.Doe+petition@GMail.com and janedoe@gmail.com are one signer, and a
    domain typed in Unicode, in full-width letters or as its xn-- spelling is one domain. The
    address we write to is the one the person typed; this form only decides "same person", and
    it is the key of every per-person limit (signatures, cooldowns, suppressions).
    """
    local, sep, domain = email_address_normalize(email).rpartition("@")
    if not sep:
        return domain
    base = local.split("+", 1)[0]
    if base:
        local = base
    if domain in _GMAIL_DOMAINS:
        local = local.replace(".", "") or local
        domain = "gmail.com"
    return f"{local}@{domain}"
