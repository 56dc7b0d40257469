"""Organizations draft campaigns on the site (issue 18, item 2), in a browser:
- an editor of a verified organization writes a petition, previews its Markdown, saves it, adds
  an official from the directory and invites a second organization, whose editor accepts; the
  draft goes to staff;
- staff return it from the admin with a reason, the editor reads the reason, changes the draft
  and submits it again, and staff publish it;
- an editor proposes an official the directory lacks, whom staff must confirm before they can
  publish the draft;
- an invited organization declines, and the inviting one reads it on its draft and in its email;
- an editor writes an update to a published petition's signers, which staff review and send,
  and which a trusted organization sends at once.
On desktop and on a phone, with axe-core's audit of every page visited."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from accounts.models import Membership, Organization, User
from petitions.drafting import services
from petitions.drafting.petition_kind import PETITION
from petitions.models import Petition, PetitionInvitation, PetitionUpdate, Target
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
from tests.factories import OrganizationFactory, SignatureFactory, TargetFactory
from tests.outbox import outbox_drain

pytestmark = pytest.mark.e2e

TITLE = "End the Ring partnership in Oakland"
EDITOR = "ed@oaklandprivacy.example"
CO_EDITOR = "co@fightforthefuture.example"
STAFF = "staff@cosign.example"
REASON = "Name the council members who voted for the partnership."
SIGNER = "reader@example.net"
QUIET_SIGNER = "quiet@example.net"
OFFICIAL = "Mayor of Alameda (Jane Roe)"


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


@pytest.fixture
def staff(settings) -> User:
    settings.STAFF_REQUIRE_2FA = False  # its own journey: tests/e2e/test_two_factor_journey.py
    return User.objects.create_superuser(STAFF, STAFF_PASSWORD)


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


def _draft(lead: Organization) -> Petition:
    """A draft the lead organization's editor saved, as the first journey of
    test_drafting_journeys.py saves one."""
    draft = Petition(
        title_en=TITLE,
        summary_en="Oakland police should stop asking for doorbell footage.",
        demand_en="End the partnership.",
        addressed_to_en="Oakland City Council",
        body_en="Because **cameras** watch everyone.",
        language="en",
    )
    return services.draft_create(
        kind=PETITION, campaign=draft, organization=lead, user=User.objects.get(email=EDITOR)
    )


def _subjects_to(address: str) -> list[str]:
    return [message.subject for message in mail.outbox if address in message.to]


def _draft_page(lead: Organization, petition: Petition) -> str:
    return f"/en/organizations/{lead.slug}/campaigns/petition/{petition.pk}/"


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_an_editor_proposes_an_official_whom_staff_confirm_before_publishing(
    browse, organizations, staff, device
) -> None:
    lead, _other = organizations
    TargetFactory()  # the Mayor of Oakland, already in the directory
    petition = _draft(lead)
    outbox_drain()
    mail.outbox.clear()

    editor = browse(device=device)
    visit(editor, _draft_page(lead, petition))
    log_in(editor, EDITOR)
    expect(editor.get_by_role("heading", level=1)).to_have_text(TITLE)
    editor.get_by_role("link", name="Propose an official the directory lacks").click()
    expect(editor.get_by_role("heading", level=1)).to_have_text("Propose an official")
    audit(editor, "drafting-propose-official")

    # A local official without a locality: said next to the field, with what was typed kept.
    editor.get_by_label("Name").fill("Jane Roe")
    editor.get_by_label("Title or office").fill("Mayor of Alameda")
    editor.get_by_label("Level").select_option(label="Local")
    editor.get_by_label("Country").select_option(value="US")
    editor.get_by_label("Region").fill("CA")
    editor.get_by_label("Delivery email").fill("mayor@alameda.example")
    editor.get_by_role("button", name="Propose").click()
    expect(editor.get_by_role("alert")).to_contain_text(
        "Please correct the fields marked below; nothing was saved."
    )
    locality = editor.get_by_label("Locality")
    expect(locality).to_have_attribute("aria-invalid", "true")
    described_by = locality.get_attribute("aria-describedby") or ""
    errors = " ".join(
        editor.locator(f"#{identifier}").inner_text() for identifier in described_by.split()
    )
    assert "A local target needs a locality." in errors, (described_by, errors)
    expect(editor.get_by_label("Name")).to_have_value("Jane Roe")
    expect(editor.get_by_label("Title or office")).to_have_value("Mayor of Alameda")
    expect(editor.get_by_label("Region")).to_have_value("CA")
    expect(editor.get_by_label("Delivery email")).to_have_value("mayor@alameda.example")
    expect(editor.get_by_label("Level")).to_have_value("local")
    expect(editor.get_by_label("Country")).to_have_value("US")
    assert not Target.objects.filter(proposed_by=lead).exists()
    audit(editor, "drafting-propose-official-error")

    locality.fill("Alameda")
    editor.get_by_role("button", name="Propose").click()
    expect(_status(editor)).to_contain_text(
        "Official proposed and added to the draft. Our staff confirm it on review."
    )
    targets = editor.get_by_role("region", name="Targets")
    expect(targets.get_by_role("listitem")).to_have_text(
        f"{OFFICIAL} awaiting staff confirmation Remove {OFFICIAL}"
    )
    proposed = Target.objects.get(proposed_by=lead)
    assert (proposed.active, proposed.awaiting_confirmation) == (False, True)
    assert list(petition.targets.all()) == [proposed]
    audit(editor, "drafting-official-proposed")
    editor.get_by_role("button", name="Submit for review").click()
    expect(editor.locator("#review-state")).to_have_text("Review: Waiting for review")
    audit(editor, "drafting-official-submitted")

    # Staff cannot publish it while the official waits for their confirmation.
    admin = browse(device=device)
    _staff_log_in(admin)
    admin.get_by_role("link", name="Petitions awaiting review").click()
    queue = admin.locator("#result_list tbody tr")
    queue.filter(has_text=TITLE).get_by_role("link", name="Review").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text(f"Review: {TITLE}")
    expect(admin.locator("#content-main")).to_contain_text(
        f"{OFFICIAL} — proposed by the organization, awaiting confirmation"
    )
    admin.get_by_role("button", name="Approve and publish").click()
    expect(admin.locator(".errorlist")).to_have_text(
        "Confirm or remove the officials this draft proposes before publishing it."
    )
    _admin_audit(admin, "drafting-admin-publish-refused")
    petition.refresh_from_db()
    assert (petition.status, petition.review) == ("draft", "submitted")

    # Petitions → Targets: the ones awaiting confirmation, and the action that confirms them.
    visit(admin, "/admin/petitions/target/")
    rows = admin.locator("#result_list tbody tr")
    expect(rows).to_have_count(2)
    admin.locator('details[data-filter-title="awaiting staff confirmation"]').get_by_role(
        "link", name="Yes"
    ).click()
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("Mayor of Alameda")
    _admin_audit(admin, "drafting-admin-targets-awaiting")
    admin.get_by_role("checkbox", name=f"Select this object for an action - {OFFICIAL}").check()
    admin.get_by_role("combobox", name="Action").select_option(
        label="Confirm the proposed officials, and tell who proposed them"
    )
    admin.get_by_role("button", name="Go").click()
    expect(admin.locator(".messagelist")).to_contain_text("Confirmed 1 official.")
    _admin_audit(admin, "drafting-admin-targets-confirmed")
    proposed.refresh_from_db()
    assert (proposed.active, proposed.awaiting_confirmation) == (True, False)

    outbox_drain()
    confirmed = last_mail_to(EDITOR)
    assert confirmed.subject == f"Official confirmed: {OFFICIAL}"
    assert "Our staff confirmed the official you proposed" in confirmed.body

    visit(admin, "/admin/petitions/petitionreview/")
    queue.filter(has_text=TITLE).get_by_role("link", name="Review").click()
    expect(admin.locator("#content-main")).not_to_contain_text("awaiting confirmation")
    admin.get_by_role("button", name="Approve and publish").click()
    expect(admin.locator(".messagelist")).to_have_text("Done: Approve and publish.")
    _admin_audit(admin, "drafting-admin-published-with-official")
    petition.refresh_from_db()
    assert (petition.status, petition.review) == ("open", "approved")
    outbox_drain()
    assert _subjects_to(EDITOR) == [
        f"Submitted for review: {TITLE}",
        f"Official confirmed: {OFFICIAL}",
        f"Published: {TITLE}",
    ]

    visit(editor, _draft_page(lead, petition))
    expect(editor.locator("#review-state")).to_have_text("Review: Approved and published")
    expect(targets.get_by_role("listitem")).to_have_text(OFFICIAL)
    audit(editor, "drafting-official-published")


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_an_invited_organization_declines_and_the_inviting_one_is_told(
    browse, organizations, device
) -> None:
    lead, other = organizations
    petition = _draft(lead)
    services.invitation_create(
        kind=PETITION,
        campaign_id=petition.pk,
        organization=lead,
        invited=other,
        role=PetitionInvitation.Role.CO_SPONSOR,
        user=User.objects.get(email=EDITOR),
    )
    outbox_drain()
    assert _subjects_to(CO_EDITOR) == [f"Oakland Privacy invites you to “{TITLE}”"]
    mail.outbox.clear()

    cosponsor = browse(device=device)
    visit(cosponsor, f"/en/organizations/{other.slug}/campaigns/")
    log_in(cosponsor, CO_EDITOR)
    invitation = cosponsor.locator(f"#invitation-petition-{PetitionInvitation.objects.get().pk}")
    expect(invitation).to_contain_text(
        f"Oakland Privacy invites you to be a co-sponsor of its petition “{TITLE}”."
    )
    audit(cosponsor, "drafting-invitation-to-decline")
    invitation.get_by_role("button", name="Decline").click()
    expect(_status(cosponsor)).to_contain_text(
        "Declined. We told the organization that invited you."
    )
    expect(cosponsor.get_by_text("No invitation is waiting for an answer.")).to_be_visible()
    expect(
        cosponsor.get_by_text("Your organization has not drafted a campaign yet.")
    ).to_be_visible()
    audit(cosponsor, "drafting-invitation-declined")
    assert PetitionInvitation.objects.get().status == "declined"
    assert list(petition.sponsors.all()) == [lead]

    outbox_drain()
    declined = last_mail_to(EDITOR)
    assert declined.subject == f"Fight for the Future declined to be a co-sponsor of “{TITLE}”."
    link = re.search(r"See the campaign: https?://[^/\s]+(/\S+)", declined.body)
    assert link is not None, declined.body
    assert link.group(1) == _draft_page(lead, petition)
    assert _subjects_to(CO_EDITOR) == []

    editor = browse(device=device)
    visit(editor, link.group(1))
    log_in(editor, EDITOR)
    partners = editor.get_by_role("region", name="Partners")
    expect(editor.locator("#invitations-sent")).to_have_text(
        "Fight for the Future: Co-sponsor, declined"
    )
    expect(partners).to_contain_text("On the campaign: Oakland Privacy")
    expect(partners).not_to_contain_text("On the campaign: Fight for the Future")
    # Asked once: the organization that declined is not offered again.
    expect(partners).to_contain_text("Every other verified organization is already invited.")
    audit(editor, "drafting-invitation-declined-seen")


def _published(lead: Organization, staff: User) -> Petition:
    """Oakland Privacy's draft, submitted and published by staff, as the staff journey of
    test_drafting_journeys.py leaves it."""
    petition = _draft(lead)
    editor = User.objects.get(email=EDITOR)
    services.draft_submit(kind=PETITION, campaign_id=petition.pk, organization=lead, user=editor)
    services.draft_publish(kind=PETITION, campaign_id=petition.pk, user=staff)
    petition.refresh_from_db()
    assert (petition.status, petition.review) == ("open", "approved")
    return petition


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_an_editors_update_is_reviewed_then_sent_and_a_trusted_one_goes_out_at_once(
    browse, organizations, staff, device
) -> None:
    lead, _other = organizations
    petition = _published(lead, staff)
    for email, updates in ((SIGNER, True), (QUIET_SIGNER, False)):
        SignatureFactory(
            petition=petition,
            email=email,
            canonical_email=email,
            status="confirmed",
            confirmed_at=timezone.now(),
            consent_updates=updates,
        )
    outbox_drain()
    mail.outbox.clear()
    first = "The council votes on Monday"
    second = "The council ended the partnership"
    public_page = f"/en/p/{petition.slug}/"

    editor = browse(device=device)
    visit(editor, _draft_page(lead, petition))
    log_in(editor, EDITOR)
    expect(editor.locator("#review-state")).to_have_text("Review: Approved and published")
    editor.get_by_role("link", name="Write an update").click()
    expect(editor.get_by_role("heading", level=1)).to_have_text(
        f"Update to the signers of “{TITLE}”"
    )
    expect(editor.get_by_text("Our staff review the update before it is published")).to_be_visible()
    audit(editor, "drafting-update-new")
    editor.get_by_label("Title (English)").fill(first)
    editor.get_by_label("Text (English)").fill("Come to **City Hall** at 6pm.\n\n- bring a sign\n")
    editor.get_by_role("button", name="Preview").click()
    preview = editor.get_by_role("region", name="Preview")
    expect(preview.locator("strong")).to_have_text("City Hall")
    expect(preview.get_by_role("listitem")).to_have_text("bring a sign")
    expect(editor.get_by_label("Title (English)")).to_have_value(first)
    assert not PetitionUpdate.objects.exists()
    audit(editor, "drafting-update-preview")

    editor.get_by_role("button", name="Send for review").click()
    expect(_status(editor)).to_contain_text(
        "Update sent to our staff for review. We email you then."
    )
    updates = editor.get_by_role("region", name="Updates to signers")
    expect(updates.get_by_role("listitem")).to_have_text(f"{first}: waiting for review")
    audit(editor, "drafting-update-submitted")
    update = PetitionUpdate.objects.get()
    assert (update.organization, update.review, update.published_at) == (lead, "submitted", None)

    public = browse(device=device)
    visit(public, public_page)
    expect(public.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(public.get_by_text(first)).to_have_count(0)
    outbox_drain()
    assert _subjects_to(EDITOR) == [f"Update waiting for review: {first}"]
    assert _subjects_to(SIGNER) == []

    admin = browse(device=device)
    _staff_log_in(admin)
    visit(admin, "/admin/petitions/petitionupdate/")
    row = admin.locator("#result_list tbody tr").filter(has_text=first)
    expect(row).to_contain_text("Oakland Privacy")
    _admin_audit(admin, "drafting-admin-updates")
    row.get_by_role("link", name="Review").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text(f"Review: {first}")
    expect(admin.locator("#content-main")).to_contain_text(
        f"Written by Oakland Privacy for “{TITLE}”."
    )
    expect(admin.locator("#content-main strong").filter(has_text="City Hall")).to_be_visible()
    _admin_audit(admin, "drafting-admin-update-review")
    admin.get_by_role("button", name="Approve, publish and email").click()
    expect(admin.locator(".messagelist")).to_have_text("Done: Approve, publish and email.")
    _admin_audit(admin, "drafting-admin-update-published")
    update.refresh_from_db()
    assert update.review == "approved"
    assert update.published_at is not None

    visit(public, public_page)
    published = public.get_by_role("region", name="Updates")
    expect(published.get_by_role("heading", name=first)).to_be_visible()
    expect(published.locator("strong")).to_have_text("City Hall")
    audit(public, "drafting-update-on-petition")
    outbox_drain()
    assert _subjects_to(SIGNER) == [f"{first} \u2013 {TITLE}"]
    assert "City Hall" in last_mail_to(SIGNER).body
    assert _subjects_to(QUIET_SIGNER) == []
    assert _subjects_to(EDITOR)[-1] == f"Update published: {first}"

    # Trusted by staff: the next update is published and sent as the editor sends it.
    Organization.objects.filter(pk=lead.pk).update(trusted=True)
    mail.outbox.clear()
    visit(editor, _draft_page(lead, petition))
    expect(updates.get_by_role("listitem")).to_have_text(f"{first}: published")
    editor.get_by_role("link", name="Write an update").click()
    expect(
        editor.get_by_text("Your organization is trusted: the update is published and emailed")
    ).to_be_visible()
    expect(editor.get_by_role("button", name="Send for review")).to_have_count(0)
    audit(editor, "drafting-update-new-trusted")
    editor.get_by_label("Title (English)").fill(second)
    editor.get_by_label("Text (English)").fill("Thank you: **every** signature counted.")
    editor.get_by_role("button", name="Publish and send").click()
    expect(_status(editor)).to_contain_text("Update published and on its way to signers.")
    expect(updates.get_by_role("listitem").first).to_have_text(f"{second}: published")
    audit(editor, "drafting-update-published-trusted")
    trusted = PetitionUpdate.objects.get(title_en=second)
    assert trusted.review == "approved"
    assert trusted.published_at is not None

    visit(public, public_page)
    expect(published.get_by_role("heading", name=second)).to_be_visible()
    expect(published.get_by_role("heading", name=first)).to_be_visible()
    outbox_drain()
    assert _subjects_to(SIGNER) == [f"{second} \u2013 {TITLE}"]
    assert _subjects_to(QUIET_SIGNER) == []
    assert _subjects_to(EDITOR) == [f"Update published: {second}"]
