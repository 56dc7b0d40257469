"""Roles inside an organization (accounts.models.ROLE_CAPABILITIES): administrators give them on
the members page; each role may do only what it names; and no organization is left without an
administrator. Every boundary is checked from both organizations of a pair."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts import selectors, services
from accounts.models import Capability, Membership
from tests.admin_forms import audit_entries
from tests.factories import MembershipFactory, OrganizationFactory

pytestmark = pytest.mark.django_db

ROLE = Membership.Role
# Each organization of the pair, with the other one.
BOTH_WAYS = (
    ("Oakland Privacy", "Fight for the Future"),
    ("Fight for the Future", "Oakland Privacy"),
)


def _role_url(membership: Membership) -> str:
    return reverse(
        "accounts:organization_member_role",
        kwargs={"slug": membership.organization.slug, "membership_id": membership.pk},
    )


def _members_url(membership: Membership) -> str:
    return reverse("accounts:organization_members", kwargs={"slug": membership.organization.slug})


def _post_role(client, membership: Membership, role: str):
    return client.post(_role_url(membership), {f"m{membership.pk}-role": role})


@pytest.fixture
def pair() -> dict[str, dict[str, Membership]]:
    """Two organizations, each with one member of every role."""
    found: dict[str, dict[str, Membership]] = {}
    for name, _other in BOTH_WAYS:
        organization = OrganizationFactory(name=name)
        found[name] = {
            role: MembershipFactory(
                organization=organization,
                role=role,
                user__full_name=f"{label} of {name}",
                user__email=f"{role}@{organization.slug}.example",
            )
            for role, label in ROLE.choices
        }
    return found


@pytest.mark.parametrize(
    ("role", "capabilities"),
    [
        (ROLE.ADMIN, set(Capability)),
        (ROLE.EDITOR, {Capability.EDIT_CAMPAIGNS, Capability.VIEW_DASHBOARDS}),
        (ROLE.VIEWER, {Capability.VIEW_DASHBOARDS}),
        (ROLE.DATA_STEWARD, {Capability.VIEW_DASHBOARDS, Capability.EXPORT_SUPPORTERS}),
    ],
)
def test_each_role_may_do_what_it_names_and_nothing_more(pair, role, capabilities) -> None:
    for name, other in BOTH_WAYS:
        membership = pair[name][role]
        foreign = pair[other][role].organization
        for capability in Capability:
            assert membership.may(capability) is (capability in capabilities)
            assert selectors.member_may(
                user=membership.user, organization=membership.organization, capability=capability
            ) is (capability in capabilities)
            # Nothing in the other organization, whatever the role.
            assert not selectors.member_may(
                user=membership.user, organization=foreign, capability=capability
            )


def test_a_new_member_is_a_viewer(pair) -> None:
    organization = pair["Oakland Privacy"][ROLE.ADMIN].organization
    invited = services.membership_invite(organization=organization, email="new@example.org")
    assert invited.role == ROLE.VIEWER
    assert Membership._meta.get_field("role").default == ROLE.VIEWER


def test_an_administrator_gives_a_role_on_the_members_page_and_it_is_audited(client, pair) -> None:
    admin = pair["Oakland Privacy"][ROLE.ADMIN]
    viewer = pair["Oakland Privacy"][ROLE.VIEWER]
    client.force_login(admin.user)

    page = client.get(_members_url(admin)).content.decode()
    assert f'action="{_role_url(viewer)}"' in page
    assert "Role of Viewer of Oakland Privacy" in page
    assert "What each role may do" in page

    response = _post_role(client, viewer, ROLE.DATA_STEWARD)
    assert response.status_code == 302
    assert response["Location"] == _members_url(admin)
    viewer.refresh_from_db()
    assert viewer.role == ROLE.DATA_STEWARD
    assert "Viewer of Oakland Privacy is now: Data steward." in (
        client.get(_members_url(admin)).content.decode()
    )
    [entry] = audit_entries(viewer)
    assert entry.user == admin.user
    assert entry.change_message == (
        "Role changed on the members page. Role changed from “Viewer” to “Data steward”."
    )


@pytest.mark.parametrize("role", [ROLE.EDITOR, ROLE.VIEWER, ROLE.DATA_STEWARD])
def test_only_administrators_change_roles(client, pair, role) -> None:
    for name in pair:
        acting = pair[name][role]
        target = pair[name][ROLE.VIEWER if role != ROLE.VIEWER else ROLE.EDITOR]
        client.force_login(acting.user)
        page = client.get(_members_url(acting)).content.decode()
        assert "Change role" not in page
        # Not even their own role: an editor cannot make themselves administrator.
        for membership in (target, acting):
            before = membership.role
            assert _post_role(client, membership, ROLE.ADMIN).status_code == 403
            membership.refresh_from_db()
            assert membership.role == before
    assert not audit_entries(pair["Oakland Privacy"][ROLE.VIEWER])


def test_a_membership_of_the_other_organization_is_a_404(client, pair) -> None:
    for name, other in BOTH_WAYS:
        admin = pair[name][ROLE.ADMIN]
        foreign = pair[other][ROLE.VIEWER]
        client.force_login(admin.user)
        # Their own organization's URL with the other's membership id, and the other's URL.
        through_own = reverse(
            "accounts:organization_member_role",
            kwargs={"slug": admin.organization.slug, "membership_id": foreign.pk},
        )
        for url in (through_own, _role_url(foreign)):
            for role in (ROLE.ADMIN, "owner"):
                response = client.post(url, {f"m{foreign.pk}-role": role})
                assert response.status_code == 404
        foreign.refresh_from_db()
        assert foreign.role == ROLE.VIEWER


def test_an_unknown_role_is_refused_with_a_message_and_changes_nothing(client, pair) -> None:
    admin = pair["Oakland Privacy"][ROLE.ADMIN]
    viewer = pair["Oakland Privacy"][ROLE.VIEWER]
    client.force_login(admin.user)
    for sent in ("owner", ""):
        response = _post_role(client, viewer, sent)
        assert response.status_code == 400
        html = response.content.decode()
        assert "Choose one of the roles listed." in html or "This field is required." in html
        assert 'aria-invalid="true"' in html
    viewer.refresh_from_db()
    assert viewer.role == ROLE.VIEWER


def test_the_last_administrator_cannot_step_down(client, pair) -> None:
    admin = pair["Oakland Privacy"][ROLE.ADMIN]
    client.force_login(admin.user)
    response = _post_role(client, admin, ROLE.EDITOR)
    assert response.status_code == 400
    html = response.content.decode()
    assert (
        "Oakland Privacy needs at least one administrator: make someone else administrator "
        "first." in html
    )
    # The refused choice is shown as sent, in that member's row.
    assert f'<option value="{ROLE.EDITOR}" selected>' in html
    admin.refresh_from_db()
    assert admin.role == ROLE.ADMIN

    # With a second administrator, the first may become an editor.
    assert _post_role(client, pair["Oakland Privacy"][ROLE.EDITOR], ROLE.ADMIN).status_code == 302
    assert _post_role(client, admin, ROLE.EDITOR).status_code == 302
    admin.refresh_from_db()
    assert admin.role == ROLE.EDITOR
    # The other organization's administrator is untouched by any of it.
    assert pair["Fight for the Future"][ROLE.ADMIN].role == ROLE.ADMIN


def test_the_service_refuses_a_membership_of_another_organization(pair) -> None:
    admin = pair["Oakland Privacy"][ROLE.ADMIN]
    with pytest.raises(Membership.DoesNotExist):
        services.membership_role_set(
            organization=admin.organization,
            membership_id=pair["Fight for the Future"][ROLE.VIEWER].pk,
            role=ROLE.ADMIN,
            changed_by=admin.user,
        )
    with pytest.raises(services.LastAdministrator):
        services.membership_role_set(
            organization=admin.organization,
            membership_id=admin.pk,
            role=ROLE.VIEWER,
            changed_by=admin.user,
        )


def test_the_database_refuses_a_role_nobody_defined(pair) -> None:
    from django.db import IntegrityError

    membership = pair["Oakland Privacy"][ROLE.VIEWER]
    with pytest.raises(IntegrityError):
        Membership.objects.filter(pk=membership.pk).update(role="owner")


def test_an_administrator_demoted_a_moment_ago_changes_no_role(pair) -> None:
    """Two administrators demoting each other at once: the second request finds, under the
    lock, that its sender is no longer an administrator (an outside review had both pass)."""
    first = pair["Oakland Privacy"][ROLE.ADMIN]
    second = MembershipFactory(organization=first.organization, role=ROLE.ADMIN)
    services.membership_role_set(
        organization=first.organization,
        membership_id=second.pk,
        role=ROLE.VIEWER,
        changed_by=first.user,
    )
    with pytest.raises(services.NotAdministrator):
        services.membership_role_set(
            organization=first.organization,
            membership_id=first.pk,
            role=ROLE.VIEWER,
            changed_by=second.user,
        )
    first.refresh_from_db()
    assert first.role == ROLE.ADMIN
    # Staff, whose right the view checked, need no membership.
    services.membership_role_set(
        organization=first.organization,
        membership_id=second.pk,
        role=ROLE.EDITOR,
        changed_by=pair["Fight for the Future"][ROLE.ADMIN].user,
        by_staff=True,
    )
