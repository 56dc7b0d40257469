"""A reader of a petition sees where its signatures come from: the chart of signatures so far and
the maps by country and by US state, each picture named for screen readers and followed by
"Show the numbers", whose table gives the same counts as the API: an area one by one only with 5
signatures or more and when no smaller count falls out by subtraction, the others together as
"Everywhere else" (issue 20, item 4). On desktop and on a phone, with JavaScript (axe-core's
audit) and without it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from petitions.models import Petition
from tests.e2e.helpers import audit, screenshot, visit
from tests.factories import PetitionFactory, signatures_confirmed_from

pytestmark = pytest.mark.e2e


@pytest.fixture
def petition(transactional_db) -> Petition:
    petition = PetitionFactory(title="Cancel the doorbell camera partnership")
    signed = [("US", "CA", 12, 4), ("US", "NY", 6, 2), ("US", "OR", 2, 1), ("FR", "", 5, 0)]
    signed += [("IT", "", 3, 0)]
    signatures_confirmed_from(petition=petition, places=signed)
    return petition


@pytest.mark.parametrize("device", ["desktop", "phone"])
@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_a_reader_sees_where_signatures_come_from_and_reads_the_numbers(
    browse, petition, device, javascript
) -> None:
    page = browse(device=device, javascript=javascript)
    visit(page, petition.get_absolute_url())
    section = page.get_by_role("region", name="Where the signatures come from")
    expect(section).to_be_visible()

    # Each picture is an image with a name that says what it shows.
    timeline = section.get_by_role("img", name="Confirmed signatures so far, by day")
    world = section.get_by_role("img", name="Confirmed signatures by country")
    states = section.get_by_role("img", name="Confirmed signatures by US state")
    for picture in (timeline, world, states):
        expect(picture).to_be_visible()
        box = picture.bounding_box()
        viewport = page.viewport_size
        assert box and viewport and 0 < box["width"] <= viewport["width"]
        assert box["height"] > 100
    expect(states).to_have_accessible_name(
        "Confirmed signatures by US state 1 place shown one by one; the most signatures from"
        " California (12)."
    )
    # Pointing at an area tells its count. Oregon (2) looks like Texas (none); New York (6) too,
    # or the United States (20) less California and New York would give Oregon's 2. Italy (3)
    # and France (5) the same way, from the petition's total (28).
    expect(page.locator('#pictures-us-states [data-area="CA"] > title')).to_have_text(
        "California: 12 signatures"
    )
    hidden = [("us-states", "OR", "Oregon"), ("us-states", "NY", "New York")]
    hidden += [("us-states", "TX", "Texas"), ("world", "IT", "Italy"), ("world", "FR", "France")]
    for picture, code, name in hidden:
        expect(page.locator(f'#pictures-{picture} [data-area="{code}"] > title')).to_have_text(
            f"{name}: not shown one by one"
        )
    # The legend says each shade in words.
    expect(page.locator("#pictures-us-states .map-legend")).to_contain_text("Not shown one by one")

    # The numbers, behind "Show the numbers", with or without JavaScript.
    states_table = page.locator("#pictures-us-states table")
    expect(states_table).to_be_hidden()
    # Each "Show the numbers" says, to a screen reader, which picture's numbers it shows.
    section.locator(
        "summary", has_text="Show the numbers: Confirmed signatures by US state"
    ).click()
    expect(states_table).to_be_visible()
    expect(states_table.locator("caption")).to_have_text("Confirmed signatures by US state")
    rows = states_table.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_have_text("California12")
    expect(rows.nth(1)).to_have_text("Everywhere else, or not given8")
    # Why, in one sentence under the table.
    expect(page.locator("#pictures-us-states details")).to_contain_text(
        "Places with fewer than 5 signatures look the same as places with none"
    )

    world_table = page.locator("#pictures-world table")
    section.locator("summary", has_text="Show the numbers: Confirmed signatures by country").click()
    expect(world_table.locator("tbody tr")).to_have_text(
        ["United States of America20", "Everywhere else, or not given8"]
    )
    days_table = page.locator("#pictures-timeline table")
    section.locator("summary", has_text="Confirmed signatures so far, by day").click()
    expect(days_table.locator("tbody tr td:last-child")).to_have_text(["12", "18", "20", "28"])

    name = f"petition-pictures-{'js' if javascript else 'nojs'}"
    if javascript:
        audit(page, name)
    else:
        screenshot(page, name)
