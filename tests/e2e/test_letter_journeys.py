"""Open letters in a browser: an organization member co-signs with a statement and a lead
organization approves it; an employee signs with their name withheld."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from accounts.models import Membership, User
from letters.models import OpenLetter
from tests.e2e.helpers import PASSWORD, last_mail_to, log_in, screenshot, visit
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.e2e


def _member(email: str, organization, role: str = Membership.Role.EDITOR) -> User:
    user = User.objects.create_user(email, PASSWORD)
    Membership.objects.create(user=user, organization=organization, role=role)
    return user


@pytest.fixture
def letter(transactional_db) -> OpenLetter:
    lead = OrganizationFactory(name="Fight for the Future")
    letter = OpenLetter.objects.create(
        slug="end-ring-partnerships",
        title="Investigate and end police partnerships with Amazon Ring",
        summary="Officials should end these deals.",
        body="We, the undersigned, ask you to **end** these partnerships.",
        addressed_to="Local, state and federal officials",
        ask="End the partnerships and pass surveillance-oversight ordinances.",
        status=OpenLetter.Status.PUBLISHED,
        media_contact_name="Robin Castellanos",
        media_contact_email="press@example.org",
        media_contact_phone="+1 555 0100",
    )
    letter.lead_organizations.add(lead)
    _member("lead@fightforthefuture.example", lead, Membership.Role.ADMIN)
    return letter


def test_member_cosigns_with_a_statement_and_a_lead_organization_approves_it(
    browse, letter, settings
) -> None:
    alliance = OrganizationFactory(name="Media Alliance")
    _member("tracy@mediaalliance.example", alliance)

    member = browse()
    visit(member, letter.get_absolute_url())
    expect(member.locator("#signed-by")).to_have_text("Signed by 0 organizations")
    member.get_by_role("link", name="Sign for your organization").click()
    log_in(member, "tracy@mediaalliance.example")
    expect(member.get_by_role("heading", level=1)).to_have_text("Sign for your organization")
    expect(member.get_by_label("Sign for")).to_have_value(str(alliance.pk))
    member.get_by_label("Spokesperson's name").fill("Tracy Rosenberg")
    member.get_by_label("Spokesperson's title").fill("Executive Director")
    member.get_by_label("Statement (optional)").fill(
        "A doorbell should not double as a police informant."
    )
    member.get_by_role("button", name="Sign the letter").click()
    expect(member.get_by_role("status").first).to_contain_text(
        "will appear on the letter once the lead organizations approve it"
    )
    expect(member.locator("#signing-organizations")).to_have_count(0)

    # The lead organization is told, and approves from the link in the email.
    message = last_mail_to("lead@fightforthefuture.example")
    assert "Media Alliance" in message.subject
    manage_link = re.search(r"https?://\S+/manage/", message.body).group(0)
    lead = browse()
    visit(lead, manage_link.removeprefix(settings.SITE_URL))
    log_in(lead, "lead@fightforthefuture.example")
    expect(lead.get_by_role("heading", level=1)).to_have_text("Approve co-signers")
    screenshot(lead, "letter-manage")
    lead.get_by_role("button", name="Approve Media Alliance").click()
    lead.get_by_role("button", name="Approve the statement by Tracy Rosenberg").click()
    expect(lead.get_by_text("No organization is waiting.")).to_be_visible()
    expect(lead.get_by_text("No statement is waiting.")).to_be_visible()

    visit(lead, letter.get_absolute_url())
    expect(lead.locator("#signed-by")).to_have_text("Signed by 1 organization")
    expect(lead.locator("#signing-organizations")).to_contain_text("Media Alliance")
    expect(lead.get_by_role("figure")).to_contain_text(
        "Tracy Rosenberg, Executive Director, Media Alliance"
    )
    screenshot(lead, "letter")
    lead.get_by_role("link", name="Press page").click()
    expect(lead.locator(".press-statement")).to_have_text(
        "The following can be attributed to Tracy Rosenberg, Executive Director of Media Alliance:"
    )
    expect(lead.get_by_label("The press release as plain text")).to_contain_text(
        "1 organization signs “Investigate and end police partnerships with Amazon Ring”"
    )
    screenshot(lead, "letter-press")


def test_employee_signs_with_the_name_withheld_and_confirms_by_email(browse, letter) -> None:
    OpenLetter.objects.filter(pk=letter.pk).update(
        individuals_may_sign=True,
        names_may_be_withheld=True,
        individual_email_domains="amazon.com",
        withheld_label="Employee",
    )
    page = browse(device="phone", javascript=False)
    visit(page, letter.get_absolute_url())
    form = page.locator("#sign form")
    form.get_by_role("textbox", name="Your name").fill("Priya Raman")
    form.get_by_role("textbox", name=re.compile(r"^Email\b")).fill("priya@gmail.com")
    form.get_by_label("Title or role").fill("Applied Scientist")
    form.get_by_label("Don't show my name publicly").check()
    page.get_by_role("button", name="Sign the letter").click()
    # Only company addresses can sign an employee letter; nothing typed is lost.
    expect(page.locator("#div_id_email .invalid-feedback")).to_contain_text(
        "This letter is signed from an address at amazon.com."
    )
    expect(form.get_by_role("textbox", name="Your name")).to_have_value("Priya Raman")

    form.get_by_role("textbox", name=re.compile(r"^Email\b")).fill("priya@amazon.com")
    page.get_by_role("button", name="Sign the letter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    link = re.search(r"https?://\S+/confirm/\S+/", last_mail_to("priya@amazon.com").body).group(0)
    visit(page, "/" + link.split("/", 3)[3])
    page.get_by_role("button", name="Confirm my signature").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Thank you, your signature is confirmed"
    )
    page.get_by_role("link", name="See the letter").click()
    expect(page.locator("#individual-signers")).to_have_text("Employee, name withheld")
    assert "Priya" not in page.content()
    assert "Applied Scientist" not in page.content()


def _link(address: str, pattern: str) -> str:
    body = last_mail_to(address).body
    return "/" + re.search(rf"https?://\S+{pattern}\S*", body).group(0).split("/", 3)[3]


def test_organization_joins_is_verified_and_signs_the_letter_with_a_statement(
    browse, letter
) -> None:
    """As the issue's new user: register, confirm, choose a password, get verified by staff,
    then sign a letter with a statement that the lead organization later approves."""
    page = browse()
    visit(page, "/")
    page.get_by_role("link", name="Register your organization").click()
    page.get_by_label("Organization name").fill("Oakland Privacy")
    page.get_by_label("Website").fill("oaklandprivacy.example")
    page.get_by_role("textbox", name="Your name").fill("Tracy Rosenberg")
    page.get_by_label("Your email at the organization").fill("tracy@gmail.com")
    page.get_by_role("button", name="Register the organization").click()
    # A free-mail address cannot show that someone speaks for an organization.
    expect(page.locator("#div_id_contact_email .invalid-feedback")).to_contain_text(
        "free-mail addresses cannot show that you speak for it"
    )
    page.get_by_label("Your email at the organization").fill("tracy@oaklandprivacy.example")
    page.get_by_role("button", name="Register the organization").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")

    # The email carries nothing the registrant typed (issue 14): the page it opens shows it.
    message = last_mail_to("tracy@oaklandprivacy.example")
    for typed in ("Oakland Privacy", "Tracy Rosenberg", "oaklandprivacy.example/"):
        assert typed not in message.subject + message.body + message.alternatives[0][0]
    visit(page, _link("tracy@oaklandprivacy.example", "/organizations/confirm/"))
    registered = page.locator("dl")
    expect(registered).to_contain_text("Oakland Privacy")
    expect(registered).to_contain_text("Tracy Rosenberg")
    expect(registered).to_contain_text("https://oaklandprivacy.example/")
    page.get_by_role("button", name="Confirm my address").click()
    visit(page, _link("tracy@oaklandprivacy.example", "/accounts/set-password/"))
    page.get_by_label(re.compile(r"New password\*?\s*$")).fill(PASSWORD)
    page.get_by_label("New password confirmation").fill(PASSWORD)
    page.get_by_role("button", name="Set my password").click()
    page.goto("/en/accounts/login/")
    log_in(page, "tracy@oaklandprivacy.example")
    expect(page.get_by_text("Awaiting verification")).to_be_visible()

    User.objects.create_superuser("staff@cosign.example", PASSWORD)
    staff = browse()
    visit(staff, "/admin/accounts/organization/")
    staff.get_by_label("Email address").fill("staff@cosign.example")
    staff.get_by_label("Password").fill(PASSWORD)
    staff.get_by_role("button", name="Log in").click()
    staff.get_by_role("link", name="Awaiting verification").first.click()
    staff.get_by_role("checkbox", name="Select this object for an action").first.check()
    staff.get_by_role("combobox", name="Action").select_option(
        label="Verify, and email the contact"
    )
    staff.get_by_role("button", name="Go").click()
    expect(staff.locator(".messagelist")).to_contain_text("1")

    visit(page, letter.get_absolute_url())
    page.get_by_role("link", name="Sign for your organization").click()
    page.get_by_label("Spokesperson's name").fill("Tracy Rosenberg")
    page.get_by_label("Spokesperson's title").fill("Director")
    page.get_by_label("Statement (optional)").fill("Oakland said no to Ring, and so can you.")
    page.get_by_role("button", name="Sign the letter").click()
    expect(page.get_by_role("status").first).to_contain_text("once the lead organizations approve")

    lead = browse()
    visit(lead, f"/en/letters/{letter.slug}/manage/")
    log_in(lead, "lead@fightforthefuture.example")
    lead.get_by_role("button", name="Approve Oakland Privacy").click()
    lead.get_by_role("button", name="Approve the statement by Tracy Rosenberg").click()
    visit(lead, f"/en/letters/{letter.slug}/press/")
    expect(lead.locator("#press-organizations")).to_have_text("Oakland Privacy")
    expect(lead.locator(".press-statement")).to_contain_text("Tracy Rosenberg, Director of Oakland")
