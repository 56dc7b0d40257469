"""WCAG 2.2's 3.3.8 Accessible Authentication: logging in (members' login, the admin's login),
choosing a password and giving a second factor ask for no cognitive test. No puzzle or CAPTCHA;
each field says what it holds (`autocomplete`), so a password manager or the phone's code
autofill can fill it; and pasting works, so nobody has to remember or retype anything."""

from __future__ import annotations

import re
from base64 import b32decode

import pytest
from django_otp.oath import totp
from playwright.sync_api import Locator, Page, expect

from accounts.models import User
from accounts.organization_emails import password_set_url
from tests.e2e.helpers import PASSWORD, audit, visit

pytestmark = pytest.mark.e2e

MEMBER = "member@cosign.test"
STAFF = "staff@cosign.test"
# Anything a person could be asked to solve instead of, or beside, giving their credentials.
PUZZLES = (
    "iframe, canvas, audio, form img, [class*='captcha' i], [id*='captcha' i], "
    "[name*='captcha' i], [class*='recaptcha' i], [class*='hcaptcha' i]"
)

# Whether a paste into the field is let through: a real paste event, with the text on its
# clipboard data, dispatched at the field as the browser would; a page that blocks pasting
# calls preventDefault on it (dispatchEvent then answers false).
_PASTE_ALLOWED = """(field) => {
  const data = new DataTransfer();
  data.setData("text/plain", "pasted");
  const event = new ClipboardEvent("paste", {clipboardData: data, bubbles: true, cancelable: true});
  return field.dispatchEvent(event);
}"""


def paste(page: Page, field: Locator, text: str) -> None:
    """Put `text` on the clipboard and paste it into the field with the keyboard, as a person
    copying from a password manager or an authenticator app does."""
    field.fill("")
    page.evaluate("(text) => navigator.clipboard.writeText(text)", text)
    field.focus()
    page.keyboard.press("ControlOrMeta+V")


def assert_pastable(page: Page, field: Locator, text: str) -> None:
    assert field.evaluate(_PASTE_ALLOWED), "the field refuses a paste"
    paste(page, field, text)
    expect(field).to_have_value(text)


def assert_no_puzzle(page: Page) -> None:
    assert page.locator(f"main :is({PUZZLES})").count() == 0, "a puzzle or CAPTCHA on the page"


def _allow_clipboard(page: Page, site: str) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site)


def _code(key: bytes, *, steps_ahead: int = 0) -> str:
    return f"{totp(key, drift=steps_ahead):06d}"


def test_members_choose_a_password_and_log_in_without_a_cognitive_test(
    browse, site, transactional_db
) -> None:
    member = User.objects.create_user(MEMBER, PASSWORD)
    new_password = "correct horse battery staple 42"

    # Choosing a password (the emailed link): both fields are new passwords, which a password
    # manager offers to generate and then saves; pasting a generated one works.
    chooser = browse(device="phone")
    _allow_clipboard(chooser, site)
    chooser.goto(password_set_url(user=member, language="en"))
    expect(chooser.get_by_role("heading", level=1)).to_have_text("Choose your password")
    assert_no_puzzle(chooser)
    for label in ("New password", "New password confirmation"):
        field = chooser.get_by_role("textbox", name=re.compile(rf"^{label}\*?$"))
        expect(field).to_have_attribute("autocomplete", "new-password")
        assert_pastable(chooser, field, new_password)
    audit(chooser, "password-set")
    chooser.get_by_role("button", name="Set my password").click()
    expect(chooser.get_by_role("heading", level=1)).not_to_have_text("Choose your password")
    member.refresh_from_db()
    assert member.check_password(new_password)

    page = browse()
    _allow_clipboard(page, site)
    visit(page, "/en/accounts/login/")
    assert_no_puzzle(page)
    email = page.get_by_role("textbox", name=re.compile("^Email"))
    password = page.get_by_label("Password")
    # What a password manager reads to know which fields to fill, and which stay put.
    expect(email).to_have_attribute("autocomplete", "username")
    expect(email).to_have_attribute("name", "username")
    expect(email).to_have_attribute("id", "id_username")
    expect(password).to_have_attribute("autocomplete", "current-password")
    expect(password).to_have_attribute("type", "password")
    expect(password).to_have_attribute("name", "password")
    assert_pastable(page, email, MEMBER)
    assert_pastable(page, password, new_password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("link", name="Log in")).to_have_count(0)


def test_staff_log_in_to_the_admin_and_paste_their_second_factor(
    browse, site, settings, transactional_db
) -> None:
    settings.STAFF_REQUIRE_2FA = True
    User.objects.create_superuser(STAFF, PASSWORD)
    page = browse()
    _allow_clipboard(page, site)

    visit(page, "/admin/login/")
    assert page.locator(f"#content :is({PUZZLES})").count() == 0
    username = page.get_by_label("Email address")
    password = page.get_by_label("Password")
    expect(username).to_have_attribute("autocomplete", "username")
    expect(password).to_have_attribute("autocomplete", "current-password")
    assert_pastable(page, username, STAFF)
    assert_pastable(page, password, PASSWORD)
    page.get_by_role("button", name="Log in").click()

    # Setting up the app: the key can be copied, and the code pasted or filled in by the
    # phone's one-time-code autofill, with a keypad of digits.
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up your second factor")
    assert_no_puzzle(page)
    typed = page.locator("#totp-key").inner_text().replace(" ", "")
    key = b32decode(typed + "=" * (-len(typed) % 8))
    code = page.get_by_label("Six-digit code")
    expect(code).to_have_attribute("autocomplete", "one-time-code")
    expect(code).to_have_attribute("inputmode", "numeric")
    assert_pastable(page, code, _code(key))
    page.get_by_role("button", name="Confirm and continue").click()
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()

    # The next login asks for a code: pasted too, as an app's "copy code" gives it.
    again = browse(device="phone")
    _allow_clipboard(again, site)
    visit(again, "/admin/login/")
    again.get_by_label("Email address").fill(STAFF)
    again.get_by_label("Password").fill(PASSWORD)
    again.get_by_role("button", name="Log in").click()
    expect(again.get_by_role("heading", level=1)).to_have_text("Enter your code")
    assert_no_puzzle(again)
    code = again.get_by_label("Six-digit code")
    expect(code).to_have_attribute("autocomplete", "one-time-code")
    expect(code).to_have_attribute("inputmode", "numeric")
    assert_pastable(again, code, _code(key, steps_ahead=1))
    again.get_by_role("button", name="Verify").click()
    expect(again.get_by_role("heading", name="Site administration")).to_be_visible()


def test_the_checks_catch_a_blocked_paste_and_a_puzzle(browse, site, transactional_db) -> None:
    page = browse()
    _allow_clipboard(page, site)
    visit(page, "/en/accounts/login/")
    password = page.get_by_label("Password")
    password.evaluate(
        "(field) => field.addEventListener('paste', (event) => event.preventDefault())"
    )
    with pytest.raises(AssertionError, match="refuses a paste"):
        assert_pastable(page, password, PASSWORD)
    # A paste the page blocks never arrives, so the value check would catch it as well.
    paste(page, password, PASSWORD)
    expect(password).to_have_value("")
    page.evaluate(
        "() => document.querySelector('main form').append(document.createElement('canvas'))"
    )
    with pytest.raises(AssertionError, match="puzzle"):
        assert_no_puzzle(page)
