from __future__ import annotations

import smtplib
from datetime import timedelta
from unittest import mock

import pytest
from django.db import IntegrityError
from django.utils import timezone

from petitions import services, tasks
from petitions.models import Petition, Signature
from tests.factories import PetitionFactory, SignatureFactory

pytestmark = pytest.mark.django_db


def _sign(petition: Petition, email: str = "maria@example.org", **extra) -> Signature:
    fields = {"name": "Maria Rossi", "email": email, "postal_code": "94612", "country": "US"}
    signature_id = services.signature_create(petition=petition, **(fields | extra))
    return Signature.objects.get(pk=signature_id)


def test_signature_create_stores_a_pending_signature_and_enqueues_its_confirmation(
    petition, django_capture_on_commit_callbacks, outbox
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        signature = _sign(petition, email="Maria.Rossi+ring@Example.org", ip_hash="ab" * 32)
    signature.refresh_from_db()
    assert signature.status == Signature.Status.PENDING
    assert signature.email == "Maria.Rossi+ring@Example.org"
    assert signature.canonical_email == "maria.rossi@example.org"
    assert signature.ip_hash == "ab" * 32
    # Enqueued after commit, not sent inside the transaction.
    assert len(callbacks) == 1
    assert outbox == []


def test_confirmation_email_carries_a_working_link(
    django_capture_on_commit_callbacks, outbox
) -> None:
    petition = PetitionFactory(title="Cancel our city's partnership & its <cameras>")
    with django_capture_on_commit_callbacks(execute=True):
        signature = _sign(petition)
    assert len(outbox) == 1
    message = outbox[0]
    assert message.to == ["maria@example.org"]
    # Plain text: not HTML-escaped.
    assert message.subject == "Confirm your signature: " + petition.title
    assert petition.title in message.body
    link = next(word for word in message.body.split() if "/confirm/" in word)
    assert link.startswith("http://127.0.0.1:8000/en/p/")
    signature.refresh_from_db()
    assert signature.confirmation_sent_at is not None
    # The HTML part carries the same link.
    assert link in message.alternatives[0][0]


def test_duplicate_of_pending_signature_sends_the_confirmation_again(
    petition, django_capture_on_commit_callbacks, outbox
) -> None:
    past = timezone.now() - timedelta(hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        first = _sign(petition, now=past)
    with django_capture_on_commit_callbacks(execute=True):
        again = _sign(petition, email="MARIA+again@example.org", name="Someone Else")
    assert again.pk == first.pk
    assert Signature.objects.filter(petition=petition).count() == 1
    assert [m.subject for m in outbox] == [outbox[0].subject] * 2
    assert "/confirm/" in outbox[1].body
    # The original entry is kept as it was; a second form post cannot rename a signer.
    first.refresh_from_db()
    assert first.name == "Maria Rossi"


def test_duplicate_signature_sends_already_signed_email(
    petition, django_capture_on_commit_callbacks, outbox
) -> None:
    signature = SignatureFactory(petition=petition, email="maria@example.org", confirmed=True)
    with django_capture_on_commit_callbacks(execute=True):
        returned = _sign(petition)
    assert returned.pk == signature.pk
    assert len(outbox) == 1
    assert "already signed" in outbox[0].subject.lower()
    assert "/confirm/" not in outbox[0].body


def test_repeat_notices_are_rate_limited(
    petition, django_capture_on_commit_callbacks, outbox
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        _sign(petition)
        for _ in range(5):
            _sign(petition)
    # The first confirmation only: the repeats came within SIGNATURE_NOTICE_INTERVAL.
    assert len(outbox) == 1


def test_rate_limit_lets_a_notice_through_after_the_interval(
    petition, settings, django_capture_on_commit_callbacks, outbox
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        first = _sign(petition)
        _sign(petition)
    assert len(outbox) == 1
    # The task, not the request, decides: it reads the clock when it runs.
    long_ago = timezone.now() - settings.SIGNATURE_NOTICE_INTERVAL - timedelta(seconds=1)
    Signature.objects.filter(pk=first.pk).update(notice_at=long_ago)
    with django_capture_on_commit_callbacks(execute=True):
        _sign(petition)
    assert len(outbox) == 2


@pytest.mark.parametrize("status", ["rejected", "spam"])
def test_rejected_or_spam_signer_signing_again_gets_no_mail(
    petition, django_capture_on_commit_callbacks, outbox, status: str
) -> None:
    SignatureFactory(petition=petition, email="maria@example.org", status=status)
    with django_capture_on_commit_callbacks(execute=True):
        _sign(petition)
    assert outbox == []


@pytest.mark.parametrize(
    "petition_kwargs",
    [
        {"status": Petition.Status.DRAFT},
        {"status": Petition.Status.CLOSED},
        {"closes_at": timezone.now() - timedelta(minutes=1)},
        {"opens_at": timezone.now() + timedelta(days=1)},
    ],
    ids=["draft", "closed", "past-closing-date", "before-opening-date"],
)
def test_signing_a_petition_that_is_not_open_is_refused(petition_kwargs) -> None:
    petition = PetitionFactory(**petition_kwargs)
    with pytest.raises(services.PetitionNotOpen):
        _sign(petition)
    assert not Signature.objects.exists()


def test_database_refuses_two_signatures_from_one_canonical_email(petition) -> None:
    SignatureFactory(petition=petition, email="jane.doe@gmail.com")
    with pytest.raises(IntegrityError):
        SignatureFactory(petition=petition, email="janedoe+x@googlemail.com")


def test_signature_confirm_confirms_once(petition) -> None:
    signature = SignatureFactory(petition=petition)
    confirmed = services.signature_confirm(signature_id=signature.pk)
    assert confirmed.status == Signature.Status.CONFIRMED
    first_time = confirmed.confirmed_at
    again = services.signature_confirm(signature_id=signature.pk)
    assert again.status == Signature.Status.CONFIRMED
    assert again.confirmed_at == first_time


def test_confirming_after_the_petition_closed_is_refused(petition) -> None:
    signature = SignatureFactory(petition=petition)
    Petition.objects.filter(pk=petition.pk).update(status=Petition.Status.CLOSED)
    with pytest.raises(services.PetitionNotOpen):
        services.signature_confirm(signature_id=signature.pk)
    signature.refresh_from_db()
    assert signature.status == Signature.Status.PENDING


def test_confirmation_is_sent_once_even_if_the_task_runs_twice(petition, outbox) -> None:
    signature = SignatureFactory(petition=petition)
    assert services.signature_confirmation_send(signature_id=signature.pk) is True
    assert services.signature_confirmation_send(signature_id=signature.pk) is False
    assert len(outbox) == 1


def test_confirmation_claimed_by_a_dead_worker_is_sent_after_the_lease(
    petition, settings, outbox
) -> None:
    signature = SignatureFactory(petition=petition)
    Signature.objects.filter(pk=signature.pk).update(confirmation_claimed_at=timezone.now())
    assert services.signature_confirmation_send(signature_id=signature.pk) is False
    stale = timezone.now() - settings.SIGNATURE_SEND_LEASE - timedelta(seconds=1)
    Signature.objects.filter(pk=signature.pk).update(confirmation_claimed_at=stale)
    assert services.signature_confirmation_send(signature_id=signature.pk) is True
    assert len(outbox) == 1


def test_smtp_failure_gives_the_claim_back_for_the_retry(petition, outbox) -> None:
    signature = SignatureFactory(petition=petition)
    with (
        mock.patch(
            "django.core.mail.backends.locmem.EmailBackend.send_messages",
            side_effect=smtplib.SMTPServerDisconnected("gone"),
        ),
        pytest.raises(smtplib.SMTPServerDisconnected),
    ):
        services.signature_confirmation_send(signature_id=signature.pk)
    signature.refresh_from_db()
    assert signature.confirmation_claimed_at is None
    assert signature.confirmation_sent_at is None
    assert services.signature_confirmation_send(signature_id=signature.pk) is True
    assert len(outbox) == 1


def test_sweep_resends_confirmations_that_were_never_sent(
    petition, django_capture_on_commit_callbacks, outbox
) -> None:
    old = timezone.now() - timedelta(minutes=10)
    lost = SignatureFactory(petition=petition, created_at=old)
    SignatureFactory(petition=petition, created_at=old, confirmation_sent_at=old)  # was sent
    SignatureFactory(petition=petition)  # too recent: its task may still be queued
    SignatureFactory(petition=petition, created_at=old, confirmed=True)
    assert services.signature_confirmations_resend_lost() == 1
    assert [m.to for m in outbox] == [[lost.email]]


def test_new_link_request_only_queues_a_task_with_the_typed_address(
    petition, django_capture_on_commit_callbacks, django_assert_num_queries
) -> None:
    with (
        mock.patch("petitions.tasks.signature_send_new_link.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
        django_assert_num_queries(0),
    ):
        services.signature_new_link_request(petition=petition, email="nobody@example.org")
    delay.assert_called_once_with(petition.pk, "nobody@example.org")


def test_new_link_request_says_nothing_for_unknown_addresses(
    petition, django_capture_on_commit_callbacks, outbox
) -> None:
    SignatureFactory(petition=PetitionFactory(), email="nobody@example.org")  # another petition
    with django_capture_on_commit_callbacks(execute=True):
        services.signature_new_link_request(petition=petition, email="nobody@example.org")
    assert outbox == []
    assert not services.signature_new_link_send(petition_id=petition.pk, email="nobody@example.org")


def test_new_link_request_mails_a_pending_signer(
    petition, django_capture_on_commit_callbacks, outbox
) -> None:
    SignatureFactory(petition=petition, email="maria@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        services.signature_new_link_request(petition=petition, email="Maria@Example.org")
    assert len(outbox) == 1
    assert "/confirm/" in outbox[0].body


@pytest.mark.parametrize(
    ("display", "name", "shown"),
    [
        ("full", "Maria Rossi", "Maria Rossi"),
        ("short", "Maria Rossi", "Maria R."),
        ("short", "Maria de la Cruz", "Maria C."),
        ("short", "Cher", "C."),  # one word may be a whole name: its initial only
        ("withheld", "Maria Rossi", "Name withheld"),
    ],
)
def test_public_name_follows_the_signers_choice(display, name, shown) -> None:
    assert Signature(name=name, display=display).public_name == shown


def test_a_confirmation_that_keeps_failing_is_given_up_by_the_sweep(petition, outbox) -> None:
    old = timezone.now() - timedelta(minutes=10)
    hopeless = SignatureFactory(
        petition=petition, created_at=old, confirmation_attempts=services.MAX_CONFIRMATION_ATTEMPTS
    )
    lost = SignatureFactory(petition=petition, created_at=old, confirmation_attempts=1)
    assert services.signature_confirmations_resend_lost() == 1
    assert services.signature_confirmation_send(signature_id=hopeless.pk) is False
    assert [m.to for m in outbox] == [[lost.email]]
    lost.refresh_from_db()
    assert lost.confirmation_attempts == 2


def test_a_broker_outage_does_not_fail_the_signer_and_the_sweep_catches_up(
    petition, django_capture_on_commit_callbacks, outbox
) -> None:
    broker_down = ConnectionError("Error 111 connecting to 127.0.0.1:6379")
    with (
        mock.patch.object(tasks.signature_mail_signer, "delay", side_effect=broker_down),
        django_capture_on_commit_callbacks(execute=True),
    ):
        signature = _sign(petition, now=timezone.now() - timedelta(minutes=5))
    assert outbox == []
    signature.refresh_from_db()
    assert signature.status == Signature.Status.PENDING
    assert signature.confirmation_sent_at is None
    assert services.signature_confirmations_resend_lost() == 1
    assert len(outbox) == 1
