"""Cosign carries no attacker's words to a stranger's inbox (issue 14, finding 3).

Anyone can put a victim's address in a form and a message in its free-text fields. Every email
that can reach an address that has confirmed nothing (petition and letter confirmations and
their repeats, organization contact confirmations, invitations, password and "your signatures"
links, co-signature requests from organizations not yet verified) is triggered here through
the real service with such a message in every field a form-filler types, and must carry none of
it: not in the subject, the text or the HTML. Cooldowns per kind and recipient and the daily
budget of unsolicited email are tested in tests/mechanisms/test_mail.py and test_outbox.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from unittest import mock

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Organization, User
from letters import services as letter_services
from tests.factories import (
    MembershipFactory,
    OpenLetterFactory,
    OrganizationFactory,
    PetitionFactory,
    SignatureFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

# What the review typed: a message with a link, which Cosign delivered under its own name.
BAIT = "Your mailbox will be deleted today, keep it at https://evil.example/keep"
BAIT_WORDS = ("mailbox will be deleted", "evil.example")
VICTIM = "victim@example.org"


def _parts(message: mail.EmailMessage) -> Iterator[tuple[str, str]]:
    yield "subject", message.subject
    yield "text", message.body
    for content, _mimetype in message.alternatives:
        yield "html", str(content)


def assert_no_bait(outbox: list[mail.EmailMessage], *, to: str = VICTIM) -> None:
    mailed = [message for message in outbox if to in message.to]
    assert mailed, f"nothing was mailed to {to}: the test would prove nothing"
    for message in mailed:
        for part, text in _parts(message):
            for word in BAIT_WORDS:
                assert word not in text, f"{part} of {message.subject!r} carries {word!r}"


def test_a_petition_confirmation_and_its_repeat_carry_nothing_the_signer_typed(
    django_capture_on_commit_callbacks, outbox, settings
) -> None:
    petition = PetitionFactory(ask_comment=True)
    url = reverse("petitions:sign", kwargs={"slug": petition.slug})
    form = {"name": BAIT, "email": VICTIM, "postal_code": "94612", "country": "US"}
    form |= {"display": "full", "comment": BAIT}
    with django_capture_on_commit_callbacks(execute=True):
        assert Client().post(url, form).status_code == 302
    # Signing again in the next notice period owes the repeat.
    later = timezone.now() + settings.SIGNATURE_NOTICE_INTERVAL
    with (
        mock.patch("django.utils.timezone.now", return_value=later),
        django_capture_on_commit_callbacks(execute=True),
    ):
        Client().post(url, form | {"name": "Another " + BAIT})
    assert len(outbox) == 2, "the first confirmation and the repeat"
    assert_no_bait(outbox)


def test_the_name_is_refused_anyway_when_it_holds_an_address(petition) -> None:
    # The other half of the class: a name field cannot carry someone's email address either.
    url = reverse("petitions:sign", kwargs={"slug": petition.slug})
    response = Client().post(url, {"name": "write to boss@example.org", "email": VICTIM})
    assert response.status_code == 400


def test_a_letter_confirmation_carries_nothing_the_signer_typed(
    django_capture_on_commit_callbacks, outbox
) -> None:
    letter = OpenLetterFactory(individuals_may_sign=True, title="Stop face recognition sales")
    url = reverse("letters:sign", kwargs={"slug": letter.slug})
    form = {"name": BAIT, "email": VICTIM, "title": BAIT, "affiliation": BAIT}
    with django_capture_on_commit_callbacks(execute=True):
        assert Client().post(url, form).status_code == 302
    assert_no_bait(outbox)


def test_an_organization_contact_confirmation_carries_nothing_the_registrant_typed(
    django_capture_on_commit_callbacks, outbox
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        account_services.organization_register(
            name=BAIT,
            website="https://example.org/mailbox-will-be-deleted/evil.example",
            contact_name=BAIT,
            contact_email=VICTIM,
        )
    assert_no_bait(outbox)
    assert "Confirm" in outbox[0].subject


def test_an_invitation_from_an_unverified_organization_names_nothing_typed(
    django_capture_on_commit_callbacks, outbox
) -> None:
    admin = MembershipFactory(
        organization__name=BAIT,
        organization__verification=Organization.Verification.PENDING,
        user__full_name=BAIT,
    )
    with django_capture_on_commit_callbacks(execute=True):
        account_services.membership_invite(
            organization=admin.organization, email=VICTIM, full_name=BAIT, invited_by=admin.user
        )
    assert_no_bait(outbox)


def test_an_invitation_from_a_verified_organization_names_it(
    django_capture_on_commit_callbacks, outbox
) -> None:
    # Staff vetted a verified organization's name: the one typed text an invitation may carry.
    admin = MembershipFactory(organization__name="Electronic Frontier Foundation")
    with django_capture_on_commit_callbacks(execute=True):
        account_services.membership_invite(
            organization=admin.organization, email=VICTIM, full_name=BAIT, invited_by=admin.user
        )
    assert "Electronic Frontier Foundation" in outbox[0].subject
    assert_no_bait(outbox)


def test_a_password_link_carries_no_name_typed_for_the_account(
    django_capture_on_commit_callbacks, outbox
) -> None:
    UserFactory(email=VICTIM, full_name=BAIT)
    with django_capture_on_commit_callbacks(execute=True):
        account_services.password_link_request(email=VICTIM, language="en")
    assert_no_bait(outbox)


def test_a_your_signatures_link_carries_nothing_the_signer_typed(
    django_capture_on_commit_callbacks, outbox
) -> None:
    SignatureFactory(email=VICTIM, name=BAIT, comment=BAIT)
    with django_capture_on_commit_callbacks(execute=True):
        account_services.my_signatures_link_request(email=VICTIM, language="en")
    assert_no_bait(outbox)


def test_a_cosignature_request_from_an_unverified_organization_does_not_name_it(
    django_capture_on_commit_callbacks, outbox
) -> None:
    lead = OrganizationFactory(name="Fight for the Future")
    # Invited, never logged in: an address that has confirmed nothing.
    User.objects.create_user(VICTIM, password=None).memberships.create(organization=lead)
    letter = OpenLetterFactory()
    letter.lead_organizations.add(lead)
    asking = MembershipFactory(
        organization__name=BAIT, organization__verification=Organization.Verification.PENDING
    )
    with django_capture_on_commit_callbacks(execute=True):
        letter_services.letter_cosign(
            letter=letter,
            organization=asking.organization,
            user=asking.user,
            speaker_name=BAIT,
            speaker_title=BAIT,
            statement=BAIT,
        )
    assert_no_bait(outbox)
    assert letter.title in outbox[0].subject
