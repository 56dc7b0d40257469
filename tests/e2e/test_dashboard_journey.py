"""A supporter signs through a co-sponsor's share link and opts in to it; the co-sponsor's viewer
finds the organization's petitions and its own link, and the dashboard counts the signature as
theirs; its data steward downloads exactly that supporter with the words they agreed to, and the
viewer may not (issue 18, items 3 and 4). On desktop and on a phone, with axe-core's audit, and
on a phone without JavaScript."""

from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import expect

from accounts.models import Membership, User
from petitions.models import Petition
from tests.e2e.helpers import (
    PASSWORD,
    audit,
    confirmation_path,
    fill_sign_form,
    last_mail_to,
    log_in,
    visit,
)
from tests.factories import (
    OpenLetterFactory,
    OrganizationFactory,
    OrganizationSignatureFactory,
    PetitionFactory,
    TargetFactory,
)

pytestmark = pytest.mark.e2e

TITLE = "Cancel the doorbell camera partnership in Oakland"


def _audit(page, name: str, *, javascript: bool) -> None:
    # axe-core runs in the page: with JavaScript off the run shows the pages work without it,
    # and the other runs audit them.
    if javascript:
        audit(page, name)


@pytest.fixture
def petition(transactional_db) -> Petition:
    petition = PetitionFactory(title=TITLE, targets=[TargetFactory()], offer_sponsor_opt_in=True)
    lead = OrganizationFactory(name="Oakland Privacy", slug="oakland-privacy")
    cosponsor = OrganizationFactory(name="Media Alliance", slug="media-alliance")
    petition.sponsors.add(lead, cosponsor)
    user = User.objects.create_user("tracy@mediaalliance.example", PASSWORD, full_name="Tracy")
    Membership.objects.create(user=user, organization=cosponsor, role=Membership.Role.VIEWER)
    steward = User.objects.create_user("data@mediaalliance.example", PASSWORD, full_name="Dana")
    Membership.objects.create(
        user=steward, organization=cosponsor, role=Membership.Role.DATA_STEWARD
    )
    return petition


@pytest.mark.parametrize(
    ("device", "javascript"), [("desktop", True), ("phone", True), ("phone", False)]
)
def test_a_signature_through_the_cosponsors_link_counts_on_its_dashboard(
    browse, site, petition, device, javascript
) -> None:
    supporter = browse(device=device, javascript=javascript)
    visit(supporter, f"/en/p/{petition.slug}/from/media-alliance/")
    expect(supporter.get_by_role("heading", level=1)).to_have_text(TITLE)
    fill_sign_form(
        supporter,
        name="Maria Rossi",
        email="maria@example.org",
        postal_code="94612",
        country="United States of America",
        display="My first name and last initial",
    )
    supporter.locator("#sign form").get_by_label("Media Alliance").check()
    supporter.get_by_role("button", name="Sign the petition").click()
    expect(supporter.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    visit(supporter, confirmation_path(last_mail_to("maria@example.org").body))
    supporter.get_by_role("button", name="Confirm my signature").click()
    expect(supporter.get_by_role("heading", level=1)).to_have_text(
        "Thank you, your signature is confirmed"
    )

    member = browse(device=device, javascript=javascript)
    visit(member, "/en/organizations/")
    log_in(member, "tracy@mediaalliance.example")
    member.get_by_role("link", name="Petitions and dashboards of Media Alliance").click()
    expect(member.get_by_role("heading", level=1)).to_have_text("Petitions of Media Alliance")
    expect(member.get_by_label("Your share link")).to_have_value(
        f"{site}/en/p/{petition.slug}/from/media-alliance/"
    )
    _audit(member, "organization-petitions", javascript=javascript)
    member.get_by_role("link", name=f"Dashboard: {TITLE}").click()
    expect(member.get_by_role("heading", level=1)).to_have_text(f"Dashboard: {TITLE}")
    sources = member.get_by_role("table", name="Confirmed signatures by share link")
    expect(sources.get_by_role("row", name="Media Alliance's link 1")).to_be_visible()
    expect(member.locator("#totals")).to_contain_text("Confirmed and counted")
    # The chart's numbers, in a table that opens without a script.
    member.get_by_text("The numbers: Confirmed signatures per hour, last 48 hours").click()
    hourly = member.get_by_role("table", name="Confirmed signatures per hour, last 48 hours")
    expect(hourly.get_by_role("row")).to_have_count(49)
    _audit(member, "petition-dashboard", javascript=javascript)
    assert "Maria" not in member.locator("main").inner_text()

    # The viewer may not take supporters away.
    denied = member.goto("/en/organizations/media-alliance/supporters/")
    assert denied is not None and denied.status == 403

    steward = browse(device=device, javascript=javascript)
    visit(steward, "/en/organizations/")
    log_in(steward, "data@mediaalliance.example")
    steward.get_by_role("link", name="Supporters of Media Alliance").click()
    expect(steward.get_by_role("heading", level=1)).to_have_text("Supporters of Media Alliance")
    expect(steward.locator("#supporter-count")).to_have_text("1 supporter")
    _audit(steward, "organization-supporters", javascript=javascript)
    with steward.expect_download() as download:
        steward.get_by_role("button", name="Download these supporters (CSV)").click()
    text = download.value.path().read_text(encoding="utf-8-sig")
    header, *rows = list(csv.reader(io.StringIO(text)))
    assert header[:2] == ["Name", "Email"]
    assert [row[:2] for row in rows] == [["Maria Rossi", "maria@example.org"]]
    assert rows[0][5] == "Media Alliance"
    assert rows[0][7] == ("Organizations that may email me about their work: Media Alliance")


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_a_lead_organizations_member_follows_its_letter(browse, transactional_db, device) -> None:
    lead = OrganizationFactory(name="Fight for the Future", slug="fight-for-the-future")
    letter = OpenLetterFactory(
        title="Investigate and end police partnerships with Amazon Ring", leads=[lead]
    )
    OrganizationSignatureFactory(letter=letter, approved=True)
    OrganizationSignatureFactory(letter=letter)
    user = User.objects.create_user("lead@fightforthefuture.example", PASSWORD, full_name="Lia")
    Membership.objects.create(user=user, organization=lead, role=Membership.Role.VIEWER)

    page = browse(device=device)
    visit(page, "/en/organizations/")
    log_in(page, "lead@fightforthefuture.example")
    page.get_by_role("link", name="Open letters of Fight for the Future").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Open letters of Fight for the Future"
    )
    page.get_by_role("link", name=f"Dashboard: {letter.title}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Dashboard: {letter.title}")
    figures = page.locator("#organization-figures")
    expect(figures).to_contain_text("Approved")
    expect(figures.locator("dd").nth(1)).to_have_text("1")
    audit(page, "letter-dashboard")
