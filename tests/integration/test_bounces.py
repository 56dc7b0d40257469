"""Bounces end to end, on real services: gunicorn serving the providers' webhook endpoints, a Celery
worker (with beat) sending through an SMTP server and reading the bounce mailbox from Dovecot on
its schedule, Redis and PostgreSQL. The bounces are recorded reports (Postfix, Exim, Gmail DSNs,
an ARF complaint; Mailgun's and Mandrill's signed payloads) about the very emails the worker sent,
named by the Message-IDs the SMTP server received.

Every rule is checked: a hard-bounced confirmation makes its pending signature undeliverable
and no link goes to it again (a new-link request through the real page answers as for anyone);
a hard-bounced update recipient gets no later update; a hard-bounced delivery fails for staff; a
soft bounce is sent again by the outbox; a complaint unsubscribes from updates; a payload signed
with the wrong key is refused and changes nothing."""

from __future__ import annotations

import urllib.error
import urllib.request
from datetime import timedelta
from email.message import Message

import pytest
from django.utils import timezone

from mechanisms.deliveries import BOUNCED_PREFIX
from mechanisms.models import BounceEvent, OutboundEmail
from petitions import services, tasks
from petitions.models import Delivery, PetitionUpdate, Signature
from petitions.services import campaigns
from tests.bounces import MAILGUN_KEY, MANDRILL_KEY, dsn, mailgun_body, mandrill_form
from tests.factories import PetitionFactory, SignatureFactory, TargetFactory
from tests.imap import dovecot_serving
from tests.integration.web_client import Browser, hidden_fields
from tests.services import app_server, celery_worker, wait_until

# On Redis and on RabbitMQ (tests/integration/conftest.py).
pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("broker"),
]


def _post(url: str, body: bytes, content_type: str, **headers: str) -> int:
    request = urllib.request.Request(  # noqa: S310 (the test's own server)
        url, data=body, method="POST", headers={"Content-Type": content_type, **headers}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _received(sink, to: str, *, count: int = 1) -> list[Message]:
    """The messages the SMTP server got for `to`, once there are `count` of them."""
    return wait_until(
        lambda: (
            (found := [m for m in list(sink.messages) if m["To"] == to])
            and len(found) >= count
            and found
        ),
        timeout=60,
        what=f"{count} email(s) to {to}",
    )


def _undeliverable(signature: Signature) -> bool:
    signature.refresh_from_db()
    return signature.undeliverable_at is not None


def test_every_bounce_rule_on_real_endpoints_worker_and_mailbox(
    transactional_db, smtp_server, tmp_path
) -> None:
    sink, smtp_port = smtp_server
    with dovecot_serving() as mailbox:
        env = {
            "MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_KEY,
            "MANDRILL_WEBHOOK_KEY": MANDRILL_KEY,
            "BOUNCE_MAILBOX_URL": mailbox.url,
            "BOUNCE_MAILBOX_SECONDS": "1",
        }
        with (
            celery_worker(
                tmp_path / "worker", smtp_port=smtp_port, site_url="http://testserver", env=env
            ),
            app_server(
                tmp_path, name="app", env=env | {"EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}"}
            ) as server,
        ):
            _every_rule(sink=sink, mailbox=mailbox, server_url=server.url)


def _every_rule(*, sink, mailbox, server_url: str) -> None:
    mailgun_url = f"{server_url}/email/bounces/mailgun/"
    mandrill_url = f"{server_url}/email/bounces/mandrill/"
    target = TargetFactory(email="mayor@oakland.example.gov")
    petition = PetitionFactory(targets=[target], delivery_schedule="daily")

    # --- Confirmations: a hard bounce from the mailbox, one from Mailgun, a soft one (Exim) ----
    signed = {}
    for name in ("dsn", "mailgun", "soft"):
        address = f"{name}.signer@example.net"
        signed[name] = Signature.objects.get(
            pk=services.signature_create(
                petition=petition,
                name="Maria Rossi",
                email=address,
                postal_code="94612",
                country="US",
            )
        )
    links = {name: _received(sink, s.email)[0] for name, s in signed.items()}

    mailbox.deliver(
        dsn("postfix_hard", message_id=links["dsn"]["Message-ID"], recipient=signed["dsn"].email)
    )
    forged = mailgun_body(
        "mailgun_failed_permanent",
        recipient=signed["mailgun"].email,
        key="key-guessed",
        metadata={"cosign_message_id": links["mailgun"]["Message-ID"]},
    )
    assert _post(mailgun_url, forged, "application/json") == 400
    genuine = mailgun_body(
        "mailgun_failed_permanent",
        recipient=signed["mailgun"].email,
        metadata={"cosign_message_id": links["mailgun"]["Message-ID"]},
    )
    assert _post(mailgun_url, genuine, "application/json") == 200
    assert _post(mailgun_url, genuine, "application/json") == 200  # Mailgun's retry
    mailbox.deliver(
        dsn("exim_soft", message_id=links["soft"]["Message-ID"], recipient=signed["soft"].email)
    )

    # The worker reads the mailbox on its schedule.
    wait_until(lambda: _undeliverable(signed["dsn"]), timeout=60, what="the DSN to be read")
    assert _undeliverable(signed["mailgun"])
    assert BounceEvent.objects.filter(source="mailgun").count() == 1
    # The soft bounce: the outbox sends the same email again, after its backoff.
    again = _received(sink, signed["soft"].email, count=2)
    assert again[1]["Message-ID"] == again[0]["Message-ID"]
    assert not _undeliverable(signed["soft"])
    wait_until(
        lambda: all("CosignRead" in f for f in mailbox.flags()),
        timeout=30,
        what="the mailbox's messages to be flagged read",
    )

    # A new link for an undeliverable signer: the real page answers as for anyone, and nothing
    # is sent.
    browser = Browser()
    new_link = f"/en/p/{petition.slug}/new-link/"
    answers = []
    for address in (signed["dsn"].email, "nobody.at.all@example.net", signed["soft"].email):
        fields = hidden_fields(browser.get(f"{server_url}{new_link}").body, action=new_link)
        answers.append(browser.post(f"{server_url}{new_link}", fields | {"email": address}))
    assert {(a.status, a.location) for a in answers} == {
        (302, f"/en/p/{petition.slug}/check-your-inbox/")
    }
    # The pending signer whose email only soft-bounced does get the new link; by the time it
    # arrived, the undeliverable signer's request had long been dropped.
    _received(sink, signed["soft"].email, count=3)
    wait_until(
        lambda: (
            not OutboundEmail.objects.filter(
                kind="petition_new_link", state__in=("pending", "sending")
            ).exists()
        ),
        timeout=30,
        what="the new-link requests to be handled",
    )
    assert len([m for m in sink.messages if m["To"] == signed["dsn"].email]) == 1
    assert OutboundEmail.objects.filter(kind="petition_new_link", state="dropped").count() == 2

    # --- Updates: a hard bounce (Mandrill), a complaint (ARF in the mailbox) --------------------
    bounced = SignatureFactory(
        petition=petition,
        confirmed=True,
        consent_updates=True,
        email="bounced.subscriber@example.net",
    )
    complaining = SignatureFactory(
        petition=petition,
        confirmed=True,
        consent_updates=True,
        email="complaining.subscriber@example.net",
    )
    reader = SignatureFactory(
        petition=petition, confirmed=True, consent_updates=True, email="reader@example.net"
    )
    first = PetitionUpdate.objects.create(petition=petition, title="Vote on Monday", body="x")
    campaigns.petition_update_publish(update_id=first.pk)
    bounced_update = _received(sink, bounced.email)[0]
    complained_update = _received(sink, complaining.email)[0]
    _received(sink, reader.email)

    body, signature = mandrill_form(
        "hard_bounce",
        recipient=bounced.email,
        url=mandrill_url,
        metadata={"cosign_message_id": bounced_update["Message-ID"]},
    )
    assert (
        _post(
            mandrill_url,
            body,
            "application/x-www-form-urlencoded",
            **{"X-Mandrill-Signature": "bad" + signature},
        )
        == 400
    )
    assert not BounceEvent.objects.filter(source="mandrill").exists()
    assert (
        _post(
            mandrill_url,
            body,
            "application/x-www-form-urlencoded",
            **{"X-Mandrill-Signature": signature},
        )
        == 200
    )
    mailbox.deliver(
        dsn(
            "arf_complaint", message_id=complained_update["Message-ID"], recipient=complaining.email
        )
    )
    wait_until(
        lambda: not Signature.objects.get(pk=complaining.pk).consent_updates,
        timeout=60,
        what="the complaint to unsubscribe its signer",
    )

    second = PetitionUpdate.objects.create(petition=petition, title="We won", body="y")
    campaigns.petition_update_publish(update_id=second.pk)
    _received(sink, reader.email, count=2)
    wait_until(
        lambda: (
            not OutboundEmail.objects.filter(
                kind="petition_update", about=str(second.pk), state__in=("pending", "sending")
            ).exists()
        ),
        timeout=30,
        what="the second update's mailing to finish",
    )
    assert len([m for m in sink.messages if m["To"] == bounced.email]) == 1
    assert len([m for m in sink.messages if m["To"] == complaining.email]) == 1

    # --- A delivery to an official: a hard bounce (Gmail) fails it for staff -------------------
    yesterday = timezone.now() - timedelta(days=1)
    SignatureFactory(
        petition=petition,
        confirmed=True,
        confirmed_at=yesterday,
        country="US",
        region="CA",
        locality="Oakland",
    )
    Signature.objects.filter(petition=petition, status="confirmed").update(confirmed_at=yesterday)
    tasks.deliveries_schedule.delay()
    delivered = _received(sink, target.email)[0]
    delivery = Delivery.objects.get(petition=petition, target=target)
    wait_until(
        lambda: Delivery.objects.get(pk=delivery.pk).status == Delivery.Status.SENT,
        timeout=30,
        what="the delivery to be recorded sent",
    )
    mailbox.deliver(dsn("gmail_hard", message_id=delivered["Message-ID"], recipient=target.email))
    wait_until(
        lambda: Delivery.objects.get(pk=delivery.pk).status == Delivery.Status.FAILED,
        timeout=60,
        what="the bounced delivery to fail",
    )
    assert Delivery.objects.get(pk=delivery.pk).last_error.startswith(BOUNCED_PREFIX)

    # Each report was acted on once, and what staff see names no address.
    events = list(BounceEvent.objects.order_by("pk"))
    assert sorted((e.source, e.type, e.email_kind) for e in events) == sorted(
        [
            ("mailbox", "hard", "petition_signer"),
            ("mailgun", "hard", "petition_signer"),
            ("mailbox", "soft", "petition_signer"),
            ("mandrill", "hard", "petition_update"),
            ("mailbox", "complaint", "petition_update"),
            ("mailbox", "hard", "petition_delivery"),
        ]
    )
    assert all("@example" not in e.description for e in events)
