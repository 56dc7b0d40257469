"""Sentry's events leave without personal data: exceptions raised in real views, on requests that
carry an email, a client address, a token in the path and the query, a session cookie and an API
key, recorded by an in-process transport (Sentry's own hook for tests: a `Transport` whose
capture_envelope keeps the envelope instead of sending it)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from unittest import mock

import pytest
import sentry_sdk
from django.test import Client
from django.urls import reverse
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport

from mechanisms.error_reports import breadcrumb_scrub, event_scrub, sentry_init
from petitions.emails import confirmation_url
from tests.factories import PetitionFactory, SignatureFactory

pytestmark = pytest.mark.django_db

EMAIL = "sentry.leak.9042@example.org"
CLIENT_IP = "203.0.113.99"
PROXY_IP = "198.51.100.99"
API_KEY = "cosign_9f8e7d6c5b4a_SentryLeakKeySentryLeakKey9042"
SESSION = "sessionleak9042sessionleak9042xx"
QUERY_SECRET = "querysecret9042"


class RecordingTransport(Transport):
    def __init__(self) -> None:
        super().__init__()
        self.envelopes: list[Envelope] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        self.envelopes.append(envelope)

    def events(self) -> list[dict]:
        return [
            item.payload.json
            for envelope in self.envelopes
            for item in envelope.items
            if item.type == "event" and item.payload.json is not None
        ]


@pytest.fixture
def reported(settings) -> Iterator[RecordingTransport]:
    settings.TRUSTED_PROXIES = [PROXY_IP]
    transport = RecordingTransport()
    sentry_init(dsn="https://public@sentry.invalid/1", environment="test", transport=transport)
    try:
        yield transport
    finally:
        sentry_sdk.get_client().close()
        sentry_sdk.init(dsn=None)


def _client() -> Client:
    client = Client(
        raise_request_exception=False,
        REMOTE_ADDR=PROXY_IP,
        HTTP_X_FORWARDED_FOR=f"{CLIENT_IP}, {PROXY_IP}",
        HTTP_AUTHORIZATION=f"Bearer {API_KEY}",
        HTTP_X_REQUEST_ID="req-sentry-12345678",
    )
    client.cookies["sessionid"] = SESSION
    return client


def test_an_error_in_a_view_reaches_sentry_without_email_address_or_token(reported) -> None:
    petition = PetitionFactory()
    signature = SignatureFactory(petition=petition, email=EMAIL)
    confirm = confirmation_url(signature=signature).split("://", 1)[1].split("/", 1)[1]
    confirm = "/" + confirm
    token = confirm.rstrip("/").rsplit("/", 1)[1]
    boom = RuntimeError(f"cannot go on for {EMAIL} at {CLIENT_IP}")

    # A sign POST: the email in the body; the exception quotes it, and a log line before it too.
    def crash(**kwargs):
        logging.getLogger("petitions").warning("about to fail for %s", kwargs.get("email"))
        raise boom

    sign_url = reverse("petitions:sign", kwargs={"slug": petition.slug})
    with mock.patch("petitions.services.signature_create", side_effect=crash):
        response = _client().post(
            f"{sign_url}?email={EMAIL}&t={QUERY_SECRET}",
            {"name": "Maria Rossi", "email": EMAIL, "postal_code": "94612", "display": "short"},
        )
    assert response.status_code == 500

    # The confirmation page: the token in the path and the query string.
    # Another exception object: Sentry drops a second report of the same one.
    again = RuntimeError(f"cannot go on for {EMAIL} at {CLIENT_IP}")
    with mock.patch("petitions.selectors.signature_from_token", side_effect=again):
        response = _client().get(f"{confirm}?token={token}&next={QUERY_SECRET}")
    assert response.status_code == 500

    events = reported.events()
    assert len(events) == 2
    assert any(
        value["type"] == "RuntimeError"
        for event in events
        for value in event.get("exception", {}).get("values", [])
    )
    text = json.dumps(events)
    # The reports say something useful: the exception, its place, the request's id.
    assert "cannot go on for [email] at [ip]" in text
    assert "req-sentry-12345678" in text
    for secret in (
        EMAIL,
        EMAIL.split("@")[0],
        CLIENT_IP,
        PROXY_IP,
        API_KEY,
        API_KEY.rsplit("_", 1)[1],
        SESSION,
        QUERY_SECRET,
        token,
    ):
        assert secret not in text, secret


def test_breadcrumbs_of_sql_and_http_keep_no_values() -> None:
    query = breadcrumb_scrub(
        {
            "category": "query",
            "message": f"SELECT 1 FROM s WHERE email = '{EMAIL}'",  # noqa: S608
            "data": {"db.params": [EMAIL]},
        }
    )
    assert query == {"category": "query", "message": "SELECT 1 FROM s WHERE email = '…'"}
    http = breadcrumb_scrub(
        {
            "category": "httplib",
            "data": {"url": f"https://h.example/x?k={QUERY_SECRET}", "http.query": QUERY_SECRET},
        }
    )
    assert QUERY_SECRET not in json.dumps(http)


def test_an_event_keeps_only_harmless_headers_and_a_users_id() -> None:
    event = event_scrub(
        {
            "request": {
                "url": f"https://cosign.example/en/p/x/?e={EMAIL}",
                "headers": {"Cookie": f"sessionid={SESSION}", "Accept": "text/html"},
                "cookies": {"sessionid": SESSION},
                "data": {"email": EMAIL},
                "env": {"REMOTE_ADDR": CLIENT_IP},
            },
            "user": {"id": 7, "email": EMAIL, "ip_address": CLIENT_IP},
        }
    )
    assert event == {
        "request": {"url": "https://cosign.example/en/p/x/", "headers": {"Accept": "text/html"}},
        "user": {"id": 7},
    }


def test_keys_frame_variables_and_a_violated_rows_values_are_scrubbed() -> None:
    event = event_scrub(
        {
            "extra": {EMAIL: "seen", "address": {CLIENT_IP: 1}},
            "tags": {f"signer-{EMAIL}": "x"},
            "exception": {
                "values": [
                    {
                        "value": 'duplicate key value violates unique constraint "one_per_person"\n'
                        "DETAIL:  Key (petition_id, last_name)=(3, Zanzottera) already exists.",
                        "stacktrace": {"frames": [{"function": "sign", "vars": {"n": "Zanz"}}]},
                    }
                ]
            },
        }
    )
    text = json.dumps(event)
    assert EMAIL not in text and CLIENT_IP not in text
    assert "Zanz" not in text
    assert "Key (petition_id, last_name)=([redacted]) already exists." in text
    assert event["exception"]["values"][0]["stacktrace"]["frames"] == [{"function": "sign"}]
