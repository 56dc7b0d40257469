"""Email addresses as people type them, and as we compare them."""

from __future__ import annotations

import unicodedata

from accounts.domains import domain_normalize

# Gmail ignores dots in the local part and treats googlemail.com as the same mailbox.
_GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})


def email_address_normalize(email: str) -> str:
    """One spelling of one address, still an address to write to: the local part as typed (in
    Unicode's composed form, NFC, as RFC 6532 asks of internationalized addresses) and lower-cased,
    the domain by UTS #46 in ASCII (domain_normalize). `voter@Bücher.example` and
    `voter@xn--bcher-kva.example` become one; `+tags` and Gmail's dots are kept, since a mail
    server other than Gmail may deliver them elsewhere."""
    local, sep, domain = unicodedata.normalize("NFC", email.strip()).rpartition("@")
    if not sep:
        return email.strip().lower()
    return f"{local.lower()}@{domain_normalize(domain)}"


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
