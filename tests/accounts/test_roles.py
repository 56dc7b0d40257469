"""Staff roles: the groups the migration creates hold exactly their role's permissions, and each
role reaches what it should in the admin and nothing else."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import reverse

from accounts.roles import CAMPAIGN_EDITOR, MODERATOR, ROLES, UnknownPermission, roles_apply
from tests.factories import PetitionFactory, SignatureFactory

pytestmark = pytest.mark.django_db


def _perms(group: Group) -> set[str]:
    return {
        f"{app_label}.{codename}"
        for app_label, codename in group.permissions.values_list(
            "content_type__app_label", "codename"
        )
    }


def test_the_migration_made_both_groups_with_exactly_their_permissions() -> None:
    # No roles_apply here: what is checked is what `migrate` left in the database.
    groups = {group.name: group for group in Group.objects.all()}
    assert {MODERATOR, CAMPAIGN_EDITOR} <= groups.keys()
    assert _perms(groups[MODERATOR]) == set(ROLES[MODERATOR])
    assert _perms(groups[CAMPAIGN_EDITOR]) == set(ROLES[CAMPAIGN_EDITOR])
    assert "petitions.export_signatures" in _perms(groups[MODERATOR])
    assert "admin.view_logentry" in _perms(groups[MODERATOR])


def test_no_role_touches_users_groups_or_permissions_or_deletes() -> None:
    for perms in ROLES.values():
        models = {perm.split(".")[1].split("_", 1)[1] for perm in perms}
        actions = {perm.split(".")[1].split("_", 1)[0] for perm in perms}
        assert not [perm for perm in perms if perm.startswith("auth.")]
        assert not models & {"user", "group", "permission", "membership", "iphashkey"}
        assert "delete" not in actions


def test_applying_roles_again_removes_a_permission_added_by_hand() -> None:
    moderators = Group.objects.get(name=MODERATOR)
    moderators.permissions.add(Permission.objects.get(codename="delete_signature"))
    roles_apply(group_model=Group, permission_model=Permission)
    assert _perms(moderators) == set(ROLES[MODERATOR])


def test_a_role_naming_a_missing_permission_fails_loudly(monkeypatch) -> None:
    monkeypatch.setitem(ROLES, MODERATOR, ("petitions.fly_signature",))
    with pytest.raises(UnknownPermission, match=r"petitions\.fly_signature"):
        roles_apply(group_model=Group, permission_model=Permission)


def test_a_moderator_reaches_signatures_but_not_users(client, moderator) -> None:
    client.force_login(moderator)
    assert client.get(reverse("admin:petitions_signature_changelist")).status_code == 200
    assert client.get(reverse("admin:letters_individualsignature_changelist")).status_code == 200
    assert client.get(reverse("admin:accounts_organization_changelist")).status_code == 200
    assert client.get(reverse("admin:admin_logentry_changelist")).status_code == 200
    assert client.get(reverse("admin:accounts_user_changelist")).status_code == 403
    assert client.get(reverse("admin:auth_group_changelist")).status_code == 403
    petition = PetitionFactory()
    change = reverse("admin:petitions_petition_change", args=[petition.pk])
    # Petitions are visible to a moderator, not editable.
    assert client.get(change).status_code == 200
    client.post(change, {"title_en": "Renamed by a moderator"})
    petition.refresh_from_db()
    assert petition.title != "Renamed by a moderator"


def test_a_campaign_editor_edits_petitions_but_not_signatures(campaign_editor) -> None:
    client = Client()
    client.force_login(campaign_editor)
    petition = PetitionFactory(title="Old title")
    signature = SignatureFactory(petition=petition)
    assert client.get(reverse("admin:petitions_signature_changelist")).status_code == 403
    assert (
        client.get(reverse("admin:petitions_signature_change", args=[signature.pk])).status_code
        == 403
    )
    assert client.get(reverse("admin:accounts_user_changelist")).status_code == 403
    assert client.get(reverse("admin:admin_logentry_changelist")).status_code == 403
    assert client.get(reverse("admin:petitions_petition_add")).status_code == 200
    assert client.get(reverse("admin:letters_openletter_add")).status_code == 200
    change = reverse("admin:petitions_petition_change", args=[petition.pk])
    page = client.get(change)
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if value is not None and not isinstance(value, list | tuple)
    }
    data.update(
        {
            "title_en": "New title",
            "summary_en": petition.summary,
            "countries": [],
            "updates-TOTAL_FORMS": "0",
            "updates-INITIAL_FORMS": "0",
            "questions-TOTAL_FORMS": "0",
            "questions-INITIAL_FORMS": "0",
        }
    )
    response = client.post(change, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    petition.refresh_from_db()
    assert petition.title == "New title"
