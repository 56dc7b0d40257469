"""Signing and confirming: a pending signature in one INSERT, the email it calls for in the
outbox, and the confirmation from the emailed link."""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connections, router, transaction
from django.utils import timezone

from accounts.models import Organization
from mechanisms import metrics, outbox
from mechanisms.addresses import email_canonicalize
from mechanisms.confirmation import confirmation_request, signature_record
from petitions import emails, webhook_events
from petitions.jurisdiction import postal_code_resolve
from petitions.models import Petition, Signature, SponsorOptIn
from petitions.questions import answers_validate
from petitions.services.consent import consent_wording_ids

logger = logging.getLogger(__name__)


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
    consent_wordings: Mapping[int, str] | None = None,
    source: str = "",
    language: str = settings.LANGUAGE_CODE,
    ip_hash: str = "",
    flags: Collection[str] = (),
    answers: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> int:
    """Record a pending signature and have the signer mailed; returns the signature's id.

    The request does the same work whatever the address: one statement (on PostgreSQL;
    mechanisms.confirmation.signature_record) whose INSERT, for an address that has signed this
    petition (same canonical email), finds the existing row instead (mechanisms.upsert), with
    the same opt-ins and one outbox row written the same way. The
    email's builder, not the request, tells the cases apart: a new signer gets the confirmation,
    a repeat a fresh link or an "already signed" note, rate limited. The response time therefore
    says nothing about the address.

    `sponsor_opt_ins` are ids of sponsoring organizations the signer agreed to hear from; they are
    recorded with a new signature only (a repeat cannot change what the first one agreed to),
    each with the words the signer saw for it (`consent_wordings`, by organization id).

    `source` is the slug of the sponsor whose share link the signer came through; kept only if
    it names one of the petition's sponsors (one query, for those signers only), and like the
    opt-ins, only with a new signature.

    `answers` answer the petition's own questions, by question key: checked against the
    snapshot the petition was read with (petitions.questions), and stored with that snapshot, so
    they keep their meaning whatever the questions become. Like the comment, a repeat keeps the
    first signature's answers.

    `flags` are abuse signals (accounts.models.AbuseFlag codes): a flagged signature is held for
    a moderator, uncounted and unshown, yet mailed its confirmation like any other, so the signer
    sees nothing different. A repeat keeps the first signature's flags and everything else.
    """
    if not petition.is_accepting_signatures(now=now):
        raise PetitionNotOpen(petition)
    now = now or timezone.now()
    # Without questions, nothing to check and nothing read: the snapshot came with the petition.
    stored_answers = (
        answers_validate(question_set=petition.question_set, answers=answers or {})
        if petition.question_set_id is not None or answers
        else {}
    )
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
        source_id=_sponsor_id(petition=petition, slug=source) if source else None,
        question_set_id=petition.question_set_id,
        answers=stored_answers,
    )

    wording_ids = (
        consent_wording_ids(wordings=consent_wordings, language=language)
        if sponsor_opt_ins and consent_wordings
        else {}
    )

    def opt_ins(signed: str) -> tuple[str, list[Any]]:
        return _sponsor_opt_ins_sql(
            signed=signed,
            created_at=now,
            organization_ids=sponsor_opt_ins,
            wording_ids=wording_ids,
        )

    return signature_record(
        signature=signature,
        campaign="petition",
        constraint="petitions_signature_one_per_person",
        emails=emails.CONFIRMATIONS,
        now=now,
        also=opt_ins if sponsor_opt_ins else None,
        # The question snapshot came with the petition: no need to read it again.
        known=("question_set",),
    )


def _sponsor_id(*, petition: Petition, slug: str) -> int | None:
    return petition.sponsors.filter(slug=slug).values_list("pk", flat=True).first()


def signer_email_request(
    *, signature_id: int, email: str, language: str, now: datetime | None = None
) -> None:
    """Owe the signer the email their signing (again) calls for: the confirmation link, or
    "already signed", at most once per SIGNATURE_NOTICE_INTERVAL (mechanisms.confirmation)."""
    confirmation_request(
        emails=emails.CONFIRMATIONS,
        signature_id=signature_id,
        email=email,
        language=language,
        now=now,
    )


def _sponsor_opt_ins_sql(
    *,
    signed: str,
    created_at: datetime,
    organization_ids: Collection[int],
    wording_ids: Mapping[int, int],
) -> tuple[str, list[Any]]:
    """The statement that records opt-ins for the signature in `signed` (mechanisms.confirmation)
    if this request created it, and runs alike for a repeat: the row found then has an older
    `created_at`, and nothing is inserted. Each opt-in points at its wording, when known."""
    connection = connections[router.db_for_write(SponsorOptIn)]
    quote = connection.ops.quote_name
    timestamp = Signature._meta.get_field("created_at").get_db_prep_save(created_at, connection)
    ids = sorted({int(pk) for pk in organization_ids})
    opt_in = quote(SponsorOptIn._meta.db_table)
    organizations = quote(Organization._meta.db_table)
    # (organization, wording) pairs, as rows SQLite reads too; the casts type a NULL wording.
    pairs = " UNION ALL ".join(
        ["SELECT CAST(%s AS BIGINT) AS organization, CAST(%s AS BIGINT) AS wording"] * len(ids)
    )
    # Only quoted table names, the caller's FROM item and placeholders are interpolated; values
    # are parameters.
    statement = (
        f"INSERT INTO {opt_in} (signature_id, organization_id, created_at, wording_id) "  # noqa: S608
        f"SELECT s.id, o.id, %s, chosen.wording FROM {signed} s, {organizations} o "
        f"JOIN ({pairs}) chosen ON chosen.organization = o.id "
        "WHERE s.created_at = %s ON CONFLICT DO NOTHING"
    )
    values = [value for pk in ids for value in (pk, wording_ids.get(pk))]
    return statement, [timestamp, *values, timestamp]


def signature_notice_request(*, signature: Signature) -> None:
    """Mail an existing signer again (a fresh link from an expired one's page), within the same
    limit of one email per signature and SIGNATURE_NOTICE_INTERVAL as signing again."""
    with transaction.atomic():
        signer_email_request(
            signature_id=signature.pk, email=signature.email, language=signature.language
        )


def signature_new_link_request(
    *, petition: Petition, email: str, language: str = settings.LANGUAGE_CODE
) -> None:
    """Someone lost or broke their link and typed their address: have them mailed if they signed.

    Only writes an outbox row, the same for any address: looking the address up here would make
    the page answer more slowly for a signer than for anyone else, and so tell who signed. The
    builder looks it up in the worker (petitions.emails.NEW_LINK).
    """
    with transaction.atomic():
        outbox.email_enqueue(
            kind=emails.NEW_LINK,
            to=email,
            language=language,
            about=petition.pk,
            ref={"petition": petition.pk},
        )


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
    with transaction.atomic():
        confirmed = Signature.objects.filter(
            pk=signature_id, status=Signature.Status.PENDING
        ).update(**changes)
        signature.refresh_from_db()
        # Held for a moderator: its details wait for their approval (moderation.py sends them).
        if confirmed and not signature.held:
            webhook_events.signature_confirmed(signature=signature)
    metrics.signatures_counted(campaign="petition", event="confirmed", count=confirmed)
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
