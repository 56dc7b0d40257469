"""Everything we keep about a person, wherever an app keeps it.

Apps that store signers' personal data (petitions, letters) register a provider here from their
AppConfig.ready(); accounts never imports them. Self-service (see, download, withdraw), retention
and IP-key pruning go through the registry, so a new kind of record cannot be forgotten by one of
them without being forgotten by all, which a test would see.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from django.conf import settings
from django.db import transaction
from django.db.models import Model, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from mechanisms.confirmation import PENDING
from mechanisms.outbox import emails_forget

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PersonalRecord:
    """One record about a person, as they see it and as they download it."""

    kind: str  # the provider's key
    pk: int
    campaign_title: str
    campaign_url: str
    shown_as: str  # what the public sees where signers are listed
    status: str  # human-readable, in the active language
    signed_at: datetime
    # Everything personal we keep in this record, JSON-ready (strings, numbers, lists).
    data: dict[str, Any] = field(default_factory=dict)
    # Organizations the person let have their details: (name, when its people last received
    # them, None if they have not yet), and which details those are.
    shared_with: list[tuple[str, datetime | None]] = field(default_factory=list)
    shared_details: str = ""

    @property
    def ref(self) -> str:
        return f"{self.kind}:{self.pk}"


def iso_or_none(moment: datetime | None) -> str | None:
    """A date as the JSON download writes it."""
    return moment.isoformat() if moment else None


def signature_status_shown(signature: Any) -> str:
    """The status a signer reads for a petition's or a letter's signature (both have PENDING and
    CONFIRMED statuses and a `held` flag).

    A held signature waits for a moderator whatever its email status; saying so is more useful to
    its signer than "confirmed" for a signature that does not count yet.
    """
    if signature.held and signature.status in (
        signature.Status.PENDING,
        signature.Status.CONFIRMED,
    ):
        return gettext("Awaiting review")
    return str(signature.get_status_display())


class PersonalDataProvider(Protocol):
    """What an app that keeps personal data about signers implements."""

    key: str  # short and unique: "petition", "letter"

    def records(self, *, canonical_email: str) -> list[PersonalRecord]:
        """The person's records not yet anonymized."""
        ...

    def owner_email(self, *, pk: int) -> tuple[str, str] | None:
        """(the address typed, its canonical form) of a record not yet anonymized."""
        ...

    def withdraw(self, *, canonical_email: str, pks: Collection[int] | None) -> int:
        """Delete the person's records (all of them when `pks` is None) and what hangs off
        them, keeping counts exact. Records of anyone else are never touched."""
        ...

    def anonymize_expired(self, *, closed_before: datetime, batch_size: int) -> Iterator[int]:
        """Remove personal data from records of campaigns closed before `closed_before`, one
        transaction per batch; yields each batch's size."""
        ...

    def unconfirmed_delete(self, *, last_link_before: datetime, batch_size: int) -> Iterator[int]:
        """Delete never-confirmed records whose last confirmation link was sent before
        `last_link_before`, one transaction per batch; yields each batch's size."""
        ...

    def ip_hashes_clear(self, *, created_before: datetime) -> int:
        """Blank the IP hashes of records created before `created_before`."""
        ...


class SignatureProviderBase:
    """What every provider whose records are signature rows shares: `model` has email,
    canonical_email, ip_hash, created_at and anonymized_at."""

    model: type[Model]

    def owner_email(self, *, pk: int) -> tuple[str, str] | None:
        return (
            self.model._default_manager.filter(pk=pk, anonymized_at__isnull=True)
            .values_list("email", "canonical_email")
            .first()
        )

    def ip_hashes_clear(self, *, created_before: datetime) -> int:
        return (
            self.model._default_manager.filter(created_at__lt=created_before)
            .exclude(ip_hash="")
            .update(ip_hash="")
        )

    def unconfirmed_delete(self, *, last_link_before: datetime, batch_size: int) -> Iterator[int]:
        """Delete signatures never confirmed whose last link went out before the cutoff: when
        they were made (created_at) and when a link was last sent (confirmation_sent_at). A
        pending signature is never counted or listed, so nothing else changes."""
        manager = self.model._default_manager
        rows = manager.filter(status=PENDING, created_at__lt=last_link_before).filter(
            Q(confirmation_sent_at__isnull=True) | Q(confirmation_sent_at__lt=last_link_before)
        )

        def delete(pks: list[int]) -> None:
            # The status again: a row confirmed since it was read is not deleted.
            manager.filter(pk__in=pks, status=PENDING).delete()

        return locked_batches(rows, batch_size=batch_size, act=delete)


def locked_batches(
    rows: QuerySet[Any],
    *,
    batch_size: int,
    act: Callable[[list[int]], object],
    of: tuple[str, ...] = (),
) -> Iterator[int]:
    """Claim `rows` a batch at a time and `act` on each batch's primary keys in the same
    transaction, yielding each batch's size, until none are left.

    SKIP LOCKED: a row a signer is withdrawing right now is theirs to delete, and two runs at
    once share the work instead of waiting. `act` must make the rows leave `rows` (delete them,
    mark them anonymized), or the loop would claim them again.
    """
    while True:
        with transaction.atomic():
            pks = list(
                rows.order_by("pk")
                .select_for_update(skip_locked=True, of=of)
                .values_list("pk", flat=True)[:batch_size]
            )
            if not pks:
                return
            act(pks)
        yield len(pks)


_providers: dict[str, PersonalDataProvider] = {}


def provider_register(provider: PersonalDataProvider) -> None:
    # ready() can run twice (tests that reload apps); the same key replaces, never duplicates.
    _providers[provider.key] = provider


def providers() -> list[PersonalDataProvider]:
    return list(_providers.values())


# --- Self-service ----------------------------------------------------------------------------


def personal_records_list(*, canonical_email: str) -> list[PersonalRecord]:
    """All of a person's records, newest first."""
    if not canonical_email:
        # Anonymized rows have an empty canonical email: nobody owns them.
        return []
    found = [
        record
        for provider in providers()
        for record in provider.records(canonical_email=canonical_email)
    ]
    return sorted(found, key=lambda record: record.signed_at, reverse=True)


def personal_data_export(*, canonical_email: str, now: datetime | None = None) -> dict[str, Any]:
    """The JSON a person downloads: every record and every personal field we keep in it."""
    return {
        "exported_at": (now or timezone.now()).isoformat(),
        "site": settings.SITE_URL,
        "records": [
            {
                "type": record.kind,
                "id": record.pk,
                "campaign": record.campaign_title,
                "campaign_url": record.campaign_url,
                "shown_publicly_as": record.shown_as,
                **record.data,
            }
            for record in personal_records_list(canonical_email=canonical_email)
        ],
    }


class UnknownRecord(Exception):
    """A reference that names no provider, or is not "kind:number"."""


# ASCII digits only (str.isdigit accepts "²", which int() refuses), and few enough for a bigint.
_REF_NUMBER = re.compile(r"[0-9]{1,18}")


def record_ref_parse(ref: str) -> tuple[PersonalDataProvider, int]:
    kind, _, number = ref.partition(":")
    provider = _providers.get(kind)
    if provider is None or not _REF_NUMBER.fullmatch(number):
        raise UnknownRecord(ref)
    return provider, int(number)


def personal_records_withdraw(*, canonical_email: str, refs: Collection[str] | None) -> int:
    """Withdraw the named records of this person (all when `refs` is None); returns how many.

    A ref of someone else's record withdraws nothing: each provider filters by the owner's
    canonical email as well as by id.
    """
    if not canonical_email:
        return 0
    if refs is None:
        withdrawn = sum(
            provider.withdraw(canonical_email=canonical_email, pks=None) for provider in providers()
        )
        # Emails still owed to them would only say what is gone; the address goes with them.
        emails_forget(canonical_email=canonical_email)
        return withdrawn
    wanted: dict[str, set[int]] = {}
    for ref in refs:
        provider, pk = record_ref_parse(ref)
        wanted.setdefault(provider.key, set()).add(pk)
    return sum(
        _providers[key].withdraw(canonical_email=canonical_email, pks=pks)
        for key, pks in wanted.items()
    )


# --- Retention --------------------------------------------------------------------------------


def retention_clock_keep(*, campaign: Any, ended: bool, now: datetime | None = None) -> None:
    """Keep a campaign's `closed_at`, the clock retention reads, right before it is saved with a
    new status (by staff in the admin, or the demo): started once when the campaign ends,
    stopped when it is reopened. Services that close campaigns in an UPDATE set it there."""
    if not ended:
        campaign.closed_at = None
    elif campaign.closed_at is None:
        campaign.closed_at = now or timezone.now()


def retention_cutoff(*, now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(days=settings.SIGNATURE_RETENTION_DAYS)


def unconfirmed_cutoff(*, now: datetime | None = None) -> datetime:
    """Records never confirmed whose last link was sent before this are deleted: the link
    stopped working UNCONFIRMED_RETENTION_DAYS ago."""
    return (
        (now or timezone.now())
        - settings.SIGNATURE_CONFIRM_MAX_AGE
        - timedelta(days=settings.UNCONFIRMED_RETENTION_DAYS)
    )


@dataclass(frozen=True)
class RetentionDone:
    """How many records each provider anonymized, and how many never-confirmed ones it
    deleted."""

    anonymized: dict[str, int]
    unconfirmed_deleted: dict[str, int]


def _batches(
    kind: str,
    batches: Iterator[int],
    *,
    verb: str,
    progress: Callable[[str, int, int], None] | None,
) -> int:
    total = 0
    for batch in batches:
        total += batch
        logger.info("Retention: %s %d %s records (%d so far)", verb, batch, kind, total)
        if progress is not None:
            progress(kind, batch, total)
    return total


def personal_data_anonymize_expired(
    *,
    now: datetime | None = None,
    batch_size: int = 1000,
    progress: Callable[[str, int, int], None] | None = None,
    unconfirmed_progress: Callable[[str, int, int], None] | None = None,
) -> RetentionDone:
    """Delete the records never confirmed whose link expired more than UNCONFIRMED_RETENTION_DAYS
    ago (an address someone typed, perhaps not its owner's, has no reason to stay), then
    anonymize the records of every campaign closed more than SIGNATURE_RETENTION_DAYS ago.

    Safe to run again at any time: an anonymized record is not selected twice, and a run cut off
    mid-way leaves whole batches done and the rest for the next run. `progress(kind, batch,
    total so far)` is called after each anonymized batch, `unconfirmed_progress` after each
    deleted one.
    """
    last_link_before = unconfirmed_cutoff(now=now)
    closed_before = retention_cutoff(now=now)
    deleted = {
        provider.key: _batches(
            provider.key,
            provider.unconfirmed_delete(last_link_before=last_link_before, batch_size=batch_size),
            verb="deleted never-confirmed",
            progress=unconfirmed_progress,
        )
        for provider in providers()
    }
    anonymized = {
        provider.key: _batches(
            provider.key,
            provider.anonymize_expired(closed_before=closed_before, batch_size=batch_size),
            verb="anonymized",
            progress=progress,
        )
        for provider in providers()
    }
    logger.info(
        "Retention: campaigns closed before %s anonymized: %s; links sent before %s and never "
        "confirmed deleted: %s",
        closed_before.isoformat(),
        ", ".join(f"{count} {key}" for key, count in anonymized.items()) or "no providers",
        last_link_before.isoformat(),
        ", ".join(f"{count} {key}" for key, count in deleted.items()) or "no providers",
    )
    return RetentionDone(anonymized=anonymized, unconfirmed_deleted=deleted)


def ip_hashes_clear(*, created_before: datetime) -> int:
    return sum(provider.ip_hashes_clear(created_before=created_before) for provider in providers())
