"""A letter reaches its targets when it is published and again after each update, once each."""

from __future__ import annotations

import smtplib
from datetime import timedelta

import pytest
from django.core.mail.backends import locmem
from django.utils import timezone

from letters import delivery, services
from letters.models import LetterDelivery, LetterUpdate, OpenLetter, OrganizationSignature
from mechanisms.deliveries import delivery_email_id
from mechanisms.models import OutboundEmail
from mechanisms.outbox import emails_send
from petitions.models import Target
from tests.factories import OrganizationFactory
from tests.outbox import outbox_clock, outbox_drain

pytestmark = pytest.mark.django_db


@pytest.fixture
def targets():
    return [
        Target.objects.create(
            name="Office of the Mayor", title="Mayor of Oakland", level="local",
            country="US", region="CA", locality="Oakland", email="mayor@example.org",
        ),
        Target.objects.create(
            name="Amazon", title="Amazon's CEO", level="company", email="ceo@example.org"
        ),
        Target.objects.create(name="No email", title="Without email", level="company"),
    ]  # fmt: skip


@pytest.fixture
def open_letter(targets):
    letter = OpenLetter.objects.create(
        slug="end-ring", title="End the Ring deals", summary="s",
        body="We ask you to **end** them.", addressed_to="Officials", ask="End them.",
        status=OpenLetter.Status.OPEN,
    )  # fmt: skip
    letter.targets.set(targets)
    for name in ("Media Alliance", "Oakland Privacy"):
        OrganizationSignature.objects.create(
            letter=letter,
            organization=OrganizationFactory(name=name),
            status=OrganizationSignature.Status.APPROVED,
        )
    return letter


def _publish(letter, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        services.letter_publish(letter_id=letter.pk)


def test_publishing_sends_the_letter_once_to_each_target_with_an_email(
    open_letter, outbox, django_capture_on_commit_callbacks
) -> None:
    _publish(open_letter, django_capture_on_commit_callbacks)
    to_targets = [m for m in outbox if m.to[0] in ("mayor@example.org", "ceo@example.org")]
    assert sorted(m.to[0] for m in to_targets) == ["ceo@example.org", "mayor@example.org"]
    message = to_targets[0]
    assert message.subject == "An open letter from 2 organizations: End the Ring deals"
    assert "We ask you to **end** them." in message.body
    assert "- Media Alliance\n- Oakland Privacy" in message.body
    assert set(LetterDelivery.objects.values_list("status", flat=True)) == {"sent"}
    assert [row.state for row in OutboundEmail.objects.filter(kind="letter_delivery")] == [
        "sent",
        "sent",
    ]
    # Running it again, or a duplicated task, sends nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        assert delivery.letter_deliveries_create(letter_id=open_letter.pk) == 0
    for pk in LetterDelivery.objects.values_list("pk", flat=True):
        email_id = delivery_email_id(kind=delivery.DELIVERY, delivery_id=pk)
        assert emails_send(email_ids=[email_id]).sent == 0
    assert len([m for m in outbox if m.to[0] == "mayor@example.org"]) == 1


def test_an_update_to_a_published_letter_is_delivered_with_its_text(
    open_letter, outbox, django_capture_on_commit_callbacks
) -> None:
    _publish(open_letter, django_capture_on_commit_callbacks)
    outbox.clear()
    update = LetterUpdate.objects.create(letter=open_letter, text="Six more organizations joined.")
    with django_capture_on_commit_callbacks(execute=True):
        delivery.letter_deliveries_create(letter_id=open_letter.pk, update=update)
    assert sorted(m.to[0] for m in outbox) == ["ceo@example.org", "mayor@example.org"]
    assert outbox[0].subject == "Update to the open letter “End the Ring deals”"
    assert "Six more organizations joined." in outbox[0].body


def _mail_server_refusing(monkeypatch, error: Exception, address: str = "mayor@example.org"):
    """Django's test backend, refusing mail to one address the way a mail server does."""
    real = locmem.EmailBackend.send_messages

    def send_messages(self, messages):
        if any(address in message.to for message in messages):
            raise error
        return real(self, messages)

    monkeypatch.setattr(locmem.EmailBackend, "send_messages", send_messages)


def test_a_refused_address_fails_visibly_and_the_retry_sends_it(
    open_letter, outbox, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    refused = smtplib.SMTPRecipientsRefused({"mayor@example.org": (550, b"no such mailbox")})
    _mail_server_refusing(monkeypatch, refused)
    _publish(open_letter, django_capture_on_commit_callbacks)
    failed = LetterDelivery.objects.get(target__email="mayor@example.org")
    assert failed.status == LetterDelivery.Status.FAILED
    assert "no such mailbox" in failed.last_error
    assert LetterDelivery.objects.get(target__email="ceo@example.org").status == "sent"

    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        assert delivery.letter_delivery_retry(delivery_id=failed.pk)
    failed.refresh_from_db()
    assert failed.status == LetterDelivery.Status.SENT
    assert failed.last_error == ""
    assert len([m for m in outbox if m.to[0] == "mayor@example.org"]) == 1
    # A delivery that did not fail is left alone.
    assert not delivery.letter_delivery_retry(delivery_id=failed.pk)


def test_a_transient_error_leaves_the_delivery_waiting_for_a_retry(
    open_letter, outbox, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    _mail_server_refusing(monkeypatch, smtplib.SMTPServerDisconnected("gone"))
    _publish(open_letter, django_capture_on_commit_callbacks)
    waiting = LetterDelivery.objects.get(target__email="mayor@example.org")
    assert (waiting.status, waiting.attempts) == ("pending", 1)
    assert "gone" in waiting.last_error
    email = OutboundEmail.objects.get(
        pk=delivery_email_id(kind=delivery.DELIVERY, delivery_id=waiting.pk)
    )
    assert (email.state, email.attempts) == ("pending", 1)
    assert email.not_before > timezone.now()  # after a backoff

    monkeypatch.undo()
    with outbox_clock(email.not_before + timedelta(seconds=1)):
        assert outbox_drain().sent == 1
    waiting.refresh_from_db()
    assert (waiting.status, waiting.attempts, waiting.last_error) == ("sent", 2, "")
    assert len([m for m in outbox if m.to[0] == "mayor@example.org"]) == 1
