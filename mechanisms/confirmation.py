"""The confirmation protocol petitions and letters share: the emails a signer is owed, through
the outbox.

Signing (again or not) owes the signer one email per signature and SIGNATURE_NOTICE_INTERVAL,
written the same way whether the signature is new, so a response says nothing about the address;
its builder decides, when it is sent, between the confirmation link (pending) and "you already
signed" (confirmed), and sends nothing for a rejected or withdrawn one. A moderator's resend owes
one more, whatever the interval. Each sent link's time is kept (confirmation_sent_at), for
retention to delete a pending signature whose last link expired long ago.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from django.core.mail import EmailMultiAlternatives
from django.db import connections, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from mechanisms import outbox
from mechanisms.bounces import UNDELIVERABLE, BounceReport, bounce_rule_register
from mechanisms.mail import EmailKind
from mechanisms.model_fields import field_column, field_max_length, model_field
from mechanisms.models import ModeratedSignature, OutboundEmail
from mechanisms.upsert import row_insert_or_find, upsert_sql

# A signature's status before and after it is confirmed, in every app that has signatures.
PENDING = "pending"
CONFIRMED = "confirmed"

# A petition's or a letter's signature model: generic, so callers keep their own type.
SignatureT = TypeVar("SignatureT", bound=ModeratedSignature)


@dataclass(frozen=True)
class ConfirmationEmails:
    # Owed by signing, new or again: the link while pending, "already signed" once confirmed.
    signer: EmailKind
    # Owed by a moderator's "send the confirmation again".
    resent: EmailKind


def confirmation_emails(
    *,
    name: str,
    model: type[SignatureT],
    message: Callable[[SignatureT], EmailMultiAlternatives | None],
    related: Iterable[str] = (),
) -> ConfirmationEmails:
    """Declare the two confirmation kinds of one signature model. `message` renders what the
    signature's state calls for, or None."""
    related = tuple(related)

    def live(ids: Iterable[object]) -> QuerySet[SignatureT]:
        # An undeliverable signature (its link hard-bounced) is sent nothing again, whoever asks:
        # the row is written as for anyone, and dropped here.
        return model._default_manager.select_related(*related).filter(
            pk__in=list(ids), anonymized_at__isnull=True, undeliverable_at__isnull=True
        )

    def prepare(emails: Sequence[OutboundEmail]) -> None:
        # A batch of confirmations, read in one query when the batch starts (seconds before
        # each is sent, rather than a query each).
        found = {s.pk: s for s in live(email.ref.get("signature") for email in emails)}
        for email in emails:
            email.prepared = {"signature": found.get(email.ref.get("signature"))}

    def build(email: OutboundEmail) -> EmailMultiAlternatives | None:
        if email.prepared is not None:
            signature = email.prepared["signature"]
        else:
            signature = live([email.ref.get("signature")]).first()
        return None if signature is None else message(signature)

    def sent(email: OutboundEmail) -> None:
        # One plain UPDATE per confirmation sent: the ORM's compiling of it cost as much CPU as
        # the rest of recording the send (bench profile).
        connection = connections[router.db_for_write(model)]
        quote = connection.ops.quote_name
        sent_at = model_field(model=model, name="confirmation_sent_at")

        def column(name: str) -> str:
            return quote(field_column(field=model_field(model=model, name=name)))

        # Only quoted names from the model's own metadata are interpolated; values are parameters.
        statement = (
            f"UPDATE {quote(model._meta.db_table)} SET {column('confirmation_sent_at')} = %s "  # noqa: S608
            f"WHERE {column('id')} = %s AND {column('status')} = %s"
        )
        with connection.cursor() as cursor:
            cursor.execute(
                statement,
                [
                    sent_at.get_db_prep_save(timezone.now(), connection),
                    email.ref.get("signature"),
                    PENDING,
                ],
            )

    def bounced(email: OutboundEmail, outcome: str, report: BounceReport) -> str:
        if outcome != UNDELIVERABLE:
            return ""
        marked = model._default_manager.filter(
            pk=email.ref.get("signature"),
            status=PENDING,
            undeliverable_at__isnull=True,
            confirmation_sent_at__isnull=False,
        ).update(undeliverable_at=timezone.now())
        return (
            gettext("The pending signature is undeliverable: no link goes to it again.")
            if marked
            else ""
        )

    # Anyone can type a stranger's address into a sign form: unsolicited, and so counted against
    # the recipient's daily budget; the confirmation itself carries no name.
    emails = ConfirmationEmails(
        signer=EmailKind(
            f"{name}_signer",
            build=build,
            cooldown="SIGNATURE_NOTICE_INTERVAL",
            unsolicited=True,
            after_send=sent,
            prepare=prepare,
        ),
        resent=EmailKind(
            f"{name}_confirmation_resent",
            build=build,
            unsolicited=True,
            after_send=sent,
            prepare=prepare,
        ),
    )
    bounce_rule_register(kind=emails.signer, rule=bounced)
    bounce_rule_register(kind=emails.resent, rule=bounced)
    return emails


# More that a petition or a letter records with a signature, in SQL (a sponsor's opt-in): given
# `signed`, a FROM item with the signature's `id` and `created_at` (of the row just inserted, or
# of the one found), one data-modifying statement and its parameters.
AlsoRecorded = Callable[[str], tuple[str, Sequence[Any]]]


def signature_record(
    *,
    signature: ModeratedSignature,
    campaign: str,
    constraint: str,
    emails: ConfirmationEmails,
    now: datetime,
    also: AlsoRecorded | None = None,
    known: Collection[str] = (),
) -> int:
    """The sign step petitions and letters share: check the new signature's fields, then write
    the signature, whatever `also` records with it, and the email the signer is owed, as one
    INSERT that finds the row already there for that person instead of failing
    (mechanisms.upsert, on the unique `constraint`). The same work whether the address is new,
    pending or confirmed. Returns the signature's id.

    On PostgreSQL all of it is one statement, run on its own (autocommit: no BEGIN or COMMIT to
    wait for): the sign POST's only write. Elsewhere (SQLite, for development) the same
    statements one by one, in a transaction.

    Uniqueness is the database's job, done by the INSERT itself, and the campaign (the foreign
    key named `campaign`) was just loaded: validating it would read it again on the hot path.
    So were the rows of the foreign keys named in `known` (read with the campaign).
    """
    signature.full_clean(
        exclude=[campaign, *known], validate_unique=False, validate_constraints=False
    )
    using = router.db_for_write(type(signature))
    connection = connections[using]
    if connection.vendor != "postgresql" or router.db_for_write(OutboundEmail) != using:
        return _signature_record_in_steps(
            signature=signature, constraint=constraint, emails=emails, now=now, also=also
        )
    statement, params = _signature_record_sql(
        signature=signature,
        constraint=constraint,
        emails=emails,
        now=now,
        also=also,
        connection=connection,
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        signature_id, email_id = cursor.fetchone()
    outbox.send_soon([email_id])
    return int(signature_id)


def _signature_record_sql(
    *,
    signature: ModeratedSignature,
    constraint: str,
    emails: ConfirmationEmails,
    now: datetime,
    also: AlsoRecorded | None,
    connection: BaseDatabaseWrapper,
) -> tuple[str, list[Any]]:
    """One statement (a data-modifying WITH) that does what _signature_record_in_steps does:
    the signature's INSERT or find, `also`, and the outbox row email_enqueue would write, about
    the signature whose id only the database knows until then."""
    signed, signed_params = upsert_sql(
        instance=signature,
        constraint=constraint,
        connection=connection,
        returning=["created_at"],
    )
    row = outbox.email_row(
        kind=emails.signer,
        to=signature.email,
        language=signature.language,
        about="",
        ref={},
        now=now,
    )
    about_length = field_max_length(model=OutboundEmail, name="about")
    queued, queued_params = upsert_sql(
        instance=row,
        constraint=outbox.ONCE,
        connection=connection,
        source="signed",
        computed={
            # about_key(about=signature id) and ref={"signature": id}, as email_enqueue has them.
            "about": (
                f"LEFT(CAST(signed.id AS varchar) || %s, {about_length})",
                [outbox.about_period(kind=emails.signer, now=now)],
            ),
            "ref": ("jsonb_build_object('signature', signed.id)", []),
        },
    )
    parts = [f"signed (id, created_at) AS ({signed})"]
    params = [*signed_params]
    if also is not None:
        also_sql, also_params = also("signed")
        parts.append(f"also_recorded AS ({also_sql})")
        params += also_params
    parts.append(f"queued (id) AS ({queued})")
    params += queued_params
    # Each part runs once, whether or not the final SELECT reads it. The parts are built above
    # from the models' quoted names and placeholders.
    statement = f"WITH {', '.join(parts)} SELECT signed.id, queued.id FROM signed, queued"  # noqa: S608
    return statement, params


def _signature_record_in_steps(
    *,
    signature: ModeratedSignature,
    constraint: str,
    emails: ConfirmationEmails,
    now: datetime,
    also: AlsoRecorded | None,
) -> int:
    model = type(signature)
    connection = connections[router.db_for_write(model)]
    with transaction.atomic(using=connection.alias):
        signature_id = row_insert_or_find(instance=signature, constraint=constraint)
        if also is not None:
            quote = connection.ops.quote_name
            pk = quote(field_column(field=model._meta.pk))
            created_at = quote(field_column(field=model_field(model=model, name="created_at")))
            # The id is an integer the database just returned; names come from the model.
            also_sql, also_params = also(
                f"(SELECT {pk} AS id, {created_at} AS created_at "  # noqa: S608
                f"FROM {quote(model._meta.db_table)} WHERE {pk} = {int(signature_id)})"
            )
            with connection.cursor() as cursor:
                cursor.execute(also_sql, also_params)
        confirmation_request(
            emails=emails,
            signature_id=signature_id,
            email=signature.email,
            language=signature.language,
            now=now,
        )
    return signature_id


def confirmation_request(
    *,
    emails: ConfirmationEmails,
    signature_id: int,
    email: str,
    language: str,
    now: datetime | None = None,
) -> None:
    """Owe a signer the email their signing (again) calls for, in the caller's transaction."""
    outbox.email_enqueue(
        kind=emails.signer,
        to=email,
        language=language,
        about=signature_id,
        ref={"signature": signature_id},
        now=now,
    )


def confirmations_resend(
    *, emails: ConfirmationEmails, signatures: Iterable[ModeratedSignature], now: datetime
) -> None:
    """Owe each of these (pending) signers their link once more: a moderator asked."""
    for signature in signatures:
        outbox.email_enqueue(
            kind=emails.resent,
            to=signature.email,
            language=signature.language,
            about=f"{signature.pk}@{now.isoformat()}",
            ref={"signature": signature.pk},
            now=now,
        )
