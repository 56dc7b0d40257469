"""Email addresses as people type them, and as we compare them."""

from __future__ import annotations

# Gmail ignores dots in the local part and treats googlemail.com as the same mailbox.
_GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})


def email_canonicalize(email: str) -> str:
    """The form under which two spellings of one mailbox compare equal.

    Lower-cased, `+suffix` dropped, and for Gmail the dots in the local part dropped, so that
    Jane.Doe+petition@GMail.com and janedoe@gmail.com are one signer. The address we write to is the
    one the person typed; this form only decides "same person".
    """
    local, sep, domain = email.strip().rpartition("@")
    if not sep:
        return email.strip().lower()
    local = local.lower()
    domain = domain.lower().rstrip(".")
    base = local.split("+", 1)[0]
    if base:
        local = base
    if domain in _GMAIL_DOMAINS:
        local = local.replace(".", "") or local
        domain = "gmail.com"
    return f"{local}@{domain}"
