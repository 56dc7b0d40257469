"""Confirmations leave the outbox in batches: one query reads a batch's signatures, each email
still says what its signature's state calls for, and each send is recorded on its own."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mechanisms import outbox
from mechanisms.models import OutboundEmail
from petitions.models import Signature
from petitions.services import signing
from tests.factories import PetitionFactory

pytestmark = pytest.mark.django_db


def _signature_reads(queries: CaptureQueriesContext) -> int:
    table = Signature._meta.db_table
    return sum(
        1
        for query in queries.captured_queries
        if query["sql"].startswith("SELECT") and re.search(rf'FROM "{table}"', query["sql"])
    )


def test_a_batch_of_confirmations_reads_its_signatures_in_one_query(mailoutbox) -> None:
    petition = PetitionFactory()
    ids = [
        signing.signature_create(petition=petition, name=f"Signer {n}", email=f"s{n}@example.org")
        for n in range(6)
    ]
    # One confirmed before its email went: it is owed "you already signed" instead.
    Signature.objects.filter(pk=ids[1]).update(status="confirmed", confirmed_at=timezone.now())
    # One withdrawn (anonymized) meanwhile: nothing goes.
    Signature.objects.filter(pk=ids[2]).update(anonymized_at=timezone.now(), email="")
    assert mailoutbox == []  # the on-commit sends never ran in this test: all six are owed

    with CaptureQueriesContext(connection) as queries:
        outcome = outbox.emails_dispatch(seconds=60)

    assert (outcome.sent, outcome.dropped, outcome.batches) == (5, 1, 1)
    assert _signature_reads(queries) == 1
    by_address = {message.to[0]: message for message in mailoutbox}
    assert sorted(by_address) == [f"s{n}@example.org" for n in (0, 1, 3, 4, 5)]
    assert "/confirm/" in by_address["s0@example.org"].body
    assert "/confirm/" not in by_address["s1@example.org"].body
    # Each link's time is kept (retention reads it), for the pending ones only.
    sent_at = dict(Signature.objects.values_list("pk", "confirmation_sent_at"))
    assert all(sent_at[pk] is not None for pk in (ids[0], ids[3], ids[4], ids[5]))
    assert sent_at[ids[1]] is None
    states = dict(OutboundEmail.objects.values_list("ref__signature", "state"))
    assert states[ids[2]] == OutboundEmail.State.DROPPED
