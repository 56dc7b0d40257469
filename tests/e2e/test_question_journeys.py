"""A campaign's own questions on its sign form (issue 20, item 1), in a browser: an editor of the
leading organization writes two questions for the draft (one refused first, with what was typed
kept), staff publish it, a supporter signs answering them (a required one forgotten first),
confirms, and staff download the signatures with the answers. On desktop and on a phone, with
axe-core's audit of every new page."""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import Page, expect

from accounts.models import Membership, Organization, User
from petitions.drafting import services
from petitions.drafting.petition_kind import PETITION
from petitions.models import Petition, Signature
from tests.conftest import STAFF_PASSWORD
from tests.e2e.helpers import (
    PASSWORD,
    audit,
    confirmation_path,
    fill_sign_form,
    last_mail_to,
    log_in,
    screenshot,
    visit,
)
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.e2e

TITLE = "No face recognition on Oakland's buses"
EDITOR = "ed@oaklandprivacy.example"
STAFF = "staff@cosign.example"
SIGNER = "maria@example.org"


@pytest.fixture
def lead(transactional_db) -> Organization:
    organization = OrganizationFactory(name="Oakland Privacy", slug="oakland-privacy")
    user = User.objects.create_user(EDITOR, PASSWORD, full_name="Tracy Rosenberg")
    Membership.objects.create(user=user, organization=organization, role=Membership.Role.EDITOR)
    return organization


def _draft(lead: Organization) -> Petition:
    draft = Petition(
        title_en=TITLE,
        summary_en="Transit cameras should not identify riders.",
        demand_en="Ban face recognition on buses.",
        addressed_to_en="AC Transit's board",
        body_en="Riders are not suspects.",
        language="en",
    )
    return services.draft_create(
        kind=PETITION, campaign=draft, organization=lead, user=User.objects.get(email=EDITOR)
    )


def _tap(page: Page, device: str, locator) -> None:
    locator.tap() if device == "phone" else locator.click()


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_two_questions_are_written_answered_and_exported(browse, lead, settings, device) -> None:
    settings.STAFF_REQUIRE_2FA = False  # its own journey: tests/e2e/test_two_factor_journey.py
    staff = User.objects.create_superuser(STAFF, STAFF_PASSWORD)
    petition = _draft(lead)

    # --- The editor writes the two questions --------------------------------------------------
    editor = browse(device=device)
    visit(editor, f"/en/organizations/{lead.slug}/campaigns/petition/{petition.pk}/")
    log_in(editor, EDITOR)
    _tap(
        editor,
        device,
        editor.get_by_role("link", name="Add or change the sign form's own questions"),
    )
    expect(editor.get_by_role("heading", level=1)).to_have_text(
        f"Questions on the sign form of “{TITLE}”"
    )
    expect(editor.get_by_text("The sign form asks no question of its own.")).to_be_visible()
    audit(editor, "questions-workspace")

    editor.get_by_label("Kind").select_option(label="One choice")
    editor.get_by_label("Question (English)").fill("How do you get to work?")
    editor.get_by_label("Question (Italian)").fill("Come vai al lavoro?")
    editor.get_by_label("Choices (English)").fill("Bus\nBike\nCar")
    # One Italian choice short: refused, and what was typed is kept.
    editor.get_by_label("Choices (Italian)").fill("Autobus\nBici")
    editor.get_by_label("Required").check()
    _tap(editor, device, editor.get_by_role("button", name="Add the question"))
    expect(editor.get_by_role("alert")).to_contain_text("Give the same choices in every language")
    expect(editor.get_by_label("Question (English)")).to_have_value("How do you get to work?")
    audit(editor, "questions-workspace-refused")
    editor.get_by_label("Choices (Italian)").fill("Autobus\nBici\nAuto")
    _tap(editor, device, editor.get_by_role("button", name="Add the question"))
    expect(editor.get_by_role("status").first).to_contain_text("Question saved.")

    editor.get_by_label("Kind").select_option(label="Yes or no")
    editor.get_by_label("Question (English)").fill("Do you ride a bus every week?")
    editor.get_by_label("Question (Italian)").fill("Prendi l'autobus ogni settimana?")
    _tap(editor, device, editor.get_by_role("button", name="Add the question"))
    expect(editor.locator("#question-list li")).to_have_count(2)
    audit(editor, "questions-workspace-two")

    # Staff review and publish it; then the questions are no longer the editors' to change.
    services.draft_submit(
        kind=PETITION,
        campaign_id=petition.pk,
        organization=lead,
        user=User.objects.get(email=EDITOR),
    )
    services.draft_publish(kind=PETITION, campaign_id=petition.pk, user=staff)
    editor.reload()
    expect(editor.locator("#questions-locked")).to_be_visible()
    expect(editor.get_by_role("button", name="Add the question")).to_have_count(0)

    # --- A supporter signs, answering them ----------------------------------------------------
    petition.refresh_from_db()
    signer = browse(device=device)
    visit(signer, petition.get_absolute_url())
    form = signer.locator("#sign form")
    fill_sign_form(signer, name="Maria Rossi", email=SIGNER, display="My full name")
    form.get_by_role("radio", name="Yes").check()
    # The required question forgotten: the form says so and keeps the rest.
    _tap(signer, device, signer.get_by_role("button", name="Sign the petition"))
    expect(signer.get_by_role("alert")).to_contain_text("How do you get to work?")
    expect(form.get_by_role("textbox", name="Your name")).to_have_value("Maria Rossi")
    expect(form.get_by_role("radio", name="Yes")).to_be_checked()
    assert not Signature.objects.exists()
    audit(signer, "questions-sign-form-refused")
    form.get_by_role("radio", name="Bike").check()
    _tap(signer, device, signer.get_by_role("button", name="Sign the petition"))
    expect(signer.get_by_role("heading", level=1)).to_have_text("Check your inbox")

    visit(signer, confirmation_path(last_mail_to(SIGNER).body))
    _tap(signer, device, signer.get_by_role("button", name="Confirm my signature"))
    expect(signer.get_by_role("heading", level=1)).to_have_text(
        "Thank you, your signature is confirmed"
    )
    signature = Signature.objects.get()
    assert signature.status == Signature.Status.CONFIRMED
    assert sorted(signature.answers.values(), key=str) == ["2", True]

    # --- The lead organization's dashboard counts the answers, and names no one ---------------
    visit(editor, f"/en/organizations/{lead.slug}/petitions/{petition.slug}/")
    tallies = editor.get_by_role("region", name="Answers to your questions")
    # A signer of today, alone: not counted until tomorrow, and in steps of five signers, so
    # nobody reading the dashboard beside the public list of signers can tell what they answered.
    expect(tallies).to_contain_text("How do you get to work? (0 answered)")
    expect(tallies).to_contain_text("Do you ride a bus every week? (0 answered)")
    expect(tallies).to_contain_text("in steps of 5")
    for choice in ("Bike", "Bus"):
        expect(tallies.locator("tr", has_text=choice)).to_have_text(
            re.compile(choice + r"\s*fewer than 5")
        )
    assert "Maria" not in editor.locator("main").inner_text()
    audit(editor, "questions-dashboard-tallies")

    # --- Staff download the signatures, answers included ---------------------------------------
    admin = browse(device=device)
    visit(admin, f"/admin/petitions/petition/{petition.pk}/change/")
    admin.get_by_label("Email address").fill(STAFF)
    admin.get_by_label("Password").fill(STAFF_PASSWORD)
    admin.get_by_role("button", name="Log in").click()
    expect(admin.get_by_text("How do you get to work?").first).to_be_attached()
    # The petition's change page is Django's admin, audited with it elsewhere; the inline is
    # looked at here.
    screenshot(admin, "questions-admin-inline")
    with admin.expect_download() as download:
        admin.get_by_role("link", name="Download signatures (CSV)").click()
    with open(download.value.path(), encoding="utf-8") as exported:
        header, row = list(csv.reader(io.StringIO(exported.read())))
    answers = dict(zip(header, row, strict=True))
    assert answers["Email"] == SIGNER
    assert answers["How do you get to work?"] == "Bike"
    assert answers["Do you ride a bus every week?"] == "yes"
