"""Individuals signing a letter in their own name, confirmed by email."""

from __future__ import annotations

import pytest
from django.utils import timezone

from letters import selectors, services
from letters.models import IndividualSignature, OpenLetter
from mechanisms.outbox import emails_send
from tests.factories import IndividualSignatureFactory, OpenLetterFactory
from tests.outbox import outbox_clock, owed

pytestmark = pytest.mark.django_db

PERSON = {"name": "Dana Whitfield", "title": "Professor of Law", "affiliation": "State University"}


@pytest.fixture
def expert_letter() -> OpenLetter:
    """Open to anyone's signature, names always shown."""
    return OpenLetterFactory(individuals_may_sign=True)


@pytest.fixture
def employee_letter() -> OpenLetter:
    """Signed from the company's own addresses, names may be withheld."""
    return OpenLetterFactory(
        individuals_may_sign=True,
        names_may_be_withheld=True,
        individual_email_domains="amazon.com, @AWS.example",
        withheld_label="Employee",
    )


def _sign(letter: OpenLetter, email: str, **changes: object) -> IndividualSignature:
    signature_id = services.individual_signature_create(
        letter=letter, email=email, **PERSON | changes
    )
    return IndividualSignature.objects.get(pk=signature_id)


def test_signing_stores_a_pending_signature_and_sends_one_confirmation_email(
    expert_letter, django_capture_on_commit_callbacks, outbox
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        signature = _sign(expert_letter, "dana@example.org")

    assert signature.status == IndividualSignature.Status.PENDING
    assert signature.confirmation_sent_at is None  # the instance returned predates the send
    signature.refresh_from_db()
    assert signature.confirmation_sent_at is not None
    assert len(outbox) == 1
    assert outbox[0].to == ["dana@example.org"]
    assert f"/en/letters/{expert_letter.slug}/confirm/" in outbox[0].body
    assert selectors.letter_individuals_public(letter=expert_letter) == []


def test_signing_again_with_the_same_address_adds_no_row_and_no_email_within_the_interval(
    expert_letter, django_capture_on_commit_callbacks, outbox
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        first = _sign(expert_letter, "Dana.Whitfield@Example.org")
    with django_capture_on_commit_callbacks(execute=True):
        again = _sign(expert_letter, "dana.whitfield+letters@EXAMPLE.ORG", name="Someone Else")

    assert again.pk == first.pk
    assert again.name == "Dana Whitfield"
    assert IndividualSignature.objects.filter(letter=expert_letter).count() == 1
    assert len(outbox) == 1


def test_signing_again_after_the_notice_interval_mails_the_link_again(
    expert_letter, django_capture_on_commit_callbacks, outbox, settings
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        _sign(expert_letter, "dana@example.org")
    later = timezone.now() + settings.SIGNATURE_NOTICE_INTERVAL
    with outbox_clock(later), django_capture_on_commit_callbacks(execute=True):
        _sign(expert_letter, "DANA@example.org", now=later)

    assert IndividualSignature.objects.count() == 1
    assert [message.to for message in outbox] == [["dana@example.org"], ["dana@example.org"]]


def test_confirmed_signer_who_signs_again_gets_no_email(
    expert_letter, django_capture_on_commit_callbacks, outbox
) -> None:
    IndividualSignatureFactory(letter=expert_letter, email="dana@example.org", confirmed=True)
    with django_capture_on_commit_callbacks(execute=True):
        _sign(expert_letter, "dana@example.org")
    assert outbox == []


def test_a_duplicated_send_task_mails_once(expert_letter, outbox) -> None:
    signature = _sign(expert_letter, "dana@example.org")
    (email,) = owed("letter_signer")
    assert email.ref == {"signature": signature.pk}
    assert emails_send(email_ids=[email.pk]).sent == 1
    assert emails_send(email_ids=[email.pk]).sent == 0
    assert len(outbox) == 1


@pytest.mark.parametrize(
    "email",
    ["dana@gmail.com", "dana@notamazon.com", "dana@amazon.com.evil.example", "dana@amazon.co"],
)
def test_address_outside_the_required_domains_is_refused(
    employee_letter, email, django_capture_on_commit_callbacks, outbox
) -> None:
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(services.DomainNotAllowed) as error,
    ):
        _sign(employee_letter, email)
    assert "amazon.com, aws.example" in error.value.messages[0]
    assert not IndividualSignature.objects.exists()
    assert outbox == []


@pytest.mark.parametrize(
    "email", ["dana@amazon.com", "dana@corp.amazon.com", "Dana@AMAZON.COM", "dana@aws.example"]
)
def test_address_at_a_required_domain_or_its_subdomain_is_accepted(employee_letter, email) -> None:
    signature = _sign(employee_letter, email)
    assert signature.email == email


def test_withheld_name_is_shown_with_the_letters_label(employee_letter) -> None:
    signature = _sign(employee_letter, "dana@amazon.com", withhold_name=True)
    assert signature.withhold_name is True
    assert signature.public_name == "Employee, name withheld"


def test_withhold_name_is_ignored_when_the_letter_does_not_allow_it(expert_letter) -> None:
    signature = _sign(expert_letter, "dana@example.org", withhold_name=True)
    signature.refresh_from_db()
    assert signature.withhold_name is False
    assert signature.public_name == "Dana Whitfield"


@pytest.mark.parametrize(
    "letter_fields",
    [
        {"individuals_may_sign": False},
        {"individuals_may_sign": True, "status": OpenLetter.Status.DRAFT},
        {"individuals_may_sign": True, "status": OpenLetter.Status.CLOSED},
    ],
)
def test_letter_not_open_to_individuals_refuses_them(letter_fields, outbox) -> None:
    letter = OpenLetterFactory(**letter_fields)
    with pytest.raises(services.LetterNotOpen):
        _sign(letter, "dana@example.org")
    assert not IndividualSignature.objects.exists()


def test_confirming_makes_the_signer_public_and_twice_keeps_the_first_date(expert_letter) -> None:
    signature = IndividualSignatureFactory(letter=expert_letter)

    confirmed = services.individual_signature_confirm(signature_id=signature.pk)
    again = services.individual_signature_confirm(signature_id=signature.pk)

    assert confirmed.status == IndividualSignature.Status.CONFIRMED
    assert again.confirmed_at == confirmed.confirmed_at
    assert selectors.letter_individuals_public(letter=expert_letter) == [signature]


def test_rejected_signature_is_not_confirmed_by_its_link(expert_letter) -> None:
    signature = IndividualSignatureFactory(
        letter=expert_letter, status=IndividualSignature.Status.REJECTED
    )
    assert (
        services.individual_signature_confirm(signature_id=signature.pk).status
        == IndividualSignature.Status.REJECTED
    )
