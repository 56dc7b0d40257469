from __future__ import annotations

import smtplib
from datetime import timedelta
from unittest import mock

import pytest
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mechanisms import outbox as outbox_service
from mechanisms import tasks as mechanism_tasks
from mechanisms.models import OutboundEmail
from petitions import services
from petitions.models import Petition, Signature
from tests.factories import PetitionFactory, SignatureFactory
from tests.outbox import owed

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
    # Owed in the outbox in the signer's transaction; its send queued after commit, not sent
    # inside the transaction.
    assert [(e.kind, e.ref) for e in owed()] == [("petition_signer", {"signature": signature.pk})]
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
    # The outbox owes one signer email per signature and notice period: a period ago, then now.
    long_ago = timezone.now() - settings.SIGNATURE_NOTICE_INTERVAL - timedelta(seconds=1)
    with django_capture_on_commit_callbacks(execute=True):
        _sign(petition, now=long_ago)
        _sign(petition, now=long_ago)
    assert len(outbox) == 1
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


def _owed_signer_email(petition: Petition, **extra) -> tuple[Signature, OutboundEmail]:
    """A signature whose confirmation is owed and whose send task never ran (or was lost)."""
    signature = _sign(petition, **extra)
    (email,) = owed("petition_signer", ref__signature=signature.pk)
    return signature, email


def test_confirmation_is_sent_once_even_if_the_task_runs_twice(petition, outbox) -> None:
    signature, email = _owed_signer_email(petition)
    first = mechanism_tasks.outbox_send.apply(args=[[email.pk]]).get()
    second = mechanism_tasks.outbox_send.apply(args=[[email.pk]]).get()
    assert (first["sent"], second["sent"], second["skipped"]) == (1, 0, 1)
    assert [m.to for m in outbox] == [[signature.email]]


def test_confirmation_claimed_by_a_dead_worker_is_sent_after_the_lease(petition, outbox) -> None:
    signature, email = _owed_signer_email(petition)
    now = timezone.now()
    OutboundEmail.objects.filter(pk=email.pk).update(
        state=OutboundEmail.State.SENDING, attempts=1, claimed_until=now + timedelta(minutes=1)
    )
    # Another worker holds it: left alone, by the send and by the sweep.
    assert outbox_service.emails_send(email_ids=[email.pk]).skipped == 1
    assert outbox_service.emails_sweep() == 0
    # That worker died: once its lease ran out the sweep hands the email on.
    OutboundEmail.objects.filter(pk=email.pk).update(claimed_until=now - timedelta(seconds=1))
    assert outbox_service.emails_sweep() == 1
    assert [m.to for m in outbox] == [[signature.email]]
    signature.refresh_from_db()
    assert signature.confirmation_sent_at is not None


def test_smtp_failure_gives_the_email_back_for_the_retry(petition, outbox) -> None:
    signature, email = _owed_signer_email(petition)
    before = timezone.now()
    with mock.patch(
        "django.core.mail.backends.locmem.EmailBackend.send_messages",
        side_effect=smtplib.SMTPServerDisconnected("gone"),
    ):
        assert outbox_service.emails_send(email_ids=[email.pk]).retrying == 1
    email.refresh_from_db()
    assert (email.state, email.attempts) == (OutboundEmail.State.PENDING, 1)
    assert email.not_before > before  # backed off
    assert email.claimed_until is None
    signature.refresh_from_db()
    assert signature.confirmation_sent_at is None
    # Not before its backoff ends; then the sweep sends it.
    assert outbox_service.emails_send(email_ids=[email.pk]).skipped == 1
    OutboundEmail.objects.filter(pk=email.pk).update(not_before=timezone.now())
    assert outbox_service.emails_sweep() == 1
    assert [m.to for m in outbox] == [[signature.email]]
    signature.refresh_from_db()
    assert signature.confirmation_sent_at is not None


def test_sweep_sends_confirmations_whose_task_was_lost(
    petition, django_capture_on_commit_callbacks, outbox
) -> None:
    old = timezone.now() - timedelta(minutes=10)
    lost = _sign(petition, email="lost@example.org", now=old)
    with django_capture_on_commit_callbacks(execute=True):
        _sign(petition, email="sent@example.org", now=old)
    _sign(petition, email="recent@example.org")  # too recent: its task may still be queued
    rejected = _sign(petition, email="rejected@example.org", now=old)
    Signature.objects.filter(pk=rejected.pk).update(status=Signature.Status.REJECTED)
    outbox.clear()
    assert outbox_service.emails_sweep() == 2  # the lost one and the rejected one
    # A rejected signature's email has nothing left to say: dropped, not sent.
    assert [m.to for m in outbox] == [[lost.email]]
    assert [e.ref["signature"] for e in owed("petition_signer")] == [
        Signature.objects.get(email="recent@example.org").pk
    ]


def test_new_link_request_only_owes_an_email_to_the_typed_address(
    petition, django_capture_on_commit_callbacks
) -> None:
    # Looking the address up here would make the answer slower for a signer than for anyone
    # else: the request writes the outbox row alike for any address, and the builder looks.
    with (
        mock.patch.object(mechanism_tasks.outbox_send, "delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
        CaptureQueriesContext(connection) as queries,
    ):
        services.signature_new_link_request(petition=petition, email="nobody@example.org")
    statements = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) == 1
    assert statements[0].startswith('INSERT INTO "mechanisms_outboundemail"')
    (email,) = owed("petition_new_link")
    assert (email.recipient, email.ref) == ("nobody@example.org", {"petition": petition.pk})
    delay.assert_called_once_with([email.pk])


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


def test_a_confirmation_that_keeps_failing_is_given_up_by_the_sweep(
    petition, settings, outbox
) -> None:
    settings.OUTBOX_MAX_ATTEMPTS = 3
    hopeless, email = _owed_signer_email(petition, email="hopeless@example.org")
    with mock.patch(
        "django.core.mail.backends.locmem.EmailBackend.send_messages",
        side_effect=smtplib.SMTPServerDisconnected("gone"),
    ):
        for _ in range(settings.OUTBOX_MAX_ATTEMPTS):
            OutboundEmail.objects.filter(pk=email.pk).update(not_before=timezone.now())
            outbox_service.emails_sweep(now=timezone.now() + timedelta(hours=1))
    email.refresh_from_db()
    assert (email.state, email.attempts) == (OutboundEmail.State.FAILED, 3)
    # Given up: no sweep queues it again (staff may, from the admin).
    lost, _ = _owed_signer_email(
        petition, email="lost@example.org", now=timezone.now() - timedelta(minutes=10)
    )
    assert outbox_service.emails_sweep() == 1
    assert [m.to for m in outbox] == [[lost.email]]
    hopeless.refresh_from_db()
    assert hopeless.confirmation_sent_at is None


def test_a_broker_outage_does_not_fail_the_signer_and_the_sweep_catches_up(
    petition, django_capture_on_commit_callbacks, outbox
) -> None:
    broker_down = ConnectionError("Error 111 connecting to 127.0.0.1:6379")
    with (
        mock.patch.object(mechanism_tasks.outbox_send, "delay", side_effect=broker_down),
        django_capture_on_commit_callbacks(execute=True),
    ):
        signature = _sign(petition, now=timezone.now() - timedelta(minutes=5))
    assert outbox == []
    signature.refresh_from_db()
    assert signature.status == Signature.Status.PENDING
    assert signature.confirmation_sent_at is None
    assert outbox_service.emails_sweep() == 1
    assert len(outbox) == 1
    signature.refresh_from_db()
    assert signature.confirmation_sent_at is not None
