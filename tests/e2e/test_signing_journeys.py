"""A supporter's journey from the catalog to being counted, in a real browser: with a real Celery
worker and SMTP server, without JavaScript, on a phone, in Italian and by keyboard alone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from petitions.models import Petition, Signature
from tests.e2e.helpers import (
    confirmation_path,
    fill_sign_form,
    last_mail_to,
    public_count,
    screenshot,
    signers_listed,
    visit,
)
from tests.factories import OrganizationFactory, PetitionFactory, SignatureFactory, TopicFactory
from tests.services import text_body, wait_until

pytestmark = pytest.mark.e2e

TITLE = "Cancel the doorbell camera partnership in Oakland"


@pytest.fixture
def campaign(transactional_db) -> Petition:
    """The petition our supporter looks for, among others in the catalog."""
    PetitionFactory(title="Keep end-to-end encryption legal", topic=TopicFactory(
        name="Strong encryption", slug="strong-encryption"
    ))  # fmt: skip
    petition = PetitionFactory(
        title=TITLE,
        summary="Oakland police get doorbell footage without a warrant. End the deal.",
        addressed_to="The Mayor and City Council of Oakland",
    )
    petition.sponsors.add(OrganizationFactory(name="Oakland Privacy"))
    return petition


def _heading(page: Page):
    return page.get_by_role("heading", level=1)


def _open_from_catalog(page: Page, title: str = TITLE) -> None:
    visit(page, "/")
    expect(_heading(page)).to_have_text("Join a cause")
    page.get_by_role("link", name=title, exact=True).click()
    expect(_heading(page)).to_have_text(title)


def _confirm(page: Page, path: str, *, expect_name: str) -> None:
    visit(page, path)
    expect(_heading(page)).to_have_text("Confirm your signature")
    # Opening the link changes nothing: a mail scanner following it must not sign anyone.
    assert not Signature.objects.filter(status=Signature.Status.CONFIRMED).exists()
    expect(page.get_by_role("textbox", name="Your name")).to_have_value(expect_name)
    page.get_by_role("button", name="Confirm my signature").click()
    expect(_heading(page)).to_have_text("Thank you, your signature is confirmed")


@pytest.mark.integration
def test_supporter_signs_from_the_catalog_on_real_services(
    browse, campaign, smtp_server, celery_worker_process
) -> None:
    """Broker, worker, beat and SMTP are all real: the email is read off the SMTP server."""
    sink, _ = smtp_server
    page = browse()
    _open_from_catalog(page)
    fill_sign_form(
        page,
        name="Maria Rossi",
        email="Maria.Rossi@example.org",
        postal_code="94612",
        country="United States of America",
        display="My first name and last initial",
    )
    page.get_by_role("button", name="Sign the petition").click()
    expect(_heading(page)).to_have_text("Check your inbox")

    wait_until(lambda: sink.messages, timeout=30, what="the confirmation email")
    (message,) = sink.messages
    assert message["To"] == "Maria.Rossi@example.org"
    assert message["Subject"] == f"Confirm your signature: {TITLE}"
    _confirm(page, confirmation_path(text_body(message)), expect_name="Maria Rossi")
    expect(page.get_by_text("Your name appears as “Maria R.”")).to_be_visible()

    page.get_by_role("link", name="See the petition").click()
    # Beat in the worker adds confirmed signatures to the count every second.
    wait_until(
        lambda: page.reload() and public_count(page) == "1",
        timeout=30,
        what="the public count to include the signature",
    )
    assert signers_listed(page) == ["Maria R."]
    expect(page.locator("#sign")).to_contain_text("1 signature")
    screenshot(page, "petition-signed")
    assert len(sink.messages) == 1


def test_supporter_signs_with_javascript_off(browse, campaign, run_counter) -> None:
    """Tor Browser's safest level: every step is a plain link or form."""
    page = browse(javascript=False)
    _open_from_catalog(page)
    fill_sign_form(page, name="Alex Kim", email="alex@example.net", display="Don't show my name")
    page.get_by_role("button", name="Sign the petition").click()
    expect(_heading(page)).to_have_text("Check your inbox")

    _confirm(page, confirmation_path(last_mail_to("alex@example.net").body), expect_name="Alex Kim")
    expect(page.get_by_text("Your name will not be shown publicly.")).to_be_visible()
    run_counter()
    page.get_by_role("link", name="See the petition").click()
    assert public_count(page) == "1"
    assert signers_listed(page) == ["Name withheld"]
    assert "Alex" not in page.locator("main").inner_text()


def test_supporter_signs_on_a_phone(browse, campaign, run_counter) -> None:
    page = browse(device="phone")
    visit(page, "/")
    page.get_by_role("link", name=TITLE, exact=True).tap()
    expect(_heading(page)).to_have_text(TITLE)
    # Nothing wider than the screen: no sideways scrolling on a 390 px phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # The form sits below the text on a phone; the button above the fold jumps to it.
    jump = page.get_by_role("link", name="Sign now")
    expect(jump).to_be_in_viewport()
    jump.tap()
    expect(page.locator("#sign")).to_be_in_viewport()
    screenshot(page, "petition-sign-form")

    fill_sign_form(page, name="Maria Rossi", email="maria@example.org", display="My full name")
    page.get_by_role("button", name="Sign the petition").tap()
    expect(_heading(page)).to_have_text("Check your inbox")
    _confirm(
        page, confirmation_path(last_mail_to("maria@example.org").body), expect_name="Maria Rossi"
    )
    run_counter()
    page.get_by_role("link", name="See the petition").tap()
    assert public_count(page) == "1"
    assert signers_listed(page) == ["Maria Rossi"]


def test_supporter_switches_to_italian_and_signs_in_italian(browse, campaign, run_counter) -> None:
    page = browse()
    _open_from_catalog(page)
    page.get_by_label("Language").select_option(label="Italiano")
    page.get_by_role("button", name="Change").click()
    # The same petition, now under /it/ and with the whole interface in Italian.
    assert re.search(rf"/it/p/{campaign.slug}/$", page.url)
    expect(page.locator("html")).to_have_attribute("lang", "it")
    expect(page.get_by_role("button", name="Firma la petizione")).to_be_visible()

    fill_sign_form(
        page,
        name="Giulia Bianchi",
        email="giulia@example.it",
        postal_code="00184",
        country="Italia",
        display="Il mio nome e l'iniziale del cognome",
        labels={
            "name": "Il tuo nome",
            "email": "Email",
            "postal_code": "Codice postale",
            "country": "Paese",
        },
    )
    page.get_by_role("button", name="Firma la petizione").click()
    expect(_heading(page)).to_have_text("Controlla la tua casella di posta")

    message = last_mail_to("giulia@example.it")
    assert message.subject == f"Conferma la tua firma: {TITLE}"
    # Greeted by no name: whoever typed the address may not own it (issue 14).
    assert message.body.startswith("Ciao,")
    assert "Giulia" not in message.body
    assert "Apri questo link" in message.body
    path = confirmation_path(message.body)
    assert path.startswith("/it/")

    visit(page, path)
    expect(_heading(page)).to_have_text("Conferma la tua firma")
    page.get_by_role("button", name="Conferma la mia firma").click()
    expect(_heading(page)).to_have_text("Grazie, la tua firma è confermata")
    run_counter()
    page.get_by_role("link", name="Vedi la petizione").click()
    expect(page.locator("#sign")).to_contain_text("1 firma")
    assert signers_listed(page) == ["Giulia B."]
    signature = Signature.objects.get()
    assert (signature.language, signature.country.code) == ("it", "IT")
    screenshot(page, "petition-italian")


def test_keyboard_alone_signs_the_petition(browse, campaign) -> None:
    """Tab from the top of the page to each field in reading order, choose with the keyboard's
    own controls, and send with Enter."""
    page = browse()
    visit(page, campaign.get_absolute_url())

    def focused() -> str:
        return page.evaluate("document.activeElement.id || document.activeElement.textContent")

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    # Hidden until focused, then visible: sighted keyboard users see where they are.
    assert skip.bounding_box()["width"] > 20

    for _ in range(20):
        page.keyboard.press("Tab")
        if focused() == "id_name":
            break
    else:
        pytest.fail("Tab never reached the name field")
    page.keyboard.type("Maria Rossi")
    page.keyboard.press("Tab")
    page.keyboard.type("maria@example.org")
    page.keyboard.press("Tab")
    page.keyboard.type("94612")
    page.keyboard.press("Tab")
    assert focused() == "id_country"
    page.keyboard.type("Italy")  # a focused select picks the option typed
    page.keyboard.press("Tab")
    assert focused() == "id_display_1"  # the group's chosen radio, "first name and initial"
    page.keyboard.press("ArrowUp")  # radios change with the arrows: "my full name"
    assert focused() == "id_display_0"
    page.keyboard.press("Tab")
    assert focused() == "id_consent_updates"
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    assert focused() == "submit-id-sign"
    page.keyboard.press("Enter")
    expect(_heading(page)).to_have_text("Check your inbox")

    signature = Signature.objects.get()
    assert (signature.name, signature.email, signature.postal_code) == (
        "Maria Rossi",
        "maria@example.org",
        "94612",
    )
    assert (signature.country.code, signature.display, signature.consent_updates) == (
        "IT",
        Signature.Display.FULL,
        True,
    )


def test_errors_are_announced_beside_their_fields_and_nothing_typed_is_lost(
    browse, campaign
) -> None:
    page = browse()
    visit(page, campaign.get_absolute_url())
    fill_sign_form(
        page,
        name="Maria Rossi",
        email="maria@@example",
        postal_code="94612",
        display="My full name",
        updates=True,
    )
    page.get_by_role("button", name="Sign the petition").click()

    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("nothing was saved yet")
    expect(summary.get_by_role("link", name=re.compile("^Email: "))).to_have_attribute(
        "href", "#id_email"
    )
    email = page.get_by_role("textbox", name=re.compile(r"^Email\b"))
    expect(email).to_have_attribute("aria-invalid", "true")
    # The message is in the field's description (what a screen reader says on focus) and sits
    # in the field's own group, right below it.
    message = page.locator("#div_id_email .invalid-feedback")
    expect(message).to_have_text("Enter a valid email address.")
    message_id = message.get_attribute("id")
    assert message_id in email.get_attribute("aria-describedby").split()
    expect(page.get_by_role("textbox", name="Your name")).not_to_have_attribute(
        "aria-invalid", "true"
    )
    screenshot(page, "petition-form-errors")

    # What was typed is still there, the choices too, and nothing was written.
    expect(page.get_by_role("textbox", name="Your name")).to_have_value("Maria Rossi")
    expect(page.get_by_label("Postal code")).to_have_value("94612")
    expect(page.get_by_label("My full name")).to_be_checked()
    expect(page.get_by_label("Email me updates about this campaign")).to_be_checked()
    assert not Signature.objects.exists()

    email.fill("maria@example.org")
    page.get_by_role("button", name="Sign the petition").click()
    expect(_heading(page)).to_have_text("Check your inbox")
    assert Signature.objects.get().display == Signature.Display.FULL


def test_a_closed_petition_shows_its_final_count_instead_of_the_form(browse) -> None:
    petition = PetitionFactory(title=TITLE, status=Petition.Status.CLOSED, signature_count=3)
    SignatureFactory.create_batch(3, petition=petition, confirmed=True, display="full")
    page = browse()
    _open_from_catalog(page)
    expect(page.get_by_text("Final count")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text(
        "This petition is closed and no longer takes signatures."
    )
    expect(page.get_by_role("button", name="Sign the petition")).to_have_count(0)
    assert public_count(page) == "3"
