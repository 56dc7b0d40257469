"""Response thresholds in a browser: the leading organization's editor sets a threshold in the
workspace (a refused one first, kept as typed); the count reaches it and the mayor is emailed a
link; the petition's page says the mayor is awaited; the mayor answers through the link (with a
preview), staff publish the answer from the admin, and the page shows it as the response, while
the link says it is done. On desktop and on a phone, with axe-core's audit of every page."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from accounts.models import Membership, User
from petitions.models import Petition, ThresholdRequest
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
from tests.factories import OrganizationFactory, PetitionFactory, SignatureFactory, TargetFactory

pytestmark = pytest.mark.e2e

EDITOR = "ed@oaklandprivacy.example"
STAFF = "staff@cosign.example"
MAYOR = "mayor@oakland.example.gov"
ANSWER_LINK = re.compile(r"https?://[^\s/]+(/\S+/respond/\S+/)")


@pytest.fixture
def petition(transactional_db, settings) -> Petition:
    settings.STAFF_REQUIRE_2FA = False  # its own journey: tests/e2e/test_two_factor_journey.py
    lead = OrganizationFactory(name="Oakland Privacy", slug="oakland-privacy")
    editor = User.objects.create_user(EDITOR, PASSWORD, full_name="Tracy Rosenberg")
    Membership.objects.create(user=editor, organization=lead, role=Membership.Role.EDITOR)
    User.objects.create_superuser(STAFF, STAFF_PASSWORD)
    petition = PetitionFactory(
        title="End the Ring partnership in Oakland",
        demand="End the partnership.",
        organization=lead,
        review="approved",
        targets=[TargetFactory(email=MAYOR)],
    )
    petition.sponsors.add(lead)
    return petition


def _admin_audit(page: Page, name: str) -> None:
    """axe-core's check of an admin page (the admin's own markup names its navigation filter by
    aria-label alone, which axe accepts and our stricter field check does not)."""
    screenshot(page, name)
    found = accessibility_violations(page)
    assert found == [], f"{name}: axe-core findings: {found}"


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_a_threshold_is_reached_the_target_answers_and_staff_publish_it(
    browse, petition, run_counter, device
) -> None:
    # The editor sets the threshold on their campaign's own page in the workspace.
    editor = browse(device=device)
    visit(editor, f"/en/organizations/oakland-privacy/campaigns/petition/{petition.pk}/")
    log_in(editor, EDITOR)
    editor.get_by_role("link", name="Response thresholds").click()
    expect(editor.get_by_role("heading", level=1)).to_have_text(
        "Response thresholds of “End the Ring partnership in Oakland”"
    )
    audit(editor, "thresholds-workspace")
    editor.get_by_label("Signatures").fill("0")
    editor.get_by_label("Days to respond").fill("21")
    editor.get_by_role("button", name="Add the threshold").click()
    expect(editor.locator(".alert-danger")).to_contain_text("nothing was saved")
    expect(editor.get_by_label("Days to respond")).to_have_value("21")
    audit(editor, "thresholds-workspace-refused")
    editor.get_by_label("Signatures").fill("2")
    editor.get_by_role("button", name="Add the threshold").click()
    expect(editor.locator(".alert-success")).to_have_text("Threshold added.")
    expect(editor.locator("#thresholds-table tbody tr")).to_have_count(1)
    expect(editor.locator("#thresholds-table")).to_contain_text("Every target")

    # A reader sees the next threshold.
    reader = browse(device=device)
    visit(reader, petition.get_absolute_url())
    expect(reader.locator("#next-threshold")).to_have_text(
        "Next threshold: at 2 signatures, the targets are asked to respond within 21 days."
    )

    # Two signatures are counted: the mayor is emailed once, with the count and a link.
    for _ in range(2):
        SignatureFactory(petition=petition, confirmed=True)
    run_counter()
    run_counter()
    to_mayor = [message for message in mail.outbox if MAYOR in message.to]
    assert len(to_mayor) == 1
    assert "2 signatures: please respond" in to_mayor[0].subject
    found = ANSWER_LINK.search(to_mayor[0].body)
    assert found is not None
    reader.reload()
    expect(reader.locator("#threshold-statuses li")).to_have_text(
        ["Mayor of Oakland, asked at 2 signatures: awaiting response: 21 days left"]
    )
    audit(reader, "thresholds-public-awaiting")

    # The mayor answers through the link, with a preview first.
    mayor = browse(device=device)
    visit(mayor, found.group(1))
    expect(mayor.get_by_role("heading", level=1)).to_have_text(
        "Your answer to “End the Ring partnership in Oakland”"
    )
    audit(mayor, "thresholds-answer")
    mayor.get_by_label("Your answer").fill("The council will vote on **Monday**.")
    mayor.get_by_role("button", name="Preview").click()
    expect(mayor.locator(".campaign-text strong")).to_have_text("Monday")
    mayor.get_by_role("button", name="Send my answer").click()
    expect(mayor.locator("#answer-received")).to_contain_text("We have your answer")
    expect(mayor.get_by_label("Your answer")).to_have_value("The council will vote on **Monday**.")
    audit(mayor, "thresholds-answer-received")
    assert "An answer to publish" in last_mail_to(STAFF).subject

    # Staff publish it from the admin's queue.
    staff = browse(device=device)
    visit(staff, "/admin/")
    staff.get_by_label("Email address").fill(STAFF)
    staff.get_by_label("Password").fill(STAFF_PASSWORD)
    staff.get_by_role("button", name="Log in").click()
    visit(staff, "/admin/petitions/thresholdrequest/?status__exact=answered")
    expect(staff.locator("#result_list tbody tr")).to_have_count(1)
    _admin_audit(staff, "thresholds-admin-queue")
    staff.locator("#result_list tbody tr input[type=checkbox]").check()
    staff.get_by_role("combobox", name="Action").select_option(
        label="Publish the answers as the petitions' responses, and email signers"
    )
    staff.get_by_role("button", name="Go").click()
    expect(staff.locator(".messagelist")).to_contain_text("Published 1 answer.")
    _admin_audit(staff, "thresholds-admin-published")
    assert ThresholdRequest.objects.get().status == "published"

    # The page shows the answer as the mayor's response; the link has done its work.
    reader.reload()
    expect(reader.locator("#threshold-statuses li")).to_contain_text("responded on")
    expect(reader.locator("#responses-heading")).to_be_visible()
    expect(reader.locator("blockquote strong")).to_have_text("Monday")
    reader.locator("#threshold-statuses a").click()
    expect(reader).to_have_url(re.compile(r"#response-\d+$"))
    audit(reader, "thresholds-public-responded")
    mayor.reload()
    expect(mayor.get_by_role("heading", level=1)).to_have_text("Your answer is published")
    audit(mayor, "thresholds-answer-published")
