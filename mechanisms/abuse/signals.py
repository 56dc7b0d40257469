"""Signals that hold a signature for a moderator instead of refusing it: a form sent too fast, a
bad or missing proof of work, a throwaway address, and bursts from one network, one domain or
one name on a campaign. The signer sees nothing different (mechanisms.models.AbuseFlag)."""

from __future__ import annotations

import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from functools import cache as _memoize

from disposable_email_domains import blocklist as _DISPOSABLE_DOMAINS
from django.conf import settings
from django.http import HttpRequest
from publicsuffixlist import PublicSuffixList

from mechanisms.abuse.forms import HumanChecked
from mechanisms.abuse.proof_of_work import Proof, ProofChecked, fill_too_fast, pow_check
from mechanisms.abuse.rate_limits import request_ip_hash
from mechanisms.counters import Check
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


@dataclass(frozen=True)
class SigningSignals:
    """The signals of a signature about to be recorded, before anything is counted or spent:
    the flags known without the cache, the burst checks to count (one stage whose checks do not
    stop each other), and the proof of work to spend."""

    known: frozenset[str]
    bursts: list[tuple[str, Check]]
    proof: ProofChecked

    @property
    def checks(self) -> list[Check]:
        return [check for _flag, check in self.bursts]

    def flags(self, *, over: Collection[int], first_use: bool | None) -> list[str]:
        """The AbuseFlag codes, given the checks (by position) that went over a limit and
        whether the proof's claim was its first use."""
        flags = set(self.known)
        flags.update(self.bursts[n][0] for n in over)
        proof = self.proof.spent(first_use=first_use)
        if flags and proof in (Proof.MISSING, Proof.EXPIRED, Proof.REPLAYED):
            flags.add(AbuseFlag.NO_PROOF_OF_WORK)
        # In AbuseFlag's own order, so equal signals always read the same.
        return [code for code in AbuseFlag.values if code in flags]


def signing_signals(
    *,
    request: HttpRequest,
    form: HumanChecked,
    scope: str,
    email: str,
    name: str,
    trusted_domains: Collection[str] = (),
) -> SigningSignals:
    """The abuse signals of a signature about to be recorded on campaign `scope`, computed
    without the cache: the caller (mechanisms.signing) counts the bursts and spends the proof
    with its other counters, in one round trip, and reads the flags off `SigningSignals.flags`.
    `trusted_domains` are ones the campaign expects many signers from (a letter signed by one
    company's employees): no domain burst for them. A missing proof of work (JavaScript off; an
    expired or replayed one counts alike) is flagged only when another signal fired."""
    check = form.human_check
    known: set[str] = set()
    if fill_too_fast(check.started):
        known.add(AbuseFlag.TOO_FAST)
    proof = pow_check(check.proof)
    if proof.result == Proof.BAD:
        known.add(AbuseFlag.BAD_PROOF_OF_WORK)
    if email_is_disposable(email):
        known.add(AbuseFlag.DISPOSABLE_EMAIL)

    ip = request_ip_hash(request)
    # Each signal is a check of its own: one over its limit does not stop the others counting.
    bursts: list[tuple[str, Check]] = []
    if ip:
        bursts.append((AbuseFlag.IP_BURST, (f"ip:{scope}", ip, settings.ABUSE_IP_BURST)))
    domain = email_domain(email)
    if domain and not any(domain_within(domain, parent) for parent in trusted_domains):
        rates = (
            settings.ABUSE_FREE_MAIL_BURST
            if domain_is_free_mail(domain)
            else settings.ABUSE_DOMAIN_BURST
        )
        # Keyed on the registrable domain: with a wildcard MX a spammer can mint a subdomain per
        # signature.
        bursts.append(
            (AbuseFlag.DOMAIN_BURST, (f"domain:{scope}", registrable_domain(domain), rates))
        )
    bursts.append(
        (
            AbuseFlag.NEAR_DUPLICATE,
            (f"name:{scope}", name_skeleton(name), settings.ABUSE_NEAR_DUPLICATE),
        )
    )
    return SigningSignals(known=frozenset(known), bursts=bursts, proof=proof)
