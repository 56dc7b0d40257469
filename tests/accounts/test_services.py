"""Organizations joining: registering, confirming the contact, staff decisions, invitations."""

from __future__ import annotations

import smtplib
from datetime import timedelta
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.core.mail.backends import locmem
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import organization_emails as emails
from accounts import selectors, services
from accounts.models import Membership, Organization, User
from mechanisms.models import OutboundEmail
from mechanisms.outbox import email_enqueue, emails_send
from tests.accounts.conftest import link_in
from tests.factories import (
    MembershipFactory,
    OrganizationFactory,
    PendingOrganizationFactory,
    UnconfirmedOrganizationFactory,
    UserFactory,
)
from tests.outbox import outbox_clock, outbox_drain, owed

pytestmark = pytest.mark.django_db

EFF = {
    "name": "Electronic Frontier Foundation",
    "website": "https://www.eff.org",
    "contact_name": "Cindy Cohn",
    "contact_email": "Press@EFF.org",
}


@pytest.fixture
def register(django_capture_on_commit_callbacks):
    """Register as the view would, running what is queued after the commit."""

    def run(**changes: str) -> Organization:
        with django_capture_on_commit_callbacks(execute=True):
            return services.organization_register(**(EFF | changes))

    return run


@pytest.fixture
def confirm(django_capture_on_commit_callbacks):
    def run(organization: Organization) -> Organization:
        with django_capture_on_commit_callbacks(execute=True):
            return services.organization_contact_confirm(organization_id=organization.pk)

    return run


def _error_codes(error: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return {field: [e.code for e in errors] for field, errors in error.value.error_dict.items()}


def test_registering_records_an_unverified_organization_and_emails_a_link(register, outbox) -> None:
    organization = register()
    assert organization.verification == Organization.Verification.UNVERIFIED
    assert organization.slug == "electronic-frontier-foundation"
    assert organization.email_domain == "eff.org"
    assert organization.contact_email == "press@eff.org"
    assert organization.contact_name == "Cindy Cohn"
    assert organization.contact_confirmed_at is None
    assert organization.language == "en"
    assert not organization.members.exists()
    assert [m.to for m in outbox] == [["press@eff.org"]]
    # Nothing the registrant typed reaches an address that has confirmed nothing yet: the
    # confirmation page shows it.
    for typed in ("Electronic Frontier Foundation", "Cindy Cohn", "eff.org/"):
        assert typed not in outbox[0].subject
        assert typed not in outbox[0].body
        assert typed not in outbox[0].alternatives[0][0]
    assert link_in(outbox[0], "/en/organizations/confirm/")
    assert "7 days" in outbox[0].body


def test_the_email_waits_for_the_commit(django_capture_on_commit_callbacks, outbox) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        services.organization_register(**EFF)
    assert outbox == []
    assert len(callbacks) == 1


def test_a_registration_in_italian_is_answered_in_italian(register, outbox) -> None:
    organization = register(language="it")
    assert organization.language == "it"
    assert link_in(outbox[0], "/it/organizations/confirm/")
    assert '<html lang="it">' in outbox[0].alternatives[0][0]


def test_slugs_are_made_unique(register) -> None:
    first = register()
    second = register(website="https://eff.example", contact_email="a@eff.example")
    third = register(website="https://eff.test", contact_email="a@eff.test")
    assert [first.slug, second.slug, third.slug] == [
        "electronic-frontier-foundation",
        "electronic-frontier-foundation-2",
        "electronic-frontier-foundation-3",
    ]


def test_a_slug_taken_between_the_read_and_the_write_is_picked_again(register) -> None:
    OrganizationFactory(slug="eff")
    with mock.patch.object(services, "_free_slug", side_effect=["eff", "eff-2"]):
        organization = register()
    assert organization.slug == "eff-2"


def test_a_name_without_latin_letters_still_gets_a_slug(register) -> None:
    assert register(name="Роскомсвобода").slug == "organization"


@pytest.mark.parametrize(
    "email", ["eff.press@gmail.com", "someone@GMAIL.com", "x@proton.me", "x@outlook.com"]
)
def test_free_mail_addresses_are_refused(email: str, outbox) -> None:
    with pytest.raises(ValidationError) as error:
        services.organization_register(
            **EFF | {"website": "https://gmail.com", "contact_email": email}
        )
    assert _error_codes(error) == {"contact_email": ["free_mail"]}
    assert not Organization.objects.exists()
    assert outbox == []


@pytest.mark.parametrize(
    ("website", "email", "accepted"),
    [
        ("https://www.eff.org", "press@eff.org", True),
        ("https://eff.org/", "press@eff.org", True),
        ("https://www.eff.org", "press@lists.eff.org", True),
        ("https://EFF.org/about", "Press@Lists.EFF.org", True),
        ("https://www.eff.org", "press@other.org", False),
        ("https://www.eff.org", "press@noteff.org", False),
        ("https://www.eff.org", "press@eff.org.evil.example", False),
        ("https://act.eff.org", "press@eff.org", False),
    ],
)
def test_the_address_must_be_at_the_websites_domain(
    website: str, email: str, accepted: bool
) -> None:
    if accepted:
        services.organization_register(**EFF | {"website": website, "contact_email": email})
        assert Organization.objects.count() == 1
    else:
        with pytest.raises(ValidationError) as error:
            services.organization_register(**EFF | {"website": website, "contact_email": email})
        assert _error_codes(error) == {"contact_email": ["domain_mismatch"]}
        assert not Organization.objects.exists()


@pytest.mark.parametrize(
    ("website", "code"),
    [
        ("https://evil.example\\@eff.org", "backslash"),
        ("https://evil.example%5C@eff.org", "userinfo"),
        ("https://eff.org@evil.example", "userinfo"),
        ("https://ev\til.example", "invisible"),
        ("https:\\\\eff.org", "backslash"),
    ],
)
def test_a_website_a_browser_reads_differently_is_refused_before_its_domain_is_trusted(
    website: str, code: str, outbox
) -> None:
    with pytest.raises(ValidationError) as error:
        services.organization_register(**EFF | {"website": website, "contact_email": "a@eff.org"})
    assert _error_codes(error) == {"website": [code]}
    assert not Organization.objects.exists()
    assert outbox == []


def test_the_website_is_stored_as_a_browser_reads_it(register) -> None:
    organization = register(website="HTTPS://WWW.EFF.ORG:443")
    assert organization.website == "https://www.eff.org/"


@pytest.mark.parametrize("factory", [OrganizationFactory, PendingOrganizationFactory])
def test_a_domain_already_on_cosign_is_refused_with_the_organization_named(factory) -> None:
    factory(name="EFF", email_domain="EFF.org")
    with pytest.raises(ValidationError) as error:
        services.organization_register(**EFF)
    assert _error_codes(error) == {"contact_email": ["already_registered"]}
    message = error.value.error_dict["contact_email"][0].messages[0]
    assert "EFF is already on Cosign" in message
    assert "invite you" in message
    assert Organization.objects.count() == 1


def test_rejected_or_unconfirmed_registrations_do_not_lock_a_domain(register) -> None:
    UnconfirmedOrganizationFactory(email_domain="eff.org", contact_email="someone@eff.org")
    OrganizationFactory(
        email_domain="eff.org", verification=Organization.Verification.REJECTED, verified_at=None
    )
    register()
    assert Organization.objects.count() == 3


def test_registering_again_never_changes_an_earlier_registration(register, confirm, outbox) -> None:
    """Someone re-submitting the form with another person's address cannot rename their
    registration: each gets its own row and link, and the mailbox owner confirms theirs."""
    first = register()
    other = register(name="Not EFF", contact_name="Mallory", contact_email="press@eff.org")
    assert other.pk != first.pk
    first.refresh_from_db()
    assert (first.name, first.contact_name) == ("Electronic Frontier Foundation", "Cindy Cohn")
    # One contact link per address per notice interval, whoever registers with it.
    assert len(outbox) == 1
    assert "Not EFF" not in outbox[0].body
    confirmed = confirm(first)
    assert confirmed.name == "Electronic Frontier Foundation"


def test_the_database_keeps_one_active_organization_per_domain() -> None:
    OrganizationFactory(email_domain="eff.org")
    with pytest.raises(IntegrityError):
        PendingOrganizationFactory(email_domain="EFF.ORG")


def test_confirming_makes_the_contact_an_admin_and_emails_a_password_link(
    register, confirm, outbox
) -> None:
    organization = confirm(register())
    assert organization.verification == Organization.Verification.PENDING
    assert organization.contact_confirmed_at is not None
    user = User.objects.get(email="press@eff.org")
    assert user.full_name == "Cindy Cohn"
    assert not user.has_usable_password()
    membership = selectors.membership_get(user=user, organization=organization)
    assert membership is not None and membership.role == Membership.Role.ADMIN
    welcome = outbox[-1]
    assert welcome.to == ["press@eff.org"]
    assert link_in(welcome, "/en/accounts/set-password/")


def test_confirming_twice_changes_nothing_and_sends_nothing_more(register, confirm, outbox) -> None:
    organization = confirm(register())
    confirmed_at = organization.contact_confirmed_at
    again = confirm(organization)
    assert again.contact_confirmed_at == confirmed_at
    assert User.objects.count() == 1
    assert Membership.objects.count() == 1
    assert len(outbox) == 2  # the link, then the welcome


def test_a_contact_who_has_an_account_keeps_it_and_is_told_to_log_in(
    register, confirm, outbox
) -> None:
    user = UserFactory(email="press@eff.org", full_name="Cindy Cohn")
    organization = confirm(register())
    assert list(selectors.organizations_for_user(user=user)) == [organization]
    user.refresh_from_db()
    assert user.has_usable_password()
    assert "set-password" not in outbox[-1].body
    assert link_in(outbox[-1], "/en/accounts/login/")


def test_confirming_after_another_took_the_domain_is_refused(register, confirm, outbox) -> None:
    mine = register()
    theirs = PendingOrganizationFactory(name="EFF (the other one)", email_domain="eff.org")
    with pytest.raises(services.OrganizationAlreadyRegistered) as taken:
        confirm(mine)
    assert taken.value.organization == theirs
    mine.refresh_from_db()
    assert mine.contact_confirmed_at is None
    assert not Membership.objects.filter(organization=mine).exists()


def test_staff_verify_only_organizations_awaiting_verification(
    django_capture_on_commit_callbacks, outbox
) -> None:
    pending = PendingOrganizationFactory()
    unconfirmed = UnconfirmedOrganizationFactory()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.organization_verify(organization_id=pending.pk)
        assert not services.organization_verify(organization_id=unconfirmed.pk)
        assert not services.organization_verify(organization_id=pending.pk)  # twice
    pending.refresh_from_db()
    unconfirmed.refresh_from_db()
    assert pending.is_verified and pending.verified_at is not None
    assert unconfirmed.verification == Organization.Verification.UNVERIFIED
    assert [m.to for m in outbox] == [[pending.contact_email]]
    assert "is verified" in outbox[0].subject


def test_rejecting_needs_a_reason_and_emails_it(django_capture_on_commit_callbacks, outbox) -> None:
    organization = PendingOrganizationFactory()
    with pytest.raises(ValidationError):
        services.organization_reject(organization_id=organization.pk, reason="  ")
    with django_capture_on_commit_callbacks(execute=True):
        assert services.organization_reject(
            organization_id=organization.pk, reason="We could not find this group anywhere."
        )
        assert not services.organization_reject(organization_id=organization.pk, reason="Again")
    organization.refresh_from_db()
    assert organization.verification == Organization.Verification.REJECTED
    assert organization.rejection_reason == "We could not find this group anywhere."
    assert [m.to for m in outbox] == [[organization.contact_email]]
    assert "We could not find this group anywhere." in outbox[0].body
    assert "We could not find this group anywhere." in outbox[0].alternatives[0][0]


def test_withdrawing_a_verification_clears_its_date(django_capture_on_commit_callbacks) -> None:
    organization = OrganizationFactory(contact_email="a@x.example")
    with django_capture_on_commit_callbacks(execute=True):
        services.organization_reject(organization_id=organization.pk, reason="Not a real group.")
    organization.refresh_from_db()
    assert (organization.verification, organization.verified_at) == ("rejected", None)


def test_a_contact_who_never_confirmed_is_not_emailed_a_rejection(
    django_capture_on_commit_callbacks, outbox
) -> None:
    organization = UnconfirmedOrganizationFactory()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.organization_reject(organization_id=organization.pk, reason="Spam.")
    assert outbox == []


def test_a_decision_email_delayed_past_a_change_of_mind_is_not_sent(
    django_capture_on_commit_callbacks, outbox
) -> None:
    organization = PendingOrganizationFactory()
    with django_capture_on_commit_callbacks() as callbacks:
        services.organization_verify(organization_id=organization.pk)
    services.organization_reject(organization_id=organization.pk, reason="Oops.")
    callbacks[0]()  # the "verified" email runs only now
    assert outbox == []


def test_inviting_a_new_person_makes_a_member_without_a_password(
    django_capture_on_commit_callbacks, outbox
) -> None:
    admin = MembershipFactory(user__full_name="Cindy Cohn")
    with django_capture_on_commit_callbacks(execute=True):
        membership = services.membership_invite(
            organization=admin.organization,
            email="Jane@Example.org",
            full_name="Jane Doe",
            invited_by=admin.user,
            language="it",
        )
    assert membership.role == Membership.Role.VIEWER
    assert membership.user.email == "jane@example.org"
    assert membership.user.full_name == "Jane Doe"
    assert not membership.user.has_usable_password()
    assert [m.to for m in outbox] == [["jane@example.org"]]
    assert link_in(outbox[0], "/it/accounts/set-password/")
    # The organization is verified, so it is named; no name the inviter typed is.
    assert admin.organization.name in outbox[0].body
    assert "Cindy Cohn" not in outbox[0].body
    assert "Jane Doe" not in outbox[0].body


def test_inviting_someone_with_an_account_adds_them_and_says_so(
    django_capture_on_commit_callbacks, outbox
) -> None:
    organization = OrganizationFactory()
    user = UserFactory(full_name="Jane Doe")
    with django_capture_on_commit_callbacks(execute=True):
        services.membership_invite(organization=organization, email=user.email.upper())
    assert selectors.membership_get(user=user, organization=organization).role == "viewer"
    user.refresh_from_db()
    assert user.full_name == "Jane Doe" and user.has_usable_password()
    assert "set-password" not in outbox[0].body
    assert link_in(outbox[0], "/en/accounts/login/")


def test_inviting_a_member_again_is_refused(outbox) -> None:
    membership = MembershipFactory()
    with pytest.raises(services.AlreadyMember):
        services.membership_invite(
            organization=membership.organization, email=membership.user.email
        )
    assert Membership.objects.count() == 1


def test_selectors_answer_for_members_only(django_user_model) -> None:
    from django.contrib.auth.models import AnonymousUser

    membership = MembershipFactory(organization__name="B")
    other = MembershipFactory(user=membership.user, organization__name="A", role="viewer")
    outsider = UserFactory()
    assert selectors.organizations_for_user(user=membership.user) == [
        other.organization,
        membership.organization,
    ]
    assert selectors.organizations_for_user(user=outsider) == []
    assert selectors.organizations_for_user(user=AnonymousUser()) == []
    assert selectors.membership_get(user=membership.user, organization=other.organization) == other
    assert selectors.membership_get(user=outsider, organization=other.organization) is None
    assert selectors.membership_get(user=AnonymousUser(), organization=other.organization) is None


def test_a_password_link_goes_only_to_an_existing_account(
    django_capture_on_commit_callbacks, outbox
) -> None:
    user = UserFactory(email="jane@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        services.password_link_request(email="nobody@example.org")
        services.password_link_request(email="JANE@example.org")
    assert [m.to for m in outbox] == [[user.email]]
    assert link_in(outbox[0], "/en/accounts/set-password/")


def test_a_password_link_request_does_the_same_work_for_any_address(
    django_capture_on_commit_callbacks,
) -> None:
    # A lookup in the request would answer at another speed for an account holder: the request
    # only owes the email, and the outbox's builder looks the account up.
    UserFactory(email="jane@example.org")
    with django_capture_on_commit_callbacks() as callbacks:
        with CaptureQueriesContext(connection) as nobody:
            services.password_link_request(email="nobody@example.org", language="en")
        with CaptureQueriesContext(connection) as jane:
            services.password_link_request(email="jane@example.org", language="en")
    assert len(nobody) == len(jane)
    statements = [query["sql"] for query in nobody.captured_queries + jane.captured_queries]
    assert not any("accounts_user" in sql for sql in statements)
    assert [(row.recipient, row.language) for row in owed("password_link")] == [
        ("nobody@example.org", "en"),
        ("jane@example.org", "en"),
    ]
    assert len(callbacks) == 2


def test_password_links_to_one_account_are_at_most_one_per_interval(
    settings, django_capture_on_commit_callbacks, outbox
) -> None:
    UserFactory(email="jane@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        services.password_link_request(email="jane@example.org")
        services.password_link_request(email="JANE@example.org")
    assert len(outbox) == 1
    later = timezone.now() + settings.SIGNATURE_NOTICE_INTERVAL
    with outbox_clock(later), django_capture_on_commit_callbacks(execute=True):
        services.password_link_request(email="jane@example.org")
    assert len(outbox) == 2


@pytest.mark.parametrize(
    ("error", "state"),
    [
        (smtplib.SMTPServerDisconnected("gone"), OutboundEmail.State.PENDING),
        (smtplib.SMTPResponseException(451, b"Try again later"), OutboundEmail.State.PENDING),
        (
            smtplib.SMTPRecipientsRefused({"press@eff.org": (550, b"No such user")}),
            OutboundEmail.State.FAILED,
        ),
    ],
)
def test_an_organization_email_is_retried_after_a_transient_error_only(
    error, state, register, outbox, monkeypatch
) -> None:
    def refuse(self, messages):
        raise error

    with monkeypatch.context() as patched:
        patched.setattr(locmem.EmailBackend, "send_messages", refuse)
        register()
    [row] = OutboundEmail.objects.filter(kind="organization_contact_confirmation")
    assert (row.state, row.attempts, outbox) == (state, 1, [])
    assert type(error).__name__ in row.last_error
    if state == OutboundEmail.State.FAILED:
        # A refused address is not tried again by itself: staff see it failed.
        assert outbox_drain().sent == 0
        return
    assert row.not_before > timezone.now()  # a backoff, not at once
    with outbox_clock(row.not_before + timedelta(seconds=1)):
        assert outbox_drain().sent == 1
    assert [m.to for m in outbox] == [["press@eff.org"]]


def test_emails_about_rows_that_are_gone_send_nothing(outbox) -> None:
    gone = 123456
    confirmed = PendingOrganizationFactory(contact_confirmed_at=timezone.now())
    owed_ids = [
        email_enqueue(kind=kind, to=f"someone{n}@example.org", language="en", about=about, ref=ref)
        for n, (kind, about, ref) in enumerate(
            [
                (emails.CONTACT_CONFIRMATION, "", {"organization": gone}),
                (emails.CONTACT_CONFIRMATION, "", {"organization": confirmed.pk}),
                (emails.ADMIN_WELCOME, gone, {"organization": gone, "user": gone}),
                (emails.DECISION, gone, {"organization": gone, "verification": "verified"}),
                (emails.INVITATION, gone, {"membership": gone}),
                (emails.PASSWORD_LINK, "", {}),  # no account has this address
            ]
        )
    ]
    sent = emails_send(email_ids=owed_ids)
    assert (sent.sent, sent.dropped) == (0, 6)
    assert outbox == []
