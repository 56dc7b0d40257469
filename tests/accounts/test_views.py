"""Organizations joining, confirming and inviting through the pages; logging in and out."""

from __future__ import annotations

import re
from datetime import timedelta
from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Membership, Organization, User
from accounts.organization_emails import contact_confirmation_token
from tests.accounts.conftest import link_in
from tests.factories import (
    MembershipFactory,
    OrganizationFactory,
    PendingOrganizationFactory,
    UnconfirmedOrganizationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

JOIN = reverse("accounts:organization_join")
EFF = {
    "name": "Electronic Frontier Foundation",
    "website": "www.eff.org",
    "contact_name": "Cindy Cohn",
    "contact_email": "press@eff.org",
}
PASSWORD = "a long and careful passphrase"


def _confirm_path(organization: Organization) -> str:
    return reverse(
        "accounts:organization_confirm",
        kwargs={"token": contact_confirmation_token(organization=organization)},
    )


def _members_path(organization: Organization) -> str:
    return reverse("accounts:organization_members", kwargs={"slug": organization.slug})


def test_an_organization_joins_confirms_chooses_a_password_and_logs_in(
    client, outbox, django_capture_on_commit_callbacks
) -> None:
    page = client.get(JOIN)
    assert page.status_code == 200
    assert "novalidate" in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(JOIN, EFF)
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:organization_check_inbox")
    assert "Check your inbox" in client.get(response["Location"]).content.decode()
    organization = Organization.objects.get()
    assert organization.website == "https://www.eff.org/"
    assert [m.to for m in outbox] == [["press@eff.org"]]

    # The emailed link shows one button and changes nothing (mail scanners follow links).
    confirm = link_in(outbox[0], "/organizations/confirm/")
    page = client.get(confirm)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Confirm my address" in html
    assert html.count('type="submit"') == 2  # this button and the language switcher
    organization.refresh_from_db()
    assert organization.contact_confirmed_at is None

    with django_capture_on_commit_callbacks(execute=True):
        confirmed = client.post(confirm)
    assert confirmed.status_code == 200
    assert "your address is confirmed" in confirmed.content.decode()
    organization.refresh_from_db()
    assert organization.verification == Organization.Verification.PENDING
    user = User.objects.get(email="press@eff.org")
    assert user.memberships.get().role == Membership.Role.ADMIN
    assert len(outbox) == 2

    # Django's own reset view: the link redirects to a URL without the token, then the form.
    set_password = client.get(link_in(outbox[1], "/accounts/set-password/"), follow=True)
    assert set_password.status_code == 200
    assert "Choose your password" in set_password.content.decode()
    form_url = set_password.redirect_chain[-1][0]
    done = client.post(form_url, {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert done.status_code == 302
    assert done["Location"] == reverse("accounts:password_set_done")
    assert "Your password is set" in client.get(done["Location"]).content.decode()

    login = client.post(
        reverse("accounts:login"), {"username": "Press@EFF.org", "password": PASSWORD}
    )
    assert login.status_code == 302
    assert login["Location"] == reverse("accounts:my_organizations")
    mine = client.get(login["Location"]).content.decode()
    assert "Electronic Frontier Foundation" in mine
    assert "Awaiting verification" in mine
    assert "Log out (press@eff.org)" in mine


def test_joining_in_italian_keeps_the_italian_pages(
    client, outbox, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/it/organizations/join/", EFF)
    assert response["Location"] == "/it/organizations/join/check-your-inbox/"
    assert "/it/organizations/confirm/" in outbox[0].body


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"contact_email": "eff.press@gmail.com"},
            "Use an address at your organization&#x27;s own domain; free-mail addresses cannot "
            "show that you speak for it.",
        ),
        ({"contact_email": "press@other.org"}, "other.org is not eff.org or one of its subdomains"),
        ({"contact_email": "press@"}, "Enter a valid email address"),
        ({"website": "not a website"}, "A web address cannot contain spaces"),
        ({"contact_name": "press@eff.org"}, "not your email address"),
        ({"name": ""}, "This field is required"),
    ],
)
def test_bad_registrations_get_a_message_next_to_the_field_and_save_nothing(
    client, outbox, changes, message
) -> None:
    response = client.post(JOIN, EFF | changes)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    field = next(iter(changes))
    assert f'id="error_1_id_{field}"' in html
    assert "nothing was saved" in html
    assert f'value="{EFF["name"]}"' in html or field == "name"
    assert not Organization.objects.exists()
    assert outbox == []


@pytest.mark.parametrize(
    ("website", "message"),
    [
        # urlsplit read the host as eff.org; browsers go to evil.example.
        ("https://evil.example\\@eff.org", "A web address cannot contain a backslash"),
        ("evil.example\\@eff.org", "A web address cannot contain a backslash"),
        ("https://evil.example%5C@eff.org", "Remove the part before the @ sign"),
        ("https://press:x@eff.org", "Remove the part before the @ sign"),
        ("https:/eff.org", "Enter a full web address"),
        ("https://%65ff.org", "Write the site&#x27;s name plainly"),
        ("javascript:alert(1)//eff.org", "starts with http:// or https://"),
    ],
)
def test_a_website_a_browser_would_read_differently_is_refused_and_nothing_saved(
    client, outbox, website: str, message: str
) -> None:
    response = client.post(JOIN, EFF | {"website": website})
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert 'id="error_1_id_website"' in html
    assert "nothing was saved" in html
    assert not Organization.objects.exists()
    assert outbox == []


def test_an_organization_already_on_cosign_is_named_and_an_invitation_suggested(
    client, outbox
) -> None:
    OrganizationFactory(name="EFF", email_domain="eff.org")
    response = client.post(JOIN, EFF | {"contact_email": "someone@eff.org"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "EFF is already on Cosign with addresses at eff.org" in html
    assert "Ask one of its administrators to invite you." in html
    assert 'id="error_1_id_contact_email"' in html
    assert Organization.objects.count() == 1
    assert outbox == []


@pytest.mark.parametrize("token", ["nonsense", "a" * 40, "WzEsInByZXNzQGVmZi5vcmciXQ:1x:bad"])
def test_a_broken_confirmation_link_gets_a_clear_400(client, token) -> None:
    UnconfirmedOrganizationFactory()
    for method in (client.get, client.post):
        response = method(reverse("accounts:organization_confirm", kwargs={"token": token}))
        assert response.status_code == 400
        assert "This link does not work" in response.content.decode()
    assert not Membership.objects.exists()


def test_a_link_for_an_address_staff_corrected_no_longer_works(client) -> None:
    organization = UnconfirmedOrganizationFactory()
    path = _confirm_path(organization)
    Organization.objects.filter(pk=organization.pk).update(contact_email="other@x.example")
    assert client.post(path).status_code == 400
    assert not Membership.objects.exists()


def test_an_expired_confirmation_link_says_so(client) -> None:
    organization = UnconfirmedOrganizationFactory()
    path = _confirm_path(organization)
    with mock.patch("django.core.signing.time.time", return_value=_in_days(8)):
        response = client.post(path)
    assert response.status_code == 400
    assert "This link has expired" in response.content.decode()
    organization.refresh_from_db()
    assert organization.contact_confirmed_at is None


def _in_days(days: int) -> float:
    from time import time

    return time() + timedelta(days=days).total_seconds()


def test_confirming_twice_is_harmless(client, outbox, django_capture_on_commit_callbacks) -> None:
    organization = UnconfirmedOrganizationFactory(name="EFF")
    path = _confirm_path(organization)
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(path)
        second = client.post(path)
    assert first.status_code == second.status_code == 200
    assert "already confirmed for EFF" in second.content.decode()
    assert "already confirmed" in client.get(path).content.decode()
    assert Membership.objects.count() == 1
    assert len(outbox) == 1  # one welcome


def test_confirming_after_another_took_the_domain_says_so(client) -> None:
    organization = UnconfirmedOrganizationFactory()
    PendingOrganizationFactory(name="The Other One", email_domain=organization.email_domain)
    response = client.post(_confirm_path(organization))
    assert response.status_code == 409
    html = response.content.decode()
    assert "The Other One" in html
    assert "invite you" in html


# --- Members ----------------------------------------------------------------------------------


@pytest.fixture
def org_admin(client) -> Membership:
    """An administrator of a verified organization, logged in."""
    membership = MembershipFactory(organization__name="Oakland Privacy", user__full_name="Ada")
    client.force_login(membership.user)
    return membership


def test_an_admin_sees_the_members_and_invites_a_colleague(
    client, org_admin, outbox, django_capture_on_commit_callbacks
) -> None:
    path = _members_path(org_admin.organization)
    page = client.get(path)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Members of Oakland Privacy" in html
    assert org_admin.user.email in html
    assert "Invite a colleague" in html

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(path, {"email": "jane@example.org", "full_name": "Jane Doe"})
    assert response.status_code == 302
    assert response["Location"] == path
    after = client.get(path).content.decode()
    assert "We have emailed jane@example.org" in after
    assert "Jane Doe" in after
    jane = User.objects.get(email="jane@example.org")
    assert jane.memberships.get().role == Membership.Role.VIEWER
    assert [m.to for m in outbox] == [["jane@example.org"]]
    assert link_in(outbox[0], "/en/accounts/set-password/")


def test_inviting_an_existing_member_says_so(client, org_admin, outbox) -> None:
    colleague = MembershipFactory(organization=org_admin.organization, role="viewer")
    response = client.post(
        _members_path(org_admin.organization), {"email": colleague.user.email.upper()}
    )
    assert response.status_code == 400
    assert f"{colleague.user.email} is already a member of Oakland Privacy." in (
        response.content.decode()
    )
    assert outbox == []


def test_bad_invitations_get_a_message(client, org_admin) -> None:
    response = client.post(_members_path(org_admin.organization), {"email": "jane@"})
    assert response.status_code == 400
    assert 'id="error_1_id_email"' in response.content.decode()
    assert Membership.objects.count() == 1


def test_an_editor_sees_the_members_but_may_not_invite(client, outbox) -> None:
    member = MembershipFactory(role=Membership.Role.EDITOR)
    client.force_login(member.user)
    path = _members_path(member.organization)
    page = client.get(path)
    assert page.status_code == 200
    assert 'name="email"' not in page.content.decode()
    response = client.post(path, {"email": "jane@example.org"})
    assert response.status_code == 403
    assert not User.objects.filter(email="jane@example.org").exists()
    assert outbox == []


def test_outsiders_get_a_404_and_the_anonymous_a_login(client) -> None:
    organization = OrganizationFactory()
    path = _members_path(organization)
    anonymous = client.get(path)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(f"{reverse('accounts:login')}?next=")
    client.force_login(MembershipFactory().user)  # a member of another organization
    assert client.get(path).status_code == 404
    assert client.post(path, {"email": "jane@example.org"}).status_code == 404
    assert client.get("/en/organizations/no-such-org/members/").status_code == 404
    assert not User.objects.filter(email="jane@example.org").exists()


def test_staff_see_every_organizations_members(client) -> None:
    organization = MembershipFactory().organization
    client.force_login(User.objects.create_superuser("mod@cosign.test", "a-long-password"))
    assert client.get(_members_path(organization)).status_code == 200


def test_your_organizations_shows_each_with_its_state(client) -> None:
    user = UserFactory()
    MembershipFactory(user=user, organization__name="Verified Group")
    MembershipFactory(user=user, organization=PendingOrganizationFactory(name="New Group"))
    MembershipFactory(organization__name="Someone Else's Group")
    client.force_login(user)
    html = client.get(reverse("accounts:my_organizations")).content.decode()
    assert re.search(r"Verified Group</a>\s*<span><span class=\"badge[^\"]*\">Verified<", html)
    assert re.search(
        r"New Group</a>\s*<span><span class=\"badge[^\"]*\">Awaiting verification<", html
    )
    assert "Someone Else" not in html


# --- Logging in and out -----------------------------------------------------------------------


def test_the_login_page_logs_a_member_in_and_back_to_where_they_were(client) -> None:
    user = UserFactory(email="ada@example.org", password=PASSWORD)
    page = client.get(reverse("accounts:login"))
    assert page.status_code == 200
    assert 'name="username"' in page.content.decode()
    wrong = client.post(reverse("accounts:login"), {"username": user.email, "password": "nope"})
    assert wrong.status_code == 400
    assert "enter a correct email address and password" in wrong.content.decode()
    target = reverse("accounts:my_organizations")
    response = client.post(
        f"{reverse('accounts:login')}?next={target}",
        {"username": "ADA@example.org", "password": PASSWORD},
    )
    assert response.status_code == 302
    assert response["Location"] == target


def test_the_rate_limited_login_page_still_has_its_log_in_button(settings) -> None:
    # The 429 page must build the view's LoginForm (which carries the crispy button), not
    # Django's AuthenticationForm.
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "login": {"ip": ["1/m"], "campaign": [], "global": []},
    }
    client = Client()
    wrong = client.post("/en/accounts/login/", {"username": "a@example.org", "password": "x"})
    assert wrong.status_code == 400
    assert 'name="login"' in wrong.content.decode()

    limited = client.post("/en/accounts/login/", {"username": "a@example.org", "password": "x"})

    assert limited.status_code == 429
    assert 'name="login"' in limited.content.decode()


def test_the_header_offers_log_in_then_log_out(client) -> None:
    html = client.get(JOIN).content.decode()
    assert f'href="{reverse("accounts:login")}"' in html
    assert f'href="{JOIN}"' in html  # "Register your organization" in the footer
    user = UserFactory(email="ada@example.org")
    client.force_login(user)
    html = client.get(JOIN).content.decode()
    assert "Log out (ada@example.org)" in html
    assert f'href="{reverse("accounts:my_organizations")}"' in html
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert "_auth_user_id" not in client.session


def test_a_broken_set_password_link_is_a_clear_400(client) -> None:
    user = UserFactory()
    path = reverse("accounts:password_set", kwargs={"uidb64": "MTA", "token": "bad-token"})
    response = client.get(path, follow=True)
    assert response.status_code == 400
    assert "This link does not work" in response.content.decode()
    posted = client.post(path, {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert posted.status_code == 400
    user.refresh_from_db()
    assert not user.check_password(PASSWORD)


def test_a_member_asks_for_a_new_password_link(
    client, outbox, django_capture_on_commit_callbacks
) -> None:
    UserFactory(email="ada@example.org", password=None)
    with django_capture_on_commit_callbacks(execute=True):
        known = client.post(reverse("accounts:password_reset"), {"email": "Ada@example.org"})
        unknown = client.post(reverse("accounts:password_reset"), {"email": "who@example.org"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == reverse("accounts:password_reset_sent")
    assert [m.to for m in outbox] == [["ada@example.org"]]
    assert link_in(outbox[0], "/en/accounts/set-password/")
    assert client.post(reverse("accounts:password_reset"), {"email": "x@"}).status_code == 400


# --- Every page, for anyone ---------------------------------------------------------------------


def _public_paths() -> list[str]:
    organization = MembershipFactory().organization
    return [
        JOIN,
        "/it/organizations/join/",
        reverse("accounts:organization_check_inbox"),
        reverse("accounts:organization_confirm", kwargs={"token": "x"}),
        _confirm_path(UnconfirmedOrganizationFactory()),
        _confirm_path(PendingOrganizationFactory()),
        reverse("accounts:my_organizations"),
        _members_path(organization),
        reverse("accounts:login"),
        reverse("accounts:password_set", kwargs={"uidb64": "x", "token": "y"}),
        reverse("accounts:password_set_done"),
        reverse("accounts:password_reset"),
        reverse("accounts:password_reset_sent"),
    ]


def test_every_page_answers_get_and_head_for_anyone_without_an_error(client) -> None:
    for path in _public_paths():
        for method in (client.get, client.head):
            response = method(path)
            assert response.status_code in {200, 302, 400}, (path, method)
    # Logging out changes something, so it takes a POST; a GET gets a page saying so.
    logout = client.get(reverse("accounts:logout"))
    assert logout.status_code == 405
    assert "only accepts a submitted form" in logout.content.decode()


def test_forms_refuse_a_forged_csrf_token() -> None:
    client = Client(enforce_csrf_checks=True)
    client.get(JOIN)
    response = client.post(JOIN, EFF | {"csrfmiddlewaretoken": "forged" * 8})
    assert response.status_code == 403
    assert not Organization.objects.exists()


def test_the_admin_of_an_organization_staff_have_not_verified_may_not_invite(
    client, outbox
) -> None:
    """Otherwise anyone owning a domain could make Cosign mail any address."""
    admin = MembershipFactory(
        role=Membership.Role.ADMIN,
        organization=OrganizationFactory(
            verification=Organization.Verification.PENDING, verified_at=None
        ),
    )
    client.force_login(admin.user)
    path = _members_path(admin.organization)
    assert 'name="email"' not in client.get(path).content.decode()
    assert client.post(path, {"email": "anyone@example.org"}).status_code == 403
    assert outbox == []
