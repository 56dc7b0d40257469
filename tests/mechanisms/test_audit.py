"""Changes to who may read and export signers' data, and to where an organization's mail goes,
are in the audit log with their old and new values (issue 14, item 8): staff accounts, the role
groups, organizations' contacts and verification, and memberships, whether changed in the
admin or by a member inviting a colleague. The generic mechanism (mechanisms.audit) is tested
here too; petitions and letters have their own tests for their fields."""

from __future__ import annotations

from unittest import mock

import pytest
from django.contrib.admin.models import ADDITION, CHANGE
from django.contrib.admin.options import ModelAdmin
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import reverse

from accounts import services
from accounts.models import Membership, Organization, User
from accounts.roles import CAMPAIGN_EDITOR, MODERATOR
from mechanisms.audit import audit_changes
from petitions.models import Target
from tests.admin_forms import admin_edit, assert_saved, audit_entries, form_data
from tests.factories import (
    MembershipFactory,
    OrganizationFactory,
    PendingOrganizationFactory,
    UnconfirmedOrganizationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser() -> User:
    return User.objects.create_superuser("root@cosign.test", "a-long-password")


@pytest.fixture
def root_client(superuser) -> Client:
    client = Client()
    client.force_login(superuser)
    return client


# --- The mechanism ----------------------------------------------------------------------------


def test_changes_name_each_field_with_its_old_and_new_value() -> None:
    lines = audit_changes(
        model=Target,
        before={"email": "mayor@oakland.example.gov", "region": "", "active": "yes"},
        after={"email": "me@evil.example", "region": "CA", "active": "yes"},
    )
    assert lines == [
        "Delivery email changed from “mayor@oakland.example.gov” to “me@evil.example”.",
        "Region changed from (empty) to “CA”.",
    ]


def test_relation_changes_name_what_was_added_and_removed() -> None:
    lines = audit_changes(
        model=User,
        before={"groups": {1: "Moderator (id 1)", 2: "Campaign editor (id 2)"}},
        after={"groups": {2: "Campaign editor (id 2)", 3: "Exporters (id 3)"}},
    )
    assert lines == ["Groups: added “Exporters (id 3)”; removed “Moderator (id 1)”."]
    assert audit_changes(model=User, before={"groups": {}}, after={"groups": {}}) == []


# --- Staff accounts and roles -----------------------------------------------------------------


def test_giving_a_staff_member_a_role_names_the_groups_before_and_after(
    root_client, superuser, campaign_editor
) -> None:
    moderators = Group.objects.get(name=MODERATOR)
    editors = Group.objects.get(name=CAMPAIGN_EDITOR)
    groups = {"groups": [str(editors.pk), str(moderators.pk)]}
    assert_saved(admin_edit(root_client, campaign_editor, groups))
    assert campaign_editor.groups.filter(name=MODERATOR).exists()
    [entry] = audit_entries(campaign_editor)
    assert entry.user == superuser
    assert entry.action_flag == CHANGE
    assert entry.change_message == f"Groups: added “Moderator (id {moderators.pk})”."


def test_a_permission_given_to_one_account_is_named(root_client, campaign_editor) -> None:
    export = Permission.objects.get(codename="export_signatures")
    assert_saved(admin_edit(root_client, campaign_editor, {"user_permissions": [str(export.pk)]}))
    [entry] = audit_entries(campaign_editor)
    assert entry.change_message == (
        "User permissions: added “Petitions | petition | Can download the signatures of a "
        f"petition as CSV (id {export.pk})”."
    )


def test_staff_and_superuser_status_and_the_login_address_are_audited(
    root_client, superuser
) -> None:
    person = UserFactory(email="ada@example.org")
    assert_saved(
        admin_edit(
            root_client,
            person,
            {"email": ["ada@evil.example"], "is_staff": ["on"], "is_superuser": ["on"]},
        )
    )
    [entry] = audit_entries(person)
    assert entry.user == superuser
    assert entry.change_message == (
        "Email address changed from “ada@example.org” to “ada@evil.example”. "
        "Staff status changed from “no” to “yes”. "
        "Superuser status changed from “no” to “yes”."
    )


def test_a_new_account_is_audited_with_what_it_was_created_with(root_client, superuser) -> None:
    response = root_client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "new.staff@example.org",
            "full_name": "New Staff",
            "password1": "a-long-enough-passphrase",
            "password2": "a-long-enough-passphrase",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(email="new.staff@example.org")
    [entry] = audit_entries(user)
    assert entry.action_flag == ADDITION
    assert entry.user == superuser
    assert entry.change_message == (
        "Created with Email address “new.staff@example.org”, Active “yes”, Staff status “no”, "
        "Superuser status “no”."
    )


def test_a_role_group_given_the_export_permission_is_audited(root_client, superuser) -> None:
    editors = Group.objects.get(name=CAMPAIGN_EDITOR)
    before = [str(pk) for pk in editors.permissions.values_list("pk", flat=True)]
    export = Permission.objects.get(codename="export_signatures")
    assert_saved(admin_edit(root_client, editors, {"permissions": [*before, str(export.pk)]}))
    assert editors.permissions.filter(pk=export.pk).exists()
    [entry] = audit_entries(editors)
    assert entry.user == superuser
    assert entry.change_message == (
        "Permissions: added “Petitions | petition | Can download the signatures of a petition "
        f"as CSV (id {export.pk})”."
    )


# --- Organizations and their members ------------------------------------------------------------


def test_a_moderator_changing_an_organization_contact_is_audited(moderator) -> None:
    client = Client()
    client.force_login(moderator)
    organization = UnconfirmedOrganizationFactory(contact_email="press@oakland-privacy.example.org")
    assert_saved(admin_edit(client, organization, {"contact_email": ["me@evil.example"]}))
    [entry] = audit_entries(organization)
    assert entry.user == moderator
    assert entry.change_message == (
        "Contact email changed from “press@oakland-privacy.example.org” to “me@evil.example”."
    )


def test_verification_set_by_hand_in_the_form_is_audited(moderator) -> None:
    client = Client()
    client.force_login(moderator)
    organization = PendingOrganizationFactory()
    assert_saved(
        admin_edit(
            client,
            organization,
            {
                "verification": ["verified"],
                "verified_at_0": ["2026-01-05"],
                "verified_at_1": ["10:00:00"],
            },
        )
    )
    [entry] = audit_entries(organization)
    assert entry.change_message == (
        "Verification changed from “Awaiting verification” to “Verified”."
    )


def test_members_added_promoted_and_removed_inline_are_audited_on_the_organization(
    root_client, superuser
) -> None:
    organization = OrganizationFactory(name="Oakland Privacy")
    staying = MembershipFactory(organization=organization, role="editor", user__email="b@x.org")
    leaving = MembershipFactory(organization=organization, role="editor", user__email="c@x.org")
    newcomer = UserFactory(email="me@evil.example")
    url = reverse("admin:accounts_organization_change", args=[organization.pk])
    data = form_data(root_client.get(url), "organization")
    rows = {data[f"memberships-{n}-id"][0]: n for n in range(2)}
    data[f"memberships-{rows[str(staying.pk)]}-role"] = ["admin"]
    data[f"memberships-{rows[str(leaving.pk)]}-DELETE"] = ["on"]
    data |= {
        "memberships-TOTAL_FORMS": ["3"],
        "memberships-2-user": [str(newcomer.pk)],
        "memberships-2-role": ["admin"],
    }
    assert_saved(root_client.post(url, data))
    assert set(organization.memberships.values_list("user__email", "role")) == {
        ("b@x.org", "admin"),
        ("me@evil.example", "admin"),
    }
    added = organization.memberships.get(user=newcomer)
    [entry] = audit_entries(organization)
    assert entry.user == superuser
    assert entry.change_message == (
        f"Added membership “me@evil.example @ Oakland Privacy (admin) (id {added.pk})” with "
        f"User “me@evil.example (id {newcomer.pk})”, Organization “Oakland Privacy "
        f"(id {organization.pk})”, Role “Administrator”. "
        f"Changed membership “b@x.org @ Oakland Privacy (admin) (id {staying.pk})”: "
        "Role changed from “Editor” to “Administrator”. "
        f"Removed membership “c@x.org @ Oakland Privacy (editor) (id {leaving.pk})”, which had "
        f"User “c@x.org (id {leaving.user.pk})”, Organization “Oakland Privacy "
        f"(id {organization.pk})”, Role “Editor”."
    )


def test_a_membership_role_changed_on_its_own_page_is_audited(root_client, superuser) -> None:
    membership = MembershipFactory(role="viewer")
    assert_saved(admin_edit(root_client, membership, {"role": ["admin"]}))
    [entry] = audit_entries(membership)
    assert entry.user == superuser
    assert entry.change_message == "Role changed from “Viewer” to “Administrator”."


def test_a_membership_added_on_its_own_page_is_audited(root_client, superuser) -> None:
    organization = OrganizationFactory(name="Oakland Privacy")
    user = UserFactory(email="me@evil.example")
    response = root_client.post(
        reverse("admin:accounts_membership_add"),
        {"user": str(user.pk), "organization": str(organization.pk), "role": "admin"},
    )
    assert response.status_code == 302
    membership = Membership.objects.get(user=user)
    [entry] = audit_entries(membership)
    assert entry.action_flag == ADDITION
    assert entry.change_message == (
        f"Created with User “me@evil.example (id {user.pk})”, Organization “Oakland Privacy "
        f"(id {organization.pk})”, Role “Administrator”."
    )


def test_a_member_inviting_a_colleague_is_audited(client) -> None:
    inviter = MembershipFactory(organization__name="Oakland Privacy", user__email="ada@x.org")
    client.force_login(inviter.user)
    path = reverse("accounts:organization_members", kwargs={"slug": inviter.organization.slug})
    response = client.post(path, {"email": "jane@example.org", "full_name": "Jane Doe"})
    assert response.status_code == 302
    membership = Membership.objects.get(user__email="jane@example.org")
    [entry] = audit_entries(membership)
    assert entry.user == inviter.user
    assert entry.action_flag == ADDITION
    assert entry.change_message == (
        f"Invited. Created with User “jane@example.org (id {membership.user.pk})”, "
        f"Organization “Oakland Privacy (id {inviter.organization.pk})”, Role “Viewer”."
    )


def test_the_contact_becoming_administrator_on_confirming_is_audited(
    django_capture_on_commit_callbacks,
) -> None:
    organization = UnconfirmedOrganizationFactory(name="Oakland Privacy")
    with django_capture_on_commit_callbacks(execute=True):
        services.organization_contact_confirm(organization_id=organization.pk)
    membership = Membership.objects.get(organization=organization)
    [entry] = audit_entries(membership)
    assert entry.user == membership.user
    assert entry.change_message.startswith(
        "The organization's contact confirmed their address. Created with User"
    )
    assert "Role “Administrator”" in entry.change_message


# --- What writes no entry, and entries that stay --------------------------------------------------


def test_saving_without_changing_an_audited_field_writes_no_such_entry(
    root_client, campaign_editor
) -> None:
    assert_saved(admin_edit(root_client, campaign_editor, {"full_name": ["Someone Else"]}))
    assert audit_entries(campaign_editor) == []
    organization = OrganizationFactory()
    MembershipFactory(organization=organization)
    assert_saved(admin_edit(root_client, organization, {"description": ["New words."]}))
    assert audit_entries(organization) == []


def test_an_invalid_form_changes_nothing_and_writes_no_entry(root_client, campaign_editor) -> None:
    moderators = Group.objects.get(name=MODERATOR)
    response = admin_edit(
        root_client, campaign_editor, {"groups": [str(moderators.pk)], "email": ["not-an-email"]}
    )
    assert response.status_code == 200
    assert not campaign_editor.groups.filter(name=MODERATOR).exists()
    assert audit_entries(campaign_editor) == []


def test_a_save_that_fails_after_the_entry_is_written_keeps_neither(
    root_client, campaign_editor
) -> None:
    moderators = Group.objects.get(name=MODERATOR)
    with (
        mock.patch.object(ModelAdmin, "log_change", side_effect=RuntimeError("disk full")),
        pytest.raises(RuntimeError),
    ):
        admin_edit(root_client, campaign_editor, {"groups": [str(moderators.pk)]})
    assert not campaign_editor.groups.filter(name=MODERATOR).exists()
    assert audit_entries(campaign_editor) == []


def test_a_bulk_action_and_its_entries_stand_or_fall_together(root_client) -> None:
    organization = PendingOrganizationFactory()
    with (
        mock.patch("mechanisms.admin_actions.audit_log", side_effect=RuntimeError("disk full")),
        pytest.raises(RuntimeError),
    ):
        root_client.post(
            reverse("admin:accounts_organization_changelist"),
            {"action": "verify", "_selected_action": [str(organization.pk)]},
        )
    organization.refresh_from_db()
    assert organization.verification == Organization.Verification.PENDING


def test_nobody_edits_or_deletes_the_entries_nor_the_user_they_name(
    root_client, superuser, campaign_editor
) -> None:
    moderators = Group.objects.get(name=MODERATOR)
    assert_saved(admin_edit(root_client, campaign_editor, {"groups": [str(moderators.pk)]}))
    [entry] = audit_entries(campaign_editor)
    message = entry.change_message
    change = reverse("admin:admin_logentry_change", args=[entry.pk])
    assert "Groups: added" in root_client.get(change).content.decode()  # shown, read-only
    assert root_client.post(change, {"change_message": "nothing"}).status_code == 403
    delete = reverse("admin:admin_logentry_delete", args=[entry.pk])
    assert root_client.post(delete, {"post": "yes"}).status_code == 403
    # Deleting the superuser who made the change would take their entries with it.
    other = User.objects.create_superuser("other@cosign.test", "a-long-password")
    client = Client()
    client.force_login(other)
    delete_user = reverse("admin:accounts_user_delete", args=[superuser.pk])
    assert client.post(delete_user, {"post": "yes"}).status_code == 403
    assert User.objects.filter(pk=superuser.pk).exists()
    entry.refresh_from_db()
    assert entry.change_message == message
