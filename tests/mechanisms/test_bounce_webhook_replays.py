"""Mailgun's webhook against captured and forged requests (mechanisms.bounce_webhooks): a signature
outside MAILGUN_WEBHOOK_MAX_AGE_SECONDS or a token already used acts on nothing, and each refusal
is one log line, as printed by the handlers the settings configure."""

from __future__ import annotations

import io
import socket
import time

import pytest
from django.db import DatabaseError
from django.test import Client

from mechanisms import bounce_webhooks
from mechanisms.models import BounceEvent, EmailSuppression, OutboundEmail
from mechanisms.redis_breaker import breaker
from petitions import services
from petitions.emails import CONFIRMATIONS
from petitions.models import Signature
from tests.bounces import MAILGUN_KEY, MANDRILL_KEY, mailgun_body, our_message_id

pytestmark = pytest.mark.django_db

ADDRESS = "maria.rossi@example.net"
MAILGUN = "/email/bounces/mailgun/"
WINDOW = 900


@pytest.fixture(autouse=True)
def _keys(settings) -> None:
    settings.ANYMAIL = {
        "MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_KEY,
        "MANDRILL_WEBHOOK_KEY": MANDRILL_KEY,
    }
    settings.MAILGUN_WEBHOOK_MAX_AGE_SECONDS = WINDOW


@pytest.fixture
def pending(petition, django_capture_on_commit_callbacks) -> tuple[Signature, OutboundEmail]:
    with django_capture_on_commit_callbacks(execute=True):
        signature_id = services.signature_create(
            petition=petition, name="Maria Rossi", email=ADDRESS, postal_code="94612", country="US"
        )
    return Signature.objects.get(pk=signature_id), OutboundEmail.objects.get(
        kind=CONFIRMATIONS.signer.name
    )


def _bounce(email: OutboundEmail, **fields: object) -> bytes:
    return mailgun_body(
        "mailgun_failed_permanent",
        recipient=ADDRESS,
        metadata={"cosign_message_id": our_message_id(email)},
        **fields,  # type: ignore[arg-type]
    )


def _nothing_changed(signature: Signature, email: OutboundEmail) -> None:
    signature.refresh_from_db()
    assert signature.undeliverable_at is None
    assert OutboundEmail.objects.get(pk=email.pk).state == OutboundEmail.State.SENT
    assert not BounceEvent.objects.exists() and not EmailSuppression.objects.exists()


def _acted(signature: Signature) -> None:
    signature.refresh_from_db()
    assert signature.undeliverable_at is not None
    assert BounceEvent.objects.count() == 1


def test_a_fresh_signed_bounce_is_accepted(client, pending) -> None:
    signature, email = pending
    response = client.post(MAILGUN, _bounce(email), content_type="application/json")
    assert response.status_code == 200
    _acted(signature)


@pytest.mark.parametrize(
    "age",
    [
        pytest.param(time.time() - 978_307_200, id="signed-in-2001"),
        pytest.param(WINDOW + 120, id="just-past-the-window"),
        pytest.param(-(WINDOW + 120), id="from-the-future"),
    ],
)
def test_a_validly_signed_bounce_outside_the_window_is_refused_and_changes_nothing(
    client, pending, printed: io.StringIO, age: float
) -> None:
    signature, email = pending
    body = _bounce(email, timestamp=int(time.time() - age))
    response = client.post(MAILGUN, body, content_type="application/json")
    assert response.status_code == 400
    _nothing_changed(signature, email)
    lines = printed.getvalue().splitlines()
    assert len(lines) == 1 and "outside the 900 s window" in lines[0]


def test_inside_the_window_a_bounce_signed_minutes_ago_is_accepted(client, pending) -> None:
    signature, email = pending
    body = _bounce(email, timestamp=int(time.time()) - (WINDOW - 120))
    assert client.post(MAILGUN, body, content_type="application/json").status_code == 200
    _acted(signature)


def test_a_replayed_token_is_not_acted_on_even_once_the_event_record_is_gone(
    client, pending, printed: io.StringIO
) -> None:
    signature, email = pending
    body = _bounce(email)
    assert client.post(MAILGUN, body, content_type="application/json").status_code == 200
    _acted(signature)
    # Undo what the first post did, as if its stored event were gone: only the token's record
    # stands between the replay and a second bounce.
    BounceEvent.objects.all().delete()
    EmailSuppression.objects.all().delete()
    Signature.objects.filter(pk=signature.pk).update(undeliverable_at=None)
    OutboundEmail.objects.filter(pk=email.pk).update(state=OutboundEmail.State.SENT)
    printed.truncate(0)
    printed.seek(0)

    # 200, so that Mailgun's own retry of a request we answered late stops there.
    assert client.post(MAILGUN, body, content_type="application/json").status_code == 200
    _nothing_changed(signature, email)
    lines = printed.getvalue().splitlines()
    assert len(lines) == 1 and "token already used" in lines[0]


def test_the_same_token_with_another_timestamp_is_not_a_valid_signature(client, pending) -> None:
    _signature, email = pending
    token = "f" * 50
    assert (
        client.post(
            MAILGUN, _bounce(email, token=token), content_type="application/json"
        ).status_code
        == 200
    )
    BounceEvent.objects.all().delete()
    forged = _bounce(email, token=token, key="key-guessed", timestamp=int(time.time()) + 1)
    assert client.post(MAILGUN, forged, content_type="application/json").status_code == 400
    assert not BounceEvent.objects.exists()


def test_a_failure_after_the_token_was_spent_lets_mailguns_retry_through(
    pending, monkeypatch
) -> None:
    signature, email = pending
    body = _bounce(email)
    real = bounce_webhooks.bounce_record

    def database_down(**kwargs: object) -> None:
        raise DatabaseError("connection lost")

    monkeypatch.setattr(bounce_webhooks, "bounce_record", database_down)
    client = Client(raise_request_exception=False)
    assert client.post(MAILGUN, body, content_type="application/json").status_code == 500
    _nothing_changed(signature, email)
    monkeypatch.setattr(bounce_webhooks, "bounce_record", real)
    assert client.post(MAILGUN, body, content_type="application/json").status_code == 200
    _acted(signature)


def test_without_redis_a_fresh_bounce_is_still_accepted_and_acted_on_once(
    client, pending, settings
) -> None:
    """Fail open (mechanisms.bounce_webhooks explains why): the window and the stored event
    still keep a replay from acting twice."""
    signature, email = pending
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.CACHES = {
        "default": {
            "BACKEND": "mechanisms.redis_breaker.BreakerRedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "OPTIONS": {"socket_connect_timeout": 0.1, "socket_timeout": 0.1, "retry": None},
        }
    }
    try:
        body = _bounce(email)
        assert client.post(MAILGUN, body, content_type="application/json").status_code == 200
        _acted(signature)
        assert client.post(MAILGUN, body, content_type="application/json").status_code == 200
        assert BounceEvent.objects.count() == 1
    finally:
        breaker.reset()


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"event-data": {}}', id="unsigned"),
        pytest.param(b"not json", id="not-json"),
        pytest.param(None, id="wrong-key"),
    ],
)
def test_a_forged_request_logs_one_line_without_a_traceback(
    client, pending, printed: io.StringIO, body: bytes | None
) -> None:
    signature, email = pending
    body = body or _bounce(email, key="key-guessed")
    response = client.post(MAILGUN, body, content_type="application/json")
    assert response.status_code == 400
    _nothing_changed(signature, email)
    lines = printed.getvalue().splitlines()
    assert len(lines) == 1, lines
    assert "WARNING mechanisms.bounce_webhooks" in lines[0] and "Traceback" not in lines[0]


def test_a_badly_signed_mandrill_post_logs_one_line_too(client, printed: io.StringIO) -> None:
    response = client.post(
        "/email/bounces/mandrill/",
        {"mandrill_events": "[]"},
        headers={"x-mandrill-signature": "forged"},
    )
    assert response.status_code == 400
    lines = printed.getvalue().splitlines()
    assert len(lines) == 1 and "WARNING mechanisms.bounce_webhooks" in lines[0]
