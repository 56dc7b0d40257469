"""Every kind of email has a per-recipient cooldown (issue 14, finding 3), kept by mechanisms.mail
in the cache or by a claim in the database, and unsolicited kinds share a daily budget."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail as django_mail
from django.test import Client
from django.urls import reverse

import accounts.privacy_emails  # noqa: F401 (registers the kinds it sends)
import letters.emails  # noqa: F401
import petitions.emails  # noqa: F401
from accounts import services as account_services
from accounts.models import Membership, Organization
from mechanisms import mail
from mechanisms.mail import EMAIL_KINDS, EmailKind, mail_send
from tests.factories import MembershipFactory, PetitionFactory

pytestmark = pytest.mark.django_db

SIGNER = {"name": "Someone", "email": "victim@example.org", "postal_code": "94612"}
SIGNER |= {"country": "US", "display": "short"}

TEST_KIND = EmailKind("test_kind", cooldown=timedelta(minutes=5))
TEST_CLAIMED = EmailKind("test_claimed", cooldown=timedelta(minutes=5), claimed_by="a test row")
# Its own cooldown left to a claim, so only the daily budget holds it back.
TEST_UNSOLICITED = EmailKind(
    "test_unsolicited", cooldown=timedelta(minutes=5), unsolicited=True, claimed_by="a test row"
)


def _send(kind: EmailKind, to: str = "maria@example.org", about: object = "") -> bool:
    return mail_send(
        kind=kind,
        about=about,
        to=to,
        language="en",
        template="accounts/email/my_signatures",
        context={"link": "https://cosign.example/x", "valid_hours": 1},
    )


def test_every_kind_of_email_has_a_cooldown() -> None:
    expected = {
        "petition_confirmation",
        "petition_already_signed",
        "petition_update",
        "petition_milestone",
        "petition_delivery",
        "letter_confirmation",
        "letter_cosignature_waiting",
        "letter_cosignature_rejected",
        "letter_published",
        "letter_delivery",
        "organization_contact_confirmation",
        "organization_admin_welcome",
        "organization_decision",
        "organization_invitation",
        "password_link",
        "my_signatures_link",
    }
    assert expected <= set(EMAIL_KINDS)
    for kind in EMAIL_KINDS.values():
        assert kind.claimed_by or kind.cooldown_seconds > 0, kind.name


def test_a_second_email_of_a_kind_waits_for_the_cooldown_whatever_the_spelling(outbox) -> None:
    assert _send(TEST_KIND, "Maria.Rossi@example.org")
    # One mailbox, spelt otherwise: the cooldown is keyed on the canonical address.
    assert not _send(TEST_KIND, "maria.rossi+again@EXAMPLE.org")
    assert _send(TEST_KIND, "bruno@example.org")
    assert [message.to for message in outbox] == [
        ["Maria.Rossi@example.org"],
        ["bruno@example.org"],
    ]


def test_the_cooldown_is_per_kind_and_per_subject(outbox) -> None:
    assert _send(TEST_KIND, about=1)
    assert not _send(TEST_KIND, about=1)
    assert _send(TEST_KIND, about=2)
    assert _send(TEST_UNSOLICITED, about=1)
    assert len(outbox) == 3


def test_a_kind_claimed_in_the_database_is_left_to_its_claim(outbox) -> None:
    # A worker killed mid-send would otherwise hold a cache cooldown that stops its successor.
    assert _send(TEST_CLAIMED)
    assert _send(TEST_CLAIMED)
    assert len(outbox) == 2


def test_a_failed_send_gives_the_cooldown_back(monkeypatch, outbox) -> None:
    def refuse(self: django_mail.EmailMessage) -> int:
        raise ConnectionError("mail server down")

    monkeypatch.setattr(django_mail.EmailMultiAlternatives, "send", refuse)
    with pytest.raises(ConnectionError):
        _send(TEST_KIND)
    monkeypatch.undo()
    assert _send(TEST_KIND)
    assert len(outbox) == 1


def test_unsolicited_kinds_share_a_daily_budget_per_mailbox(settings, outbox) -> None:
    settings.EMAIL_UNSOLICITED_PER_DAY = 3
    sent = [_send(TEST_UNSOLICITED, f"victim+{n}@example.org") for n in range(5)]
    assert sent == [True, True, True, False, False]
    # Solicited kinds and other mailboxes are not held by it.
    assert _send(TEST_KIND, "victim@example.org")
    assert _send(TEST_UNSOLICITED, "someone-else@example.org")


def test_with_the_cache_down_email_is_sent(monkeypatch, outbox) -> None:
    def down(*args: object, **kwargs: object) -> bool:
        raise ConnectionError("cache down")

    monkeypatch.setattr(mail.cache, "add", down)
    assert _send(TEST_KIND)
    assert _send(TEST_UNSOLICITED)
    assert len(outbox) == 2


def test_many_organizations_naming_one_contact_send_it_one_link(
    django_capture_on_commit_callbacks, outbox
) -> None:
    # The review found no per-recipient cooldown at all on the organization form.
    for number in range(4):
        with django_capture_on_commit_callbacks(execute=True):
            account_services.organization_register(
                name=f"Group {number}",
                website="https://example.org",
                contact_name="Someone",
                contact_email="press@example.org",
            )
    assert Organization.objects.count() == 4
    assert [message.to for message in outbox] == [["press@example.org"]]


def test_inviting_one_person_again_and_again_sends_one_invitation(
    django_capture_on_commit_callbacks, outbox
) -> None:
    admin = MembershipFactory()
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            account_services.membership_invite(
                organization=admin.organization, email="jane@example.org", invited_by=admin.user
            )
        Membership.objects.filter(user__email="jane@example.org").delete()
    assert [message.to for message in outbox] == [["jane@example.org"]]


def test_signing_many_petitions_for_a_stranger_stops_at_the_daily_budget(
    settings, django_capture_on_commit_callbacks, outbox
) -> None:
    settings.EMAIL_UNSOLICITED_PER_DAY = 2
    for _ in range(4):
        petition = PetitionFactory()
        url = reverse("petitions:sign", kwargs={"slug": petition.slug})
        with django_capture_on_commit_callbacks(execute=True):
            response = Client().post(url, SIGNER)
        assert response.status_code == 302
    assert len(outbox) == 2
