"""The whole sign path on real services: a Celery worker process on each broker (Redis,
RabbitMQ), an SMTP server."""

from __future__ import annotations

import re

import pytest

from petitions.models import Petition, Signature
from tests.factories import PetitionFactory
from tests.services import text_body, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_sign_receive_mail_confirm_and_see_the_count_rise(
    client, smtp_server, celery_worker_process
) -> None:
    sink, _ = smtp_server
    petition = PetitionFactory(title="Cancel the Ring partnership in Oakland")

    response = client.post(
        f"/en/p/{petition.slug}/sign/",
        {"name": "Maria Rossi", "email": "maria@example.org", "display": "short"},
    )
    assert response.status_code == 302
    assert Signature.objects.get().status == Signature.Status.PENDING

    wait_until(lambda: sink.messages, timeout=30, what="the confirmation email")
    message = sink.messages[0]
    assert message["To"] == "maria@example.org"
    assert "Cancel the Ring partnership in Oakland" in message["Subject"]
    link = re.search(r"https?://\S+/confirm/\S+/", text_body(message)).group(0)
    path = re.sub(r"^https?://[^/]+", "", link)

    assert client.get(path).status_code == 200
    assert Signature.objects.get().status == Signature.Status.PENDING
    assert client.post(path, {"name": "Maria Rossi", "display": "short"}).status_code == 200
    assert Signature.objects.get().status == Signature.Status.CONFIRMED

    # Beat in the worker runs the counter every second.
    wait_until(
        lambda: Petition.objects.get(pk=petition.pk).signature_count == 1,
        timeout=30,
        what="the counter to include the confirmed signature",
    )
    page = client.get(petition.get_absolute_url()).content.decode()
    assert 'id="signature-count">1<' in page
    assert "Maria R." in page
    # One sign-up, one email: nothing else (a notice, a second send) went out meanwhile.
    assert len(sink.messages) == 1
