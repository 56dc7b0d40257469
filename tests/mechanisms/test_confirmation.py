"""The sign step petitions and letters share (mechanisms.confirmation.signature_record): on
PostgreSQL one statement writes the signature, a sponsor's opt-ins and the signer's outbox row;
elsewhere the same statements run one by one in a transaction. Both must write exactly what
outbox.email_enqueue writes, for a new signer and for a repeat."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from unittest import mock

import pytest
from django.db import connection
from django.utils import timezone

from letters import emails as letter_emails
from letters.services import individual_signature_create
from mechanisms import outbox
from mechanisms.confirmation import ConfirmationEmails
from mechanisms.models import OutboundEmail
from petitions import emails as petition_emails
from petitions.models import SponsorOptIn
from petitions.services import signature_create
from tests.factories import OpenLetterFactory, OrganizationFactory, PetitionFactory

pytestmark = pytest.mark.django_db

# The columns email_enqueue decides (the rest are the model's defaults: pending, no attempts).
_COLUMNS = [f.attname for f in OutboundEmail._meta.local_concrete_fields if not f.primary_key]


Service = Callable[..., int]


@pytest.fixture(params=["one statement", "in steps"])
def write(request) -> Callable[..., int]:
    """Calls a signing service on PostgreSQL's path, then on the portable one (what SQLite runs:
    chosen by the connection's vendor, seen as another one only for the call)."""

    def call(service: Service, **kwargs: Any) -> int:
        if request.param == "one statement":
            return service(**kwargs)
        with mock.patch.object(connection, "vendor", "portable"):
            return service(**kwargs)

    return call


def _enqueued(*, emails: ConfirmationEmails, signature_id: int, to: str, now: datetime) -> dict:
    """The row outbox.email_enqueue writes for this signer, as the columns it sets."""
    row = outbox.email_row(
        kind=emails.signer,
        to=to,
        language="en",
        about=signature_id,
        ref={"signature": signature_id},
        now=now,
    )
    return {column: getattr(row, column) for column in _COLUMNS}


def _stored(email_id: int) -> dict[str, Any]:
    return OutboundEmail.objects.filter(pk=email_id).values(*_COLUMNS).get()


def _only_email_of(signature_id: int) -> int:
    (email_id,) = OutboundEmail.objects.filter(ref__signature=signature_id).values_list(
        "pk", flat=True
    )
    return email_id


def test_a_petition_signature_and_its_email_are_written_as_email_enqueue_would(write) -> None:
    petition = PetitionFactory()
    now = timezone.now()
    signature_id = write(
        signature_create, petition=petition, name="Maria Rossi", email="Maria@Example.org", now=now
    )
    assert _stored(_only_email_of(signature_id)) == _enqueued(
        emails=petition_emails.CONFIRMATIONS,
        signature_id=signature_id,
        to="Maria@Example.org",
        now=now,
    )


def test_a_repeat_finds_the_signature_and_its_email_in_the_same_period(write) -> None:
    petition = PetitionFactory()
    now = timezone.now()
    first = write(
        signature_create, petition=petition, name="Maria", email="maria@example.org", now=now
    )
    email_id = _only_email_of(first)
    again = write(
        signature_create,
        petition=petition,
        name="Someone else",
        email="Maria+x@example.org",
        now=now,
    )
    assert again == first
    assert _only_email_of(first) == email_id
    # The first signature as it was, and its email still as it was enqueued.
    assert petition.signatures.get().name == "Maria"
    assert _stored(email_id)["recipient"] == "maria@example.org"

    # The next notice period owes the repeat one more email.
    later = now + petition_emails.CONFIRMATIONS.signer.cooldown_seconds * timedelta(seconds=1)
    write(signature_create, petition=petition, name="Maria", email="maria@example.org", now=later)
    emails = OutboundEmail.objects.filter(ref__signature=first).order_by("pk")
    assert [e.about for e in emails] == [
        outbox.about_key(kind=petition_emails.CONFIRMATIONS.signer, about=first, now=moment)
        for moment in (now, later)
    ]


def test_a_letter_signature_and_its_email_are_written_as_email_enqueue_would(write) -> None:
    letter = OpenLetterFactory(individuals_may_sign=True)
    now = timezone.now()
    signature_id = write(
        individual_signature_create,
        letter=letter,
        name="Dana Whitfield",
        email="dana@example.org",
        now=now,
    )
    assert _stored(_only_email_of(signature_id)) == _enqueued(
        emails=letter_emails.CONFIRMATIONS,
        signature_id=signature_id,
        to="dana@example.org",
        now=now,
    )


def test_opt_ins_are_recorded_with_a_new_signature_only(write) -> None:
    sponsors = [OrganizationFactory(), OrganizationFactory()]
    petition = PetitionFactory(offer_sponsor_opt_in=True)
    petition.sponsors.set(sponsors)
    ids = [org.pk for org in sponsors]
    first = write(
        signature_create,
        petition=petition,
        name="Maria",
        email="maria@example.org",
        sponsor_opt_ins=ids[:1],
    )
    assert set(SponsorOptIn.objects.values_list("signature_id", "organization_id")) == {
        (first, ids[0])
    }
    # A repeat cannot change what the first signature agreed to.
    again = write(
        signature_create,
        petition=petition,
        name="Maria",
        email="maria@example.org",
        sponsor_opt_ins=ids,
    )
    assert again == first
    assert SponsorOptIn.objects.count() == 1
    assert _only_email_of(first)
