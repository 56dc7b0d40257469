"""Officials hear from their own constituents: a supporter signs with a ZIP code, sees how many
signed from their area, and the page shows each official's count."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from petitions.models import Petition, Target
from tests.e2e.helpers import confirmation_path, fill_sign_form, last_mail_to, screenshot, visit
from tests.factories import PetitionFactory

pytestmark = pytest.mark.e2e


@pytest.fixture
def petition(transactional_db) -> Petition:
    petition = PetitionFactory(
        title="Cancel the Ring partnership in your city",
        postal_code_required=True,
        countries=["US"],
    )
    for city, region in (("Oakland", "CA"), ("Chicago", "IL")):
        petition.targets.add(
            Target.objects.create(
                name=f"Mayor and City Council of {city}",
                title=f"Mayor of {city}",
                level=Target.Level.LOCAL,
                country="US",
                region=region,
                locality=city,
                email=f"mayor.{city.lower()}@example.org",
            )
        )
    return petition


def test_signer_sees_their_area_count_and_each_officials_constituents(
    browse, petition, run_counter
) -> None:
    page = browse()
    visit(page, petition.get_absolute_url())
    fill_sign_form(
        page,
        name="Maria Rossi",
        email="maria@example.org",
        postal_code="94612",
        display="My full name",
    )
    page.get_by_role("button", name="Sign the petition").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    visit(page, confirmation_path(last_mail_to("maria@example.org").body))
    page.get_by_role("button", name="Confirm my signature").click()
    expect(page.locator("#area-count")).to_have_text(
        "1 signature from your area (Oakland), yours included."
    )
    run_counter()
    page.get_by_role("link", name="See the petition").click()
    expect(page.locator("#target-counts li")).to_have_text(
        ["Mayor of Oakland: 1 constituent", "Mayor of Chicago: 0 constituents"]
    )
    assert re.search(r"Who receives the signatures", page.content())

    # The weekly delivery goes out: each mayor gets their own constituents, and the page says so.
    call_command("deliver", petition.slug, "--period", "2026-W48", stdout=io.StringIO())
    assert "1 constituent" in last_mail_to("mayor.oakland@example.org").subject
    page.reload()
    # Chicago's mayor has no constituent among the signers yet, so gets no email.
    expect(page.locator("#deliveries li")).to_have_count(1)
    expect(page.locator("#deliveries")).to_contain_text("Delivered to Mayor of Oakland on")
    screenshot(page, "petition-targets")
