"""Staff verify organizations in the admin: the queue, "Verify" and "Reject with a reason"."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Organization
from tests.factories import (
    OrganizationFactory,
    PendingOrganizationFactory,
    UnconfirmedOrganizationFactory,
)

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:accounts_organization_changelist")


def test_the_queue_lists_organizations_awaiting_verification_first(staff_client) -> None:
    OrganizationFactory(name="AAA Verified")
    UnconfirmedOrganizationFactory(name="BBB Unconfirmed")
    PendingOrganizationFactory(name="ZZZ Pending")
    html = staff_client.get(CHANGELIST).content.decode()
    assert html.index("ZZZ Pending") < html.index("AAA Verified")
    assert html.index("ZZZ Pending") < html.index("BBB Unconfirmed")
    filtered = staff_client.get(CHANGELIST, {"verification__exact": "pending"}).content.decode()
    assert "ZZZ Pending" in filtered
    assert "AAA Verified" not in filtered


def test_the_change_form_shows_the_contact(staff_client) -> None:
    organization = PendingOrganizationFactory(contact_name="Cindy Cohn")
    page = staff_client.get(reverse("admin:accounts_organization_change", args=[organization.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'value="Cindy Cohn"' in html
    assert f'value="{organization.contact_email}"' in html
    assert "Contact confirmed at" in html
    assert 'name="contact_confirmed_at"' not in html  # the contact's own act, not staff's


def test_verify_acts_on_confirmed_organizations_only_and_emails_their_contacts(
    staff_client, outbox, django_capture_on_commit_callbacks
) -> None:
    pending = PendingOrganizationFactory()
    unconfirmed = UnconfirmedOrganizationFactory()
    verified = OrganizationFactory()
    data = {"action": "verify", "_selected_action": [pending.pk, unconfirmed.pk, verified.pk]}
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(CHANGELIST, data, follow=True)
    html = response.content.decode()
    assert "Verified 1 organization." in html
    assert "1 organization was skipped: its contact has not confirmed their email address" in html
    assert "1 organization was already verified." in html
    pending.refresh_from_db()
    unconfirmed.refresh_from_db()
    assert pending.is_verified and pending.verified_at is not None
    assert unconfirmed.verification == Organization.Verification.UNVERIFIED
    assert [m.to for m in outbox] == [[pending.contact_email]]


def test_reject_asks_for_a_reason_on_its_own_page_and_emails_it(
    staff_client, outbox, django_capture_on_commit_callbacks
) -> None:
    organization = PendingOrganizationFactory(name="Dubious Group")
    selected = {"action": "reject_with_reason", "_selected_action": [organization.pk]}

    page = staff_client.post(CHANGELIST, selected)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Dubious Group" in html
    assert '<textarea name="reason"' in html
    organization.refresh_from_db()
    assert organization.verification == Organization.Verification.PENDING

    empty = staff_client.post(CHANGELIST, selected | {"apply": "yes", "reason": "   "})
    assert empty.status_code == 400
    assert "This field is required." in empty.content.decode()
    organization.refresh_from_db()
    assert organization.verification == Organization.Verification.PENDING
    assert outbox == []

    with django_capture_on_commit_callbacks(execute=True):
        done = staff_client.post(
            CHANGELIST,
            selected | {"apply": "yes", "reason": "We found no trace of this group."},
            follow=True,
        )
    assert "Rejected 1 organization." in done.content.decode()
    organization.refresh_from_db()
    assert organization.verification == Organization.Verification.REJECTED
    assert organization.rejection_reason == "We found no trace of this group."
    assert [m.to for m in outbox] == [[organization.contact_email]]
    assert "We found no trace of this group." in outbox[0].body


def test_rejecting_twice_says_it_left_the_organization_alone(
    staff_client, outbox, django_capture_on_commit_callbacks
) -> None:
    organization = PendingOrganizationFactory()
    data = {
        "action": "reject_with_reason",
        "_selected_action": [organization.pk],
        "apply": "yes",
        "reason": "No.",
    }
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(CHANGELIST, data)
        again = staff_client.post(CHANGELIST, data, follow=True)
    assert "1 organization was already rejected" in again.content.decode()
    assert len(outbox) == 1


def test_staff_cannot_give_a_second_organization_a_domain_already_on_cosign(
    staff_client,
) -> None:
    OrganizationFactory(email_domain="eff.org")
    other = PendingOrganizationFactory()
    response = staff_client.post(
        reverse("admin:accounts_organization_change", args=[other.pk]),
        {
            "name": other.name,
            "slug": other.slug,
            "website": other.website,
            "email_domain": "EFF.org",
            "contact_name": other.contact_name,
            "contact_email": other.contact_email,
            "language": "en",
            "verification": "pending",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "already verified or awaiting verification" in response.content.decode()
    other.refresh_from_db()
    assert other.email_domain != "EFF.org"


def _organization_form(organization: Organization, **changes: str) -> dict[str, str]:
    return {
        "name": organization.name,
        "slug": organization.slug,
        "website": organization.website,
        "email_domain": organization.email_domain,
        "contact_name": organization.contact_name,
        "contact_email": organization.contact_email,
        "language": "en",
        "verification": organization.verification,
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        **changes,
    }


@pytest.mark.parametrize(
    ("website", "message"),
    [
        ("https://evil.example\\@eff.org", "cannot contain a backslash"),
        ("https://staff:pw@eff.org", "Remove the part before the @ sign"),
        ("javascript:alert(1)", "starts with http:// or https://"),
    ],
)
def test_staff_cannot_give_an_organization_a_website_a_browser_reads_differently(
    staff_client, website: str, message: str
) -> None:
    organization = PendingOrganizationFactory(website="https://eff.org/")
    url = reverse("admin:accounts_organization_change", args=[organization.pk])
    response = staff_client.post(url, _organization_form(organization, website=website))
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert f'href="{website}"' not in html  # no "Currently:" link made of the typed text
    organization.refresh_from_db()
    assert organization.website == "https://eff.org/"


def test_a_website_staff_type_is_stored_as_a_browser_reads_it(staff_client) -> None:
    organization = PendingOrganizationFactory()
    url = reverse("admin:accounts_organization_change", args=[organization.pk])
    response = staff_client.post(url, _organization_form(organization, website="WWW.EFF.org"))
    assert response.status_code == 302
    organization.refresh_from_db()
    assert organization.website == "https://www.eff.org/"


def test_the_admin_links_a_stored_website_only_once_it_is_safe(staff_client) -> None:
    # A row written around full_clean before the fix: shown in the field, never as a link.
    spoof = PendingOrganizationFactory(website="https://evil.example\\@eff.org")
    html = staff_client.get(
        reverse("admin:accounts_organization_change", args=[spoof.pk])
    ).content.decode()
    assert "Currently:" not in html
    assert 'value="https://evil.example\\@eff.org"' in html
    fine = PendingOrganizationFactory(website="https://eff.org/")
    html = staff_client.get(
        reverse("admin:accounts_organization_change", args=[fine.pk])
    ).content.decode()
    assert 'Currently: <a href="https://eff.org/">' in html
