"""The providers' bounce webhooks (Mailgun, Mandrill) as an attacker and as the provider use them:
recorded payloads, signed with the right key or not, against the real endpoints."""

from __future__ import annotations

import pytest
from django.urls import reverse

from mechanisms.models import BounceEvent, EmailSuppression, OutboundEmail
from petitions import services
from petitions.emails import CONFIRMATIONS, UPDATE
from petitions.models import PetitionUpdate, Signature
from petitions.services import campaigns
from tests.bounces import MAILGUN_KEY, MANDRILL_KEY, mailgun_body, mandrill_form, our_message_id
from tests.factories import SignatureFactory

pytestmark = pytest.mark.django_db

ADDRESS = "maria.rossi@example.net"
MAILGUN = "/email/bounces/mailgun/"
MANDRILL = "/email/bounces/mandrill/"


@pytest.fixture(autouse=True)
def _keys(settings) -> None:
    settings.ANYMAIL = {
        "MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_KEY,
        "MANDRILL_WEBHOOK_KEY": MANDRILL_KEY,
    }


@pytest.fixture
def pending(petition, django_capture_on_commit_callbacks) -> tuple[Signature, OutboundEmail]:
    with django_capture_on_commit_callbacks(execute=True):
        signature_id = services.signature_create(
            petition=petition, name="Maria Rossi", email=ADDRESS, postal_code="94612", country="US"
        )
    return Signature.objects.get(pk=signature_id), OutboundEmail.objects.get(
        kind=CONFIRMATIONS.signer.name
    )


def _nothing_changed(signature: Signature, email: OutboundEmail) -> None:
    signature.refresh_from_db()
    assert signature.undeliverable_at is None
    assert OutboundEmail.objects.get(pk=email.pk).state == OutboundEmail.State.SENT
    assert not BounceEvent.objects.exists() and not EmailSuppression.objects.exists()


def test_the_urls_are_where_the_readme_says() -> None:
    assert reverse("bounces:mailgun") == MAILGUN
    assert reverse("bounces:mandrill") == MANDRILL


# --- Mailgun ----------------------------------------------------------------------------------


def test_a_signed_mailgun_permanent_failure_makes_the_signature_undeliverable(
    client, pending
) -> None:
    signature, email = pending
    body = mailgun_body(
        "mailgun_failed_permanent",
        recipient=ADDRESS,
        metadata={"cosign_message_id": our_message_id(email)},
    )
    response = client.post(MAILGUN, body, content_type="application/json")
    assert response.status_code == 200
    signature.refresh_from_db()
    assert signature.undeliverable_at is not None
    event = BounceEvent.objects.get()
    assert (event.source, event.type, event.status) == ("mailgun", "hard", "5.1.1")
    # Mailgun posts again when it gets no answer in time: the same token, nothing more.
    again = client.post(MAILGUN, body, content_type="application/json")
    assert again.status_code == 200
    assert BounceEvent.objects.count() == 1


def test_mailguns_own_message_id_finds_the_email_it_sent(client, pending) -> None:
    signature, email = pending
    provider_id = "<20261207091402.1.ABCDEF0123456789@mg.cosign.example.org>"
    OutboundEmail.objects.filter(pk=email.pk).update(provider_message_id=provider_id)
    body = mailgun_body("mailgun_failed_permanent", recipient=ADDRESS, provider_id=provider_id)
    assert client.post(MAILGUN, body, content_type="application/json").status_code == 200
    signature.refresh_from_db()
    assert signature.undeliverable_at is not None


def test_a_mailgun_temporary_failure_puts_the_email_back_in_line(client, pending) -> None:
    _, email = pending
    body = mailgun_body(
        "mailgun_failed_temporary",
        recipient=ADDRESS,
        metadata={"cosign_message_id": our_message_id(email)},
    )
    assert client.post(MAILGUN, body, content_type="application/json").status_code == 200
    email.refresh_from_db()
    assert (email.state, email.recipient) == (OutboundEmail.State.PENDING, ADDRESS)
    assert BounceEvent.objects.get().type == "soft"


def test_a_mailgun_complaint_about_an_update_unsubscribes(
    client, petition, django_capture_on_commit_callbacks
) -> None:
    signer = SignatureFactory(
        petition=petition, confirmed=True, consent_updates=True, email=ADDRESS
    )
    update = PetitionUpdate.objects.create(petition=petition, title="Vote", body="x")
    with django_capture_on_commit_callbacks(execute=True):
        campaigns.petition_update_publish(update_id=update.pk)
    email = OutboundEmail.objects.get(kind=UPDATE.name)
    body = mailgun_body(
        "mailgun_complained",
        recipient=ADDRESS,
        metadata={"cosign_message_id": our_message_id(email)},
    )
    assert client.post(MAILGUN, body, content_type="application/json").status_code == 200
    signer.refresh_from_db()
    assert signer.consent_updates is False


def test_a_mailgun_payload_signed_with_another_key_is_refused_and_changes_nothing(
    client, pending
) -> None:
    signature, email = pending
    body = mailgun_body(
        "mailgun_failed_permanent",
        recipient=ADDRESS,
        key="key-guessed",
        metadata={"cosign_message_id": our_message_id(email)},
    )
    response = client.post(MAILGUN, body, content_type="application/json")
    assert response.status_code == 400
    _nothing_changed(signature, email)


def test_a_mailgun_payload_changed_in_flight_or_unsigned_changes_nothing(client, pending) -> None:
    signature, email = pending
    body = mailgun_body(
        "mailgun_failed_permanent",
        recipient=ADDRESS,
        metadata={"cosign_message_id": our_message_id(email)},
    )
    tampered = body.replace(ADDRESS.encode(), b"victim@example.net")
    assert client.post(MAILGUN, tampered, content_type="application/json").status_code == 200
    # Mailgun signs the token, not the event: a changed recipient no longer matches the row.
    _nothing_changed(signature, email)
    response = client.post(MAILGUN, b'{"event-data": {}}', content_type="application/json")
    assert response.status_code == 400
    _nothing_changed(signature, email)


def test_an_unconfigured_provider_answers_404(client, settings, pending) -> None:
    settings.ANYMAIL = {}
    body = mailgun_body("mailgun_failed_permanent", recipient=ADDRESS)
    assert client.post(MAILGUN, body, content_type="application/json").status_code == 404
    assert client.post(MANDRILL, {}).status_code == 404
    _nothing_changed(*pending)


def test_an_oversized_body_is_refused_before_it_is_read(client, settings, pending) -> None:
    settings.BOUNCE_WEBHOOK_MAX_BYTES = 1000
    signature, email = pending
    body = mailgun_body(
        "mailgun_failed_permanent",
        recipient=ADDRESS,
        metadata={"cosign_message_id": our_message_id(email)},
    )
    assert len(body) > 1000
    assert client.post(MAILGUN, body, content_type="application/json").status_code == 413
    _nothing_changed(signature, email)


def test_a_flood_from_one_address_is_rate_limited(client, settings, pending) -> None:
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "bounce_webhook": {"ip": ["2/m"], "campaign": [], "global": []},
    }
    answers = [
        client.post(MAILGUN, b"{}", content_type="application/json").status_code for _ in range(3)
    ]
    assert answers == [400, 400, 429]


def test_a_get_is_not_an_event(client) -> None:
    assert client.get(MAILGUN).status_code == 405


# --- Mandrill ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "undeliverable"), [("hard_bounce", True), ("soft_bounce", False)]
)
def test_a_signed_mandrill_bounce_acts_by_its_kind(
    client, pending, event: str, undeliverable: bool
) -> None:
    signature, email = pending
    body, signature_header = mandrill_form(
        event,
        recipient=ADDRESS,
        url=f"http://testserver{MANDRILL}",
        metadata={"cosign_message_id": our_message_id(email)},
    )
    response = client.post(
        MANDRILL,
        body,
        content_type="application/x-www-form-urlencoded",
        HTTP_X_MANDRILL_SIGNATURE=signature_header,
    )
    assert response.status_code == 200
    signature.refresh_from_db()
    assert (signature.undeliverable_at is not None) is undeliverable
    email.refresh_from_db()
    expected = OutboundEmail.State.FAILED if undeliverable else OutboundEmail.State.PENDING
    assert email.state == expected
    assert BounceEvent.objects.get().source == "mandrill"


def test_mandrills_own_id_finds_the_email_it_sent(client, pending) -> None:
    signature, email = pending
    OutboundEmail.objects.filter(pk=email.pk).update(provider_message_id="abc123mandrill")
    body, signature_header = mandrill_form(
        "hard_bounce",
        recipient=ADDRESS,
        url=f"http://testserver{MANDRILL}",
        provider_id="abc123mandrill",
    )
    response = client.post(
        MANDRILL,
        body,
        content_type="application/x-www-form-urlencoded",
        HTTP_X_MANDRILL_SIGNATURE=signature_header,
    )
    assert response.status_code == 200
    signature.refresh_from_db()
    assert signature.undeliverable_at is not None


@pytest.mark.parametrize("how", ["wrong key", "other url", "no header"])
def test_a_badly_signed_mandrill_post_is_refused_and_changes_nothing(
    client, pending, how: str
) -> None:
    signature, email = pending
    body, signature_header = mandrill_form(
        "hard_bounce",
        recipient=ADDRESS,
        url=f"http://evil.example{MANDRILL}"
        if how == "other url"
        else f"http://testserver{MANDRILL}",
        key="guessed" if how == "wrong key" else MANDRILL_KEY,
        metadata={"cosign_message_id": our_message_id(email)},
    )
    headers = {} if how == "no header" else {"HTTP_X_MANDRILL_SIGNATURE": signature_header}
    response = client.post(
        MANDRILL, body, content_type="application/x-www-form-urlencoded", **headers
    )
    assert response.status_code == 400
    _nothing_changed(signature, email)
