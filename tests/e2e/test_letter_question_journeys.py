"""An open letter's own questions for its individual signers, in a browser: an editor of the
lead organization writes two questions for the draft letter in the workspace (one refused first,
with what was typed kept), staff publish it, an expert signs in their own name answering them (a
required one forgotten first), confirms from the email, the lead organization's dashboard counts
the answers naming no one, and staff read them on the signature's admin page. On desktop and on
a phone, with axe-core's audit of every new page."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from accounts.models import Membership, Organization, User
from letters.drafting import LETTER
from letters.models import IndividualSignature, OpenLetter
from petitions.drafting import services
from tests.conftest import STAFF_PASSWORD
from tests.e2e.helpers import PASSWORD, audit, last_mail_to, log_in, screenshot, visit
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.e2e

TITLE = "Stop selling our faces to the police"
EDITOR = "ed@eff.example"
STAFF = "staff@cosign.example"
SIGNER = "dana@university.example"


@pytest.fixture
def lead(transactional_db) -> Organization:
    organization = OrganizationFactory(name="Electronic Frontier", slug="electronic-frontier")
    user = User.objects.create_user(EDITOR, PASSWORD, full_name="Cindy Cohn")
    Membership.objects.create(user=user, organization=organization, role=Membership.Role.EDITOR)
    return organization


def _draft(lead: Organization) -> OpenLetter:
    draft = OpenLetter(
        title_en=TITLE,
        summary_en="Face search companies sell our photos to police.",
        body_en="We, researchers and engineers, ask you to stop.",
        addressed_to_en="Face search companies",
        ask_en="Stop selling face search to police.",
        individuals_may_sign=True,
    )
    return services.draft_create(
        kind=LETTER, campaign=draft, organization=lead, user=User.objects.get(email=EDITOR)
    )


def _tap(page: Page, device: str, locator) -> None:
    locator.tap() if device == "phone" else locator.click()


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_a_letters_two_questions_are_written_answered_and_counted(
    browse, lead, settings, device
) -> None:
    settings.STAFF_REQUIRE_2FA = False  # its own journey: tests/e2e/test_two_factor_journey.py
    staff = User.objects.create_superuser(STAFF, STAFF_PASSWORD)
    letter = _draft(lead)

    # --- The editor writes the two questions --------------------------------------------------
    editor = browse(device=device)
    visit(editor, f"/en/organizations/{lead.slug}/campaigns/letter/{letter.pk}/")
    log_in(editor, EDITOR)
    _tap(
        editor,
        device,
        editor.get_by_role("link", name="Add or change the sign form's own questions"),
    )
    expect(editor.get_by_role("heading", level=1)).to_have_text(
        f"Questions on the sign form of “{TITLE}”"
    )
    expect(editor).to_have_url(re.compile(rf"/campaigns/letter/{letter.pk}/questions/$"))
    expect(editor.get_by_text("The sign form asks no question of its own.")).to_be_visible()
    audit(editor, "letter-questions-workspace")

    editor.get_by_label("Kind").select_option(label="One choice")
    editor.get_by_label("Question (English)").fill("Where do you work?")
    editor.get_by_label("Question (Italian)").fill("Dove lavori?")
    editor.get_by_label("Choices (English)").fill("University\nCompany\nPublic office")
    # One Italian choice short: refused, and what was typed is kept.
    editor.get_by_label("Choices (Italian)").fill("Università\nAzienda")
    editor.get_by_label("Required").check()
    _tap(editor, device, editor.get_by_role("button", name="Add the question"))
    expect(editor.get_by_role("alert")).to_contain_text("Give the same choices in every language")
    expect(editor.get_by_label("Question (English)")).to_have_value("Where do you work?")
    audit(editor, "letter-questions-workspace-refused")
    editor.get_by_label("Choices (Italian)").fill("Università\nAzienda\nUfficio pubblico")
    _tap(editor, device, editor.get_by_role("button", name="Add the question"))
    expect(editor.get_by_role("status").first).to_contain_text("Question saved.")

    editor.get_by_label("Kind").select_option(label="Yes or no")
    editor.get_by_label("Question (English)").fill("May we ask you to speak to the press?")
    editor.get_by_label("Question (Italian)").fill("Possiamo chiederti di parlare alla stampa?")
    _tap(editor, device, editor.get_by_role("button", name="Add the question"))
    expect(editor.locator("#question-list li")).to_have_count(2)
    audit(editor, "letter-questions-workspace-two")

    # Staff review and publish it; then the questions are no longer the editors' to change.
    services.draft_submit(
        kind=LETTER, campaign_id=letter.pk, organization=lead, user=User.objects.get(email=EDITOR)
    )
    services.draft_publish(kind=LETTER, campaign_id=letter.pk, user=staff)
    editor.reload()
    expect(editor.locator("#questions-locked")).to_be_visible()
    expect(editor.get_by_role("button", name="Add the question")).to_have_count(0)

    # --- An expert signs in their own name, answering them -------------------------------------
    letter.refresh_from_db()
    assert letter.status == OpenLetter.Status.OPEN
    signer = browse(device=device)
    visit(signer, letter.get_absolute_url())
    form = signer.locator("#sign form")
    form.get_by_role("textbox", name="Your name").fill("Dana Whitfield")
    form.get_by_role("textbox", name=re.compile(r"^Email\b")).fill(SIGNER)
    form.get_by_label("Title or role").fill("Professor of Law")
    form.get_by_role("radio", name="Yes").check()
    # The required question forgotten: the form says so and keeps the rest.
    _tap(signer, device, signer.get_by_role("button", name="Sign the letter"))
    expect(signer.get_by_role("alert")).to_contain_text("Where do you work?")
    expect(form.get_by_role("textbox", name="Your name")).to_have_value("Dana Whitfield")
    expect(form.get_by_label("Title or role")).to_have_value("Professor of Law")
    expect(form.get_by_role("radio", name="Yes")).to_be_checked()
    assert not IndividualSignature.objects.exists()
    audit(signer, "letter-questions-sign-form-refused")
    form.get_by_role("radio", name="University").check()
    _tap(signer, device, signer.get_by_role("button", name="Sign the letter"))
    expect(signer.get_by_role("heading", level=1)).to_have_text("Check your inbox")

    link = re.search(r"https?://\S+/confirm/\S+/", last_mail_to(SIGNER).body).group(0)
    visit(signer, "/" + link.split("/", 3)[3])
    _tap(signer, device, signer.get_by_role("button", name="Confirm my signature"))
    expect(signer.get_by_role("heading", level=1)).to_have_text(
        "Thank you, your signature is confirmed"
    )
    signature = IndividualSignature.objects.get()
    assert signature.status == IndividualSignature.Status.CONFIRMED
    assert sorted(signature.answers.values(), key=str) == ["1", True]

    # --- The lead organization's dashboard counts the answers, and names no one ---------------
    visit(
        editor,
        reverse(
            "letter_dashboards:dashboard", kwargs={"organization": lead.slug, "slug": letter.slug}
        ),
    )
    tallies = editor.get_by_role("region", name="Answers to your questions")
    # A signer of today, alone: not counted until tomorrow, and in steps of five signers, so
    # nobody reading the dashboard beside the public list of signers can tell what they answered.
    expect(tallies).to_contain_text("Where do you work? (0 answered)")
    expect(tallies).to_contain_text("May we ask you to speak to the press? (0 answered)")
    expect(tallies).to_contain_text("in steps of 5")
    for choice in ("University", "Company"):
        expect(tallies.locator("tr", has_text=choice)).to_have_text(
            re.compile(choice + r"\s*fewer than 5")
        )
    assert "Dana" not in editor.locator("main").inner_text()
    audit(editor, "letter-questions-dashboard-tallies")

    # --- Staff read the answers on the signature's admin page ----------------------------------
    admin = browse(device=device)
    visit(admin, f"/admin/letters/individualsignature/{signature.pk}/change/")
    admin.get_by_label("Email address").fill(STAFF)
    admin.get_by_label("Password").fill(STAFF_PASSWORD)
    admin.get_by_role("button", name="Log in").click()
    expect(admin.locator("main")).to_contain_text(
        "Where do you work?: University; May we ask you to speak to the press?: yes"
    )
    # Django's admin is audited with it elsewhere; the answers are looked at here.
    screenshot(admin, "letter-questions-admin-signature")
