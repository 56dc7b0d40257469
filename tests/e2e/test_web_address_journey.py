"""A website typed into the join form is read the way the browser reads it: one that a browser
follows to another host than our check would see is refused with a message the person can act
on, and the one they correct is stored and linked in its normalized form."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from accounts.models import Organization
from tests.e2e.helpers import screenshot, visit
from tests.factories import OrganizationFactory, PetitionFactory

pytestmark = pytest.mark.e2e

# urlsplit reads the host as eff.org; Chromium reads the backslash as a slash: evil.example.
SPOOFED = "https://evil.example\\@eff.org"


def test_a_spoofed_website_is_refused_and_the_corrected_one_stored_normalized(
    browse, transactional_db
) -> None:
    page = browse()
    visit(page, "/en/organizations/join/")
    page.get_by_label("Organization name").fill("Electronic Frontier Foundation")
    page.get_by_label("Website").fill(SPOOFED)
    page.get_by_role("textbox", name="Your name").fill("Cindy Cohn")
    page.get_by_label("Your email at the organization").fill("press@eff.org")
    page.get_by_role("button", name="Register the organization").click()

    expect(page.locator("#div_id_website .invalid-feedback")).to_contain_text(
        "A web address cannot contain a backslash"
    )
    # What they typed stays in the field, to correct; nothing else of it is a link.
    expect(page.get_by_label("Website")).to_have_value(SPOOFED)
    assert page.locator('a[href*="evil.example"]').count() == 0
    screenshot(page, "organization-join-spoofed-website")
    assert not Organization.objects.exists()

    page.get_by_label("Website").fill("WWW.EFF.org")
    page.get_by_role("button", name="Register the organization").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    assert Organization.objects.get().website == "https://www.eff.org/"


def test_a_sponsor_is_linked_only_through_its_normalized_address(browse, transactional_db) -> None:
    petition = PetitionFactory()
    petition.sponsors.add(
        OrganizationFactory(name="Plain Rights", website="https://PLAIN.example"),
        # A row stored before addresses were checked: the page must not link it.
        OrganizationFactory(name="Spoofed Rights", website=SPOOFED),
    )
    page = browse()
    visit(page, petition.get_absolute_url())
    expect(page.get_by_role("link", name="Plain Rights")).to_have_attribute(
        "href", "https://plain.example/"
    )
    expect(page.get_by_text("Spoofed Rights")).to_be_visible()
    expect(page.get_by_role("link", name="Spoofed Rights")).to_have_count(0)
