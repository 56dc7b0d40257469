"""Retention for individuals who signed an open letter: their personal data goes
SIGNATURE_RETENTION_DAYS after the letter closed; the signature still counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.personal_data import personal_data_anonymize_expired
from letters.models import IndividualSignature, OpenLetter
from letters.selectors import press_release
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
        confirmed=True,
    )


def test_expired_letter_signature_loses_its_personal_data_and_still_counts() -> None:
    letter = _letter(closed_days_ago=181)
    signature = _expert(letter)
    kept = {
        field: getattr(signature, field)
        for field in ("status", "confirmed_at", "created_at", "language")
    }

    assert personal_data_anonymize_expired()["letter"] == 1

    signature.refresh_from_db()
    assert (signature.name, signature.email, signature.canonical_email) == ("", "", "")
    assert (signature.title, signature.affiliation, signature.ip_hash) == ("", "", "")
    assert signature.withhold_name is True
    assert signature.anonymized_at is not None
    assert {field: getattr(signature, field) for field in kept} == kept
    assert press_release(letter=letter).individual_count == 1


@pytest.mark.parametrize("closed_days_ago", [179, None])
def test_recent_and_open_letters_are_untouched(closed_days_ago: int | None) -> None:
    signature = _expert(_letter(closed_days_ago=closed_days_ago))

    assert personal_data_anonymize_expired()["letter"] == 0

    signature.refresh_from_db()
    assert signature.name == "Dr. Ada Nkemelu"
    assert signature.email == "ada@university.example.edu"
    assert signature.anonymized_at is None


def test_a_second_run_changes_nothing() -> None:
    signature = _expert(_letter(closed_days_ago=300))
    personal_data_anonymize_expired()
    signature.refresh_from_db()
    first = signature.anonymized_at

    assert personal_data_anonymize_expired()["letter"] == 0
    signature.refresh_from_db()
    assert signature.anonymized_at == first
