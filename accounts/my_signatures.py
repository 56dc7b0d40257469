"""A signer's way to their own signatures without an account: an emailed link that carries
references to their records (never their address), resolved through the personal-data registry
every app fills."""

from __future__ import annotations

from dataclasses import dataclass

from mechanisms import personal_data
from mechanisms.addresses import email_canonicalize

MY_SIGNATURES_TOKEN_PURPOSE = "accounts.my_signatures"  # noqa: S105 (a salt, not a secret)
# Enough anchors for a link to keep working while its owner withdraws signatures one by one.
MAX_TOKEN_REFS = 20


def my_signatures_refs(*, canonical_email: str) -> list[str]:
    """What the emailed link carries: references to some of the person's records, never their
    address, so neither the link nor a log of it says whose it is."""
    records = personal_data.personal_records_list(canonical_email=canonical_email)
    return [record.ref for record in records[:MAX_TOKEN_REFS]]


@dataclass(frozen=True)
class LinkOwner:
    email: str  # where to send a new link
    canonical_email: str


def link_owner(*, refs: object) -> LinkOwner | None:
    """Whose records a link's references point to: the first one that still exists. None once
    the person has withdrawn everything (or retention anonymized it)."""
    if not isinstance(refs, list):
        return None
    for ref in refs:
        try:
            provider, pk = personal_data.record_ref_parse(str(ref))
        except personal_data.UnknownRecord:
            continue
        owner = provider.owner_email(pk=pk)
        if owner is not None and owner[1]:
            return LinkOwner(email=owner[0], canonical_email=owner[1])
    return None


def link_for(*, email: str) -> tuple[list[str], LinkOwner | None]:
    """The references a link for this (typed) address carries, and whose records they are."""
    refs = my_signatures_refs(canonical_email=email_canonicalize(email))
    return refs, link_owner(refs=refs)
