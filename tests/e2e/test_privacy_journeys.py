"""A signer takes their data back: asks for a link, downloads what we hold, withdraws, and the
count follows. Without JavaScript, since every step must work without it."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, expect

from petitions.models import Petition, Signature
from tests.e2e.helpers import (
    audit,
    confirmation_path,
    fill_sign_form,
    last_mail_to,
    public_count,
    screenshot,
    visit,
)
from tests.factories import PetitionFactory

pytestmark = pytest.mark.e2e

TITLE = "Cancel the doorbell camera partnership in Oakland"
LINK = re.compile(r"https?://[^\s/]+(/\S+/my-signatures/\S+/)")


@pytest.fixture
def campaign(transactional_db) -> Petition:
    return PetitionFactory(title=TITLE)


def _heading(page: Page):
    return page.get_by_role("heading", level=1)


def _sign_and_confirm(page: Page, petition: Petition, run_counter) -> None:
    visit(page, petition.get_absolute_url())
    fill_sign_form(page, name="Maria Rossi", email="maria@example.org", display="My full name")
    page.get_by_role("button", name="Sign the petition").click()
    expect(_heading(page)).to_have_text("Check your inbox")
    visit(page, confirmation_path(last_mail_to("maria@example.org").body))
    page.get_by_role("button", name="Confirm my signature").click()
    expect(_heading(page)).to_have_text("Thank you, your signature is confirmed")
    run_counter()
    visit(page, petition.get_absolute_url())
    assert public_count(page) == "1"


def test_signer_downloads_and_withdraws_through_the_emailed_link(
    browse, campaign, run_counter
) -> None:
    page = browse(javascript=False)
    _sign_and_confirm(page, campaign, run_counter)

    page.get_by_role("contentinfo").get_by_role("link", name="Your signatures").click()
    expect(_heading(page)).to_have_text("Your signatures")
    page.get_by_label("The email you signed with").fill("maria@example.org")
    page.get_by_role("button", name="Email me a link").click()
    expect(_heading(page)).to_have_text("Check your inbox")
    expect(page.get_by_text("If that address has signed anything here")).to_be_visible()

    match = LINK.search(last_mail_to("maria@example.org").body)
    assert match, "no link to the signatures in the email"
    visit(page, match.group(1))
    expect(_heading(page)).to_have_text("Your signatures")
    card = page.locator("#my-signatures li")
    expect(card).to_have_count(1)
    expect(card.get_by_role("link", name=TITLE, exact=True)).to_be_visible()
    expect(card).to_contain_text("Maria Rossi")
    expect(card).to_contain_text("Confirmed")
    screenshot(page, "my-signatures-journey")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download as JSON").click()
    download = download_info.value
    assert download.suggested_filename == "cosign-my-signatures.json"
    with open(download.path(), encoding="utf-8") as file:
        data = json.load(file)
    (record,) = data["records"]
    assert (record["name"], record["email"], record["campaign"]) == (
        "Maria Rossi",
        "maria@example.org",
        TITLE,
    )

    page.get_by_role("link", name=f"Withdraw my signature from “{TITLE}”").click()
    expect(_heading(page)).to_have_text("Withdraw your signature?")
    page.get_by_role("button", name="Yes, withdraw it").click()
    expect(page.get_by_role("status")).to_contain_text("Your signature was withdrawn")
    expect(page.get_by_text("We hold no signatures from you")).to_be_visible()
    assert not Signature.objects.exists()

    page.get_by_role("link", name="Privacy").click()
    expect(_heading(page)).to_have_text("Privacy: what we keep, and for how long")
    visit(page, campaign.get_absolute_url())
    assert public_count(page) == "0"


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_privacy_page_renders(browse, transactional_db, device) -> None:
    page = browse(device=device)
    visit(page, "/en/")
    page.get_by_role("contentinfo").get_by_role("link", name="Privacy").click()
    expect(_heading(page)).to_have_text("Privacy: what we keep, and for how long")
    expect(page.locator("#delivery-columns li")).to_have_text(
        ["name", "locality", "region", "date confirmed", "comment"]
    )
    audit(page, "privacy-journey")
