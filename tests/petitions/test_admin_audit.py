"""Where a petition's signatures go is audited (issue 14, item 8): a campaign editor changing a
target's delivery email or place, or a petition's sponsors, targets, opt-in offer or delivery
schedule, leaves an entry naming the old and new values and who changed them."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import ADDITION, CHANGE
from django.test import Client
from django.urls import reverse

from accounts.models import User
from petitions.models import PostalArea, Target
from tests.admin_forms import admin_edit, assert_saved, audit_entries, form_data
from tests.factories import OrganizationFactory, PetitionFactory, TargetFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"email": ["me@evil.example"]},
            "Delivery email changed from “mayor@oakland.example.gov” to “me@evil.example”.",
        ),
        ({"email": [""]}, "Delivery email changed from “mayor@oakland.example.gov” to (empty)."),
        (
            {"locality": ["Berkeley"]},
            "Locality changed from “Oakland” to “Berkeley”.",
        ),
        (
            {"level": ["national"], "region": [""], "locality": [""]},
            "Level changed from “Local” to “National”. Region changed from “CA” to (empty). "
            "Locality changed from “Oakland” to (empty).",
        ),
        ({"country": ["IT"]}, "Country changed from “United States of America” to “Italy”."),
        ({"active": []}, "Active changed from “yes” to “no”."),
    ],
)
def test_a_target_delivery_address_or_place_changed_names_old_and_new(
    editor_client, campaign_editor, changes, message
) -> None:
    target = TargetFactory()
    assert_saved(admin_edit(editor_client, target, changes))
    [entry] = audit_entries(target)
    assert entry.user == campaign_editor
    assert entry.action_flag == CHANGE
    assert entry.change_message == message


def test_a_new_target_is_audited_with_its_address(editor_client, campaign_editor) -> None:
    url = reverse("admin:petitions_target_add")
    data = form_data(editor_client.get(url), "target") | {
        "name": ["Jane Roe"],
        "title": ["Governor of California"],
        "level": ["state"],
        "country": ["US"],
        "region": ["CA"],
        "email": ["governor@ca.example.gov"],
    }
    assert_saved(editor_client.post(url, data))
    target = Target.objects.get(name="Jane Roe")
    [entry] = audit_entries(target)
    assert entry.user == campaign_editor
    assert entry.action_flag == ADDITION
    assert entry.change_message == (
        "Created with Delivery email “governor@ca.example.gov”, Level “State or region”, "
        "Country “United States of America”, Region “CA”, Active “yes”."
    )


def test_sponsors_and_targets_added_and_removed_are_named_with_their_ids(
    editor_client, campaign_editor
) -> None:
    kept, dropped, added = (
        OrganizationFactory(name=name) for name in ("EFF", "Old Sponsor", "Data Brokers Inc")
    )
    mayor = TargetFactory()
    impostor = TargetFactory(name="Me", title="Mayor of Oakland (new)", email="me@evil.example")
    petition = PetitionFactory(targets=[mayor])
    petition.sponsors.set([kept, dropped])
    assert_saved(
        admin_edit(
            editor_client,
            petition,
            {"sponsors": [str(kept.pk), str(added.pk)], "targets": [str(impostor.pk)]},
        )
    )
    assert set(petition.sponsors.all()) == {kept, added}
    [entry] = audit_entries(petition)
    assert entry.user == campaign_editor
    assert entry.change_message == (
        f"Sponsors: added “Data Brokers Inc (id {added.pk})”; "
        f"removed “Old Sponsor (id {dropped.pk})”. "
        f"Targets: added “Mayor of Oakland (new) (Me) (id {impostor.pk})”; "
        f"removed “Mayor of Oakland (Barbara Lee) (id {mayor.pk})”."
    )


def test_the_sponsor_opt_in_and_the_delivery_schedule_are_audited(
    editor_client, campaign_editor
) -> None:
    petition = PetitionFactory()
    assert_saved(
        admin_edit(
            editor_client,
            petition,
            {"offer_sponsor_opt_in": ["on"], "delivery_schedule": ["weekly"]},
        )
    )
    [entry] = audit_entries(petition)
    assert entry.change_message == (
        "Offer to hear from sponsors changed from “no” to “yes”. "
        "Delivery schedule changed from “No deliveries” to “Weekly”."
    )


def test_a_new_petition_names_its_sponsors_and_targets(editor_client, campaign_editor) -> None:
    sponsor = OrganizationFactory(name="EFF")
    target = TargetFactory()
    template = PetitionFactory()
    # The add form, filled as the template petition's change form shows it.
    change = reverse("admin:petitions_petition_change", args=[template.pk])
    data = form_data(editor_client.get(change), "petition")
    data |= {
        "slug": ["a-new-one"],
        "title_en": ["A new one"],
        "sponsors": [str(sponsor.pk)],
        "targets": [str(target.pk)],
        "updates-TOTAL_FORMS": ["0"],
        "updates-INITIAL_FORMS": ["0"],
        "questions-TOTAL_FORMS": ["0"],
        "questions-INITIAL_FORMS": ["0"],
    }
    assert_saved(editor_client.post(reverse("admin:petitions_petition_add"), data))
    petition = type(template).objects.get(slug="a-new-one")
    [entry] = audit_entries(petition)
    assert entry.action_flag == ADDITION
    assert entry.user == campaign_editor
    assert entry.change_message == (
        f"Created with Sponsors “EFF (id {sponsor.pk})”, Offer to hear from sponsors “no”, "
        f"Targets “Mayor of Oakland (Barbara Lee) (id {target.pk})”, "
        "Delivery schedule “No deliveries”."
    )


def test_saving_a_target_or_petition_unchanged_writes_no_such_entry(editor_client) -> None:
    target = TargetFactory()
    petition = PetitionFactory(targets=[target])
    petition.sponsors.set([OrganizationFactory()])
    assert_saved(admin_edit(editor_client, target, {"name": ["Barbara J. Lee"]}))
    assert_saved(admin_edit(editor_client, petition, {"title_en": ["A better title"]}))
    assert audit_entries(target) == []
    assert audit_entries(petition) == []


def test_an_invalid_target_form_changes_nothing_and_writes_no_entry(editor_client) -> None:
    target = TargetFactory()
    # A local target needs its locality: the form refuses the whole save.
    response = admin_edit(editor_client, target, {"email": ["me@evil.example"], "locality": [""]})
    assert response.status_code == 200
    target.refresh_from_db()
    assert target.email == "mayor@oakland.example.gov"
    assert audit_entries(target) == []


def test_moving_a_postal_code_to_another_place_is_audited() -> None:
    # A postal code's place decides which local officials its signers reach.
    superuser = User.objects.create_superuser("root@cosign.test", "a-long-password")
    superuser_client = Client()
    superuser_client.force_login(superuser)
    area = PostalArea.objects.create(
        country="DE", postal_code="10115", region="BE", locality="Berlin"
    )
    assert_saved(admin_edit(superuser_client, area, {"locality": ["Potsdam"]}))
    [entry] = audit_entries(area)
    assert entry.user == superuser
    assert entry.change_message == "Locality changed from “Berlin” to “Potsdam”."
