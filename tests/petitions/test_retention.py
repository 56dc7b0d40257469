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

from mechanisms.personal_data import personal_data_anonymize_expired
from mechanisms.tasks import personal_data_anonymize_expired as anonymize_task
from petitions import services
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
        moderation_reason="Approved after a call: her neighbour Tom Baker typed it for her.",
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
        ("moderation_reason", ""),
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

    assert personal_data_anonymize_expired().anonymized == {"petition": 0, "paper": 0, "letter": 0}

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

    assert done.anonymized["petition"] == 3
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

    assert personal_data_anonymize_expired().anonymized == {"petition": 0, "paper": 0, "letter": 0}
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
    assert lines[-1].startswith(
        "Done: anonymized 3 petition signature(s), 0 paper signature(s), 0 letter signature(s); "
        "deleted 0 petition signature(s), 0 paper signature(s), 0 letter signature(s) never "
        "confirmed"
    )
    assert not Signature.objects.filter(anonymized_at__isnull=True).exists()


def test_the_daily_task_anonymizes() -> None:
    signature = _signer(_closed(181))
    assert anonymize_task.apply().get() == {
        "anonymized": {"petition": 1, "paper": 0, "letter": 0},
        "unconfirmed_deleted": {"petition": 0, "paper": 0, "letter": 0},
    }
    signature.refresh_from_db()
    assert signature.anonymized_at is not None


# --- Signatures never confirmed -------------------------------------------------------------------


def _pending(*, sent_days_ago: float, **fields) -> Signature:
    moment = timezone.now() - timedelta(days=sent_days_ago)
    return SignatureFactory(created_at=moment, confirmation_sent_at=moment, **fields)


def test_a_signature_never_confirmed_goes_a_month_after_its_link_expired() -> None:
    # The link works 7 days (SIGNATURE_CONFIRM_MAX_AGE); 30 more (UNCONFIRMED_RETENTION_DAYS)
    # and an address someone typed, perhaps not its owner, has no reason to stay.
    gone = _pending(sent_days_ago=7 + 30 + 1)
    SponsorOptIn.objects.create(signature=gone, organization=OrganizationFactory())
    held = _pending(sent_days_ago=90, flags="disposable", held=True)
    kept = _pending(sent_days_ago=7 + 30 - 1)
    confirmed = SignatureFactory(
        created_at=timezone.now() - timedelta(days=400), confirmed=True, counted=True
    )
    rejected = _pending(sent_days_ago=90, status=Signature.Status.REJECTED)

    done = personal_data_anonymize_expired()

    assert done.unconfirmed_deleted == {"petition": 2, "paper": 0, "letter": 0}
    assert set(Signature.objects.values_list("pk", flat=True)) == {
        kept.pk,
        confirmed.pk,
        rejected.pk,
    }
    assert not SponsorOptIn.objects.filter(signature_id__in=[gone.pk, held.pk]).exists()


def _sign_again(signature: Signature) -> None:
    services.signature_create(
        petition=signature.petition, name="Maria Rossi", email=signature.email
    )


def _ask_for_a_new_link(signature: Signature) -> None:
    services.signature_new_link_request(petition=signature.petition, email=signature.email)


def _renew_an_expired_link(signature: Signature) -> None:
    services.signature_notice_request(signature=signature)


@pytest.mark.parametrize("resend", [_sign_again, _ask_for_a_new_link, _renew_an_expired_link])
def test_a_link_sent_again_recently_keeps_a_signature_never_confirmed(
    resend, django_capture_on_commit_callbacks
) -> None:
    signature = _pending(sent_days_ago=100)
    with django_capture_on_commit_callbacks(execute=True):
        resend(signature)
    signature.refresh_from_db()
    # The email that went out carried a fresh link, and keeps the signature that long again.
    assert signature.confirmation_sent_at > timezone.now() - timedelta(minutes=1)

    assert personal_data_anonymize_expired().unconfirmed_deleted["petition"] == 0
    assert Signature.objects.filter(pk=signature.pk).exists()


@override_settings(UNCONFIRMED_RETENTION_DAYS=2)
def test_how_long_a_signature_never_confirmed_stays_is_a_setting() -> None:
    _pending(sent_days_ago=7 + 3)
    kept = _pending(sent_days_ago=7 + 1)

    personal_data_anonymize_expired()

    assert list(Signature.objects.values_list("pk", flat=True)) == [kept.pk]


def test_deleting_signatures_never_confirmed_changes_no_count() -> None:
    petition = PetitionFactory(signature_count=1)
    SignatureFactory(petition=petition, confirmed=True, counted=True)
    for _ in range(3):
        _pending(sent_days_ago=60, petition=petition)

    done = personal_data_anonymize_expired(batch_size=2)

    assert done.unconfirmed_deleted["petition"] == 3
    petition.refresh_from_db()
    assert petition.signature_count == 1
    assert Signature.objects.filter(petition=petition).count() == 1


def test_the_command_reports_signatures_never_confirmed_it_deleted() -> None:
    _pending(sent_days_ago=60)
    out = StringIO()

    call_command("anonymize_expired", stdout=out)

    lines = out.getvalue().splitlines()
    assert "  petition: 1 never confirmed, deleted (1 so far)" in lines
    assert (
        "deleted 1 petition signature(s), 0 paper signature(s), 0 letter signature(s) never "
        "confirmed" in lines[-1]
    )
