"""Writes for petitions: signing, confirming, emailing signers, counting."""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connections, router, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import Organization
from mechanisms.addresses import email_canonicalize
from mechanisms.queue import enqueue_after_commit
from mechanisms.upsert import row_insert_or_find
from petitions import emails
from petitions.jurisdiction import postal_code_resolve
from petitions.models import Petition, Signature, SponsorOptIn

logger = logging.getLogger(__name__)

# A confirmation that failed this often (an address no server accepts, a bug) is left alone by
# the sweep, so a few bad rows can never crowd out the lost confirmations it exists to resend.
MAX_CONFIRMATION_ATTEMPTS = 5


class PetitionNotOpen(Exception):
    """The petition does not take signatures now (draft, closed, or outside its dates)."""

    def __init__(self, petition: Petition) -> None:
        super().__init__(petition.slug)
        self.petition = petition


def signature_create(
    *,
    petition: Petition,
    name: str,
    email: str,
    postal_code: str = "",
    country: str = "",
    display: str = Signature.Display.SHORT,
    consent_updates: bool = False,
    comment: str = "",
    sponsor_opt_ins: Collection[int] = (),
    language: str = settings.LANGUAGE_CODE,
    ip_hash: str = "",
    flags: Collection[str] = (),
    now: datetime | None = None,
) -> int:
    """Record a pending signature and have the signer mailed; returns the signature's id.

    The request does the same work whatever the address: one INSERT that, for an address that
    has signed this petition (same canonical email), finds the existing row instead
    (mechanisms.upsert), the same opt-in statement, and one task. The task, not the request, tells
    the cases apart: a new signer gets the confirmation, a repeat a fresh link or an "already
    signed" note, rate limited. The response time therefore says nothing about the address.

    `sponsor_opt_ins` are ids of sponsoring organizations the signer agreed to hear from; they are
    recorded with a new signature only (a repeat cannot change what the first one agreed to).

    `flags` are abuse signals (accounts.models.AbuseFlag codes): a flagged signature is held for
    a moderator, uncounted and unshown, yet mailed its confirmation like any other, so the signer
    sees nothing different. A repeat keeps the first signature's flags and everything else.
    """
    if not petition.is_accepting_signatures(now=now):
        raise PetitionNotOpen(petition)
    now = now or timezone.now()
    signature = Signature(
        petition=petition,
        name=name,
        email=email,
        canonical_email=email_canonicalize(email),
        postal_code=postal_code,
        country=country,
        display=display,
        consent_updates=consent_updates,
        comment=comment,
        language=language,
        ip_hash=ip_hash,
        flags=" ".join(flags),
        held=bool(flags),
        created_at=now,
        # The confirmation about to be sent counts as the first notice for rate limiting.
        notice_at=now,
    )
    # Field validation only: uniqueness is the database's job, done by the INSERT itself, and the
    # petition was just loaded (validating the foreign key would read it again on the hot path).
    signature.full_clean(exclude=["petition"], validate_unique=False, validate_constraints=False)
    with transaction.atomic():
        signature_id = row_insert_or_find(
            instance=signature, constraint="petitions_signature_one_per_person"
        )
        if sponsor_opt_ins:
            _sponsor_opt_ins_record(
                signature_id=signature_id, created_at=now, organization_ids=sponsor_opt_ins
            )

    from petitions.tasks import signature_mail_signer

    enqueue_after_commit(signature_mail_signer, signature_id)
    return signature_id


def _sponsor_opt_ins_record(
    *, signature_id: int, created_at: datetime, organization_ids: Collection[int]
) -> None:
    """Record opt-ins for a signature this request created, in one statement that runs alike
    for a repeat: the row it found then has an older `created_at`, and nothing is inserted."""
    connection = connections[router.db_for_write(SponsorOptIn)]
    quote = connection.ops.quote_name
    timestamp = Signature._meta.get_field("created_at").get_db_prep_save(created_at, connection)
    ids = sorted({int(pk) for pk in organization_ids})
    opt_in = quote(SponsorOptIn._meta.db_table)
    signatures = quote(Signature._meta.db_table)
    organizations = quote(Organization._meta.db_table)
    # Only quoted table names and placeholders are interpolated; values are parameters.
    statement = (
        f"INSERT INTO {opt_in} (signature_id, organization_id, created_at) "  # noqa: S608
        f"SELECT s.id, o.id, %s FROM {signatures} s, {organizations} o "
        f"WHERE s.id = %s AND s.created_at = %s AND o.id IN ({', '.join(['%s'] * len(ids))}) "
        "ON CONFLICT DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [timestamp, signature_id, timestamp, *ids])


def _signature_of(*, petition_id: int, canonical_email: str) -> Signature | None:
    return Signature.objects.filter(
        petition_id=petition_id, canonical_email=canonical_email, anonymized_at__isnull=True
    ).first()


def signature_signer_mail(*, signature_id: int) -> str:
    """The email a sign POST owes its signer, decided here rather than in the request: the first
    confirmation if it was never sent, otherwise a repeat notice (a fresh link to a pending
    signer, "already signed" to a confirmed one) at most once per SIGNATURE_NOTICE_INTERVAL.
    Returns what was done."""
    if signature_confirmation_send(signature_id=signature_id):
        return "confirmation"
    signature = Signature.objects.filter(pk=signature_id).first()
    if signature is None:
        return "nothing"
    if signature.status == Signature.Status.PENDING and signature.confirmation_sent_at is None:
        # Its first confirmation is another worker's to send (or the sweep's): not a repeat.
        return "nothing"
    return "notice" if signature_notice_request(signature=signature) else "nothing"


def signature_notice_request(*, signature: Signature, now: datetime | None = None) -> bool:
    """Email an existing signer again (a fresh link, or "you already signed"), at most once per
    SIGNATURE_NOTICE_INTERVAL, so repeated form posts cannot flood someone's inbox."""
    now = now or timezone.now()
    cutoff = now - settings.SIGNATURE_NOTICE_INTERVAL
    claimed = (
        Signature.objects.filter(pk=signature.pk)
        .exclude(status__in=(Signature.Status.REJECTED, Signature.Status.SPAM))
        .filter(Q(notice_at__isnull=True) | Q(notice_at__lte=cutoff))
        .update(notice_at=now)
    )
    if claimed:
        from petitions.tasks import signature_send_notice

        enqueue_after_commit(signature_send_notice, signature.pk)
    return bool(claimed)


def signature_new_link_request(*, petition: Petition, email: str) -> None:
    """Someone lost or broke their link and typed their address: have them mailed if they signed.

    Only queues a task, the same one for any address: looking the address up here would make
    the page answer more slowly for a signer than for anyone else, and so tell who signed.
    """
    from petitions.tasks import signature_send_new_link

    enqueue_after_commit(signature_send_new_link, petition.pk, email)


def signature_new_link_send(*, petition_id: int, email: str) -> bool:
    """The lookup signature_new_link_request leaves to a task: mail the signer of `petition_id`
    with this address a fresh link (or "already signed"), rate limited per signature like any
    notice. Returns whether a notice was allowed."""
    signature = _signature_of(petition_id=petition_id, canonical_email=email_canonicalize(email))
    if signature is None:
        return False
    return signature_notice_request(signature=signature)


def signature_confirmation_send(*, signature_id: int) -> bool:
    """Send the first confirmation email for a signature, once.

    A worker claims the send with a conditional UPDATE (a lease that a dead worker's successor may
    take over after SIGNATURE_SEND_LEASE) and marks it sent afterwards, so duplicated or redelivered
    tasks do not send twice and a lost one is found by the sweep.
    """
    now = timezone.now()
    lease_cutoff = now - settings.SIGNATURE_SEND_LEASE
    claimed = (
        Signature.objects.filter(
            pk=signature_id,
            status=Signature.Status.PENDING,
            confirmation_sent_at__isnull=True,
            confirmation_attempts__lt=MAX_CONFIRMATION_ATTEMPTS,
        )
        .filter(
            Q(confirmation_claimed_at__isnull=True) | Q(confirmation_claimed_at__lt=lease_cutoff)
        )
        .update(confirmation_claimed_at=now, confirmation_attempts=F("confirmation_attempts") + 1)
    )
    if not claimed:
        return False
    signature = Signature.objects.select_related("petition").get(pk=signature_id)
    try:
        emails.confirmation_email_send(signature=signature)
    except Exception:
        # Give the claim back so the retry (or the sweep) can send at once.
        Signature.objects.filter(pk=signature_id, confirmation_claimed_at=now).update(
            confirmation_claimed_at=None
        )
        raise
    Signature.objects.filter(pk=signature_id).update(confirmation_sent_at=timezone.now())
    return True


def signature_notice_send(*, signature_id: int) -> str:
    """Send the repeat email that signature_notice_request allowed: a fresh confirmation link to
    a pending signer, an "already signed" note to a confirmed one. Returns what was sent."""
    signature = Signature.objects.select_related("petition").filter(pk=signature_id).first()
    if signature is None or signature.status in (Signature.Status.REJECTED, Signature.Status.SPAM):
        return "nothing"
    if signature.status == Signature.Status.PENDING:
        emails.confirmation_email_send(signature=signature)
        Signature.objects.filter(pk=signature_id, confirmation_sent_at__isnull=True).update(
            confirmation_sent_at=timezone.now()
        )
        return "confirmation"
    emails.already_signed_email_send(signature=signature)
    return "already_signed"


def signature_confirm(
    *,
    signature_id: int,
    name: str | None = None,
    display: str | None = None,
    now: datetime | None = None,
) -> Signature:
    """Confirm a signature from its emailed link, with the name and display the mailbox owner
    chose on the confirmation page. Confirming twice changes nothing.

    The count itself is raised by the batched counter, not here. Raises Signature.DoesNotExist
    when the signature is gone, even half-way: its signer may withdraw it (or retention delete
    it) while the confirmation is being posted.
    """
    now = now or timezone.now()
    signature = Signature.objects.select_related("petition").get(pk=signature_id)
    if signature.status != Signature.Status.PENDING:
        return signature
    if not signature.petition.is_accepting_signatures(now=now):
        raise PetitionNotOpen(signature.petition)
    changes: dict[str, object] = {"status": Signature.Status.CONFIRMED, "confirmed_at": now}
    if name:
        changes["name"] = name
    if display:
        changes["display"] = display
    changes.update(signature_place_resolve(signature=signature))
    Signature.objects.filter(pk=signature_id, status=Signature.Status.PENDING).update(**changes)
    signature.refresh_from_db()
    return signature


def signature_place_resolve(*, signature: Signature) -> dict[str, object]:
    """The place fields a confirmed signature gets from its country and postal code, to save.

    Where the signer lives routes their signature to local and state targets. An unknown postal
    code is kept and flagged for staff; it gives no place. Shared by the signer's own
    confirmation and a moderator's (petitions.services.moderation), so both route alike.
    """
    changes: dict[str, object] = {"region": "", "locality": "", "postal_code_known": None}
    if signature.postal_code:
        place = postal_code_resolve(
            country=signature.country.code or "", postal_code=signature.postal_code
        )
        changes["postal_code_known"] = place is not None
        if place is not None:
            changes["region"], changes["locality"] = place.region, place.locality
            if not signature.country:
                changes["country"] = place.country
    return changes


def signature_confirmations_resend_lost(
    *, older_than_seconds: int = 120, limit: int = 20_000
) -> int:
    """Re-enqueue confirmations that were never sent (a broker that lost the task, a worker that
    died holding the lease, a request that could not queue while Redis was away). Returns how
    many were enqueued.

    The limit is high: a Redis outage during a viral surge leaves every signature of those
    seconds to this sweep, and a thousand a minute (the old limit) took over five minutes to
    catch up on the bench's fault run."""
    now = timezone.now()
    ids = list(
        Signature.objects.filter(
            status=Signature.Status.PENDING,
            confirmation_sent_at__isnull=True,
            confirmation_attempts__lt=MAX_CONFIRMATION_ATTEMPTS,
            created_at__lt=now - timedelta(seconds=older_than_seconds),
        )
        .filter(
            Q(confirmation_claimed_at__isnull=True)
            | Q(confirmation_claimed_at__lt=now - settings.SIGNATURE_SEND_LEASE)
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    from petitions.tasks import signature_send_confirmation

    for signature_id in ids:
        signature_send_confirmation.delay(signature_id)
    return len(ids)
