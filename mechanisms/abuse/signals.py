"""Signals that hold a signature for a moderator instead of refusing it: a form sent too fast, a
bad or missing proof of work, a throwaway address, and bursts from one network, one domain or
one name on a campaign. The signer sees nothing different (mechanisms.models.AbuseFlag)."""

from __future__ import annotations

import unicodedata
from collections.abc import Collection
from functools import cache as _memoize

from disposable_email_domains import blocklist as _DISPOSABLE_DOMAINS
from django.conf import settings
from django.http import HttpRequest
from publicsuffixlist import PublicSuffixList

from mechanisms.abuse.forms import HumanChecked
from mechanisms.abuse.proof_of_work import Proof, fill_too_fast, pow_verify
from mechanisms.abuse.rate_limits import request_ip_hash
from mechanisms.counters import counters_over
from mechanisms.domains import domain_is_free_mail, domain_normalize, domain_within, email_domain
from mechanisms.models import AbuseFlag


def email_is_disposable(email: str) -> bool:
    """The address's domain, or any domain it is under, is a known throwaway-mail provider."""
    labels = domain_normalize(email_domain(email)).split(".")
    return any(".".join(labels[i:]) in _DISPOSABLE_DOMAINS for i in range(len(labels) - 1))


@_memoize
def _public_suffixes() -> PublicSuffixList:
    # Parsing the bundled list takes a moment: once per process, on first use.
    return PublicSuffixList()


def registrable_domain(domain: str) -> str:
    """The domain someone registered ("spam.example" for "s1.spam.example", "b.co.uk" for
    "a.b.co.uk"), or the domain itself when the list knows no such thing (a bare suffix)."""
    return _public_suffixes().privatesuffix(domain) or domain


def name_skeleton(name: str) -> str:
    """A name reduced to its letters: no accents, digits, punctuation, spacing or case, so
    "Jöhn  Smith-2" and "john smith" compare equal."""
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(ch for ch in decomposed if ch.isalpha()).casefold()


def signing_flags(
    *,
    request: HttpRequest,
    form: HumanChecked,
    scope: str,
    email: str,
    name: str,
    trusted_domains: Collection[str] = (),
) -> list[str]:
    """The abuse flags (AbuseFlag codes) for a signature about to be recorded on campaign `scope`.

    Call after validation and only for a signature that will be written: it counts the bursts and
    spends the proof of work. `trusted_domains` are ones the campaign expects many signers from (a
    letter signed by one company's employees): no domain burst for them. A missing proof of work
    (JavaScript off; an expired or replayed one counts alike) is added only when another signal
    fired.
    """
    check = form.human_check
    flags: set[str] = set()
    if fill_too_fast(check.started):
        flags.add(AbuseFlag.TOO_FAST)
    proof = pow_verify(check.proof)
    if proof == Proof.BAD:
        flags.add(AbuseFlag.BAD_PROOF_OF_WORK)
    if email_is_disposable(email):
        flags.add(AbuseFlag.DISPOSABLE_EMAIL)

    ip = request_ip_hash(request)
    # Each signal is a check of its own: one over its limit does not stop the others counting.
    signals: list[tuple[str, tuple[str, str, Collection[str]]]] = []
    if ip:
        signals.append((AbuseFlag.IP_BURST, (f"ip:{scope}", ip, settings.ABUSE_IP_BURST)))
    domain = email_domain(email)
    if domain and not any(domain_within(domain, parent) for parent in trusted_domains):
        rates = (
            settings.ABUSE_FREE_MAIL_BURST
            if domain_is_free_mail(domain)
            else settings.ABUSE_DOMAIN_BURST
        )
        # Keyed on the registrable domain: with a wildcard MX a spammer can mint a subdomain per
        # signature.
        signals.append(
            (AbuseFlag.DOMAIN_BURST, (f"domain:{scope}", registrable_domain(domain), rates))
        )
    signals.append(
        (
            AbuseFlag.NEAR_DUPLICATE,
            (f"name:{scope}", name_skeleton(name), settings.ABUSE_NEAR_DUPLICATE),
        )
    )
    over = counters_over(request, [check for _flag, check in signals], stop_all=False)
    flags.update(signals[n][0] for n in over)

    if flags and proof in (Proof.MISSING, Proof.EXPIRED, Proof.REPLAYED):
        flags.add(AbuseFlag.NO_PROOF_OF_WORK)
    # In AbuseFlag's own order, so equal signals always read the same.
    return [code for code in AbuseFlag.values if code in flags]
