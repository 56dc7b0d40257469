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


def _press(page: Page, button: str) -> int:
    """Press the page's button named `button`; the status of the page that answers."""
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name=button).click()
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
        assert _press(page, "Sign the petition") == 503
        expect(page.get_by_role("alert")).to_contain_text(
            "So many people are signing right now that we could not record your signature yet. "
            "Your details are still here: please press the sign button again in a few seconds."
        )
        expect(page.get_by_text(petition.title)).to_be_visible()
        expect(page.get_by_role("textbox", name="Your name")).to_have_value("Maria Rossi")
        expect(page.get_by_role("textbox", name="Email")).to_have_value("maria@example.org")
        expect(page.get_by_role("definition").filter(has_text="last initial")).to_have_text(
            "My first name and last initial"
        )
        assert not Signature.objects.exists()
        if javascript:  # axe-core runs as a script in the page
            audit(page, "sign-busy")
        # What they typed is still theirs to change while they wait.
        page.get_by_role("textbox", name="Your name").fill("Maria Grazia Rossi")

    # A few seconds later the surge has passed: pressed again.
    assert _press(page, "Sign again") == 302
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    signature = Signature.objects.get()
    assert (signature.name, signature.email) == ("Maria Grazia Rossi", "maria@example.org")
    assert signature.display == Signature.Display.SHORT
