"""A letter reaches its targets when it is published and again after each update, once each."""

from __future__ import annotations

import smtplib

import pytest

from letters import delivery, services
from letters.models import LetterDelivery, LetterUpdate, OpenLetter, OrganizationSignature
from petitions.models import Target
from tests.factories import OrganizationFactory

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
    # Running it again, or a duplicated task, sends nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        assert delivery.letter_deliveries_create(letter_id=open_letter.pk) == 0
    for pk in LetterDelivery.objects.values_list("pk", flat=True):
        assert delivery.letter_delivery_send(delivery_id=pk) is False
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


def test_a_refused_address_fails_visibly_and_the_retry_sends_it(
    open_letter, outbox, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    real = delivery.emails.letter_delivery_send

    def refuse_mayor(*, delivery, organizations):
        if delivery.target.email == "mayor@example.org":
            raise smtplib.SMTPRecipientsRefused({"mayor@example.org": (550, b"no")})
        real(delivery=delivery, organizations=organizations)

    monkeypatch.setattr(delivery.emails, "letter_delivery_send", refuse_mayor)
    _publish(open_letter, django_capture_on_commit_callbacks)
    failed = LetterDelivery.objects.get(target__email="mayor@example.org")
    assert failed.status == LetterDelivery.Status.FAILED
    assert "no" in failed.last_error

    monkeypatch.setattr(delivery.emails, "letter_delivery_send", real)
    with django_capture_on_commit_callbacks(execute=True):
        assert delivery.letter_delivery_retry(delivery_id=failed.pk)
    failed.refresh_from_db()
    assert failed.status == LetterDelivery.Status.SENT
    assert len([m for m in outbox if m.to[0] == "mayor@example.org"]) == 1


def test_a_transient_error_gives_the_claim_back_for_a_retry(open_letter, monkeypatch) -> None:
    row = LetterDelivery.objects.create(
        letter=open_letter, target=open_letter.targets.first(), occasion="published"
    )

    def down(**kwargs):
        raise smtplib.SMTPServerDisconnected("gone")

    monkeypatch.setattr(delivery.emails, "letter_delivery_send", down)
    with pytest.raises(smtplib.SMTPServerDisconnected):
        delivery.letter_delivery_send(delivery_id=row.pk)
    row.refresh_from_db()
    assert (row.status, row.attempts, row.claimed_at) == ("pending", 1, None)
