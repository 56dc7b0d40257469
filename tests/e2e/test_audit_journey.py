"""A campaign editor points an official's delivery address at their own mailbox, in the admin;
the audit log they cannot read or change records it, and a moderator finds the old and the new
address there, with who changed it (issue 14, item 8)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from accounts.roles import CAMPAIGN_EDITOR, MODERATOR
from tests.conftest import STAFF_PASSWORD, staff_in_role
from tests.e2e.helpers import screenshot, visit
from tests.factories import PetitionFactory, TargetFactory

pytestmark = pytest.mark.e2e


def _log_in(page: Page, email: str) -> None:
    visit(page, "/admin/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_a_target_address_changed_by_an_editor_is_in_the_log_a_moderator_reads(
    browse, transactional_db, settings
) -> None:
    settings.STAFF_REQUIRE_2FA = False  # its own journey: tests/e2e/test_two_factor_journey.py
    PetitionFactory(targets=[TargetFactory()], delivery_schedule="daily")
    staff_in_role(CAMPAIGN_EDITOR, "editor@cosign.example")
    staff_in_role(MODERATOR, "moderator@cosign.example")

    editor = browse()
    _log_in(editor, "editor@cosign.example")
    # The record of what editors do is not theirs to read.
    expect(editor.get_by_role("link", name="Log entries")).to_have_count(0)
    editor.get_by_role("link", name="Targets").click()
    editor.get_by_role("link", name="Mayor of Oakland").click()
    editor.get_by_label("Delivery email").fill("editor@cosign.example")
    editor.get_by_role("button", name="Save", exact=True).click()
    expect(editor.locator(".messagelist")).to_contain_text("was changed successfully")
    visit(editor, "/admin/admin/logentry/", status=403)

    moderator = browse()
    _log_in(moderator, "moderator@cosign.example")
    moderator.get_by_role("link", name="Log entries").click()
    entry = moderator.locator("#result_list tbody tr").filter(has_text="Delivery email changed")
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text(
        "Delivery email changed from “mayor@oakland.example.gov” to “editor@cosign.example”."
    )
    expect(entry).to_contain_text("editor@cosign.example")
    expect(entry.get_by_role("link", name="Mayor of Oakland (Barbara Lee)")).to_be_visible()
    screenshot(moderator, "audit-log-target-email")
    # Found again by searching for the address, as a reviewer would.
    moderator.get_by_role("textbox", name="Search").fill("mayor@oakland.example.gov")
    moderator.get_by_role("button", name="Search").click()
    expect(moderator.locator("#result_list tbody tr")).to_have_count(1)
    # Read-only, for the moderator too.
    moderator.locator("#result_list tbody tr").first.locator("th a, td a").first.click()
    expect(moderator.get_by_role("button", name="Save")).to_have_count(0)
    expect(moderator.get_by_role("link", name="Delete")).to_have_count(0)
