"""Reading the bounce mailbox over IMAP, from a real Dovecot: each message read once, reports acted
on, anything else left there flagged for a person."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.exceptions import ImproperlyConfigured

from mechanisms.bounce_mailbox import (
    COSIGN_READ,
    COSIGN_UNREADABLE,
    bounce_mailbox_read,
    mailbox_url_parse,
)
from mechanisms.models import BounceEvent, OutboundEmail
from petitions import services
from petitions.emails import CONFIRMATIONS
from petitions.models import Signature
from tests.bounces import dsn, our_message_id
from tests.imap import Mailbox, dovecot_serving

pytestmark = pytest.mark.django_db


@pytest.fixture
def bounce_mailbox() -> Iterator[Mailbox]:
    with dovecot_serving() as mailbox:
        yield mailbox


ADDRESS = "maria.rossi@example.net"


def test_the_mailbox_is_read_once_and_what_is_no_report_is_left_flagged(
    petition, bounce_mailbox, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        signature_id = services.signature_create(
            petition=petition, name="Maria Rossi", email=ADDRESS, postal_code="94612", country="US"
        )
    email = OutboundEmail.objects.get(kind=CONFIRMATIONS.signer.name)
    ours = our_message_id(email)
    bounce_mailbox.deliver(dsn("postfix_hard", message_id=ours, recipient=ADDRESS))
    bounce_mailbox.deliver(dsn("autoreply", message_id=ours, recipient=ADDRESS))
    bounce_mailbox.deliver(dsn("postfix_delayed", message_id=ours, recipient=ADDRESS))

    done = bounce_mailbox_read(url=bounce_mailbox.url)

    assert (done.messages, done.acted_on, done.unreadable, done.ignored) == (3, 1, 1, 0)
    assert Signature.objects.get(pk=signature_id).undeliverable_at is not None
    assert BounceEvent.objects.get().source == "mailbox"
    hard, autoreply, delayed = bounce_mailbox.flags()
    assert {COSIGN_READ, "\\Seen"} <= hard and COSIGN_UNREADABLE not in hard
    assert {COSIGN_READ, COSIGN_UNREADABLE} <= autoreply and "\\Seen" not in autoreply
    assert COSIGN_READ in delayed

    again = bounce_mailbox_read(url=bounce_mailbox.url)
    assert again.messages == 0
    assert BounceEvent.objects.count() == 1


def test_a_bounce_of_an_email_not_ours_is_read_and_ignored(bounce_mailbox) -> None:
    stranger = "<outbox-7.petition_signer.0123456789abcdef0123@elsewhere.example>"
    bounce_mailbox.deliver(dsn("gmail_hard", message_id=stranger, recipient=ADDRESS))
    done = bounce_mailbox_read(url=bounce_mailbox.url)
    assert (done.messages, done.reports, done.ignored) == (1, 1, 1)
    assert not BounceEvent.objects.exists()


def test_no_mailbox_configured_reads_nothing(settings) -> None:
    settings.BOUNCE_MAILBOX_URL = ""
    assert bounce_mailbox_read().messages == 0


@pytest.mark.parametrize("url", ["pop3://u:p@host/", "imaps:///INBOX", "mailbox"])
def test_a_mailbox_url_that_is_not_imap_is_a_configuration_error(url: str) -> None:
    with pytest.raises(ImproperlyConfigured):
        mailbox_url_parse(url)


def test_the_mailbox_url_gives_user_password_host_and_folder() -> None:
    address = mailbox_url_parse("imaps://bounces%40cosign.org:p%40ss@mail.example.org/Bounces")
    assert (address.user, address.password, address.host, address.port, address.folder) == (
        "bounces@cosign.org",
        "p@ss",
        "mail.example.org",
        993,
        "Bounces",
    )


def test_a_mailbox_url_that_is_not_imap_stops_the_start() -> None:
    from tests.config.test_settings import _settings

    result = _settings(BOUNCE_MAILBOX_URL="pop3://bounces:secret@mail.example.org/")
    assert result.returncode != 0
    assert "BOUNCE_MAILBOX_URL must look like imaps://" in result.stderr
    assert _settings(BOUNCE_MAILBOX_URL="imaps://b:s@mail.example.org/INBOX").returncode == 0
