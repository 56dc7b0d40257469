"""The retry policy of the mail tasks: retry transient SMTP trouble, never anything else."""

from __future__ import annotations

import smtplib
from unittest import mock

import pytest

from petitions import tasks
from petitions.models import Signature
from tests.factories import SignatureFactory

pytestmark = pytest.mark.django_db

SEND = "django.core.mail.backends.locmem.EmailBackend.send_messages"


class RetryScheduled(Exception):
    """Stands in for Celery's Retry, which in-process would re-run the task at once."""


def _run(error: Exception, signature: Signature) -> mock.Mock:
    task = tasks.signature_send_confirmation
    with (
        mock.patch(SEND, side_effect=error),
        mock.patch.object(task, "retry", side_effect=RetryScheduled) as retry,
        pytest.raises((RetryScheduled, type(error))),
    ):
        task.apply(args=[signature.pk], throw=True)
    return retry


@pytest.mark.parametrize(
    "error",
    [
        smtplib.SMTPServerDisconnected("connection lost"),
        smtplib.SMTPConnectError(421, b"try later"),
        ConnectionRefusedError(111, "refused"),
        TimeoutError("timed out"),
    ],
    ids=["disconnected", "4xx-connect", "refused", "timeout"],
)
def test_transient_mail_errors_are_retried_with_backoff(error: Exception) -> None:
    signature = SignatureFactory()
    retry = _run(error, signature)
    assert retry.call_count == 1
    assert retry.call_args.kwargs["exc"] is error
    assert 0 <= retry.call_args.kwargs["countdown"] <= 600
    signature.refresh_from_db()
    assert signature.confirmation_sent_at is None
    # The claim is free again, so the retry (or the periodic sweep) can send.
    assert signature.confirmation_claimed_at is None


@pytest.mark.parametrize(
    "error",
    [smtplib.SMTPRecipientsRefused({"x@example.org": (550, b"no such user")}), ValueError("bug")],
    ids=["recipient-refused", "programming-error"],
)
def test_permanent_errors_are_not_retried(error: Exception) -> None:
    assert _run(error, SignatureFactory()).call_count == 0


def test_mail_tasks_back_off_and_stop() -> None:
    for task in (tasks.signature_send_confirmation, tasks.signature_send_notice):
        assert task.retry_backoff and task.retry_backoff_max == 600
        assert task.max_retries == 8
