"""An organization's administrator gives a colleague a role on the members page, cannot leave the
organization without an administrator, and a viewer sees the roles but cannot change them
(issue 18, item 1)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from accounts.models import Membership, User
from tests.e2e.helpers import PASSWORD, accessibility_violations, log_in, screenshot, visit
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.e2e


def _member(organization, email: str, name: str, role: str) -> User:
    user = User.objects.create_user(email, PASSWORD, full_name=name)
    Membership.objects.create(user=user, organization=organization, role=role)
    return user


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_an_administrator_makes_a_colleague_data_steward_and_cannot_step_down_alone(
    browse, transactional_db, device
) -> None:
    organization = OrganizationFactory(name="Oakland Privacy")
    _member(organization, "tracy@oaklandprivacy.example", "Tracy Rosenberg", "admin")
    jane = _member(organization, "jane@oaklandprivacy.example", "Jane Doe", "viewer")
    members = f"/en/organizations/{organization.slug}/members/"

    page = browse(device=device)
    visit(page, members)
    log_in(page, "tracy@oaklandprivacy.example")
    expect(page.get_by_role("heading", level=1)).to_have_text("Members of Oakland Privacy")
    role = page.get_by_label("Role of Jane Doe")
    expect(role).to_have_value("viewer")
    expect(page.get_by_text("Export the supporters who opted in").first).to_be_visible()
    assert accessibility_violations(page) == []

    role.select_option(label="Data steward")
    page.get_by_role("button", name="Change role of Jane Doe").click()
    expect(page.get_by_role("status").first).to_contain_text("Jane Doe is now: Data steward.")
    expect(page.get_by_label("Role of Jane Doe")).to_have_value("steward")
    assert jane.memberships.get().role == "steward"

    # The only administrator making themselves an editor: refused, said next to the choice.
    page.get_by_label("Role of Tracy Rosenberg").select_option(label="Editor")
    page.get_by_role("button", name="Change role of Tracy Rosenberg").click()
    expect(page.get_by_role("alert").first).to_contain_text(
        "Oakland Privacy needs at least one administrator: make someone else administrator first."
    )
    expect(page.get_by_label("Role of Tracy Rosenberg")).to_have_value("editor")
    assert accessibility_violations(page) == []
    screenshot(page, "organization-members-roles")
    assert organization.memberships.get(user__full_name="Tracy Rosenberg").role == "admin"

    # As a viewer, Jane sees everyone's role but no control to change one.
    Membership.objects.filter(user=jane).update(role="viewer")
    colleague = browse(device=device)
    visit(colleague, members)
    log_in(colleague, "jane@oaklandprivacy.example")
    expect(colleague.get_by_role("cell", name="Administrator")).to_be_visible()
    expect(colleague.get_by_role("button", name="Change role of Jane Doe")).to_have_count(0)
    expect(colleague.get_by_role("button", name="Invite")).to_have_count(0)
