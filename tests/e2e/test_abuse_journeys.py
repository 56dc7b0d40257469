"""Abuse resistance as a signer meets it in a real browser: with JavaScript the proof of work is
solved in the background and reaches the server; without JavaScript the form still works; past a
rate limit the form says so."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs

import altcha
import pytest
from playwright.sync_api import Page, Request, expect

from mechanisms.abuse.forms import PROOF_FIELD
from mechanisms.abuse.proof_of_work import _altcha_key
from petitions.models import Petition, Signature
from tests.e2e.helpers import audit, fill_sign_form, visit
from tests.factories import PetitionFactory

pytestmark = pytest.mark.e2e


@pytest.fixture
def petition(transactional_db) -> Petition:
    return PetitionFactory(title="Cancel the doorbell camera partnership in Oakland")


def _sign(page: Page, petition: Petition, *, email: str, name: str = "Maria Rossi") -> None:
    visit(page, petition.get_absolute_url())
    fill_sign_form(page, name=name, email=email, display="My full name")
    page.locator("#sign form").get_by_role("button", name="Sign the petition").click()


def test_with_javascript_the_proof_of_work_is_solved_and_sent(browse, petition) -> None:
    page = browse()
    posted: list[Request] = []
    page.on("request", lambda r: posted.append(r) if r.method == "POST" else None)
    # A throwaway address is a signal on its own; with a valid proof it comes without no_pow.
    _sign(page, petition, email="maria@mailinator.com")
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")

    assert len(posted) == 1
    proof = parse_qs(posted[0].post_data or "")[PROOF_FIELD][0]
    assert altcha.verify_solution_v1(proof, _altcha_key())[0]
    assert json.loads(base64.b64decode(proof))["algorithm"] == "SHA-256"
    signature = Signature.objects.get()
    assert signature.flags == "disposable"
    assert signature.held


def test_without_javascript_the_form_still_works_unflagged(browse, petition) -> None:
    page = browse(javascript=False)
    _sign(page, petition, email="maria@example.org")
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    signature = Signature.objects.get()
    assert (signature.email, signature.flags, signature.held) == ("maria@example.org", "", False)


@pytest.mark.parametrize("javascript", [True, False])
def test_past_the_rate_limit_the_form_says_to_try_later(
    browse, petition, settings, javascript
) -> None:
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "sign": {"ip": ["1/m"], "campaign": [], "global": []},
    }
    page = browse(javascript=javascript)
    _sign(page, petition, email="maria@example.org")
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")

    _sign(page, petition, email="giulia@example.org", name="Giulia Bianchi")
    expect(page.get_by_role("alert")).to_contain_text(
        "Too many signatures from your network right now. Please try again in a few minutes."
    )
    form = page.locator("#sign form")
    expect(form.get_by_role("textbox", name="Your name")).to_have_value("Giulia Bianchi")
    assert list(Signature.objects.values_list("email", flat=True)) == ["maria@example.org"]
    if javascript:  # axe-core runs as a script in the page
        audit(page, "sign-rate-limited")
