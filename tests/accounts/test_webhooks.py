"""Organizations' webhooks (issue 19, item 4): addresses checked at registration and at every
send, Standard Webhooks signatures that verify (through a secret's rotation), retries with
backoff, failing endpoints disabled with their administrators told, events only to whom they
concern, and one organization's webhooks out of another's reach."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone
from prometheus_client import REGISTRY
from standardwebhooks.webhooks import Webhook

from accounts import webhooks
from accounts.models import Membership, Organization, User, WebhookDelivery, WebhookEndpoint
from petitions.models import SponsorOptIn
from petitions.services.signing import signature_confirm
from tests.factories import OrganizationFactory, PetitionFactory, SignatureFactory
from tests.outbox import outbox_drain

pytestmark = pytest.mark.django_db
PASSWORD = "a long enough password 42"
CONFIRMED = WebhookEndpoint.Event.SIGNATURE_CONFIRMED


class Receiver:
    """An HTTP server on this machine answering each POST with the next of `statuses` (then
    the last one), and keeping what it received."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.received: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                index = min(len(receiver.received), len(receiver.statuses)) - 1
                self.send_response(receiver.statuses[index])
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def local(settings) -> None:
    """A receiver on this machine is a private address: allowed here, as in a local trial."""
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True


@pytest.fixture
def receiver(local) -> Iterator[Receiver]:
    server = Receiver([200])
    yield server
    server.close()


def _admin(organization: Organization, email: str) -> User:
    user = User.objects.create_user(email, PASSWORD)
    Membership.objects.create(user=user, organization=organization, role="admin")
    return user


def _endpoint(organization: Organization, url: str, events=(CONFIRMED,)) -> WebhookEndpoint:
    return webhooks.webhook_endpoint_create(
        organization=organization,
        user=_admin(organization, f"admin@{organization.slug}.example"),
        url=url,
        events=list(events),
    )


def _owe(endpoint: WebhookEndpoint, data: dict | None = None) -> WebhookDelivery:
    webhooks.webhook_events_emit(
        organization_ids=[endpoint.organization_id], event=CONFIRMED, data=data or {"n": 1}
    )
    return WebhookDelivery.objects.filter(endpoint=endpoint).latest("pk")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://hooks.example.org/in", "must start with https://"),
        ("https://127.0.0.1/in", "private, local or reserved network"),
        ("https://10.1.2.3/in", "private, local or reserved network"),
        ("https://169.254.169.254/latest", "private, local or reserved network"),
        ("https://[::1]/in", "private, local or reserved network"),
        ("https://user:pw@hooks.example.org/in", "user name or password"),
        ("https://no-such-host.invalid/in", "does not resolve"),
    ],
)
def test_an_address_that_is_not_public_https_is_refused_at_registration(url, message) -> None:
    organization = OrganizationFactory()
    with pytest.raises(ValidationError) as refused:
        _endpoint(organization, url)
    assert message in str(refused.value)
    assert not WebhookEndpoint.objects.exists()


def test_a_name_that_resolves_privately_at_send_time_is_not_sent_to(monkeypatch, settings) -> None:
    # Public when registered (DNS lies outside this machine: its answer is given here)...
    answers = {"hooks.example.org": "93.184.216.34"}

    def resolve(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    endpoint = _endpoint(OrganizationFactory(), "https://hooks.example.org/in")
    # ...and the cloud's metadata address a minute later (DNS rebinding).
    answers["hooks.example.org"] = "169.254.169.254"
    delivery = _owe(endpoint)
    webhooks.webhooks_send(delivery_ids=[delivery.pk])
    delivery.refresh_from_db()
    assert delivery.state == WebhookDelivery.State.PENDING
    assert delivery.attempts == 1
    assert "private, local or reserved network" in delivery.last_error


def test_a_delivery_is_signed_the_standard_webhooks_way_through_a_rotation(receiver) -> None:
    endpoint = _endpoint(OrganizationFactory(), receiver.url)
    old_secret = endpoint.secret
    delivery = _owe(endpoint, {"petition": "end-ring"})
    webhooks.webhooks_send(delivery_ids=[delivery.pk])
    headers, body = receiver.received[-1]
    assert Webhook(old_secret).verify(body, headers)["data"] == {"petition": "end-ring"}
    assert headers["webhook-id"] == delivery.message_id

    rotated = webhooks.webhook_secret_rotate(endpoint=endpoint, user=endpoint.created_by)
    webhooks.webhooks_send(delivery_ids=[_owe(endpoint).pk])
    headers, body = receiver.received[-1]
    # Both verify while the old secret overlaps: receivers rotate without losing an event.
    assert Webhook(rotated.secret).verify(body, headers)
    assert Webhook(old_secret).verify(body, headers)
    assert len(headers["webhook-signature"].split(" ")) == 2
    # After the overlap, the old one no longer signs.
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        previous_secret_until=timezone.now() - timedelta(seconds=1)
    )
    webhooks.webhooks_send(delivery_ids=[_owe(endpoint).pk])
    headers, body = receiver.received[-1]
    assert Webhook(rotated.secret).verify(body, headers)
    with pytest.raises(Exception, match="No matching signature"):
        Webhook(old_secret).verify(body, headers)


def test_failures_are_tried_again_later_each_time_then_fail_for_good(local, settings) -> None:
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    settings.WEBHOOK_RETRY_BASE_SECONDS = 10
    server = Receiver([500])
    failures = {"reason": "status"}
    failed_before = REGISTRY.get_sample_value("cosign_webhook_failures_total", failures) or 0
    try:
        endpoint = _endpoint(OrganizationFactory(), server.url)
        delivery = _owe(endpoint)
        waits = []
        for attempt in (1, 2, 3):
            before = timezone.now()
            webhooks.webhooks_dispatch(now=before + timedelta(days=attempt))
            delivery.refresh_from_db()
            assert delivery.attempts == attempt
            waits.append(round((delivery.next_attempt_at - before).total_seconds()))
        assert delivery.state == WebhookDelivery.State.FAILED
        assert (delivery.last_status, delivery.last_error) == (500, "HTTP 500")
        assert waits[:2] == [10, 20]  # 10 s, then twice as long
        assert len(server.received) == 3
        # Each failed attempt is counted for the metrics (README "Operating").
        failed = REGISTRY.get_sample_value("cosign_webhook_failures_total", failures)
        assert failed == failed_before + 3
        # Nothing more is sent once it failed for good.
        webhooks.webhooks_dispatch(now=timezone.now() + timedelta(days=9))
        assert len(server.received) == 3
    finally:
        server.close()


def test_an_endpoint_that_keeps_failing_is_disabled_and_its_admins_emailed(local, settings) -> None:
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 2
    server = Receiver([503])
    try:
        organization = OrganizationFactory(name="Oakland Privacy")
        endpoint = _endpoint(organization, server.url)
        viewer = User.objects.create_user("viewer@oakland.example", PASSWORD)
        Membership.objects.create(user=viewer, organization=organization, role="viewer")
        first, second = _owe(endpoint), _owe(endpoint)
        webhooks.webhooks_send(delivery_ids=[first.pk, second.pk])
        endpoint.refresh_from_db()
        assert not endpoint.active
        assert "2 attempts failed in a row" in endpoint.disabled_reason
        outbox_drain()
        told = [m for m in mail.outbox if "Webhook disabled" in m.subject]
        assert [m.to for m in told] == [[endpoint.created_by.email]]
        assert server.url in told[0].body
        # Off: nothing more is owed to it, nor sent.
        assert (
            webhooks.webhook_events_emit(
                organization_ids=[organization.pk], event=CONFIRMED, data={}
            )
            == 0
        )
        # Turned on again, what waited goes out.
        server.statuses = [200]
        webhooks.webhook_endpoint_enable(endpoint=endpoint, user=endpoint.created_by)
        webhooks.webhooks_dispatch(now=timezone.now() + timedelta(hours=1))
        assert set(
            WebhookDelivery.objects.filter(endpoint=endpoint).values_list("state", flat=True)
        ) == {"sent"}
    finally:
        server.close()


def test_a_confirmed_signature_goes_only_to_organizations_its_signer_opted_in_to(
    receiver, django_capture_on_commit_callbacks
) -> None:
    chosen = OrganizationFactory(name="Oakland Privacy")
    other = OrganizationFactory(name="Media Alliance")
    petition = PetitionFactory(slug="end-ring")
    petition.sponsors.add(chosen, other)
    chosen_endpoint = _endpoint(chosen, receiver.url)
    _endpoint(other, receiver.url + "?other")
    signature = SignatureFactory(petition=petition, email="rosa@example.net", name="Rosa Chen")
    SponsorOptIn.objects.create(signature=signature, organization=chosen)
    with django_capture_on_commit_callbacks(execute=True):
        signature_confirm(signature_id=signature.pk)

    assert [d.endpoint for d in WebhookDelivery.objects.all()] == [chosen_endpoint]
    _headers, body = receiver.received[-1]
    payload = json.loads(body)
    assert payload["type"] == "signature.confirmed"
    assert payload["data"]["signature"]["email"] == "rosa@example.net"
    assert payload["data"]["petition"]["slug"] == "end-ring"
    assert len(receiver.received) == 1


def test_redelivery_sends_the_event_again_as_a_new_message(receiver) -> None:
    endpoint = _endpoint(OrganizationFactory(), receiver.url)
    delivery = _owe(endpoint)
    webhooks.webhooks_send(delivery_ids=[delivery.pk])
    again = webhooks.webhook_redeliver(
        organization=endpoint.organization, delivery_id=delivery.pk, user=endpoint.created_by
    )
    webhooks.webhooks_send(delivery_ids=[again.pk])
    ids = [headers["webhook-id"] for headers, _body in receiver.received]
    assert len(ids) == 2 and ids[0] != ids[1]
    assert json.loads(receiver.received[0][1]) == json.loads(receiver.received[1][1])


@pytest.mark.parametrize("outsider_index", [0, 1])
def test_one_organizations_webhooks_are_out_of_anothers_reach(
    client, receiver, outsider_index
) -> None:
    organizations = [OrganizationFactory(name="Oakland Privacy"), OrganizationFactory(name="EFF")]
    owner, outsider = organizations[1 - outsider_index], organizations[outsider_index]
    endpoint = _endpoint(owner, receiver.url)
    delivery = _owe(endpoint)
    client.force_login(_admin(outsider, f"boss@{outsider.slug}.example"))
    base = f"/en/organizations/{owner.slug}/webhooks/"
    assert client.get(base).status_code == 404
    assert client.post(f"{base}{endpoint.pk}/rotate/").status_code == 404
    assert client.post(f"{base}{endpoint.pk}/delete/").status_code == 404
    assert client.post(f"{base}deliveries/{delivery.pk}/again/").status_code == 404
    # Through its own pages, with the other's ids: as if they did not exist.
    own = f"/en/organizations/{outsider.slug}/webhooks/"
    assert client.post(f"{own}{endpoint.pk}/delete/").status_code == 404
    assert client.post(f"{own}deliveries/{delivery.pk}/again/").status_code == 404
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
    assert WebhookDelivery.objects.count() == 1
    endpoint.refresh_from_db()
    assert endpoint.previous_secret == ""
    # And a viewer of the owner may not manage them.
    viewer = User.objects.create_user(f"viewer@{owner.slug}.example", PASSWORD)
    Membership.objects.create(user=viewer, organization=owner, role="viewer")
    client.force_login(viewer)
    assert client.get(base).status_code == 403


def test_an_osdi_push_sends_each_confirmed_supporter_with_the_servers_key(
    receiver, django_capture_on_commit_callbacks
) -> None:
    organization = OrganizationFactory(name="Oakland Privacy")
    admin = _admin(organization, "admin@oakland.example")
    with pytest.raises(ValidationError, match="needs the key"):
        webhooks.webhook_endpoint_create(
            organization=organization,
            user=admin,
            url=receiver.url,
            events=[],
            kind=WebhookEndpoint.Kind.OSDI_PUSH,
        )
    webhooks.webhook_endpoint_create(
        organization=organization,
        user=admin,
        url=receiver.url,
        events=[],
        kind=WebhookEndpoint.Kind.OSDI_PUSH,
        osdi_api_key="an-key-from-action-network",
    )
    petition = PetitionFactory(slug="end-ring")
    petition.sponsors.add(organization)
    signature = SignatureFactory(
        petition=petition, email="rosa@example.net", name="Rosa Chen", postal_code="94612"
    )
    SponsorOptIn.objects.create(signature=signature, organization=organization)
    with django_capture_on_commit_callbacks(execute=True):
        signature_confirm(signature_id=signature.pk)

    headers, body = receiver.received[-1]
    assert headers["OSDI-API-Token"] == "an-key-from-action-network"
    assert json.loads(body) == {
        "person": {
            "given_name": "Rosa",
            "family_name": "Chen",
            "email_addresses": [{"address": "rosa@example.net", "primary": True}],
            "postal_addresses": [{"postal_code": "94612", "country": "US"}],
        },
        "origin_system": "Cosign",
        "referrer_data": {"source": "end-ring"},
    }


def test_a_receiver_that_trickles_its_answer_is_cut_off(local, settings) -> None:
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    stop = threading.Event()

    def trickle() -> None:
        conn, _address = listener.accept()
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\n")
        for _ in range(40):  # a header byte every quarter second: ten seconds in all
            if stop.is_set():
                break
            try:
                conn.sendall(b"X")
            except OSError:
                break
            stop.wait(0.25)
        conn.close()

    threading.Thread(target=trickle, daemon=True).start()
    try:
        endpoint = _endpoint(OrganizationFactory(), f"http://127.0.0.1:{port}/hook")
        delivery = _owe(endpoint)
        started = timezone.now()
        webhooks.webhooks_send(delivery_ids=[delivery.pk])
        took = (timezone.now() - started).total_seconds()
        delivery.refresh_from_db()
        assert took < 5  # twice the timeout, and some slack: not the trickle's ten seconds
        assert (delivery.state, delivery.last_status) == ("pending", None)
        assert delivery.last_error
    finally:
        stop.set()
        listener.close()


def test_a_sender_whose_lease_ran_out_does_not_undo_anothers_delivery(receiver) -> None:
    endpoint = _endpoint(OrganizationFactory(), receiver.url)
    delivery = _owe(endpoint)
    # Sender A claimed it, and was slow; its lease ran out and sender B delivered it.
    claimed = webhooks._claim(now=timezone.now(), ids=[delivery.pk])
    held_by_a = WebhookDelivery.objects.get(pk=claimed[0])
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        lease_until=timezone.now() - timedelta(seconds=1)
    )
    webhooks.webhooks_dispatch()
    assert WebhookDelivery.objects.get(pk=delivery.pk).state == "sent"
    # A now reports its failure: it no longer holds the row, so nothing changes.
    webhooks._record(held_by_a, False, 500, "", webhooks.Dispatched())
    after = WebhookDelivery.objects.get(pk=delivery.pk)
    assert (after.state, after.attempts, after.last_status) == ("sent", 1, 200)
    assert len(receiver.received) == 1


def test_a_held_signature_is_told_once_a_moderator_approves_it_and_withdrawn_if_rejected(
    receiver, django_capture_on_commit_callbacks
) -> None:
    from petitions.services.moderation import signatures_confirm, signatures_reject

    organization = OrganizationFactory()
    endpoint = _endpoint(
        organization, receiver.url, events=(CONFIRMED, WebhookEndpoint.Event.SIGNATURE_WITHDRAWN)
    )
    petition = PetitionFactory()
    petition.sponsors.add(organization)
    signature = SignatureFactory(petition=petition, held=True, email="held@example.net")
    SponsorOptIn.objects.create(signature=signature, organization=organization)
    with django_capture_on_commit_callbacks(execute=True):
        signature_confirm(signature_id=signature.pk)
    assert not WebhookDelivery.objects.exists()  # held: its details wait for a moderator

    moderator = endpoint.created_by
    with django_capture_on_commit_callbacks(execute=True):
        signatures_confirm(signature_ids=[signature.pk], moderator=moderator)
    with django_capture_on_commit_callbacks(execute=True):
        signatures_reject(signature_ids=[signature.pk], moderator=moderator, reason="A bot.")
    events = [json.loads(body)["type"] for _headers, body in receiver.received]
    assert events == ["signature.confirmed", "signature.withdrawn"]


# --- What an outside review of a production-shaped run found -------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.org/é",
        "https://hooks.example.org/a b",
        "https://hooks.example.org/x\r\nHost: evil",
        "https://[::1/x",
        "https://[::127.0.0.1]/",
        "https://[64:ff9b::7f00:1]/",
        "https://[2002:7f00:1::]/",
        "https://[::ffff:0:7f00:1]/",
    ],
)
def test_addresses_that_hide_a_private_host_or_break_a_request_are_refused(url) -> None:
    with pytest.raises(ValidationError):
        _endpoint(OrganizationFactory(), url)
    assert not WebhookEndpoint.objects.exists()


def test_an_osdi_key_that_would_break_its_header_is_refused(receiver) -> None:
    organization = OrganizationFactory()
    with pytest.raises(ValidationError, match="printable ASCII"):
        webhooks.webhook_endpoint_create(
            organization=organization,
            user=_admin(organization, "a@o.example"),
            url=receiver.url,
            events=[],
            kind=WebhookEndpoint.Kind.OSDI_PUSH,
            osdi_api_key="key\r\nX-Injected: 1",
        )


def test_one_endpoints_unexpected_error_does_not_stop_the_others(receiver, monkeypatch) -> None:
    broken = _endpoint(OrganizationFactory(), receiver.url + "?broken")
    fine = _endpoint(OrganizationFactory(), receiver.url)
    real_post = webhooks.webhook_post

    def post(*, url: str, body: bytes, headers: dict[str, str]):
        if url.endswith("?broken"):
            raise ValueError("hostname doesn't match")  # as a misnamed certificate does
        return real_post(url=url, body=body, headers=headers)

    monkeypatch.setattr(webhooks, "webhook_post", post)
    first, second = _owe(broken), _owe(fine)
    webhooks.webhooks_dispatch()
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.state, first.attempts, first.last_error) == ("pending", 1, "ValueError")
    assert second.state == "sent"


def test_a_withdrawn_signers_details_leave_the_webhook_outbox(
    receiver, django_capture_on_commit_callbacks
) -> None:
    from mechanisms.personal_data import personal_records_withdraw

    organization = OrganizationFactory()
    endpoint = _endpoint(
        organization, receiver.url, events=(CONFIRMED, WebhookEndpoint.Event.SIGNATURE_WITHDRAWN)
    )
    petition = PetitionFactory()
    petition.sponsors.add(organization)
    signature = SignatureFactory(petition=petition, email="carl@example.net")
    opt_in = SponsorOptIn.objects.create(signature=signature, organization=organization)
    with django_capture_on_commit_callbacks(execute=True):
        signature_confirm(signature_id=signature.pk)
    sent = WebhookDelivery.objects.get(event=CONFIRMED)
    # Delivered: an export, on the signer's own page.
    opt_in.refresh_from_db()
    assert opt_in.exported_at is not None

    with django_capture_on_commit_callbacks(execute=True):
        personal_records_withdraw(canonical_email=signature.canonical_email, refs=None)
    sent.refresh_from_db()
    assert "carl@example.net" not in json.dumps(sent.payload)
    with pytest.raises(ValidationError, match="withdrew"):
        webhooks.webhook_redeliver(
            organization=organization, delivery_id=sent.pk, user=endpoint.created_by
        )
    events = [json.loads(body)["type"] for _headers, body in receiver.received]
    assert events == ["signature.confirmed", "signature.withdrawn"]


def test_withdrawing_a_signature_never_sent_tells_nobody(receiver) -> None:
    from mechanisms.personal_data import personal_records_withdraw

    organization = OrganizationFactory()
    _endpoint(organization, receiver.url, events=(WebhookEndpoint.Event.SIGNATURE_WITHDRAWN,))
    petition = PetitionFactory()
    held = SignatureFactory(petition=petition, email="hal@example.net", confirmed=True, held=True)
    pending = SignatureFactory(petition=petition, email="quinn@example.net")
    for signature in (held, pending):
        SponsorOptIn.objects.create(signature=signature, organization=organization)
        personal_records_withdraw(canonical_email=signature.canonical_email, refs=None)
    assert not WebhookDelivery.objects.exists()


def test_an_organization_no_longer_verified_receives_nothing_more(receiver) -> None:
    organization = OrganizationFactory()
    endpoint = _endpoint(organization, receiver.url)
    waiting = _owe(endpoint)
    Organization.objects.filter(pk=organization.pk).update(verification="rejected")
    assert (
        webhooks.webhook_events_emit(organization_ids=[organization.pk], event=CONFIRMED, data={})
        == 0
    )
    webhooks.webhooks_send(delivery_ids=[waiting.pk])
    assert receiver.received == []
