"""Bring stored addresses to the current canonical form (mechanisms.addresses), merging the
signatures that turn out to be one mailbox's.

Written once for the data migrations that introduced IDNA-aware canonical emails and for the
`canonical_emails_refresh` command, so it takes the model classes it works on: a migration passes
its historical models, the command the real ones. It imports no app above accounts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, models, transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest

from mechanisms.addresses import email_address_normalize, email_canonicalize
from mechanisms.domains import domain_normalize

Write = Callable[[str], None]
BATCH = 2000


@dataclass
class Summary:
    label: str
    checked: int = 0
    rewritten: int = 0
    # (kept pk, removed pk): two rows that were one mailbox's, merged into the kept one.
    merged: list[tuple[int, int]] = field(default_factory=list)
    # (pk, why): rows left as they were for a person to decide.
    flagged: list[tuple[int, str]] = field(default_factory=list)

    def lines(self) -> list[str]:
        head = (
            f"{self.label}: {self.checked} checked, {self.rewritten} rewritten, "
            f"{len(self.merged)} duplicates merged, {len(self.flagged)} flagged"
        )
        return [
            head,
            *(f"  merged: kept #{kept}, removed #{removed}" for kept, removed in self.merged),
            *(f"  flagged #{pk}: {why}" for pk, why in self.flagged),
        ]


def _batches(queryset: models.QuerySet, fields: tuple[str, ...]) -> Iterator[list[tuple]]:
    last = 0
    while True:
        rows = list(queryset.filter(pk__gt=last).order_by("pk").values_list("pk", *fields)[:BATCH])
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def _progress(write: Write, summary: Summary, total: int) -> None:
    write(f"{summary.label}: {summary.checked}/{total} checked, {summary.rewritten} rewritten")


def _keeps(first: Any, second: Any, confirmed: str) -> bool:
    """Whether `first` is the signature to keep of two: a confirmed one over one that is not,
    then the earlier."""
    return (first.status != confirmed, first.created_at, first.pk) <= (
        second.status != confirmed,
        second.created_at,
        second.pk,
    )


def signatures_canonical_refresh(
    *,
    model: type[models.Model],
    scope: str,
    write: Write,
    on_removed: Callable[[Any], None] = lambda row: None,
    confirmed: str = "confirmed",
) -> Summary:
    """Recompute `canonical_email` of every signature of `model` not yet anonymized. Two rows of
    one `scope` (the petition or the letter) that now share it are one mailbox's: the confirmed
    or else the earlier is kept, the other deleted (after `on_removed(row)`, which takes a
    counted one off its count). Each merge is its own transaction."""
    summary = Summary(label=str(model._meta.verbose_name_plural).title())
    live = model._default_manager.filter(anonymized_at__isnull=True)
    total = live.count()
    for rows in _batches(live, ("email", "canonical_email")):
        for pk, email, stored in rows:
            summary.checked += 1
            canonical = email_canonicalize(email)
            if canonical != stored:
                _rewrite(model, scope, pk, canonical, summary, on_removed, confirmed)
        _progress(write, summary, total)
    return summary


def _rewrite(
    model: type[models.Model],
    scope: str,
    pk: int,
    canonical: str,
    summary: Summary,
    on_removed: Callable[[Any], None],
    confirmed: str,
) -> None:
    manager = model._default_manager
    with transaction.atomic():
        row = manager.select_for_update().get(pk=pk)
        other = (
            manager.select_for_update()
            .filter(
                **{f"{scope}_id": getattr(row, f"{scope}_id")},
                canonical_email=canonical,
                anonymized_at__isnull=True,
            )
            .exclude(pk=pk)
            .first()
        )
        if other is None:
            manager.filter(pk=pk).update(canonical_email=canonical)
            summary.rewritten += 1
            return
        kept, removed = (row, other) if _keeps(row, other, confirmed) else (other, row)
        on_removed(removed)
        manager.filter(pk=removed.pk).delete()
        if kept.pk == pk:
            manager.filter(pk=pk).update(canonical_email=canonical)
            summary.rewritten += 1
        summary.merged.append((kept.pk, removed.pk))


def petition_count_release(*, petition_model: type[models.Model]) -> Callable[[Any], None]:
    """`on_removed` for petition signatures: a counted one leaves its petition's count."""

    def release(row: Any) -> None:
        if row.counted:
            petition_model._default_manager.filter(pk=row.petition_id).update(
                signature_count=Greatest(F("signature_count") - 1, Value(0))
            )

    return release


def users_email_refresh(*, model: type[models.Model], write: Write) -> Summary:
    """Store each account's address in the login form (mechanisms.addresses). Accounts are never
    merged: one whose new form another account already has is flagged and left as it was, for
    staff to decide which one the person keeps."""
    summary = Summary(label="Accounts")
    manager = model._default_manager
    total = manager.count()
    for rows in _batches(manager.all(), ("email",)):
        for pk, email in rows:
            summary.checked += 1
            normal = email_address_normalize(email)
            if normal == email:
                continue
            clash = manager.filter(email__iexact=normal).exclude(pk=pk).first()
            if clash is not None:
                summary.flagged.append((pk, f"its address is account #{clash.pk}'s"))
                continue
            manager.filter(pk=pk).update(email=normal)
            summary.rewritten += 1
        _progress(write, summary, total)
    return summary


def organizations_email_refresh(*, model: type[models.Model], write: Write) -> Summary:
    """Organizations' contact addresses and email domains in the current form. A domain that
    would then equal another active organization's is flagged and left as it was."""
    summary = Summary(label="Organizations")
    manager = model._default_manager
    total = manager.count()
    for rows in _batches(manager.all(), ("contact_email", "email_domain")):
        for pk, contact, domain in rows:
            summary.checked += 1
            changes = {}
            if contact and email_address_normalize(contact) != contact:
                changes["contact_email"] = email_address_normalize(contact)
            if domain and domain_normalize(domain) != domain:
                changes["email_domain"] = domain_normalize(domain)
            if not changes:
                continue
            try:
                with transaction.atomic():
                    manager.filter(pk=pk).update(**changes)
            except IntegrityError:
                summary.flagged.append((pk, "its domain is another organization's"))
                continue
            summary.rewritten += 1
        _progress(write, summary, total)
    return summary
