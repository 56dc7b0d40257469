"""Who receives a letter and who hears of its co-signers is audited (issue 14, item 8): a
campaign editor changing its lead organizations or targets leaves an entry naming what was
added and removed, and who did it."""

from __future__ import annotations

import pytest

from tests.admin_forms import admin_edit, assert_saved, audit_entries
from tests.factories import OpenLetterFactory, OrganizationFactory, TargetFactory

pytestmark = pytest.mark.django_db


def test_lead_organizations_and_targets_changed_are_named_with_their_ids(
    editor_client, campaign_editor
) -> None:
    lead = OrganizationFactory(name="Fight for the Future")
    takeover = OrganizationFactory(name="Data Brokers Inc")
    ceo = TargetFactory(name="Ann Smith", title="CEO of Ring", level="company", email="ceo@x.org")
    letter = OpenLetterFactory(leads=[lead])
    letter.targets.set([ceo])
    assert_saved(
        admin_edit(
            editor_client,
            letter,
            {"lead_organizations": [str(lead.pk), str(takeover.pk)], "targets": []},
        )
    )
    [entry] = audit_entries(letter)
    assert entry.user == campaign_editor
    assert entry.change_message == (
        f"Lead organizations: added “Data Brokers Inc (id {takeover.pk})”. "
        f"Targets: removed “CEO of Ring (Ann Smith) (id {ceo.pk})”."
    )


def test_saving_a_letter_unchanged_writes_no_such_entry(editor_client) -> None:
    letter = OpenLetterFactory(leads=[OrganizationFactory()])
    letter.targets.set([TargetFactory()])
    assert_saved(admin_edit(editor_client, letter, {"title_en": ["A sharper title"]}))
    assert audit_entries(letter) == []


def test_an_invalid_letter_form_changes_nothing_and_writes_no_entry(editor_client) -> None:
    letter = OpenLetterFactory()
    takeover = OrganizationFactory()
    response = admin_edit(
        editor_client, letter, {"lead_organizations": [str(takeover.pk)], "title_en": [""]}
    )
    assert response.status_code == 200
    assert not letter.lead_organizations.exists()
    assert audit_entries(letter) == []
