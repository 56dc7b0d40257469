"""Staff give a TOTP code, as well as their password, before the admin opens (when the setting
is on): enrolment, the code on later logins, throttling, and where they go afterwards; staff
rights on the public site, which ask the same; the admin's login rate limit and its logout."""

from __future__ import annotations

import re
from base64 import b32decode
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Membership, User
from accounts.two_factor import staff_verified
from letters import services as letter_services
from letters.models import OpenLetter, OrganizationSignature
from petitions.models import Petition
from tests.factories import (
    OpenLetterFactory,
    OrganizationFactory,
    OrganizationSignatureFactory,
    PetitionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

SETUP = "/en/accounts/two-factor/setup/"
VERIFY = "/en/accounts/two-factor/verify/"
PASSWORD = "correct horse battery staple"
NO_LIMIT = {"ip": [], "campaign": [], "global": []}


@pytest.fixture(autouse=True)
def _second_factor_required(settings) -> None:
    settings.STAFF_REQUIRE_2FA = True


@pytest.fixture
def staff() -> User:
    return UserFactory(is_staff=True, is_superuser=True)


def code_for(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    """What the person's authenticator app shows now (or that many time steps later)."""
    token = totp(
        device.bin_key,
        step=device.step,
        t0=device.t0,
        digits=device.digits,
        drift=device.drift + steps_ahead,
    )
    return f"{token:06d}"


def wrong_code_for(device: TOTPDevice) -> str:
    # The device takes the codes of the previous, current and next time step; avoid all three
    # (and the step after, in case the clock ticks over during the test).
    taken = {code_for(device, steps_ahead=steps) for steps in (-1, 0, 1, 2)}
    return next(code for code in ("123456", "654321", "111111", "999999") if code not in taken)


def key_on_page(html: str) -> bytes:
    match = re.search(r'<code[^>]*id="totp-key"[^>]*>([A-Z2-7 ]+)</code>', html)
    assert match, "no key on the page"
    key = match.group(1).replace(" ", "")
    return b32decode(key + "=" * (-len(key) % 8))


def confirmed_device(user: User) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


def test_staff_without_a_device_are_sent_from_the_admin_to_set_up(client, staff) -> None:
    client.force_login(staff)
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0] == f"{SETUP}?{urlencode({'next': '/admin/'})}"
    assert response.status_code == 200
    assert b"Set up your second factor" in response.content


def test_a_right_password_on_the_admin_login_leads_to_set_up(client, staff) -> None:
    response = client.post(
        "/admin/login/?next=/admin/petitions/petition/",
        {"username": staff.email, "password": PASSWORD},
    )
    assert response.status_code == 302
    assert response["Location"] == (f"{SETUP}?{urlencode({'next': '/admin/petitions/petition/'})}")
    # Logged in with the password, still not let into the admin.
    assert client.get("/admin/petitions/petition/").status_code == 302


def test_set_up_shows_a_qr_code_and_the_key_as_text(client, staff) -> None:
    client.force_login(staff)
    page = client.get(SETUP).content.decode()
    device = TOTPDevice.objects.get(user=staff)
    assert device.confirmed is False
    assert key_on_page(page) == device.bin_key
    assert 'src="data:image/svg+xml;base64,' in page
    # Reloading the page shows the same key: nothing typed into an app so far is lost.
    assert key_on_page(client.get(SETUP).content.decode()) == device.bin_key
    assert TOTPDevice.objects.filter(user=staff).count() == 1


def test_set_up_with_the_right_code_confirms_the_device_and_opens_the_admin(client, staff) -> None:
    client.force_login(staff)
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=staff)
    response = client.post(f"{SETUP}?next=/admin/petitions/", {"code": code_for(device)})
    assert response.status_code == 302
    assert response["Location"] == "/admin/petitions/"
    device.refresh_from_db()
    assert device.confirmed is True
    assert client.get("/admin/").status_code == 200


def test_a_code_typed_with_a_space_is_accepted(client, staff) -> None:
    client.force_login(staff)
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=staff)
    code = code_for(device)
    response = client.post(SETUP, {"code": f" {code[:3]} {code[3:]} "})
    assert response.status_code == 302


def test_a_wrong_code_is_refused_and_the_key_kept(client, staff) -> None:
    client.force_login(staff)
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=staff)
    response = client.post(SETUP, {"code": wrong_code_for(device)})
    assert response.status_code == 400
    page = response.content.decode()
    assert "That code is not right" in page
    assert key_on_page(page) == device.bin_key
    device.refresh_from_db()
    assert device.confirmed is False
    assert client.get("/admin/").status_code == 302


def test_a_code_that_is_not_six_digits_says_so(client, staff) -> None:
    client.force_login(staff)
    response = client.post(SETUP, {"code": "12ab56"})
    assert response.status_code == 400
    assert "Enter the six digits your app shows" in response.content.decode()
    assert TOTPDevice.objects.get(user=staff).throttling_failure_count == 0


def test_a_second_login_asks_for_a_code_and_the_right_one_opens_the_admin(client, staff) -> None:
    device = confirmed_device(staff)
    client.force_login(staff)
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0] == f"{VERIFY}?{urlencode({'next': '/admin/'})}"
    assert b"Enter your code" in response.content

    refused = client.post(f"{VERIFY}?next=/admin/", {"code": wrong_code_for(device)})
    assert refused.status_code == 400
    assert "That code is not right" in refused.content.decode()
    # A person takes longer than the one-second wait after a first wrong code.
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=None)

    response = client.post(f"{VERIFY}?next=/admin/", {"code": code_for(device)})
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_code_is_taken_only_once(client, staff) -> None:
    device = confirmed_device(staff)
    code = code_for(device)
    client.force_login(staff)
    assert client.post(VERIFY, {"code": code}).status_code == 302

    other = type(client)()
    other.force_login(staff)
    assert other.post(VERIFY, {"code": code}).status_code == 400


def test_staff_with_a_device_cannot_enrol_another_one(client, staff) -> None:
    confirmed_device(staff)
    client.force_login(staff)
    response = client.get(SETUP)
    assert response.status_code == 302
    assert response["Location"].startswith(VERIFY)
    assert TOTPDevice.objects.filter(user=staff).count() == 1


def test_with_the_setting_off_the_admin_needs_no_second_factor(client, staff, settings) -> None:
    settings.STAFF_REQUIRE_2FA = False
    client.force_login(staff)
    assert client.get("/admin/").status_code == 200
    assert not TOTPDevice.objects.exists()


def test_someone_who_is_not_staff_cannot_use_set_up(client) -> None:
    member = UserFactory()
    client.force_login(member)
    assert client.get(SETUP).status_code == 403
    assert client.post(SETUP, {"code": "123456"}).status_code == 403
    assert client.get(VERIFY).status_code == 403
    assert not TOTPDevice.objects.exists()


def test_anonymous_visitors_are_sent_to_the_admin_login(client) -> None:
    response = client.get(SETUP)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert not TOTPDevice.objects.exists()


@pytest.mark.parametrize(
    "next_url", ["https://evil.example/admin/", "//evil.example/", "/\\evil.example/"]
)
def test_next_never_leads_to_another_site(client, staff, next_url) -> None:
    device = confirmed_device(staff)
    client.force_login(staff)
    response = client.post(f"{VERIFY}?{urlencode({'next': next_url})}", {"code": code_for(device)})
    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def _seconds_pass(device: TOTPDevice, seconds: float) -> None:
    """As if the last wrong code had been typed that long ago (no sleeping in tests)."""
    device.refresh_from_db()
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_timestamp=device.throttling_failure_timestamp
        - timedelta(seconds=seconds)
    )


def test_wrong_codes_make_the_next_attempt_wait_longer_each_time(client, staff, settings) -> None:
    # A minute per step instead of django-otp's default second, so no slow machine outlasts it.
    settings.OTP_TOTP_THROTTLE_FACTOR = 60
    device = confirmed_device(staff)
    wrong = wrong_code_for(device)
    client.force_login(staff)
    assert "That code is not right" in client.post(VERIFY, {"code": wrong}).content.decode()

    # Even the right code is refused while the wait runs: guessing gains nothing.
    refused = client.post(VERIFY, {"code": code_for(device)})
    assert refused.status_code == 400
    assert "Too many wrong codes. Wait 60 seconds, then try again." in refused.content.decode()
    assert client.get("/admin/").status_code == 302

    _seconds_pass(device, 60)
    assert client.post(VERIFY, {"code": wrong}).status_code == 400
    device.refresh_from_db()
    assert device.throttling_failure_count == 2
    # After a second failure the wait is twice as long (django-otp doubles it each time).
    _seconds_pass(device, 90)
    still = client.post(VERIFY, {"code": code_for(device)})
    assert "Too many wrong codes" in still.content.decode()

    _seconds_pass(device, 31)
    response = client.post(VERIFY, {"code": code_for(device)})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200
    device.refresh_from_db()
    assert device.throttling_failure_count == 0


def test_only_a_superuser_resets_a_lost_device_and_its_owner_then_enrols_again(
    client, staff, settings
) -> None:
    settings.STAFF_REQUIRE_2FA = False  # this test is about who may touch devices
    colleague = UserFactory(is_staff=True)
    lost = confirmed_device(colleague)
    moderator = UserFactory(is_staff=True)
    moderator.user_permissions.set(Permission.objects.filter(content_type__app_label="otp_totp"))
    delete = reverse("admin:otp_totp_totpdevice_delete", args=[lost.pk])

    client.force_login(moderator)
    assert client.get(reverse("admin:otp_totp_totpdevice_changelist")).status_code == 403
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert client.get(reverse("admin:otp_totp_totpdevice_add")).status_code == 403
    assert TOTPDevice.objects.filter(pk=lost.pk).exists()

    client.force_login(staff)  # a superuser
    assert client.post(delete, {"post": "yes"}).status_code == 302
    assert not TOTPDevice.objects.filter(pk=lost.pk).exists()

    settings.STAFF_REQUIRE_2FA = True
    client.force_login(colleague)
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0].startswith(SETUP)


# --- Staff rights outside the admin follow the same rule ------------------------------------------


def _verified_client(client, user: User):
    """A session past both factors: the password, then the code on the verify page."""
    device = confirmed_device(user)
    client.force_login(user)
    response = client.post(f"{VERIFY}?next=/admin/", {"code": code_for(device)})
    assert response.status_code == 302
    return client


def test_staff_verified_asks_for_the_code_only_when_the_setting_does(settings) -> None:
    staff = UserFactory(is_staff=True, is_superuser=True)
    # A user that never passed OTPMiddleware has no is_verified(): it counts as unverified.
    assert not staff_verified(staff)
    staff.is_verified = lambda: True
    assert staff_verified(staff)
    assert staff_verified(staff, perm="letters.add_organizationsignature")
    assert not staff_verified(UserFactory(is_staff=True), perm="accounts.add_membership")
    assert not staff_verified(UserFactory(is_superuser=True, is_staff=False))

    settings.STAFF_REQUIRE_2FA = False
    assert staff_verified(UserFactory(is_staff=True))
    assert not staff_verified(UserFactory())


@pytest.mark.parametrize("kind", ["petition", "letter"])
def test_staff_who_gave_only_their_password_do_not_see_drafts(client, moderator, kind) -> None:
    """A stolen staff password alone must not open drafts, which the admin itself refuses."""
    if kind == "petition":
        draft = PetitionFactory(status=Petition.Status.DRAFT)
    else:
        draft = OpenLetterFactory(status=OpenLetter.Status.DRAFT)
    client.force_login(moderator)  # password given, no second factor
    assert client.get("/admin/").status_code == 302
    assert client.get(draft.get_absolute_url()).status_code == 404


@pytest.mark.parametrize("kind", ["petition", "letter"])
def test_staff_who_gave_their_code_too_preview_drafts(client, moderator, kind) -> None:
    if kind == "petition":
        draft = PetitionFactory(status=Petition.Status.DRAFT)
    else:
        draft = OpenLetterFactory(status=OpenLetter.Status.DRAFT)
    _verified_client(client, moderator)
    assert client.get(draft.get_absolute_url()).status_code == 200


def test_staff_who_gave_only_their_password_cannot_approve_cosignatures(client, moderator) -> None:
    letter = OpenLetterFactory()
    signature = OrganizationSignatureFactory(letter=letter)
    client.force_login(moderator)
    url = reverse(
        "letters:decide_signature", kwargs={"slug": letter.slug, "signature_id": signature.pk}
    )
    assert client.post(url, {"decision": "approve"}).status_code == 404
    manage = reverse("letters:manage", kwargs={"slug": letter.slug})
    assert client.get(manage).status_code == 404
    signature.refresh_from_db()
    assert signature.status == OrganizationSignature.Status.PENDING
    assert not LogEntry.objects.exists()


def test_staff_who_gave_their_code_approve_cosignatures_and_it_is_logged(client, moderator) -> None:
    letter = OpenLetterFactory()
    signature = OrganizationSignatureFactory(letter=letter)
    _verified_client(client, moderator)
    url = reverse(
        "letters:decide_signature", kwargs={"slug": letter.slug, "signature_id": signature.pk}
    )
    client.post(url, {"decision": "approve"})
    signature.refresh_from_db()
    assert signature.status == OrganizationSignature.Status.APPROVED
    assert signature.decided_by == moderator
    entry = LogEntry.objects.get(user=moderator)
    assert (entry.object_id, entry.change_message) == (str(signature.pk), "Approved.")


def test_staff_who_gave_only_their_password_see_no_other_organizations_members(client) -> None:
    staff = UserFactory(is_staff=True, is_superuser=True)
    organization = OrganizationFactory()
    url = reverse("accounts:organization_members", kwargs={"slug": organization.slug})
    client.force_login(staff)
    assert client.get(url).status_code == 404
    assert client.post(url, {"email": "new@example.org"}).status_code == 404
    assert not Membership.objects.filter(organization=organization).exists()

    _verified_client(client, staff)
    page = client.get(url)
    assert page.status_code == 200
    assert page.context["form"] is not None  # and may invite, with the code given


def test_staff_who_gave_only_their_password_sign_for_no_organization(client) -> None:
    staff = UserFactory(is_staff=True, is_superuser=True)
    letter = OpenLetterFactory()
    organization = OrganizationFactory()
    client.force_login(staff)
    url = reverse("letters:cosign", kwargs={"slug": letter.slug})
    assert not client.get(url).context["form"].fields["organization"].queryset.exists()
    response = client.post(url, {"organization": organization.pk})
    assert response.status_code == 400
    assert not OrganizationSignature.objects.exists()
    with pytest.raises(PermissionDenied):
        letter_services.letter_cosign(letter=letter, organization=organization, user=staff)


# --- The admin's own login and logout -------------------------------------------------------------


def test_the_admin_login_is_rate_limited_like_the_site_login(client, settings) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login": NO_LIMIT | {"ip": ["2/m"]}}
    UserFactory(email="staff@cosign.test", password=PASSWORD, is_staff=True)
    for _ in range(2):
        wrong = client.post("/admin/login/", {"username": "staff@cosign.test", "password": "x"})
        assert wrong.status_code == 200
    # Refused before the password is looked at: even the right one does not log in.
    third = client.post("/admin/login/", {"username": "staff@cosign.test", "password": PASSWORD})
    assert third.status_code == 429
    assert "Too many" in third.content.decode()
    assert 'value="staff@cosign.test"' in third.content.decode()
    assert "_auth_user_id" not in client.session


def test_staff_waiting_for_their_code_can_log_out_of_the_admin(client, staff) -> None:
    confirmed_device(staff)
    client.force_login(staff)
    assert client.get("/admin/").status_code == 302  # the admin waits for the code
    response = client.post("/admin/logout/")
    assert response.status_code == 302
    assert not response["Location"].startswith((VERIFY, "/admin/"))
    assert "_auth_user_id" not in client.session
