"""A signer who arrives while every sign slot of the site is taken, in a real browser: the page
says the site is busy with their details still in the form, and pressing Sign again once a
slot is free signs them (mechanisms.admission).

The live server runs in this process, so the test takes the slots itself, as signers on other
threads would hold them, and frees them when the surge has passed."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from petitions.models import Petition, Signature
from tests.admission import signing_saturated
from tests.e2e.helpers import audit, fill_sign_form, visit
from tests.factories import PetitionFactory

pytestmark = pytest.mark.e2e


@pytest.fixture
def petition(transactional_db) -> Petition:
    return PetitionFactory(title="Cancel the doorbell camera partnership in Oakland")


def _press_sign(page: Page) -> int:
    """Press the form's button; the status of the page that answers."""
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.locator("#sign form").get_by_role("button", name="Sign the petition").click()
    return answer.value.status


@pytest.mark.parametrize("javascript", [True, False])
def test_a_signer_in_a_surge_keeps_their_details_and_signs_on_the_second_press(
    browse, petition, javascript
) -> None:
    page = browse(javascript=javascript)
    visit(page, petition.get_absolute_url())
    fill_sign_form(
        page,
        name="Maria Rossi",
        email="maria@example.org",
        display="My first name and last initial",
    )

    with signing_saturated():
        assert _press_sign(page) == 503
        expect(page.get_by_role("alert")).to_contain_text(
            "So many people are signing right now that we could not record your signature yet. "
            "Your details are still here: please press the sign button again in a few seconds."
        )
        form = page.locator("#sign form")
        expect(form.get_by_role("textbox", name="Your name")).to_have_value("Maria Rossi")
        expect(form.get_by_role("textbox", name="Email")).to_have_value("maria@example.org")
        expect(form.get_by_label("My first name and last initial")).to_be_checked()
        assert not Signature.objects.exists()
        if javascript:  # axe-core runs as a script in the page
            audit(page, "sign-busy")

    # A few seconds later the surge has passed: the same form, pressed again.
    assert _press_sign(page) == 302
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    signature = Signature.objects.get()
    assert (signature.name, signature.email) == ("Maria Rossi", "maria@example.org")
