"""What an outside attacker found against a production-shaped run of the outbox (gunicorn, a
Celery worker with beat, PostgreSQL, Redis and a real SMTP server), kept as regressions.

1. An RFC 2047 encoded word in a quoted local part (`"=?utf-8?q?voter?="@example.org`) passes
   the email fields, is compared as typed, and is delivered decoded (Django's SMTP backend parses
   it with the email package, which decodes encoded words): any number of spellings of one
   mailbox, each its own signature, its own notice period and its own daily budget. Over HTTP:
   30 confirmation emails to one mailbox in a minute, on one petition, 20 of them counted once
   confirmed.
2. An address the form accepts (213 characters, a CJK internationalized domain) whose ASCII form
   is 321 characters long: signing a petition or a letter answers 500 (the signature's
   `canonical_email` fails full_clean), where bad input must get a form error.
3. A password link asked for with another spelling of an account's address (`jane+x@...`) takes
   the notice period's one row for that mailbox, and its builder, which looks the account up by
   the typed spelling, sends nothing: the owner's own request in the same period is then
   swallowed. Repeated every period, it keeps anyone from getting a password link.
4. Signing again while the worker records the first email's send deadlocks in PostgreSQL: the
   request holds the signature row and waits for the outbox row, the worker holds the outbox row
   (marked sent) and waits for the signature row (after_send). Either the signer gets a 500, or
   the worker's transaction is rolled back after the email went out, the row stays "sending" and
   the sweep sends it again after the lease (seen: the same confirmation twice, two minutes
   apart).
"""

from __future__ import annotations

import threading
from unittest import mock

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.core.mail.message import sanitize_address
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts import services as account_services
from mechanisms import outbox as outbox_module
from mechanisms import outbox_sender
from mechanisms.addresses import email_canonicalize, email_delivery_address
from mechanisms.models import OutboundEmail
from mechanisms.validators import validate_deliverable_email
from petitions import services as petition_services
from petitions.models import Signature
from tests.factories import PetitionFactory, UserFactory
from tests.outbox import outbox_drain

SIGN = {
    "name": "Maria Rossi",
    "postal_code": "94612",
    "country": "US",
    "display": "short",
}

ENCODED_WORDS = [
    '"=?utf-8?q?voter?="@example.org',
    '"=?utf-8?b?dm90ZXI=?="@example.org',
    '"=?iso-8859-1?q?v=6Fter?="@example.org',
    '"=?utf-8?q?vo?==?utf-8?q?ter?="@example.org',
]


def _accepted(address: str) -> bool:
    field = forms.EmailField(max_length=254, validators=[validate_deliverable_email])
    try:
        field.clean(address)
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize("typed", ENCODED_WORDS)
def test_an_accepted_address_is_compared_as_the_mail_server_receives_it(typed: str) -> None:
    if not _accepted(typed):
        return
    # What Django's SMTP backend hands the server for this recipient.
    delivered = sanitize_address(email_delivery_address(typed), "utf-8")
    assert email_canonicalize(typed) == email_canonicalize(delivered)


@pytest.mark.django_db
def test_encoded_word_spellings_of_one_mailbox_sign_once(client, outbox) -> None:
    petition = PetitionFactory()
    url = reverse("petitions:sign", kwargs={"slug": petition.slug})
    for email in ["voter@example.org", *ENCODED_WORDS]:
        response = client.post(url, SIGN | {"email": email})
        assert response.status_code in (302, 400)
    assert Signature.objects.filter(petition=petition).count() == 1


@pytest.mark.django_db
def test_an_address_whose_ascii_form_is_too_long_gets_a_form_error_not_a_500(client) -> None:
    # 27 CJK characters make a 63-character xn-- label: 213 characters typed, 321 in ASCII.
    label = "".join(chr(0x4E00 + 37 * n) for n in range(27))
    typed = f"voter{'x' * 120}@{label}.{label}.{label}.cn"
    assert len(typed) <= 254 < len(email_canonicalize(typed))
    assert not _accepted(typed)
    petition = PetitionFactory()
    url = reverse("petitions:sign", kwargs={"slug": petition.slug})
    client.raise_request_exception = False
    response = client.post(url, SIGN | {"email": typed})
    assert response.status_code == 400
    assert "We cannot send email to this address" in response.content.decode()
    assert not Signature.objects.filter(petition=petition).exists()


@pytest.mark.django_db
def test_another_spelling_does_not_swallow_the_owners_password_link(
    django_capture_on_commit_callbacks, outbox
) -> None:
    UserFactory(email="jane.doe@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        # Anyone, first in the notice period, with a spelling that is the same mailbox.
        account_services.password_link_request(email="jane.doe+x@example.org", language="en")
    with django_capture_on_commit_callbacks(execute=True):
        account_services.password_link_request(email="jane.doe@example.org", language="en")
    outbox_drain()
    assert [message.to for message in outbox] == [["jane.doe@example.org"]]


@pytest.mark.django_db(transaction=True)
def test_signing_again_while_the_worker_records_the_send_neither_fails_nor_sends_twice(
    outbox,
) -> None:
    petition = PetitionFactory()
    now = timezone.now()
    fields = SIGN | {"email": "maria@example.org", "petition": petition, "now": now}
    with mock.patch.object(outbox_module, "enqueue_after_commit"):
        petition_services.signature_create(**fields)
    (row,) = OutboundEmail.objects.filter(kind="petition_signer")

    settled = threading.Event()
    go_on = threading.Event()
    real_settle = outbox_sender._settle

    def settle_then_pause(email: OutboundEmail, **kwargs: object) -> bool:
        done = real_settle(email, **kwargs)
        # The row is marked sent in the worker's open transaction; after_send comes next.
        settled.set()
        go_on.wait(timeout=5)
        return done

    worker_error: list[BaseException] = []

    def worker() -> None:
        try:
            with mock.patch.object(outbox_sender, "_settle", settle_then_pause):
                outbox_module.emails_send(email_ids=[row.pk])
        except BaseException as error:  # the test reports it below
            worker_error.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=worker)
    thread.start()
    assert settled.wait(timeout=10)
    # The repeat takes the signature row, then waits for the outbox row; meanwhile the worker
    # goes on to after_send, which wants the signature row.
    threading.Timer(0.3, go_on.set).start()
    request_error: BaseException | None = None
    try:
        with mock.patch.object(outbox_module, "enqueue_after_commit"):
            petition_services.signature_create(**fields)
    except BaseException as error:
        request_error = error
    thread.join(timeout=20)

    assert request_error is None, f"the repeat signer got an error: {request_error!r}"
    assert worker_error == [], f"the worker's send was rolled back: {worker_error!r}"
    row.refresh_from_db()
    assert row.state == OutboundEmail.State.SENT
    assert len(outbox) == 1
