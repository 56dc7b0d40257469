"""Webhooks as people meet them: an organization's administrator adds an endpoint in the
workspace (a mistake first, said next to the field, the address typed kept), reads its secret,
sees a supporter's confirmation delivered to it, sends it again as a new message, and makes a
new secret while the old one keeps signing; a viewer of the organization may not open the page.
On desktop and on a phone, with axe-core's audit of every page.

The receiver is a local HTTP server, so the test allows plain http and private addresses (in
this process's settings, which the live server reads: it runs here). Tasks run eagerly in tests:
the event is sent in-process once the confirmation commits."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from accounts.models import Membership, User, WebhookDelivery, WebhookEndpoint
from petitions.models import ConsentWording, SponsorOptIn
from petitions.services.signing import signature_confirm
from tests.e2e.helpers import PASSWORD, audit, log_in, visit
from tests.factories import OrganizationFactory, PetitionFactory, SignatureFactory
from tests.services import wait_until

pytestmark = pytest.mark.e2e

ADMIN = "tracy@oaklandprivacy.example"
VIEWER = "jane@oaklandprivacy.example"
SIGNER = "rosa@example.net"
WORDING = "Oakland Privacy may email me"
WEBHOOKS = "/en/organizations/oakland-privacy/webhooks/"


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes


class Receiver:
    """The organization's own system: takes every POST (200) and keeps it."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.url = ""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    kept = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {name.lower(): value for name, value in self.headers.items()}
            kept.requests.append(Received(headers=headers, body=body))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    kept.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    try:
        yield kept
    finally:
        server.shutdown()
        server.server_close()


def _verifies(secret: str, request: Received) -> bool:
    try:
        Webhook(secret).verify(request.body, request.headers)
    except WebhookVerificationError:
        return False
    return True


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_an_administrator_adds_a_webhook_sees_it_delivered_sends_again_and_rotates_its_secret(
    browse, transactional_db, settings, receiver, device
) -> None:
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    organization = OrganizationFactory(name="Oakland Privacy", slug="oakland-privacy")
    admin = User.objects.create_user(ADMIN, PASSWORD, full_name="Tracy Rosenberg")
    Membership.objects.create(user=admin, organization=organization, role=Membership.Role.ADMIN)
    viewer = User.objects.create_user(VIEWER, PASSWORD, full_name="Jane Doe")
    Membership.objects.create(user=viewer, organization=organization, role=Membership.Role.VIEWER)
    petition = PetitionFactory(slug="end-ring", title="End the Ring partnership")
    petition.sponsors.add(organization)
    signature = SignatureFactory(petition=petition, name="Rosa Chen", email=SIGNER)
    wording = ConsentWording.objects.create(text=WORDING, language="en", digest="x")
    SponsorOptIn.objects.create(signature=signature, organization=organization, wording=wording)

    page = browse(device=device)
    visit(page, "/en/organizations/")
    log_in(page, ADMIN)
    page.get_by_role("link", name="Webhooks of Oakland Privacy").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Webhooks of Oakland Privacy")
    expect(page.get_by_text("Your organization has no endpoint yet.")).to_be_visible()
    expect(page.get_by_text("No event has been sent yet.")).to_be_visible()
    audit(page, "webhooks")

    # No event chosen: said next to the choice, and the address typed is kept.
    page.get_by_label("Address").fill(receiver.url)
    page.get_by_role("button", name="Add the endpoint").click()
    expect(page.get_by_role("alert").first).to_contain_text(
        "Choose at least one of the events listed."
    )
    expect(page.get_by_label("Address")).to_have_value(receiver.url)
    assert not WebhookEndpoint.objects.exists()
    audit(page, "webhooks-error")

    # Allowed only because the live server reads this process's settings (http, 127.0.0.1).
    page.get_by_label("A supporter who opted in confirmed").check()
    page.get_by_role("button", name="Add the endpoint").click()
    expect(page.get_by_role("status").first).to_contain_text("Endpoint registered.")
    expect(page.get_by_role("heading", name=receiver.url)).to_be_visible()
    secret = page.get_by_label("Secret, to verify our signatures").input_value()
    endpoint = WebhookEndpoint.objects.get()
    assert secret == endpoint.secret
    assert secret.startswith("whsec_")
    assert endpoint.events == ["signature.confirmed"]
    assert receiver.requests == []
    audit(page, "webhooks-added")

    # The supporter confirms (the service the confirmation page calls): sent once committed.
    signature_confirm(signature_id=signature.pk)
    wait_until(lambda: receiver.requests, timeout=10, what="the webhook")
    first = receiver.requests[0]
    payload = Webhook(secret).verify(first.body, first.headers)
    assert payload["type"] == "signature.confirmed"
    assert payload["data"]["signature"]["email"] == SIGNER
    assert payload["data"]["consent"]["wording"] == WORDING

    page.reload()
    rows = page.locator("#deliveries tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("signature.confirmed")
    expect(rows.first).to_contain_text("Delivered")
    expect(rows.first).to_contain_text("HTTP 200")
    expect(rows.first).to_contain_text(first.headers["webhook-id"])
    # The table scrolls sideways in its own region: the page itself is no wider than the screen.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"the page is {width} px wide"
    audit(page, "webhooks-delivered")

    # Sent again: the same event, as a new message the receiver will not take for a repeat.
    page.get_by_role("button", name=re.compile("^Send again")).click()
    expect(page.get_by_role("status").first).to_contain_text("Sent again, as a new message.")
    wait_until(lambda: len(receiver.requests) == 2, timeout=10, what="the second request")
    second = receiver.requests[1]
    assert second.headers["webhook-id"] != first.headers["webhook-id"]
    assert Webhook(secret).verify(second.body, second.headers) == payload
    expect(rows).to_have_count(2)
    for row in rows.all():
        expect(row).to_contain_text("Delivered")
    assert WebhookDelivery.objects.filter(state=WebhookDelivery.State.SENT).count() == 2
    audit(page, "webhooks-sent-again")

    # A new secret; the old one keeps signing beside it for a while.
    page.get_by_role("button", name=re.compile("^New secret")).click()
    expect(page.get_by_role("status").first).to_contain_text("New secret made.")
    expect(page.get_by_text("The previous secret signs too")).to_be_visible()
    new_secret = page.get_by_label("Secret, to verify our signatures").input_value()
    assert new_secret.startswith("whsec_")
    assert new_secret != secret
    audit(page, "webhooks-rotated")
    # What is sent now verifies with either secret, so the receiver can switch at its own pace.
    page.get_by_role("button", name=re.compile("^Send again")).first.click()
    expect(page.get_by_role("status").first).to_contain_text("Sent again, as a new message.")
    wait_until(lambda: len(receiver.requests) == 3, timeout=10, what="the third request")
    third = receiver.requests[2]
    assert _verifies(new_secret, third)
    assert _verifies(secret, third)
    assert not _verifies("whsec_" + "A" * 44, third)

    # A viewer of the organization: no link to the page, and a 403 on it.
    viewing = browse(device=device)
    visit(viewing, "/en/organizations/")
    log_in(viewing, VIEWER)
    expect(viewing.get_by_role("link", name="Members of Oakland Privacy")).to_be_visible()
    expect(viewing.get_by_role("link", name="Webhooks of Oakland Privacy")).to_have_count(0)
    visit(viewing, WEBHOOKS, status=403)
    expect(viewing.get_by_role("heading", level=1)).to_have_text("Not allowed")
    assert secret not in viewing.content()
    assert new_secret not in viewing.content()
    audit(viewing, "webhooks-forbidden")
