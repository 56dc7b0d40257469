"""Organizations' webhooks on real Celery, Redis and PostgreSQL, to a real HTTP receiver.

A supporter who opted in to an organization confirms their signature (the service the
confirmation page calls): the event is owed in that transaction, and the worker's dispatcher (beat,
every WEBHOOK_DISPATCH_SECONDS) sends it. The receiver fails three times; the event is tried again
after 1, 2 and 4 seconds (WEBHOOK_RETRY_BASE_SECONDS=1, doubling), as the same message, and
delivered on the fourth attempt, signed the Standard Webhooks way. An endpoint on a private
address is refused as it is sent, not only when it is registered.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import pairwise
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from standardwebhooks.webhooks import Webhook

from accounts.models import WebhookDelivery, WebhookEndpoint
from accounts.webhooks import webhook_endpoint_create
from petitions.models import ConsentWording, Signature, SponsorOptIn
from petitions.services.signing import signature_confirm
from tests.factories import OrganizationFactory, PetitionFactory, SignatureFactory, UserFactory
from tests.services import MailSink, celery_worker, smtp_serving, wait_until

# On Redis and on RabbitMQ (tests/integration/conftest.py).
pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("broker"),
]

CONFIRMED = WebhookEndpoint.Event.SIGNATURE_CONFIRMED
SIGNER = "rosa.chen@example.net"
WORDING = "Oakland Privacy may email me about its campaigns."
# The worker's: fast retries and dispatcher ticks, and the local receiver allowed.
FAST = {
    "WEBHOOK_ALLOW_HTTP": "1",
    "WEBHOOK_RETRY_BASE_SECONDS": "1",
    "WEBHOOK_DISPATCH_SECONDS": "1",
}


@dataclass(frozen=True)
class Received:
    at: float
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    """An organization's system: records every POST, answers 500 to the first `failures`."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.requests: list[Received] = []
        self._lock = threading.Lock()

    def answer(self, request: Received) -> int:
        with self._lock:
            self.requests.append(request)
            return 500 if len(self.requests) <= self.failures else 200


@contextmanager
def receiving(receiver: Receiver) -> Iterator[int]:
    """An HTTP server on a free local port handing requests to `receiver`; yields the port."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status = receiver.answer(
                Received(
                    at=time.time(),
                    path=self.path,
                    headers={name.lower(): value for name, value in self.headers.items()},
                    body=body,
                )
            )
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def _pending_signature_opted_in(organization) -> Signature:
    """A supporter who signed a petition the organization sponsors, ticking its box, and has
    not opened their confirmation link yet."""
    petition = PetitionFactory(title="End the Ring partnership")
    petition.sponsors.add(organization)
    signature = SignatureFactory(petition=petition, name="Rosa Chen", email=SIGNER)
    wording = ConsentWording.objects.create(text=WORDING, language="en", digest="rosa-wording")
    SponsorOptIn.objects.create(signature=signature, organization=organization, wording=wording)
    return signature


def test_a_failing_receiver_gets_the_same_event_again_with_backoff_until_it_takes_it(
    tmp_path: Path, settings
) -> None:
    receiver = Receiver(failures=3)
    with receiving(receiver) as port, smtp_serving(MailSink()) as smtp_port:
        settings.WEBHOOK_ALLOW_HTTP = True
        settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
        organization = OrganizationFactory(name="Oakland Privacy")
        endpoint = webhook_endpoint_create(
            organization=organization,
            user=UserFactory(),
            url=f"http://127.0.0.1:{port}/hook",
            events=[CONFIRMED],
        )
        signature = _pending_signature_opted_in(organization)

        env = {**FAST, "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "1"}
        with celery_worker(
            tmp_path, smtp_port=smtp_port, site_url="http://testserver", env=env
        ) as worker:
            signature_confirm(signature_id=signature.pk)
            delivery = WebhookDelivery.objects.get()
            assert (delivery.endpoint_id, delivery.event) == (endpoint.pk, CONFIRMED)

            wait_until(lambda: len(receiver.requests) >= 4, timeout=60, what="the fourth attempt")
            wait_until(
                lambda: WebhookDelivery.objects.get().state == WebhookDelivery.State.SENT,
                timeout=10,
                what="the delivery to be recorded as sent",
            )
            # More dispatcher ticks (one a second) find nothing more to send.
            time.sleep(4)
            assert len(receiver.requests) == 4
            assert worker.poll() is None

    requests = receiver.requests
    assert {r.path for r in requests} == {"/hook"}
    # One message, tried four times: the receiver can drop a repeat by its id.
    assert {r.headers["webhook-id"] for r in requests} == {delivery.message_id}
    assert len({r.body for r in requests}) == 1
    # Signed afresh for each attempt (a receiver refuses a timestamp five minutes old).
    stamps = [int(r.headers["webhook-timestamp"]) for r in requests]
    assert stamps == sorted(stamps)
    assert stamps[-1] > stamps[0]
    # Waiting 1, 2 then 4 seconds after each failure before trying again.
    gaps = [later.at - earlier.at for earlier, later in pairwise(requests)]
    assert all(gap >= wait - 0.05 for gap, wait in zip(gaps, [1, 2, 4], strict=True)), gaps

    last = requests[-1]
    assert last.headers["content-type"] == "application/json"
    payload = Webhook(endpoint.secret).verify(last.body, last.headers)
    assert payload == json.loads(last.body)
    assert payload["type"] == "signature.confirmed"
    data = payload["data"]
    assert data["signature"]["email"] == SIGNER
    assert data["signature"]["name"] == "Rosa Chen"
    assert data["signature"]["confirmed_at"]
    assert data["consent"]["wording"] == WORDING
    assert data["petition"]["title"] == "End the Ring partnership"

    delivery = WebhookDelivery.objects.get()
    assert delivery.state == WebhookDelivery.State.SENT
    assert delivery.attempts == 4
    assert delivery.last_status == 200
    assert delivery.last_error == ""
    assert delivery.sent_at is not None
    endpoint.refresh_from_db()
    assert endpoint.active
    assert endpoint.consecutive_failures == 0


def test_a_private_address_is_refused_when_registered_and_when_sent(
    tmp_path: Path, settings
) -> None:
    receiver = Receiver(failures=0)
    with receiving(receiver) as port, smtp_serving(MailSink()) as smtp_port:
        url = f"http://127.0.0.1:{port}/"
        organization = OrganizationFactory(name="Oakland Privacy")
        settings.WEBHOOK_ALLOW_HTTP = True
        settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
        with pytest.raises(ValidationError) as refused:
            webhook_endpoint_create(
                organization=organization, user=UserFactory(), url=url, events=[CONFIRMED]
            )
        assert "private" in refused.value.message_dict["url"][0]
        assert not WebhookEndpoint.objects.exists()

        # Registered while it was allowed (or before the name moved to a private address).
        endpoint = WebhookEndpoint.objects.create(
            organization=organization, url=url, events=[CONFIRMED], secret="whsec_" + "A" * 44
        )
        signature = _pending_signature_opted_in(organization)
        env = {**FAST, "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "0", "WEBHOOK_MAX_ATTEMPTS": "2"}
        with celery_worker(tmp_path, smtp_port=smtp_port, site_url="http://testserver", env=env):
            signature_confirm(signature_id=signature.pk)
            wait_until(
                lambda: WebhookDelivery.objects.get().state == WebhookDelivery.State.FAILED,
                timeout=30,
                what="both attempts to be refused",
            )
            time.sleep(2)

    assert receiver.requests == []
    delivery = WebhookDelivery.objects.get()
    assert delivery.endpoint_id == endpoint.pk
    assert delivery.attempts == 2
    assert delivery.last_status is None
    assert "leads to a private, local or reserved network" in delivery.last_error
    assert delivery.sent_at is None
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 2
