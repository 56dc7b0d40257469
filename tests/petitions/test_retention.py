"""Retention: SIGNATURE_RETENTION_DAYS after a petition closed, its signers' personal data goes;
counts, places and dates stay."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.forms.models import model_to_dict
from django.test import override_settings
from django.utils import timezone

from accounts.personal_data import personal_data_anonymize_expired
from accounts.tasks import personal_data_anonymize_expired as anonymize_task
from petitions.models import Petition, Signature, SponsorOptIn
from tests.factories import OrganizationFactory, PetitionFactory, SignatureFactory

pytestmark = pytest.mark.django_db


def _closed(days_ago: int, **fields) -> Petition:
    return PetitionFactory(
        status=Petition.Status.CLOSED,
        closed_at=timezone.now() - timedelta(days=days_ago, minutes=1),
        **fields,
    )


def _signer(petition: Petition, **fields) -> Signature:
    signature = SignatureFactory(
        petition=petition,
        name="Maria Rossi",
        email="Maria.Rossi+petitions@example.org",
        postal_code="94612",
        country="US",
        region="CA",
        locality="Oakland",
        display=Signature.Display.FULL,
        comment="My street has three of these cameras.",
        consent_updates=True,
        ip_hash="a" * 64,
        confirmed=True,
        counted=True,
        **fields,
    )
    SponsorOptIn.objects.create(signature=signature, organization=OrganizationFactory())
    return signature


def _snapshot(signature: Signature) -> dict:
    signature.refresh_from_db()
    return model_to_dict(signature, exclude=[]) | {
        "created_at": signature.created_at,
        "confirmed_at": signature.confirmed_at,
        "anonymized_at": signature.anonymized_at,
        "canonical_email": signature.canonical_email,
        "ip_hash": signature.ip_hash,
        "counted": signature.counted,
    }


@pytest.mark.parametrize(
    ("field", "after"),
    [
        ("name", ""),
        ("email", ""),
        ("canonical_email", ""),
        ("postal_code", ""),
        ("comment", ""),
        ("ip_hash", ""),
        ("display", Signature.Display.WITHHELD),
        ("consent_updates", False),
    ],
)
def test_expired_signature_loses_its_personal_data(field: str, after: object) -> None:
    signature = _signer(_closed(181))
    before = getattr(signature, field)
    assert before != after

    personal_data_anonymize_expired()

    signature.refresh_from_db()
    assert getattr(signature, field) == after


@pytest.mark.parametrize(
    "field",
    [
        "status",
        "counted",
        "country",
        "region",
        "locality",
        "created_at",
        "confirmed_at",
        "language",
    ],
)
def test_expired_signature_keeps_what_counts_and_places_need(field: str) -> None:
    signature = _signer(_closed(181))
    before = getattr(signature, field)

    personal_data_anonymize_expired()

    signature.refresh_from_db()
    assert getattr(signature, field) == before


def test_expired_signature_is_marked_and_its_opt_ins_are_deleted() -> None:
    signature = _signer(_closed(181))
    keep = _signer(PetitionFactory())

    personal_data_anonymize_expired()

    signature.refresh_from_db()
    assert signature.anonymized_at is not None
    assert signature.public_name == "Name withheld"
    assert not SponsorOptIn.objects.filter(signature=signature).exists()
    assert SponsorOptIn.objects.filter(signature=keep).count() == 1


def test_campaigns_closed_less_long_ago_and_open_ones_are_untouched() -> None:
    recent = _signer(_closed(179))
    open_one = _signer(PetitionFactory())
    draft = _signer(PetitionFactory(status=Petition.Status.DRAFT))
    before = [_snapshot(signature) for signature in (recent, open_one, draft)]

    assert personal_data_anonymize_expired() == {"petition": 0, "letter": 0}

    assert [_snapshot(signature) for signature in (recent, open_one, draft)] == before
    assert SponsorOptIn.objects.count() == 3


def test_counts_and_the_public_count_stay(client) -> None:
    petition = _closed(200, signature_count=2)
    _signer(petition)
    SignatureFactory(petition=petition, confirmed=True, counted=True)
    SignatureFactory(petition=petition)  # never confirmed: anonymized too, still not counted
    page_before = client.get(petition.get_absolute_url()).content.decode()
    assert 'id="signature-count">2<' in page_before

    done = personal_data_anonymize_expired(batch_size=2)

    assert done["petition"] == 3
    petition.refresh_from_db()
    assert petition.signature_count == 2
    assert (
        Signature.objects.filter(petition=petition, status="confirmed", counted=True).count() == 2
    )
    page_after = client.get(petition.get_absolute_url()).content.decode()
    assert 'id="signature-count">2<' in page_after
    assert "Maria Rossi" in page_before
    assert "Maria Rossi" not in page_after


def test_a_second_run_changes_nothing() -> None:
    expired = [_signer(_closed(181)), _signer(_closed(400))]
    personal_data_anonymize_expired()
    after_first = [_snapshot(signature) for signature in expired]

    assert personal_data_anonymize_expired() == {"petition": 0, "letter": 0}
    assert [_snapshot(signature) for signature in expired] == after_first


def test_the_same_person_may_sign_a_new_petition_after_being_anonymized() -> None:
    # Two anonymized rows of one petition share an empty email: the uniqueness of a person per
    # petition must not trip over them.
    petition = _closed(181)
    _signer(petition)
    SignatureFactory(petition=petition, email="someone.else@example.org")

    personal_data_anonymize_expired()

    assert Signature.objects.filter(petition=petition, canonical_email="").count() == 2


@override_settings(SIGNATURE_RETENTION_DAYS=30)
def test_the_retention_period_is_a_setting() -> None:
    signature = _signer(_closed(31))
    personal_data_anonymize_expired()
    signature.refresh_from_db()
    assert signature.name == ""


def test_the_command_shows_progress_and_a_summary() -> None:
    petition = _closed(181)
    for _ in range(3):
        SignatureFactory(petition=petition)
    out = StringIO()

    call_command("anonymize_expired", "--batch-size=2", stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[0].startswith("Anonymizing signatures of campaigns closed before")
    assert "  petition: 2 anonymized (2 so far)" in lines
    assert "  petition: 1 anonymized (3 so far)" in lines
    assert "Done: anonymized 3 petition signature(s), 0 letter signature(s)" in lines[-1]
    assert not Signature.objects.filter(anonymized_at__isnull=True).exists()


def test_the_daily_task_anonymizes() -> None:
    signature = _signer(_closed(181))
    assert anonymize_task.apply().get() == {"petition": 1, "letter": 0}
    signature.refresh_from_db()
    assert signature.anonymized_at is not None
