"""The retry policy of a petition's emails in the outbox: transient SMTP trouble is retried with
a backoff, a refusal fails the email for good, and the attempts are capped."""

from __future__ import annotations

import smtplib
from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from mechanisms import outbox as outbox_service
from mechanisms.models import OutboundEmail
from petitions import services
from petitions.models import Signature
from tests.factories import SignatureFactory

pytestmark = pytest.mark.django_db

SEND = "django.core.mail.backends.locmem.EmailBackend.send_messages"
State = OutboundEmail.State


def _owed(signature: Signature) -> OutboundEmail:
    """The signer's confirmation, owed and not sent yet (its task is the test's to run)."""
    services.signer_email_request(
        signature_id=signature.pk, email=signature.email, language=signature.language
    )
    return OutboundEmail.objects.get(kind="petition_signer", ref__signature=signature.pk)


def _send_failing(error: Exception, email: OutboundEmail) -> OutboundEmail:
    with mock.patch(SEND, side_effect=error):
        outbox_service.emails_send(email_ids=[email.pk])
    email.refresh_from_db()
    return email


def _sweep_a_day_later() -> int:
    return outbox_service.emails_sweep(now=timezone.now() + timedelta(days=1))


@pytest.mark.parametrize(
    "error",
    [
        smtplib.SMTPServerDisconnected("connection lost"),
        smtplib.SMTPConnectError(421, b"try later"),
        ConnectionRefusedError(111, "refused"),
        TimeoutError("timed out"),
        # A bug or a database hiccup while sending: worth the capped retries too (logged with
        # its trace), rather than a signer never getting their link.
        ValueError("bug"),
    ],
    ids=["disconnected", "4xx-connect", "refused", "timeout", "programming-error"],
)
def test_transient_mail_errors_are_retried_with_backoff(error: Exception) -> None:
    signature = SignatureFactory()
    before = timezone.now()
    email = _send_failing(error, _owed(signature))
    assert (email.state, email.attempts) == (State.PENDING, 1)
    # Backed off (seconds at first, never more than ten minutes give or take the jitter).
    assert before < email.not_before <= before + timedelta(seconds=720)
    assert type(error).__name__ in email.last_error
    # The claim is free again, so the retry (or the periodic sweep) can send.
    assert email.claimed_until is None
    signature.refresh_from_db()
    assert signature.confirmation_sent_at is None


def test_a_refused_address_is_not_retried(outbox) -> None:
    signature = SignatureFactory()
    refused = smtplib.SMTPRecipientsRefused({signature.email: (550, b"no such user")})
    email = _send_failing(refused, _owed(signature))
    assert (email.state, email.attempts) == (State.FAILED, 1)
    assert "no such user" in email.last_error
    assert _sweep_a_day_later() == 0
    assert outbox == []


def test_mail_backs_off_and_stops(settings, outbox) -> None:
    assert settings.OUTBOX_MAX_ATTEMPTS == 8
    email = _owed(SignatureFactory())
    disconnected = smtplib.SMTPServerDisconnected("gone")
    waits = []
    for _ in range(settings.OUTBOX_MAX_ATTEMPTS):
        OutboundEmail.objects.filter(pk=email.pk).update(not_before=timezone.now())
        before = timezone.now()
        email = _send_failing(disconnected, email)
        waits.append(email.not_before - before)
    # Each wait longer than the last, up to the cap; the last attempt fails the email instead.
    assert waits[:-1] == sorted(waits[:-1])
    assert all(wait <= timedelta(seconds=720) for wait in waits[:-1])
    assert (email.state, email.attempts) == (State.FAILED, 8)
    assert outbox == []
    OutboundEmail.objects.filter(pk=email.pk).update(not_before=timezone.now())
    assert outbox_service.emails_send(email_ids=[email.pk]).skipped == 1
    assert _sweep_a_day_later() == 0
