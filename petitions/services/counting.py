"""Counting: the batched counter that adds confirmed signatures to their petitions, what leaves
the count, and the nightly recount that corrects drift."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, Value
from django.db.models.functions import Greatest

from petitions.models import PaperBatch, PaperSignature, Petition, Signature
from petitions.services.thresholds import thresholds_reach

logger = logging.getLogger(__name__)


def petition_counts_update(*, batch_size: int = 5000, max_batches: int = 20) -> dict[int, int]:
    """Add newly confirmed signatures to their petitions' counts: one UPDATE per petition.

    Rows are claimed FOR UPDATE SKIP LOCKED and flagged `counted` in the same transaction as the
    increment, so two counters running at once never add a signature twice. Returns the increments.
    """
    added: Counter[int] = Counter()
    for _ in range(max_batches):
        with transaction.atomic():
            rows = list(
                Signature.objects.filter(
                    status=Signature.Status.CONFIRMED, counted=False, held=False
                )
                .select_for_update(skip_locked=True)
                .values_list("pk", "petition_id")[:batch_size]
            )
            if not rows:
                break
            Signature.objects.filter(pk__in=[pk for pk, _ in rows]).update(counted=True)
            batch = Counter(petition_id for _, petition_id in rows)
            # A fixed order of row locks keeps two counters from deadlocking each other.
            for petition_id in sorted(batch):
                Petition.objects.filter(pk=petition_id).update(
                    signature_count=F("signature_count") + batch[petition_id]
                )
            # Thresholds the new counts reached, with their emails, in the counts' transaction.
            thresholds_reach(petition_ids=batch)
        added.update(batch)
        if len(rows) < batch_size:
            break
    if added:
        paper_counts_after_signing(petition_ids=list(added))
    return dict(added)


def petition_counts_subtract(*, removed: Counter[int]) -> None:
    """Take signatures that leave the count (moderated away, withdrawn) off their petitions'
    counts; the caller holds the signatures' row locks and clears their `counted` in the same
    transaction.

    Petitions are updated in a fixed order, as the counter takes them, so the two never deadlock.
    Never below zero: a count that drifted low is the nightly recount's to correct, and a
    moderation or a withdrawal must not fail on it.
    """
    for petition_id in sorted(removed):
        Petition.objects.filter(pk=petition_id).update(
            signature_count=Greatest(F("signature_count") - removed[petition_id], Value(0))
        )


@dataclass(frozen=True)
class Recount:
    petition_id: int
    before: int
    after: int

    @property
    def drift(self) -> int:
        return self.before - self.after


def petition_recount(*, petition_id: int) -> Recount:
    """Set a petition's count from its signatures, correcting any drift.

    Counts what the counter has already added (confirmed and `counted`), with the petition row
    locked; signatures confirmed but not yet counted are the counter's to add, so the two never
    count one signature twice.
    """
    with transaction.atomic():
        petition = Petition.objects.select_for_update().get(pk=petition_id)
        fresh = Signature.objects.filter(
            petition_id=petition_id, status=Signature.Status.CONFIRMED, counted=True
        ).count()
        if fresh != petition.signature_count:
            Petition.objects.filter(pk=petition_id).update(signature_count=fresh)
            logger.warning(
                "Recount of petition %s corrected %s to %s",
                petition_id,
                petition.signature_count,
                fresh,
            )
        # Paper signatures whose online twin was withdrawn or moderated away count again.
        paper_counts_update(petition_ids=[petition_id])
    return Recount(petition_id=petition_id, before=petition.signature_count, after=fresh)


def petitions_recount_all() -> int:
    """Recount every petition (nightly drift correction), then add what is newly confirmed.
    Returns how many petitions were corrected."""
    corrected = 0
    for petition_id in Petition.objects.values_list("pk", flat=True).iterator():
        corrected += petition_recount(petition_id=petition_id).drift != 0
    petition_counts_update()
    return corrected


# --- Paper signatures (petitions.services.paper) ---------------------------------------------


def paper_counts_update(*, petition_ids: Collection[int]) -> None:
    """Mark each paper signature whose person is counted elsewhere as a duplicate, and set the
    petitions' paper counts from their batches in the count (`tallied`). A person (by
    canonical email) counts once: online when they signed online (confirmed, not held),
    otherwise on their earliest counted paper line (by the batch's finish time, then the
    line's id), whichever sponsor's batch it is on. Rows already anonymized keep their mark:
    they have no email left to compare."""
    for petition_id in sorted(set(petition_ids)):
        online = Signature.objects.filter(
            petition_id=petition_id,
            canonical_email=OuterRef("canonical_email"),
            status=Signature.Status.CONFIRMED,
            held=False,
        )
        # A line of a batch in the count, finished before this one (rows of batches still
        # being typed compare with nothing: their counted_at is NULL).
        earlier_on_paper = PaperSignature.objects.filter(
            petition_id=petition_id,
            canonical_email=OuterRef("canonical_email"),
            anonymized_at__isnull=True,
            batch__tallied=True,
        ).filter(
            Q(batch__counted_at__lt=OuterRef("batch__counted_at"))
            | Q(batch__counted_at=OuterRef("batch__counted_at"), pk__lt=OuterRef("pk"))
        )
        elsewhere = Exists(online) | Exists(earlier_on_paper)
        with_emails = PaperSignature.objects.filter(
            petition_id=petition_id, anonymized_at__isnull=True
        ).exclude(canonical_email="")
        # Only the marks that change are written: the counter runs this every few seconds
        # while a petition with thousands of paper emails takes signatures.
        with_emails.filter(duplicate=False).filter(elsewhere).update(duplicate=True)
        with_emails.filter(duplicate=True).exclude(elsewhere).update(duplicate=False)
        counted = PaperSignature.objects.filter(
            petition_id=petition_id, batch__tallied=True, duplicate=False
        ).count()
        Petition.objects.filter(pk=petition_id).update(paper_count=counted)
    # Paper sheets count toward response thresholds as online signatures do.
    thresholds_reach(petition_ids=petition_ids)


def paper_batches_tally() -> list[int]:
    """For the batched counter: bring finished batches into their petitions' paper counts.
    Finishing a batch only closes it; the count moves here, a few seconds later and together
    with every other batch finished meanwhile, so the moment of finishing tells the editor
    nothing about their own lines. Returns the petitions whose paper counts were updated.

    Batches are claimed FOR UPDATE SKIP LOCKED and marked in the same transaction, so two
    counters never tally one batch twice (and a second tally would change nothing anyway)."""
    with transaction.atomic():
        claimed = list(
            PaperBatch.objects.filter(counted_at__isnull=False, tallied=False)
            .select_for_update(skip_locked=True)
            .values_list("pk", "petition_id")
        )
        if not claimed:
            return []
        petition_ids = sorted({petition_id for _, petition_id in claimed})
        PaperBatch.objects.filter(pk__in=[pk for pk, _ in claimed]).update(tallied=True)
        paper_counts_update(petition_ids=petition_ids)
    return petition_ids


def paper_counts_after_signing(*, petition_ids: Collection[int]) -> None:
    """For the batched counter: only petitions with paper signatures that give an email can
    have a new duplicate, so the rest cost one query for all of them."""
    with_emails = set(
        PaperSignature.objects.filter(petition_id__in=list(petition_ids), anonymized_at=None)
        .exclude(canonical_email="")
        .values_list("petition_id", flat=True)
        .distinct()
    )
    if with_emails:
        paper_counts_update(petition_ids=with_emails)
