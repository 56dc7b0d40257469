"""Organizations draft campaigns on the site (issue 18, item 2), in a browser: an editor of a
verified organization writes a petition, previews its Markdown, saves it, adds an official from
the directory and invites a second organization, whose editor accepts; the draft goes to staff.
Staff return it from the admin with a reason, the editor reads the reason, changes the draft and
submits it again, and staff publish it. On desktop and on a phone, with axe-core's audit of
every page visited."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import Locator, Page, expect

from accounts.models import Membership, Organization, User
from petitions.drafting import services
from petitions.drafting.petition_kind import PETITION
from petitions.models import Petition, PetitionInvitation
from tests.conftest import STAFF_PASSWORD
from tests.e2e.helpers import (
    PASSWORD,
    accessibility_violations,
    audit,
    last_mail_to,
    log_in,
    screenshot,
    visit,
)
from tests.factories import OrganizationFactory, TargetFactory
from tests.outbox import outbox_drain

pytestmark = pytest.mark.e2e

TITLE = "End the Ring partnership in Oakland"
EDITOR = "ed@oaklandprivacy.example"
CO_EDITOR = "co@fightforthefuture.example"
STAFF = "staff@cosign.example"
REASON = "Name the council members who voted for the partnership."


def _member(organization: Organization, email: str, name: str) -> User:
    user = User.objects.create_user(email, PASSWORD, full_name=name)
    Membership.objects.create(user=user, organization=organization, role=Membership.Role.EDITOR)
    return user


@pytest.fixture
def organizations(transactional_db) -> tuple[Organization, Organization]:
    lead = OrganizationFactory(name="Oakland Privacy", slug="oakland-privacy")
    other = OrganizationFactory(name="Fight for the Future", slug="fight-for-the-future")
    _member(lead, EDITOR, "Tracy Rosenberg")
    _member(other, CO_EDITOR, "Lia Holland")
    return lead, other


def _admin_audit(page: Page, name: str) -> None:
    """axe-core's check of an admin page. Not helpers.audit's own field check: the admin's
    navigation filter is named by aria-label alone, Django's markup, which axe accepts."""
    screenshot(page, name)
    found = accessibility_violations(page)
    assert found == [], f"{name}: axe-core findings: {found}"


def _status(page: Page) -> Locator:
    return page.get_by_role("status").first


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_an_editor_drafts_a_petition_with_a_cosponsor_and_submits_it(
    browse, organizations, device
) -> None:
    lead, other = organizations
    TargetFactory()  # the Mayor of Oakland, in the directory
    workspace = f"/en/organizations/{lead.slug}/campaigns/"

    editor = browse(device=device)
    visit(editor, workspace)
    log_in(editor, EDITOR)
    expect(editor.get_by_role("heading", level=1)).to_have_text("Campaigns of Oakland Privacy")
    expect(editor.get_by_text("Your organization has not drafted a campaign yet.")).to_be_visible()
    audit(editor, "drafting-workspace")

    editor.get_by_role("link", name="New petition").click()
    expect(editor.get_by_role("heading", level=1)).to_have_text("New petition")
    audit(editor, "drafting-new-petition")
    editor.get_by_label("Title (English)").fill(TITLE)
    editor.get_by_label("Summary (English)").fill(
        "Oakland police should stop asking for doorbell footage."
    )
    editor.get_by_label("Demand (English)").fill("End the partnership.")
    editor.get_by_label("Addressed to (English)").fill("Oakland City Council")
    editor.get_by_label("Body (English)").fill(
        "## Why it matters\n\nBecause **cameras** watch everyone.\n\n- on every street\n"
    )

    editor.get_by_role("button", name="Preview").click()
    preview = editor.get_by_role("region", name="Preview")
    expect(preview.get_by_role("heading", name=TITLE)).to_be_visible()
    expect(preview.get_by_role("heading", name="Why it matters")).to_be_visible()
    expect(preview.locator("strong")).to_have_text("cameras")
    expect(preview.get_by_role("listitem")).to_have_text("on every street")
    # Nothing saved by a preview, and what was typed is still in the form.
    expect(editor.get_by_label("Title (English)")).to_have_value(TITLE)
    assert not Petition.objects.exists()
    audit(editor, "drafting-preview")

    editor.get_by_role("button", name="Save draft").click()
    expect(editor.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(_status(editor)).to_contain_text("Draft saved.")
    expect(editor.locator("#review-state")).to_have_text("Review: Being written")
    petition = Petition.objects.get()
    assert (petition.organization, petition.status, petition.review) == (lead, "draft", "editing")
    audit(editor, "drafting-draft")

    editor.get_by_label("Find an official in the directory").fill("Oakland mayor")
    editor.get_by_role("button", name="Search", exact=True).click()
    found = editor.get_by_role("list", name="Officials found")
    expect(found.get_by_role("listitem")).to_have_count(1)
    audit(editor, "drafting-directory-search")
    found.get_by_role("button", name="Add Mayor of Oakland (Barbara Lee)").click()
    expect(_status(editor)).to_contain_text("Targets changed.")
    expect(
        editor.get_by_role("button", name="Remove Mayor of Oakland (Barbara Lee)")
    ).to_be_visible()
    assert [target.title for target in petition.targets.all()] == ["Mayor of Oakland"]

    editor.get_by_label("Organization").select_option(label="Fight for the Future")
    editor.get_by_label("Invite as").select_option(label="Co-sponsor")
    editor.get_by_role("button", name="Invite", exact=True).click()
    expect(_status(editor)).to_contain_text("Fight for the Future is invited.")
    expect(editor.locator("#invitations-sent")).to_have_text(
        "Fight for the Future: Co-sponsor, waiting for an answer"
    )
    audit(editor, "drafting-invited")
    outbox_drain()
    assert "Oakland Privacy invites you" in last_mail_to(CO_EDITOR).subject

    cosponsor = browse(device=device)
    visit(cosponsor, f"/en/organizations/{other.slug}/campaigns/")
    log_in(cosponsor, CO_EDITOR)
    expect(cosponsor.get_by_role("heading", level=1)).to_have_text(
        "Campaigns of Fight for the Future"
    )
    invitation = cosponsor.locator(f"#invitation-petition-{PetitionInvitation.objects.get().pk}")
    expect(invitation).to_contain_text(
        f"Oakland Privacy invites you to be a co-sponsor of its petition “{TITLE}”."
    )
    audit(cosponsor, "drafting-invitation-received")
    invitation.get_by_role("button", name="Accept").click()
    expect(_status(cosponsor)).to_contain_text(
        f"Accepted: your organization is now a co-sponsor of “{TITLE}”."
    )
    expect(cosponsor.get_by_text("No invitation is waiting for an answer.")).to_be_visible()
    audit(cosponsor, "drafting-invitation-accepted")

    visit(editor, f"{workspace}petition/{petition.pk}/")
    expect(editor.get_by_role("region", name="Partners")).to_contain_text(
        "On the campaign: Fight for the Future, Oakland Privacy"
    )
    editor.get_by_role("button", name="Submit for review").click()
    expect(_status(editor)).to_contain_text("Submitted. Our staff will review it")
    expect(editor.locator("#review-state")).to_have_text("Review: Waiting for review")
    # Locked while staff read it: no form, no button to submit it again.
    expect(editor.get_by_label("Title (English)")).to_have_count(0)
    expect(editor.get_by_role("button", name="Submit for review")).to_have_count(0)
    audit(editor, "drafting-submitted")

    petition.refresh_from_db()
    assert set(petition.sponsors.all()) == {lead, other}
    assert petition.review == "submitted"
    assert petition.status == "draft"
    visit(editor, f"/en/p/{petition.slug}/", status=404)


def _submitted_draft(lead: Organization, other: Organization) -> Petition:
    """Where the first journey leaves a draft: written, with a co-sponsor, submitted."""
    editor = User.objects.get(email=EDITOR)
    draft = Petition(
        title_en=TITLE,
        summary_en="Oakland police should stop asking for doorbell footage.",
        demand_en="End the partnership.",
        addressed_to_en="Oakland City Council",
        body_en="Because **cameras** watch everyone.",
        language="en",
    )
    petition = services.draft_create(kind=PETITION, campaign=draft, organization=lead, user=editor)
    invitation = services.invitation_create(
        kind=PETITION,
        campaign_id=petition.pk,
        organization=lead,
        invited=other,
        role=PetitionInvitation.Role.CO_SPONSOR,
        user=editor,
    )
    services.invitation_decide(
        kind=PETITION,
        invitation_id=invitation.pk,
        organization=other,
        user=User.objects.get(email=CO_EDITOR),
        accept=True,
    )
    services.draft_submit(kind=PETITION, campaign_id=petition.pk, organization=lead, user=editor)
    return petition


def _staff_log_in(page: Page) -> None:
    visit(page, "/admin/")
    page.get_by_label("Email address").fill(STAFF)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Log in").click()


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_staff_return_a_draft_with_a_reason_and_publish_it_once_changed(
    browse, organizations, settings, device
) -> None:
    settings.STAFF_REQUIRE_2FA = False  # its own journey: tests/e2e/test_two_factor_journey.py
    User.objects.create_superuser(STAFF, STAFF_PASSWORD)
    lead, other = organizations
    petition = _submitted_draft(lead, other)
    outbox_drain()
    mail.outbox.clear()
    draft_page = f"/en/organizations/{lead.slug}/campaigns/petition/{petition.pk}/"
    new_title = "End the Ring partnership: a vote in Oakland"

    staff = browse(device=device)
    _staff_log_in(staff)
    staff.get_by_role("link", name="Petitions awaiting review").click()
    queue = staff.locator("#result_list tbody tr")
    expect(queue).to_have_count(1)
    expect(queue).to_contain_text(TITLE)
    expect(queue).to_contain_text("Oakland Privacy")
    _admin_audit(staff, "drafting-admin-queue")
    queue.get_by_role("link", name="Review").click()
    expect(staff.get_by_role("heading", level=1)).to_have_text(f"Review: {TITLE}")
    expect(staff.locator("#content-main")).to_contain_text(
        "Drafted by Oakland Privacy. Review: Waiting for review."
    )
    expect(staff.locator("#content-main strong").filter(has_text="cameras")).to_be_visible()
    _admin_audit(staff, "drafting-admin-review")

    # A return says why: without a reason it is refused, and nothing changes.
    staff.get_by_role("button", name="Return with the reason").click()
    expect(staff.locator(".errorlist")).to_have_text(
        "Write the reason: the organization's editors read it."
    )
    _admin_audit(staff, "drafting-admin-review-error")
    petition.refresh_from_db()
    assert petition.review == "submitted"
    staff.get_by_label("Reason, for the organization's editors").fill(REASON)
    staff.get_by_role("button", name="Return with the reason").click()
    expect(staff.locator(".messagelist")).to_have_text("Done: Return with the reason.")
    expect(staff.get_by_text("Nothing waits for a decision here.")).to_be_visible()
    petition.refresh_from_db()
    assert (petition.review, petition.review_reason) == ("returned", REASON)

    outbox_drain()
    returned = last_mail_to(EDITOR)
    assert returned.subject == f"Returned for changes: {TITLE}"
    assert REASON in returned.body
    link = re.search(r"Change the draft: https?://[^/\s]+(/\S+)", returned.body)
    assert link is not None, returned.body
    assert link.group(1) == draft_page
    # Review steps go to the campaign's leads; a co-sponsor only put its name on it.
    assert [m for m in mail.outbox if CO_EDITOR in m.to] == []

    editor = browse(device=device)
    visit(editor, link.group(1))
    log_in(editor, EDITOR)
    expect(editor.locator("#review-state")).to_have_text("Review: Returned for changes")
    expect(editor.locator("#review-reason")).to_contain_text(REASON)
    audit(editor, "drafting-returned")
    editor.get_by_label("Title (English)").fill(new_title)
    editor.get_by_role("button", name="Save draft").click()
    expect(_status(editor)).to_contain_text("Draft saved.")
    expect(editor.get_by_role("heading", level=1)).to_have_text(new_title)
    editor.get_by_role("button", name="Submit for review").click()
    expect(editor.locator("#review-state")).to_have_text("Review: Waiting for review")
    audit(editor, "drafting-resubmitted")
    outbox_drain()
    assert last_mail_to(STAFF).subject == f"Waiting for review: {new_title}"

    visit(staff, "/admin/petitions/petitionreview/")
    queue.filter(has_text=new_title).get_by_role("link", name="Review").click()
    expect(staff.get_by_role("heading", level=1)).to_have_text(f"Review: {new_title}")
    staff.get_by_role("button", name="Approve and publish").click()
    expect(staff.locator(".messagelist")).to_have_text("Done: Approve and publish.")
    _admin_audit(staff, "drafting-admin-published")
    petition.refresh_from_db()
    assert (petition.status, petition.review) == ("open", "approved")

    outbox_drain()
    published = last_mail_to(EDITOR)
    assert published.subject == f"Published: {new_title}"
    assert f"/en/p/{petition.slug}/" in published.body

    public = browse(device=device)
    visit(public, f"/en/p/{petition.slug}/")
    expect(public.get_by_role("heading", level=1)).to_have_text(new_title)

    visit(editor, draft_page)
    expect(editor.locator("#review-state")).to_have_text("Review: Approved and published")
    expect(editor.get_by_role("link", name="See it on Cosign")).to_be_visible()
    events = list(petition.versions.order_by("number").values_list("event", flat=True))
    assert events == ["created", "submitted", "returned", "saved", "submitted", "published"]

    # The history, and the version staff returned, as it was then.
    editor.get_by_role("link", name="Every version").click()
    expect(editor.get_by_role("heading", level=1)).to_contain_text("History of")
    expect(editor.get_by_text("Changed: Title (English)")).to_be_visible()
    audit(editor, "drafting-history")
    editor.get_by_role("link", name="Version 3").click()
    expect(editor.get_by_role("heading", level=1)).to_contain_text("version 3")
    expect(editor.get_by_text("Returned for changes").first).to_be_visible()
    audit(editor, "drafting-version")
