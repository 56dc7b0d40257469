"""Campaigns as supporters and staff use them in a browser: finding one in the catalog,
reading its page, signing a form with the campaign's own settings, and an update that reaches
a signer, who then stops further updates from the emailed link."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.models import User
from petitions.models import Petition, PetitionUpdate, Signature, SponsorOptIn
from tests.e2e.helpers import last_mail_to, screenshot, visit
from tests.factories import OrganizationFactory, PetitionFactory, SignatureFactory, TopicFactory

pytestmark = pytest.mark.e2e


def _titles(page: Page) -> list[str]:
    return page.locator("article h3").all_inner_texts()


@pytest.fixture
def catalog(transactional_db) -> None:
    biometric = TopicFactory(
        slug="biometric-surveillance",
        name_en="Biometric surveillance",
        name_it="Sorveglianza biometrica",
        position=1,
    )
    encryption = TopicFactory(slug="encryption", name_en="Strong encryption", position=2)
    PetitionFactory(
        title_en="Ban government use of face recognition",
        title_it="Vietare il riconoscimento facciale",
        topic=biometric,
    )
    PetitionFactory(title_en="No backdoors in our encryption", topic=encryption)
    PetitionFactory(
        title_en="Drop remote proctoring",
        topic=biometric,
        status=Petition.Status.CLOSED,
        outcome_en="The signatures were delivered.",
    )


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_supporter_narrows_the_catalog_by_words_topic_and_status(
    browse, catalog, javascript
) -> None:
    page = browse(javascript=javascript)
    visit(page, "/")
    expect(page.get_by_role("heading", level=2)).to_have_text(
        ["Biometric surveillance", "Strong encryption"]
    )

    page.get_by_role("searchbox", name="Search").fill("face recognition")
    page.get_by_role("button", name="Show").click()
    assert _titles(page) == ["Ban government use of face recognition"]
    expect(page.get_by_role("searchbox", name="Search")).to_have_value("face recognition")

    page.get_by_role("searchbox", name="Search").fill("")
    page.get_by_label("Topic").select_option(label="Biometric surveillance")
    page.get_by_label("Status").select_option(label="Closed")
    page.get_by_role("button", name="Show").click()
    assert _titles(page) == ["Drop remote proctoring"]
    expect(page.get_by_text("The signatures were delivered.")).to_be_visible()
    page.get_by_role("link", name="See the outcome of “Drop remote proctoring”").click()
    expect(page.get_by_role("heading", name="Outcome")).to_be_visible()

    visit(page, "/en/?q=zeppelin")
    expect(page.get_by_role("status")).to_contain_text("No campaign matches these filters.")
    page.get_by_role("link", name="See all campaigns").first.click()
    assert len(_titles(page)) == 3


def test_italian_catalog_shows_translated_campaigns_with_fallback(browse, catalog) -> None:
    page = browse()
    visit(page, "/")
    page.get_by_label("Language").select_option(label="Italiano")
    page.get_by_role("button", name="Change").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Unisciti a una causa")
    expect(page.get_by_role("heading", level=2)).to_have_text(
        ["Sorveglianza biometrica", "Strong encryption"]
    )
    assert "Vietare il riconoscimento facciale" in _titles(page)
    assert "No backdoors in our encryption" in _titles(page)
    screenshot(page, "catalog-filtered-italian")


def test_supporter_signs_a_form_with_the_campaigns_own_settings(browse, transactional_db) -> None:
    oakland = OrganizationFactory(name="Oakland Privacy")
    secure = OrganizationFactory(name="Secure Justice")
    petition = PetitionFactory(
        title_en="Cancel the Ring partnership",
        body_en="Nobody **voted** for it.\n\n<script>document.title='pwned'</script>",
        demand_en="End the police partnership with Amazon Ring.",
        postal_code_required=True,
        countries=["US"],
        ask_comment=True,
        offer_sponsor_opt_in=True,
    )
    petition.sponsors.add(oakland, secure)
    page = browse()
    visit(page, petition.get_absolute_url())
    expect(page.get_by_text("End the police partnership with Amazon Ring.")).to_be_visible()
    expect(page.locator(".campaign-text strong")).to_have_text("voted")
    # The script in the body never ran: the title is the petition's.
    expect(page).to_have_title(re.compile("^Cancel the Ring partnership"))
    expect(page.get_by_role("link", name="Bluesky")).to_have_attribute(
        "href", re.compile(r"^https://bsky\.app/intent/compose\?text=")
    )

    form = page.locator("#sign form")
    form.get_by_role("textbox", name="Your name").fill("Maria Rossi")
    form.get_by_role("textbox", name=re.compile(r"^Email\b")).fill("maria@example.org")
    # The only country offered is already chosen.
    expect(form.get_by_label("Country")).to_have_value("US")
    page.get_by_role("button", name="Sign the petition").click()
    expect(page.locator("#div_id_postal_code .invalid-feedback")).to_have_text(
        "This field is required."
    )
    form.get_by_label("Postal code").fill("94612")
    form.get_by_label("Why are you signing? (optional)").fill("I live on a camera-lined street.")
    form.get_by_label("Secure Justice").check()
    page.get_by_role("button", name="Sign the petition").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")

    signature = Signature.objects.get()
    assert (signature.postal_code, signature.country.code) == ("94612", "US")
    assert signature.comment == "I live on a camera-lined street."
    assert list(SponsorOptIn.objects.values_list("organization__name", flat=True)) == [
        "Secure Justice"
    ]


def test_staff_publish_an_update_that_reaches_a_signer_who_then_stops_updates(
    browse, transactional_db, settings
) -> None:
    petition = PetitionFactory(title_en="Cancel the Ring partnership")
    SignatureFactory(
        petition=petition,
        name="Maria Rossi",
        email="maria@example.org",
        confirmed=True,
        consent_updates=True,
    )
    PetitionUpdate.objects.create(
        petition=petition,
        title_en="The council votes on Tuesday",
        title_it="Il consiglio vota martedì",
        body_en="Come to City Hall at **6 pm**.",
    )
    User.objects.create_superuser("editor@cosign.test", "a-long-password")

    staff = browse()
    visit(staff, "/admin/petitions/petitionupdate/")
    staff.get_by_label("Email address").fill("editor@cosign.test")
    staff.get_by_label("Password").fill("a-long-password")
    staff.get_by_role("button", name="Log in").click()
    staff.get_by_role("checkbox", name="Select this object for an action").check()
    staff.get_by_role("combobox", name="Action").select_option(
        label="Publish, and email signers who asked for updates"
    )
    staff.get_by_role("button", name="Go").click()
    expect(staff.get_by_text("Published 1 update.")).to_be_visible()

    message = last_mail_to("maria@example.org")
    assert message.subject == "The council votes on Tuesday \u2013 Cancel the Ring partnership"
    assert "Come to City Hall at **6 pm**." in message.body
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = re.search(r"https?://\S+/unsubscribe/\S+/", message.body).group(0)
    assert message.extra_headers["List-Unsubscribe"] == f"<{link}>"

    supporter = browse(device="phone", javascript=False)
    visit(supporter, petition.get_absolute_url())
    expect(supporter.get_by_role("heading", name="The council votes on Tuesday")).to_be_visible()
    visit(supporter, link.removeprefix(settings.SITE_URL))
    # Opening the link changes nothing; the button does.
    assert Signature.objects.get().consent_updates
    supporter.get_by_role("button", name="Stop emailing me updates").click()
    expect(supporter.get_by_role("heading", level=1)).to_have_text("Updates stopped")
    assert not Signature.objects.get().consent_updates
