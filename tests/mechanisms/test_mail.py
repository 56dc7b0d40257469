"""The kinds of email (mechanisms.mail): each named once, with its cooldown; how one is rendered;
which errors are worth a retry; and the daily budget every unsolicited kind shares per mailbox,
spent when the outbox sends (issue 14, finding 3). The outbox itself is tested in test_outbox.py.
"""

from __future__ import annotations

import smtplib
from datetime import timedelta
from unittest import mock

import pytest
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives
from django.test import Client
from django.urls import reverse
from redis.exceptions import ConnectionError as RedisConnectionError

import accounts.organization_emails
import accounts.privacy_emails  # noqa: F401
import letters.delivery
import letters.emails  # noqa: F401
import petitions.emails
import petitions.services.deliveries  # noqa: F401
from accounts import services as account_services
from accounts.models import Membership, Organization
from mechanisms import mail
from mechanisms.mail import (
    EMAIL_KINDS,
    EmailKind,
    mail_error_is_permanent,
    message_render,
    unsolicited_budget_take,
)
from mechanisms.models import OutboundEmail
from mechanisms.outbox import email_enqueue, emails_send
from tests.factories import MembershipFactory, PetitionFactory, SignatureFactory, UserFactory

SIGNER = {"name": "Someone", "email": "victim@example.org", "postal_code": "94612"}
SIGNER |= {"country": "US", "display": "short"}


def _build(email: OutboundEmail) -> EmailMultiAlternatives:
    return EmailMultiAlternatives(subject="A test", body="", to=[email.recipient])


TEST_SOLICITED = EmailKind("test_mail_solicited", build=_build)
TEST_UNSOLICITED = EmailKind("test_mail_unsolicited", build=_build, unsolicited=True)
TEST_FIXED_COOLDOWN = EmailKind("test_mail_fixed", build=_build, cooldown=timedelta(minutes=5))
TEST_SETTING_COOLDOWN = EmailKind(
    "test_mail_setting", build=_build, cooldown="SIGNATURE_NOTICE_INTERVAL"
)

# Every kind a form anyone can fill in may send to an address that confirmed nothing.
UNSOLICITED = {
    "petition_signer",
    "petition_confirmation_resent",
    "petition_new_link",
    "letter_signer",
    "letter_confirmation_resent",
    "organization_contact_confirmation",
    "organization_invitation",
    "password_link",
    "my_signatures_link",
}


# --- The kinds --------------------------------------------------------------------------------


def test_every_kind_of_email_is_registered_by_name() -> None:
    expected = UNSOLICITED | {
        "petition_update",
        "petition_milestone",
        "petition_delivery",
        "letter_cosignature_waiting",
        "letter_cosignature_rejected",
        "letter_published",
        "letter_delivery",
        "organization_admin_welcome",
        "organization_decision",
    }
    assert expected <= set(EMAIL_KINDS)
    for name, kind in EMAIL_KINDS.items():
        assert kind.name == name


def test_two_kinds_of_one_name_are_refused() -> None:
    registered = EMAIL_KINDS["password_link"]
    with pytest.raises(ValueError, match="password_link"):
        EmailKind("password_link", build=_build)
    assert EMAIL_KINDS["password_link"] is registered


def test_every_kind_a_stranger_may_be_sent_counts_against_the_budget() -> None:
    # Test modules register kinds of their own, named test_*.
    unsolicited = {
        name
        for name, kind in EMAIL_KINDS.items()
        if kind.unsolicited and not name.startswith("test_")
    }
    assert unsolicited == UNSOLICITED
    # Those a form causes again and again are one per notice period, not one ever.
    for name in UNSOLICITED - {"petition_confirmation_resent", "letter_confirmation_resent"}:
        assert EMAIL_KINDS[name].cooldown_seconds > 0, name


def test_a_cooldown_is_a_duration_or_the_setting_read_when_asked(settings) -> None:
    assert TEST_SOLICITED.cooldown_seconds == 0
    assert TEST_FIXED_COOLDOWN.cooldown_seconds == 300
    settings.SIGNATURE_NOTICE_INTERVAL = timedelta(minutes=7)
    assert TEST_SETTING_COOLDOWN.cooldown_seconds == 420
    settings.SIGNATURE_NOTICE_INTERVAL = timedelta(hours=1)
    assert TEST_SETTING_COOLDOWN.cooldown_seconds == 3600


# --- Rendering --------------------------------------------------------------------------------


def test_a_message_is_rendered_in_the_readers_language_in_text_and_html(settings) -> None:
    message = message_render(
        to="maria@xn--fa-hia.de",
        language="it",
        template="accounts/email/my_signatures",
        context={"link": "https://cosign.example/x", "valid_hours": 24},
        headers={"List-Unsubscribe": "<https://cosign.example/u>"},
        attachments=[("signatures.csv", "name\r\nMaria\r\n", "text/csv")],
    )
    assert message.subject == "Le tue firme su Cosign"
    assert message.to == ["maria@xn--fa-hia.de"]
    assert "https://cosign.example/x" in message.body
    ((html, mimetype),) = message.alternatives
    assert mimetype == "text/html"
    assert '<html lang="it">' in html
    assert "https://cosign.example/x" in html
    # Marked as automatic, so auto-responders stay quiet; the caller's headers are kept.
    assert message.extra_headers == {
        "Auto-Submitted": "auto-generated",
        "List-Unsubscribe": "<https://cosign.example/u>",
    }
    assert message.attachments == [("signatures.csv", "name\r\nMaria\r\n", "text/csv")]


def test_a_unicode_domain_is_written_to_as_every_comparison_read_it() -> None:
    message = message_render(
        to="Maria@Faß.de",
        language="en",
        template="accounts/email/my_signatures",
        context={"link": "https://cosign.example/x", "valid_hours": 24},
    )
    # Not IDNA 2003's fass.de: the very domain the address was checked against.
    assert message.to == ["Maria@xn--fa-hia.de"]


# --- Errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "permanent"),
    [
        (smtplib.SMTPRecipientsRefused({"a@x.example": (550, b"No such user")}), True),
        (
            smtplib.SMTPRecipientsRefused(
                {"a@x.example": (550, b"No such user"), "b@x.example": (451, b"Greylisted")}
            ),
            False,
        ),
        (smtplib.SMTPRecipientsRefused({}), False),
        (smtplib.SMTPResponseException(554, b"Rejected"), True),
        (smtplib.SMTPDataError(552, b"Message too large"), True),
        (smtplib.SMTPSenderRefused(553, b"Sender refused", "cosign@x.example"), True),
        (smtplib.SMTPResponseException(451, b"Try again later"), False),
        (smtplib.SMTPServerDisconnected("gone"), False),
        (ConnectionRefusedError("no server"), False),
        (TimeoutError("hung"), False),
        (RuntimeError("a bug"), False),
    ],
)
def test_only_a_5xx_refusal_is_permanent(error: BaseException, permanent: bool) -> None:
    assert mail_error_is_permanent(error) is permanent


# --- The daily budget of unsolicited email ----------------------------------------------------


def test_the_budget_is_per_mailbox_whatever_the_spelling(settings) -> None:
    settings.EMAIL_UNSOLICITED_PER_DAY = 3
    taken = [unsolicited_budget_take(f"Victim+{n}@Example.org") for n in range(5)]
    assert taken == [True, True, True, False, False]
    assert unsolicited_budget_take("someone-else@example.org")


def test_a_budget_of_zero_holds_nothing_back(settings) -> None:
    settings.EMAIL_UNSOLICITED_PER_DAY = 0
    assert all(unsolicited_budget_take("victim@example.org") for _ in range(30))


def _cache_keys() -> list[str]:
    return [key.decode() for key in cache._cache.get_client().keys("*")]


def test_the_budget_keeps_no_address_in_the_cache(settings) -> None:
    before = set(_cache_keys())
    assert unsolicited_budget_take("maria.rossi@example.org")
    (key,) = set(_cache_keys()) - before
    assert settings.ABUSE_CACHE_PREFIX in key
    assert "maria" not in key
    assert "example" not in key


def test_a_batch_counts_each_address_in_turn_against_the_same_budget(settings) -> None:
    settings.EMAIL_UNSOLICITED_PER_DAY = 2
    assert unsolicited_budget_take("victim@example.org")
    taken = mail.unsolicited_budgets_take(
        ["Victim+1@example.org", "other@example.org", "victim@example.org"]
    )
    assert taken == [True, True, False]
    assert not unsolicited_budget_take("victim@example.org")


def test_with_the_cache_down_the_budget_lets_email_go() -> None:
    with (
        mock.patch.object(mail, "_budget_counts", side_effect=RedisConnectionError("down")),
        mock.patch.object(mail.logger, "warning") as warning,
    ):
        assert unsolicited_budget_take("victim@example.org")
        assert mail.unsolicited_budgets_take(["a@example.org", "b@example.org"]) == [True, True]
    assert warning.called


def _owe(kind: EmailKind, *, to: str, about: object) -> int:
    return email_enqueue(kind=kind, to=to, language="en", about=about, queue=False)


@pytest.mark.django_db
def test_an_unsolicited_email_over_the_budget_is_dropped_when_sent(settings, outbox) -> None:
    settings.EMAIL_UNSOLICITED_PER_DAY = 2
    ids = [_owe(TEST_UNSOLICITED, to=f"victim+{n}@example.org", about=n) for n in range(3)]
    # A solicited kind to the same mailbox is not held by it.
    ids.append(_owe(TEST_SOLICITED, to="victim@example.org", about=0))
    sent = emails_send(email_ids=ids)
    assert (sent.sent, sent.dropped) == (3, 1)
    dropped = OutboundEmail.objects.get(state=OutboundEmail.State.DROPPED)
    assert (dropped.pk, dropped.last_error) == (ids[2], "Daily budget spent")
    assert len(outbox) == 3


@pytest.mark.django_db
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
    states = OutboundEmail.objects.filter(kind="petition_signer").values_list("state", flat=True)
    assert sorted(states) == ["dropped", "dropped", "sent", "sent"]


@pytest.mark.django_db
def test_every_unsolicited_kind_spends_one_budget(
    settings, django_capture_on_commit_callbacks, outbox
) -> None:
    # A stranger's inbox gets only so many from all of Cosign's forms together.
    settings.EMAIL_UNSOLICITED_PER_DAY = 2
    SignatureFactory(email="victim@example.org", confirmed=True)
    UserFactory(email="victim@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        account_services.organization_register(
            name="Group",
            website="https://example.org",
            contact_name="Someone",
            contact_email="victim@example.org",
        )
    with django_capture_on_commit_callbacks(execute=True):
        account_services.my_signatures_link_request(email="victim@example.org", language="en")
    with django_capture_on_commit_callbacks(execute=True):
        account_services.password_link_request(email="victim@example.org")
    rows = OutboundEmail.objects.values_list("kind", "state", "last_error")
    outcome = {kind: (state, error) for kind, state, error in rows}
    assert outcome == {
        "organization_contact_confirmation": ("sent", ""),
        "my_signatures_link": ("sent", ""),
        "password_link": ("dropped", "Daily budget spent"),
    }
    assert len(outbox) == 2


# --- Cooldowns of the forms the review found open ---------------------------------------------


@pytest.mark.django_db
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


@pytest.mark.django_db
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
