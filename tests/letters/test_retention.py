"""Retention for individuals who signed an open letter: their personal data goes
SIGNATURE_RETENTION_DAYS after the letter closed; the signature still counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from letters.models import IndividualSignature, OpenLetter
from letters.selectors import press_release
from mechanisms.personal_data import personal_data_anonymize_expired
from tests.factories import IndividualSignatureFactory, OpenLetterFactory

pytestmark = pytest.mark.django_db


def _letter(*, closed_days_ago: int | None) -> OpenLetter:
    if closed_days_ago is None:
        return OpenLetterFactory(individuals_may_sign=True)
    return OpenLetterFactory(
        individuals_may_sign=True,
        status=OpenLetter.Status.CLOSED,
        closed_at=timezone.now() - timedelta(days=closed_days_ago, minutes=1),
    )


def _expert(letter: OpenLetter) -> IndividualSignature:
    return IndividualSignatureFactory(
        letter=letter,
        name="Dr. Ada Nkemelu",
        email="ada@university.example.edu",
        title="Professor of Computer Science",
        affiliation="University of Example",
        ip_hash="b" * 64,
        moderation_reason="Approved: her assistant signed for her, she confirmed by phone.",
        confirmed=True,
    )


def test_expired_letter_signature_loses_its_personal_data_and_still_counts() -> None:
    letter = _letter(closed_days_ago=181)
    signature = _expert(letter)
    kept = {
        field: getattr(signature, field)
        for field in ("status", "confirmed_at", "created_at", "language")
    }

    assert personal_data_anonymize_expired().anonymized["letter"] == 1

    signature.refresh_from_db()
    assert (signature.name, signature.email, signature.canonical_email) == ("", "", "")
    assert (signature.title, signature.affiliation, signature.ip_hash) == ("", "", "")
    assert signature.withhold_name is True
    assert signature.moderation_reason == ""
    assert signature.anonymized_at is not None
    assert {field: getattr(signature, field) for field in kept} == kept
    assert press_release(letter=letter).individual_count == 1


@pytest.mark.parametrize("closed_days_ago", [179, None])
def test_recent_and_open_letters_are_untouched(closed_days_ago: int | None) -> None:
    signature = _expert(_letter(closed_days_ago=closed_days_ago))

    assert personal_data_anonymize_expired().anonymized["letter"] == 0

    signature.refresh_from_db()
    assert signature.name == "Dr. Ada Nkemelu"
    assert signature.email == "ada@university.example.edu"
    assert signature.anonymized_at is None


def test_a_second_run_changes_nothing() -> None:
    signature = _expert(_letter(closed_days_ago=300))
    personal_data_anonymize_expired()
    signature.refresh_from_db()
    first = signature.anonymized_at

    assert personal_data_anonymize_expired().anonymized["letter"] == 0
    signature.refresh_from_db()
    assert signature.anonymized_at == first


def _pending(*, sent_days_ago: float, **fields) -> IndividualSignature:
    moment = timezone.now() - timedelta(days=sent_days_ago)
    return IndividualSignatureFactory(
        letter=_letter(closed_days_ago=None),
        created_at=moment,
        confirmation_sent_at=moment,
        **fields,
    )


def test_a_signature_never_confirmed_goes_a_month_after_its_link_expired() -> None:
    # The link works 7 days; 30 more and the typed address has no reason to stay.
    gone = _pending(sent_days_ago=7 + 30 + 1)
    kept = _pending(sent_days_ago=7 + 30 - 1)
    confirmed = IndividualSignatureFactory(
        created_at=timezone.now() - timedelta(days=400), confirmed=True
    )

    done = personal_data_anonymize_expired()

    assert done.unconfirmed_deleted["letter"] == 1
    assert not IndividualSignature.objects.filter(pk=gone.pk).exists()
    assert set(IndividualSignature.objects.values_list("pk", flat=True)) == {
        kept.pk,
        confirmed.pk,
    }


def test_a_link_sent_again_recently_keeps_a_signature_never_confirmed() -> None:
    # Signed long ago, signed again two days ago: the new link still works.
    signature = _pending(sent_days_ago=100)
    IndividualSignature.objects.filter(pk=signature.pk).update(
        confirmation_sent_at=timezone.now() - timedelta(days=2)
    )

    assert personal_data_anonymize_expired().unconfirmed_deleted["letter"] == 0
    assert IndividualSignature.objects.filter(pk=signature.pk).exists()
