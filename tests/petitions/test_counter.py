from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from petitions import services, tasks
from petitions.models import Petition, Signature
from tests.factories import PetitionFactory, SignatureFactory

pytestmark = pytest.mark.django_db


def _count(petition: Petition) -> int:
    petition.refresh_from_db()
    return petition.signature_count


def test_count_includes_confirmed_signatures_only() -> None:
    petition = PetitionFactory()
    SignatureFactory.create_batch(3, petition=petition, confirmed=True)
    SignatureFactory.create_batch(2, petition=petition)  # pending
    SignatureFactory(petition=petition, status=Signature.Status.REJECTED)
    assert services.petition_counts_update() == {petition.pk: 3}
    assert _count(petition) == 3


def test_counter_adds_only_what_was_confirmed_since_its_last_run() -> None:
    petition = PetitionFactory()
    SignatureFactory.create_batch(2, petition=petition, confirmed=True)
    services.petition_counts_update()
    assert services.petition_counts_update() == {}
    pending = SignatureFactory(petition=petition)
    services.signature_confirm(signature_id=pending.pk)
    assert services.petition_counts_update() == {petition.pk: 1}
    assert _count(petition) == 3


def test_counter_issues_one_update_per_petition_not_per_signature() -> None:
    first, second = PetitionFactory(), PetitionFactory()
    SignatureFactory.create_batch(30, petition=first, confirmed=True)
    SignatureFactory.create_batch(5, petition=second, confirmed=True)
    with CaptureQueriesContext(connection) as queries:
        services.petition_counts_update()
    petition_updates = [
        q["sql"] for q in queries if q["sql"].startswith('UPDATE "petitions_petition"')
    ]
    assert len(petition_updates) == 2
    assert (_count(first), _count(second)) == (30, 5)


def test_counter_works_through_batches() -> None:
    petition = PetitionFactory()
    SignatureFactory.create_batch(7, petition=petition, confirmed=True)
    assert services.petition_counts_update(batch_size=3) == {petition.pk: 7}
    assert _count(petition) == 7


def test_recount_repairs_drift() -> None:
    petition = PetitionFactory()
    SignatureFactory.create_batch(4, petition=petition, confirmed=True)
    services.petition_counts_update()
    Petition.objects.filter(pk=petition.pk).update(signature_count=99)
    result = services.petition_recount(petition_id=petition.pk)
    assert (result.before, result.after, result.drift) == (99, 4, 95)
    assert _count(petition) == 4


def test_recount_leaves_uncounted_signatures_to_the_counter() -> None:
    petition = PetitionFactory()
    SignatureFactory.create_batch(2, petition=petition, confirmed=True)
    services.petition_counts_update()
    SignatureFactory(petition=petition, confirmed=True)  # confirmed since the counter ran
    services.petition_recount(petition_id=petition.pk)
    assert _count(petition) == 2
    services.petition_counts_update()
    assert _count(petition) == 3  # added once, not twice


def test_nightly_task_recounts_every_petition_and_catches_up() -> None:
    drifted, fine = PetitionFactory(), PetitionFactory()
    SignatureFactory.create_batch(2, petition=drifted, confirmed=True)
    SignatureFactory(petition=fine, confirmed=True)
    services.petition_counts_update()
    Petition.objects.filter(pk=drifted.pk).update(signature_count=0)
    SignatureFactory(petition=fine, confirmed=True)
    assert tasks.petition_recount_all() == 1
    assert (_count(drifted), _count(fine)) == (2, 2)


def test_recount_command_prints_progress_and_a_summary() -> None:
    drifted = PetitionFactory(slug="drifted")
    PetitionFactory(slug="fine")
    SignatureFactory.create_batch(3, petition=drifted, confirmed=True)
    services.petition_counts_update()
    Petition.objects.filter(pk=drifted.pk).update(signature_count=1)
    SignatureFactory(petition=drifted, confirmed=True)
    out, err = io.StringIO(), io.StringIO()
    call_command("recount", "drifted", "fine", "missing", stdout=out, stderr=err)
    output = out.getvalue()
    # The counter first adds the one newly confirmed (1 -> 2), then the recount fixes the drift.
    assert "drifted: 2 -> 4 (corrected)" in output
    assert "fine: 0 (correct)" in output
    assert "Recounted 2 petition(s): 1 corrected, 1 already correct" in output
    assert "1 newly confirmed signature(s) added first" in output
    assert "1 slug(s) not found" in output
    assert "missing" in err.getvalue()
    assert _count(drifted) == 4
