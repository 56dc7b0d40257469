"""Staff set up and use their second factor as a person would; the petition widget works inside
another site's page, and our other pages refuse to be framed there."""

from __future__ import annotations

import re
from base64 import b32decode

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Browser, Page, expect

from accounts.models import User
from tests.e2e.conftest import Watch
from tests.e2e.helpers import audit, visit
from tests.factories import PetitionFactory

pytestmark = pytest.mark.e2e

EDITOR = "editor@cosign.test"
EDITOR_PASSWORD = "a-long-password"


def _admin_login(page: Page) -> None:
    visit(page, "/admin/")
    page.get_by_label("Email address").fill(EDITOR)
    page.get_by_label("Password").fill(EDITOR_PASSWORD)
    page.get_by_role("button", name="Log in").click()


def _code(key: bytes, *, steps_ahead: int = 0) -> str:
    return f"{totp(key, drift=steps_ahead):06d}"


def test_staff_enrol_an_app_then_give_its_code_at_the_next_login(
    browse, settings, transactional_db
) -> None:
    settings.STAFF_REQUIRE_2FA = True
    User.objects.create_superuser(EDITOR, EDITOR_PASSWORD)

    page = browse()
    _admin_login(page)
    # The password was right, but the admin waits for a second factor.
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up your second factor")
    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    audit(page, "two-factor-setup")

    # Someone who cannot scan types the key into their app; the test is that app.
    typed = page.locator("#totp-key").inner_text().replace(" ", "")
    key = b32decode(typed + "=" * (-len(typed) % 8))
    page.get_by_label("Six-digit code").fill("000000" if _code(key) != "000000" else "111111")
    page.get_by_role("button", name="Confirm and continue").click()
    expect(page.get_by_role("alert")).to_contain_text("That code is not right")
    # Nothing lost: the same key is still there to copy.
    assert page.locator("#totp-key").inner_text().replace(" ", "") == typed

    # A person takes longer than django-otp's one-second wait after a wrong code.
    TOTPDevice.objects.update(throttling_failure_timestamp=None)
    page.get_by_label("Six-digit code").fill(_code(key))
    page.get_by_role("button", name="Confirm and continue").click()
    expect(page).to_have_url(re.compile(r"/admin/$"))
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()

    # Another browser, another session: the password alone is not enough.
    again = browse(device="phone")
    _admin_login(again)
    expect(again.get_by_role("heading", level=1)).to_have_text("Enter your code")
    audit(again, "two-factor-verify")
    # The code just used is spent; the app shows the next one a little later.
    again.get_by_label("Six-digit code").fill(_code(key, steps_ahead=1))
    again.get_by_role("button", name="Verify").click()
    expect(again).to_have_url(re.compile(r"/admin/$"))
    expect(again.get_by_role("heading", name="Site administration")).to_be_visible()


def test_the_widget_works_inside_another_site_and_the_full_page_refuses_to(
    browser: Browser, site: str, campaigner_site, transactional_db
) -> None:
    petition = PetitionFactory(title="Cancel the doorbell camera partnership", signature_count=42)
    url, handler = campaigner_site
    handler.body = f"""<!doctype html><html lang="en"><head><title>Our campaign</title></head>
<body><h1>Support our campaign</h1>
<iframe src="{site}/en/p/{petition.slug}/embed/" title="Petition widget" width="400"
  height="220"></iframe>
<iframe src="{site}/en/p/{petition.slug}/" title="Full page" width="400" height="220"></iframe>
</body></html>""".encode()

    # Not `browse`: its watcher rightly objects to a page from another host, and Chromium logs
    # the refused frame below as a console error. What matters here is checked directly.
    context = browser.new_context(locale="en-US")
    try:
        page = context.new_page()
        widget_responses = []
        page.on(
            "response",
            lambda r: widget_responses.append(r) if r.url.endswith("/embed/") else None,
        )
        page.goto(url, wait_until="load")

        widget = page.frame_locator("iframe[title='Petition widget']")
        expect(widget.get_by_role("heading", name=petition.title)).to_be_visible()
        expect(widget.locator("#signature-count")).to_have_text("42")
        sign = widget.get_by_role("link", name=re.compile("^Sign the petition"))
        expect(sign).to_have_attribute("href", f"{site}/en/p/{petition.slug}/")
        expect(sign).to_have_attribute("target", "_blank")
        assert widget_responses, "the widget was never loaded"
        policy = widget_responses[0].header_value("content-security-policy") or ""
        assert "frame-ancestors *" in policy and "script-src 'self'" in policy

        # Sign opens our own page, with its form, in a new tab (not inside their frame).
        with context.expect_page() as opened:
            sign.click()
        full = opened.value
        full.wait_for_load_state()
        expect(full.get_by_role("heading", level=1)).to_have_text(petition.title)
        expect(full.get_by_role("button", name="Sign the petition")).to_be_visible()

        # The full page, with the sign form, is refused in their frame.
        framed = page.frame_locator("iframe[title='Full page']")
        expect(framed.get_by_role("button", name="Sign the petition")).to_have_count(0)
        loaded = [frame.url for frame in page.frames]
        assert f"{site}/en/p/{petition.slug}/" not in loaded, loaded
    finally:
        context.close()


def test_the_page_watcher_flags_a_page_of_ours_without_the_policy(
    browser: Browser, site: str, transactional_db
) -> None:
    """The CSP check that every browser test runs (tests/e2e/conftest.py) can fail."""
    context = browser.new_context(base_url=site)
    try:
        page = context.new_page()
        watch = Watch(origin=site)
        watch.attach(page)
        page.route(
            f"{site}/no-policy/",
            lambda route: route.fulfill(
                status=200, content_type="text/html", body="<!doctype html><title>x</title>"
            ),
        )
        page.goto("/no-policy/")
        assert watch.problems == [f"no Content-Security-Policy on {site}/no-policy/"]
        watch.problems.clear()
        visit(page, "/en/")
        assert watch.problems == []
    finally:
        context.close()
