"""Organizations draft campaigns on the site: the draft, its versions, invitations, staff's
review and the emails of each step (issue 18, item 2)."""

from __future__ import annotations

import pytest
from django.core import mail

from accounts.models import Membership, Organization, User
from letters.models import OpenLetter, OrganizationSignature
from petitions.models import Petition, PetitionInvitation, Target
from tests.factories import OrganizationFactory, TargetFactory
from tests.outbox import outbox_drain
from tests.petitions.drafting_forms import letter_form, petition_form

PASSWORD = "a long enough password 42"
# Markdown with a script in it, which no preview may run.
SCRIPTED_BODY = "## Why\n\nBecause **cameras** watch everyone. <script>alert(1)</script>"


def _member(organization: Organization, email: str, role: str = "editor") -> User:
    user = User.objects.create_user(email, PASSWORD, full_name=email.split("@")[0].title())
    Membership.objects.create(user=user, organization=organization, role=role)
    return user


@pytest.fixture
def pair(db):
    lead = OrganizationFactory(name="Oakland Privacy", slug="oakland-privacy")
    other = OrganizationFactory(name="Fight for the Future", slug="fight-for-the-future")
    return lead, other


def test_an_editor_drafts_previews_saves_invites_and_submits(client, pair, settings) -> None:
    lead, other = pair
    editor = _member(lead, "ed@oaklandprivacy.example")
    _member(other, "co@fightforthefuture.example")
    staff = User.objects.create_superuser("staff@cosign.example", PASSWORD)
    client.force_login(editor)
    base = f"/en/organizations/{lead.slug}/campaigns/"

    preview = client.post(
        f"{base}new/petition/", {**petition_form(body_en=SCRIPTED_BODY), "preview": "1"}
    )
    assert preview.status_code == 200
    assert b"<strong>cameras</strong>" in preview.content
    assert b"<script>alert" not in preview.content
    assert not Petition.objects.exists()

    missing = client.post(f"{base}new/petition/", petition_form(title_en="", save="1"))
    assert missing.status_code == 400
    assert "Oakland police should stop" in missing.content.decode()
    assert not Petition.objects.exists()

    created = client.post(f"{base}new/petition/", petition_form(save="1"))
    petition = Petition.objects.get()
    assert created.status_code == 302
    assert (petition.status, petition.review, petition.organization) == ("draft", "editing", lead)
    assert petition.slug == "end-the-ring-partnership"
    assert list(petition.sponsors.all()) == [lead]
    page = f"{base}petition/{petition.pk}/"
    assert client.get(page).status_code == 200
    assert client.get(f"/en/p/{petition.slug}/").status_code == 404

    client.post(page, petition_form(title_it="Basta Ring", save="1"))
    petition.refresh_from_db()
    assert petition.title_it == "Basta Ring"
    assert [v.event for v in petition.versions.order_by("number")] == ["created", "saved"]

    target = TargetFactory()
    assert client.post(f"{page}targets/", {"add": target.pk}).status_code == 302
    assert list(petition.targets.all()) == [target]

    client.post(f"{page}invite/", {"organization": other.pk, "role": "co_sponsor"})
    invitation = PetitionInvitation.objects.get()
    assert invitation.status == "pending"
    outbox_drain()
    assert [m.to for m in mail.outbox] == [["co@fightforthefuture.example"]]
    assert "Oakland Privacy invites you" in mail.outbox[0].subject

    mail.outbox.clear()
    client.post(f"{page}submit/")
    petition.refresh_from_db()
    assert petition.review == "submitted"
    outbox_drain()
    assert {m.to[0] for m in mail.outbox} == {"ed@oaklandprivacy.example", staff.email}
    # Locked while staff review it.
    locked = client.post(page, petition_form(title_en="Changed", save="1"))
    assert locked.status_code == 409
    petition.refresh_from_db()
    assert petition.title_en == "End the Ring partnership"


def test_staff_return_with_a_reason_then_publish(client, pair) -> None:
    lead, other = pair
    editor = _member(lead, "ed@oaklandprivacy.example")
    co = _member(other, "co@fightforthefuture.example")
    staff = User.objects.create_superuser("staff@cosign.example", PASSWORD)
    client.force_login(editor)
    base = f"/en/organizations/{lead.slug}/campaigns/"
    client.post(f"{base}new/petition/", petition_form(save="1"))
    petition = Petition.objects.get()
    client.post(
        f"{base}petition/{petition.pk}/invite/", {"organization": other.pk, "role": "co_lead"}
    )
    client.force_login(co)
    invitation = PetitionInvitation.objects.get()
    client.post(
        f"/en/organizations/{other.slug}/campaigns/invitations/petition/{invitation.pk}/",
        {"answer": "accept"},
    )
    assert set(petition.sponsors.all()) == {lead, other}
    # A co-lead writes it too.
    assert (
        client.get(f"/en/organizations/{other.slug}/campaigns/petition/{petition.pk}/").status_code
        == 200
    )
    client.post(f"/en/organizations/{other.slug}/campaigns/petition/{petition.pk}/submit/")

    client.force_login(staff)
    review = f"/admin/petitions/petition/{petition.pk}/review/"
    assert client.get(review).status_code == 200
    empty = client.post(review, {"reason": "", "_return": "1"})
    assert "Write the reason" in empty.content.decode()
    outbox_drain()
    mail.outbox.clear()
    client.post(review, {"reason": "Name the council members.", "_return": "1"})
    outbox_drain()
    petition.refresh_from_db()
    assert (petition.review, petition.review_reason) == ("returned", "Name the council members.")
    assert {m.to[0] for m in mail.outbox} == {editor.email, co.email}
    assert "Name the council members." in mail.outbox[0].body

    client.force_login(editor)
    client.post(f"{base}petition/{petition.pk}/submit/")
    client.force_login(staff)
    client.post(review, {"reason": "", "_publish": "1"})
    petition.refresh_from_db()
    assert (petition.status, petition.review) == ("open", "approved")
    assert client.get(f"/en/p/{petition.slug}/").status_code == 200
    events = list(petition.versions.order_by("number").values_list("event", flat=True))
    assert events == ["created", "submitted", "returned", "submitted", "published"]


def test_a_letter_co_sponsor_signs_on_accepting(client, pair) -> None:
    lead, other = pair
    editor = _member(lead, "ed@oaklandprivacy.example")
    co = _member(other, "co@fightforthefuture.example")
    client.force_login(editor)
    base = f"/en/organizations/{lead.slug}/campaigns/"
    assert client.post(f"{base}new/letter/", letter_form(save="1")).status_code == 302
    letter = OpenLetter.objects.get()
    assert list(letter.lead_organizations.all()) == [lead]
    client.post(
        f"{base}letter/{letter.pk}/invite/", {"organization": other.pk, "role": "co_sponsor"}
    )
    client.force_login(co)
    invitation = letter.invitations.get()
    client.post(
        f"/en/organizations/{other.slug}/campaigns/invitations/letter/{invitation.pk}/",
        {"answer": "accept"},
    )
    assert OrganizationSignature.objects.get(letter=letter).organization == other


def test_a_proposed_official_waits_for_staff(client, pair) -> None:
    lead, _other = pair
    editor = _member(lead, "ed@oaklandprivacy.example")
    client.force_login(editor)
    base = f"/en/organizations/{lead.slug}/campaigns/"
    client.post(f"{base}new/petition/", petition_form(save="1"))
    petition = Petition.objects.get()
    bad = client.post(
        f"{base}petition/{petition.pk}/targets/propose/",
        {"name": "Jane Roe", "title": "Mayor of Alameda", "level": "local", "country": "US"},
    )
    assert bad.status_code == 400
    assert not Target.objects.exists()
    client.post(
        f"{base}petition/{petition.pk}/targets/propose/",
        {
            "name": "Jane Roe",
            "title": "Mayor of Alameda",
            "level": "local",
            "country": "US",
            "region": "CA",
            "locality": "Alameda",
            "email": "mayor@alameda.example",
        },
    )
    target = Target.objects.get()
    assert (target.active, target.awaiting_confirmation, target.proposed_by) == (False, True, lead)
    assert list(petition.targets.all()) == [target]


def test_the_history_says_what_each_version_changed(client, pair) -> None:
    lead, _other = pair
    editor = _member(lead, "ed@oaklandprivacy.example")
    client.force_login(editor)
    base = f"/en/organizations/{lead.slug}/campaigns/"
    client.post(f"{base}new/petition/", petition_form(save="1"))
    petition = Petition.objects.get()
    page = f"{base}petition/{petition.pk}/"
    client.post(page, petition_form(title_en="End Ring partnerships now", goal="500", save="1"))
    unchanged = client.post(
        page,
        petition_form(title_en="End Ring partnerships now", goal="500", save="1"),
        follow=True,
    )
    assert "Nothing had changed." in unchanged.content.decode()

    history = client.get(f"{page}history/").content.decode()
    assert "Version 2" in history
    assert "Changed: Title (English), Fixed goal" in history
    assert "Version 3" not in history
    first = client.get(f"{page}history/1/").content.decode()
    assert "End the Ring partnership" in first
    assert client.get(f"{page}history/9/").status_code == 404


def test_the_workspace_reads_in_italian(client, pair) -> None:
    lead, _other = pair
    editor = _member(lead, "ed@oaklandprivacy.example")
    client.force_login(editor)
    client.post(f"/en/organizations/{lead.slug}/campaigns/new/petition/", petition_form(save="1"))
    petition = Petition.objects.get()
    page = client.get(f"/it/organizations/{lead.slug}/campaigns/petition/{petition.pk}/")
    text = page.content.decode()
    assert "Invia in revisione" in text
    assert "Titolo (Italiano)" in text or "Titolo (italiano)" in text


def _published_with_pending_invitation(pair) -> tuple[Petition, PetitionInvitation]:
    from petitions.drafting import services
    from petitions.drafting.petition_kind import PETITION

    lead, other = pair
    editor = User.objects.get(email="ed@oaklandprivacy.example")
    staff = User.objects.create_superuser("staff@cosign.example", PASSWORD)
    draft = Petition(title_en="Ban face recognition", summary_en="Now.")
    services.draft_create(kind=PETITION, campaign=draft, organization=lead, user=editor)
    invitation = services.invitation_create(
        kind=PETITION,
        campaign_id=draft.pk,
        organization=lead,
        invited=other,
        role=PetitionInvitation.Role.CO_LEAD,
        user=editor,
    )
    services.draft_submit(kind=PETITION, campaign_id=draft.pk, organization=lead, user=editor)
    services.draft_publish(kind=PETITION, campaign_id=draft.pk, user=staff)
    return draft, invitation


def test_publishing_closes_the_invitations_nobody_answered(client, pair) -> None:
    lead, other = pair
    _member(lead, "ed@oaklandprivacy.example")
    co = _member(other, "co@fightforthefuture.example")
    petition, invitation = _published_with_pending_invitation(pair)
    invitation.refresh_from_db()
    assert invitation.status == "expired"

    client.force_login(co)
    answer = client.post(
        f"/en/organizations/{other.slug}/campaigns/invitations/petition/{invitation.pk}/",
        {"answer": "accept"},
        follow=True,
    )
    assert "already published: the invitation is closed" in answer.content.decode()
    assert list(petition.sponsors.all()) == [lead]
    # Not a co-lead: its people cannot reach the petition's page or write to its signers.
    page = f"/en/organizations/{other.slug}/campaigns/petition/{petition.pk}/"
    assert client.get(page).status_code == 404
    assert client.get(f"{page}updates/new/").status_code == 404


def test_a_rejected_organization_cannot_change_its_drafts(client, pair) -> None:
    lead, _other = pair
    editor = _member(lead, "ed@oaklandprivacy.example")
    client.force_login(editor)
    base = f"/en/organizations/{lead.slug}/campaigns/"
    client.post(f"{base}new/petition/", petition_form(save="1"))
    petition = Petition.objects.get()
    target = TargetFactory()
    Organization.objects.filter(pk=lead.pk).update(verification="rejected")

    saved = client.post(f"{base}petition/{petition.pk}/", petition_form(title_en="X", save="1"))
    assert saved.status_code == 409
    assert "Only an organization our staff have verified" in saved.content.decode()
    client.post(f"{base}petition/{petition.pk}/targets/", {"add": target.pk})
    petition.refresh_from_db()
    assert petition.title_en == "End the Ring partnership"
    assert not petition.targets.exists()
    assert petition.versions.count() == 1


def test_a_target_change_that_changes_nothing_keeps_no_version(client, pair) -> None:
    lead, _other = pair
    client.force_login(_member(lead, "ed@oaklandprivacy.example"))
    base = f"/en/organizations/{lead.slug}/campaigns/"
    client.post(f"{base}new/petition/", petition_form(save="1"))
    petition = Petition.objects.get()
    for _ in range(3):
        client.post(f"{base}petition/{petition.pk}/targets/", {"remove": 999_999})
    assert petition.versions.count() == 1
    target = TargetFactory()
    client.post(f"{base}petition/{petition.pk}/targets/", {"add": target.pk})
    client.post(f"{base}petition/{petition.pk}/targets/", {"add": target.pk})
    assert list(petition.versions.order_by("number").values_list("changed", flat=True)) == [
        [],
        ["targets"],
    ]


def test_a_text_longer_than_the_limit_is_refused_and_kept(client, pair) -> None:
    from petitions.drafting.forms import TEXT_MAX_LENGTH

    lead, _other = pair
    client.force_login(_member(lead, "ed@oaklandprivacy.example"))
    long_body = "word " * (TEXT_MAX_LENGTH // 5 + 1)
    page = client.post(
        f"/en/organizations/{lead.slug}/campaigns/new/petition/",
        petition_form(body_en=long_body, save="1"),
    )
    assert page.status_code == 400
    assert "Ensure this value has at most 20000 characters" in page.content.decode()
    assert "Oakland police should stop" in page.content.decode()
    assert not Petition.objects.exists()


def test_the_history_goes_back_a_page_at_a_time(client, pair) -> None:
    from petitions.drafting.views import HISTORY_PAGE

    lead, _other = pair
    client.force_login(_member(lead, "ed@oaklandprivacy.example"))
    base = f"/en/organizations/{lead.slug}/campaigns/"
    client.post(f"{base}new/petition/", petition_form(save="1"))
    petition = Petition.objects.get()
    for n in range(HISTORY_PAGE + 1):
        client.post(f"{base}petition/{petition.pk}/", petition_form(goal=str(n + 1), save="1"))
    first = client.get(f"{base}petition/{petition.pk}/history/").content.decode()
    assert f"Version {HISTORY_PAGE + 2}<" in first
    assert "Version 2<" not in first
    assert "?before=3" in first
    older = client.get(f"{base}petition/{petition.pk}/history/?before=3").content.decode()
    assert "Version 2<" in older and "Version 1<" in older
    assert "Older versions" not in older


def test_a_co_leads_update_is_told_to_the_drafting_organization(pair) -> None:
    from petitions.drafting import services
    from petitions.drafting.petition_kind import PETITION
    from petitions.models import PetitionUpdate

    lead, other = pair
    editor = _member(lead, "ed@oaklandprivacy.example")
    co = _member(other, "co@fightforthefuture.example")
    staff = User.objects.create_superuser("staff@cosign.example", PASSWORD)
    draft = Petition(title_en="Ban face recognition", summary_en="Now.")
    services.draft_create(kind=PETITION, campaign=draft, organization=lead, user=editor)
    invitation = services.invitation_create(
        kind=PETITION,
        campaign_id=draft.pk,
        organization=lead,
        invited=other,
        role=PetitionInvitation.Role.CO_LEAD,
        user=editor,
    )
    services.invitation_decide(
        kind=PETITION, invitation_id=invitation.pk, organization=other, user=co, accept=True
    )
    services.draft_submit(kind=PETITION, campaign_id=draft.pk, organization=lead, user=editor)
    services.draft_publish(kind=PETITION, campaign_id=draft.pk, user=staff)
    Organization.objects.filter(pk=other.pk).update(trusted=True)
    other.refresh_from_db()
    outbox_drain()
    mail.outbox.clear()

    services.update_submit(
        petition_id=draft.pk,
        organization=other,
        user=co,
        update=PetitionUpdate(title_en="Hearing on Tuesday", body_en="Come."),
    )
    outbox_drain()
    told = {m.to[0]: m for m in mail.outbox if "Update published" in m.subject}
    assert set(told) == {editor.email, co.email}
    # Each reads the link to the petition in their own organization's workspace.
    assert f"/organizations/{lead.slug}/campaigns/petition/{draft.pk}/" in told[editor.email].body
    assert f"/organizations/{other.slug}/campaigns/petition/{draft.pk}/" in told[co.email].body
