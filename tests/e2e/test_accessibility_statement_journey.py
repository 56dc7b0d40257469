"""A visitor finds the accessibility statement from any page's footer, reads how accessible the
site is and what is not yet, finds whom to write to, and reads it all again in Italian."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from playwright.sync_api import expect

from config.accessibility_statement import KNOWN_EXCEPTIONS
from tests.e2e.helpers import audit, visit

pytestmark = pytest.mark.e2e


def test_a_visitor_reads_the_statement_and_finds_whom_to_tell(browse, transactional_db) -> None:
    page = browse()
    visit(page, "/en/")
    page.get_by_role("contentinfo").get_by_role("link", name="Accessibility").click()
    expect(page).to_have_url(re.compile(r"/en/accessibility/$"))
    expect(page).to_have_title(re.compile("^Accessibility statement"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Accessibility statement")

    # Each section of the EU model is a heading a screen reader can jump to.
    for section in (
        "Conformance status",
        "Content that is not accessible",
        "How this statement was prepared",
        "Feedback and contact",
        "Enforcement procedure",
    ):
        expect(page.get_by_role("heading", level=2, name=section)).to_be_visible()
    expect(page.locator("#conformance")).to_contain_text(
        "partially conformant with the Web Content Accessibility Guidelines (WCAG) 2.2, level AA"
    )
    exceptions = page.locator("#exceptions > li")
    expect(exceptions).to_have_count(len(KNOWN_EXCEPTIONS))
    for exception in KNOWN_EXCEPTIONS:
        entry = page.locator(f"#exception-{exception.slug}")
        expect(entry).to_contain_text(str(exception.what))
        expect(entry).to_contain_text(f"To be fixed by {exception.fixed_by:%b}")

    # The contact is a link whose text says what it is for, not a bare address.
    contact = page.get_by_role("link", name=re.compile("^Email us about accessibility"))
    expect(contact).to_have_attribute("href", f"mailto:{settings.ACCESSIBILITY_CONTACT_EMAIL}")
    expect(contact).to_contain_text(settings.ACCESSIBILITY_CONTACT_EMAIL)
    audit(page, "accessibility-statement-en")

    page.get_by_label("Language").select_option("it")
    page.get_by_role("button", name="Change").click()
    expect(page).to_have_url(re.compile(r"/it/accessibility/$"))
    expect(page.locator("html")).to_have_attribute("lang", "it")
    expect(page.get_by_role("heading", level=1)).to_have_text("Dichiarazione di accessibilità")
    expect(page.locator("#conformance")).to_contain_text("parzialmente conforme")
    expect(page.get_by_role("heading", level=2, name="Contenuti non accessibili")).to_be_visible()
    expect(page.locator("#exception-paper-sheet")).to_contain_text("non è un PDF con tag")
    expect(page.locator("#enforcement")).to_be_visible()
    expect(page.get_by_text(re.compile("In Italia è l'AgID"))).to_be_visible()
    expect(
        page.get_by_role("link", name=re.compile("^Scrivici sull'accessibilità"))
    ).to_have_attribute("href", f"mailto:{settings.ACCESSIBILITY_CONTACT_EMAIL}")
    audit(page, "accessibility-statement-it")

    phone = browse(device="phone")
    for language in ("en", "it"):
        visit(phone, f"/{language}/accessibility/")
        audit(phone, f"accessibility-statement-{language}")
