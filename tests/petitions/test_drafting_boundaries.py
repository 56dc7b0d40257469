"""The edges of the drafting workflow (petitions.drafting): what one organization can never reach
of another's drafts, what each role of an organization may do, what an organization staff have
not verified is refused, forms refused with what was typed kept, the opening clock, updates to
signers, and staff's steps in the admin.

Every test runs twice, once with each organization of the pair in the role the test gives the
first one, so that nothing passes only because of which organization was created first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from accounts.models import Membership, Organization, User
from letters.drafting import LETTER
from letters.models import LetterInvitation, LetterVersion, OpenLetter, OrganizationSignature
from mechanisms.models import OutboundEmail
from petitions.drafting import services
from petitions.drafting.petition_kind import PETITION
from petitions.models import (
    Petition,
    PetitionInvitation,
    PetitionUpdate,
    PetitionVersion,
    Signature,
    Target,
)
from petitions.services.campaigns import petitions_open_and_close_due
from tests.factories import OrganizationFactory, PetitionFactory, SignatureFactory, TargetFactory
from tests.outbox import outbox_drain
from tests.petitions.drafting_forms import letter_form, petition_form

PASSWORD = "a long enough password 42"
NOT_VERIFIED = "Only an organization our staff have verified can do this."
ANSWERED = "This invitation has already been answered."
NOT_LISTED = "Choose one of the verified organizations listed."
WRITE_THE_REASON = "Write the reason: the organization"


# --- Helpers (as in test_drafting.py) -----------------------------------------------------------


def _member(organization: Organization, role: str = "editor") -> User:
    email = f"{role}@{organization.slug}.example"
    user = User.objects.create_user(email, PASSWORD, full_name=role.title())
    Membership.objects.create(user=user, organization=organization, role=role)
    return user


def _staff() -> User:
    """The staff reviewer (one per test, made on first use)."""
    found = User.objects.filter(email="staff@cosign.example").first()
    return found or User.objects.create_superuser("staff@cosign.example", PASSWORD)


def _form(kind: str, **changes: Any) -> dict[str, Any]:
    return petition_form(**changes) if kind == "petition" else letter_form(**changes)


def _official(**changes: str) -> dict[str, str]:
    data = {
        "name": "Jane Roe",
        "title": "Mayor of Alameda",
        "level": "local",
        "country": "US",
        "region": "CA",
        "locality": "Alameda",
        "email": "mayor@alameda.example",
    }
    data.update(changes)
    return data


def _update_form(**changes: str) -> dict[str, str]:
    data = {
        "title_en": "The council votes on Monday",
        "title_it": "",
        "body_en": "Come to City Hall at **six**.",
        "body_it": "",
        "email_signers": "on",
        "send": "1",
    }
    data.update(changes)
    return data


def _base(organization: Organization) -> str:
    return f"/en/organizations/{organization.slug}/campaigns/"


def _page(organization: Organization, kind: str, campaign: Any) -> str:
    return f"{_base(organization)}{kind}/{campaign.pk}/"


def _draft(client: Client, organization: Organization, kind: str, **changes: Any) -> Any:
    """A draft the logged-in editor saves through the form."""
    model = Petition if kind == "petition" else OpenLetter
    known = set(model.objects.values_list("pk", flat=True))
    response = client.post(f"{_base(organization)}new/{kind}/", _form(kind, save="1", **changes))
    assert response.status_code == 302, response.content.decode()[:2000]
    return model.objects.exclude(pk__in=known).get()


def _approved(client: Client, organization: Organization, user: User, **changes: Any) -> Petition:
    """A petition the organization drafted and staff approved: open for signatures."""
    petition = _draft(client, organization, "petition", **changes)
    services.draft_submit(
        kind=PETITION, campaign_id=petition.pk, organization=organization, user=user
    )
    services.draft_publish(kind=PETITION, campaign_id=petition.pk, user=_staff())
    petition.refresh_from_db()
    return petition


def _post(client: Client, url: str, data: dict[str, Any] | None = None) -> Any:
    """A POST whose messages `_messages` reads alone: those of earlier requests (kept in the
    messages cookie until a page shows them) are dropped first."""
    client.cookies.pop("messages", None)
    return client.post(url, data or {})


def _messages(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def _sent() -> list[tuple[str, str, str]]:
    """Send what the outbox owes; (to, subject, body) of each message sent."""
    outbox_drain()
    return [(m.to[0], m.subject, m.body) for m in mail.outbox]


def _quiet() -> None:
    """Send what is owed so far and forget it: a test then reads only the mail it caused."""
    outbox_drain()
    mail.outbox.clear()


def _snapshot() -> dict[str, Any]:
    """Everything a drafting URL could write, to compare before and after."""
    return {
        "petitions": list(
            Petition.objects.order_by("pk").values_list(
                "pk", "title_en", "title_it", "review", "status", "submitted_at", "organization"
            )
        ),
        "letters": list(
            OpenLetter.objects.order_by("pk").values_list(
                "pk", "title_en", "title_it", "review", "status", "submitted_at", "organization"
            )
        ),
        "petition_versions": PetitionVersion.objects.count(),
        "letter_versions": LetterVersion.objects.count(),
        "petition_invitations": list(
            PetitionInvitation.objects.order_by("pk").values_list(
                "pk", "organization", "role", "status"
            )
        ),
        "letter_invitations": list(
            LetterInvitation.objects.order_by("pk").values_list(
                "pk", "organization", "role", "status"
            )
        ),
        "targets": list(
            Target.objects.order_by("pk").values_list("pk", "active", "awaiting_confirmation")
        ),
        "petition_targets": sorted(
            Petition.targets.through.objects.values_list("petition_id", "target_id")
        ),
        "letter_targets": sorted(
            OpenLetter.targets.through.objects.values_list("openletter_id", "target_id")
        ),
        "sponsors": sorted(
            Petition.sponsors.through.objects.values_list("petition_id", "organization_id")
        ),
        "letter_leads": sorted(
            OpenLetter.lead_organizations.through.objects.values_list(
                "openletter_id", "organization_id"
            )
        ),
        "organization_signatures": sorted(
            OrganizationSignature.objects.values_list("letter_id", "organization_id", "status")
        ),
        "updates": list(
            PetitionUpdate.objects.order_by("pk").values_list("pk", "review", "published_at")
        ),
        "emails": OutboundEmail.objects.count(),
    }


@pytest.fixture(params=["first-owns", "second-owns"])
def sides(request: pytest.FixtureRequest, db: None) -> tuple[Organization, Organization]:
    """(the organization the test is about, the other one), both verified: each test runs once
    with each of the pair in the first place."""
    first = OrganizationFactory(name="Oakland Privacy", slug="oakland-privacy")
    second = OrganizationFactory(name="Fight for the Future", slug="fight-for-the-future")
    return (first, second) if request.param == "first-owns" else (second, first)


@dataclass
class World:
    """The owner's drafts of each kind, an approved petition, invitations it received from the
    partner for each kind, an official on its petition draft and one not yet on it."""

    petition: Petition
    letter: OpenLetter
    published: Petition
    invitation: PetitionInvitation
    letter_invitation: LetterInvitation
    on_target: Target
    off_target: Target


def _world(client: Client, owner: Organization, partner: Organization) -> World:
    owner_editor = User.objects.get(email=f"editor@{owner.slug}.example")
    partner_editor = User.objects.get(email=f"editor@{partner.slug}.example")
    on_target = TargetFactory(name="Barbara Lee", title="Mayor of Oakland")
    off_target = TargetFactory(name="Rob Bonta", title="Attorney General", level="state")
    client.force_login(owner_editor)
    petition = _draft(client, owner, "petition")
    client.post(f"{_page(owner, 'petition', petition)}targets/", {"add": on_target.pk})
    assert list(petition.targets.all()) == [on_target]
    letter = _draft(client, owner, "letter")
    published = _approved(client, owner, owner_editor, title_en="Ban face recognition")
    assert published.status == "open"

    client.force_login(partner_editor)
    partner_petition = _draft(client, partner, "petition", title_en="Stop the drones")
    partner_letter = _draft(client, partner, "letter", title_en="No drones over protests")
    for kind, campaign in (("petition", partner_petition), ("letter", partner_letter)):
        client.post(
            f"{_page(partner, kind, campaign)}invite/",
            {"organization": owner.pk, "role": "co_lead"},
        )
    client.logout()
    return World(
        petition=petition,
        letter=letter,
        published=published,
        invitation=PetitionInvitation.objects.get(organization=owner),
        letter_invitation=LetterInvitation.objects.get(organization=owner),
        on_target=on_target,
        off_target=off_target,
    )


def _writes(slug: str, world: World, invite: Organization) -> list[tuple[str, str, dict[str, Any]]]:
    """Every drafting write on the owner's campaigns, addressed with the organization `slug`."""
    base = f"/en/organizations/{slug}/campaigns/"
    requests: list[tuple[str, str, dict[str, Any]]] = []
    for kind, campaign in (("petition", world.petition), ("letter", world.letter)):
        page = f"{base}{kind}/{campaign.pk}/"
        requests += [
            ("post", page, _form(kind, title_en="Hijacked", save="1")),
            ("post", page, _form(kind, title_en="Hijacked", preview="1")),
            ("post", f"{page}submit/", {}),
            ("post", f"{page}targets/", {"add": world.off_target.pk}),
            ("post", f"{page}targets/", {"remove": world.on_target.pk}),
            ("post", f"{page}targets/propose/", _official()),
            ("post", f"{page}invite/", {"organization": invite.pk, "role": "co_lead"}),
        ]
    requests += [
        ("post", f"{base}petition/{world.published.pk}/updates/new/", _update_form()),
        ("post", f"{base}invitations/petition/{world.invitation.pk}/", {"answer": "accept"}),
        ("post", f"{base}invitations/letter/{world.letter_invitation.pk}/", {"answer": "accept"}),
    ]
    return requests


def _reads(slug: str, world: World) -> list[str]:
    base = f"/en/organizations/{slug}/campaigns/"
    urls = []
    for kind, campaign in (("petition", world.petition), ("letter", world.letter)):
        page = f"{base}{kind}/{campaign.pk}/"
        urls += [page, f"{page}history/", f"{page}history/1/", f"{page}targets/propose/"]
    urls.append(f"{base}petition/{world.published.pk}/updates/new/")
    return urls


# --- Another organization's drafts ---------------------------------------------------------------


def test_another_organizations_drafts_are_404_by_either_slug_and_nothing_is_written(
    client, sides
) -> None:
    owner, outsider = sides
    _member(owner)
    outsider_editor = _member(outsider)
    # An administrator holds every right of its own organization, and none of another's.
    outsider_admin = _member(outsider, "admin")
    world = _world(client, owner, outsider)
    before = _snapshot()

    for user in (outsider_editor, outsider_admin):
        client.force_login(user)
        for slug in (owner.slug, outsider.slug):
            for url in _reads(slug, world):
                assert client.get(url).status_code == 404, (user.email, url)
            for method, url, data in _writes(slug, world, invite=outsider):
                response = getattr(client, method)(url, data)
                assert response.status_code == 404, (user.email, method, url, data)
        # The owner's own workspace is not theirs either.
        assert client.get(_base(owner)).status_code == 404
        new = client.post(f"{_base(owner)}new/petition/", petition_form(save="1"))
        assert new.status_code == 404
        assert _snapshot() == before
        # Their own workspace lists nothing of the owner's.
        workspace = client.get(_base(outsider)).content.decode()
        assert "End the Ring partnership" not in workspace
        assert "Investigate police partnerships" not in workspace
        assert "Ban face recognition" not in workspace

    # The same addresses with the owner's slug are the owner's editor's pages.
    client.force_login(User.objects.get(email=f"editor@{owner.slug}.example"))
    for url in _reads(owner.slug, world):
        assert client.get(url).status_code == 200, url


def test_a_new_draft_posted_to_another_organizations_workspace_is_not_created(
    client, sides
) -> None:
    owner, outsider = sides
    _member(owner)
    client.force_login(_member(outsider))
    for kind in ("petition", "letter"):
        assert client.get(f"{_base(owner)}new/{kind}/").status_code == 404
        response = client.post(f"{_base(owner)}new/{kind}/", _form(kind, save="1"))
        assert response.status_code == 404
    assert not Petition.objects.exists()
    assert not OpenLetter.objects.exists()


def test_an_official_another_organization_proposed_is_not_offered_nor_choosable(
    client, sides
) -> None:
    owner, outsider = sides
    owner_editor = _member(owner)
    outsider_editor = _member(outsider)
    client.force_login(owner_editor)
    owner_draft = _draft(client, owner, "petition")
    client.post(f"{_page(owner, 'petition', owner_draft)}targets/propose/", _official())
    proposed = Target.objects.get(proposed_by=owner)

    client.force_login(outsider_editor)
    own_draft = _draft(client, outsider, "petition", title_en="Stop the drones")
    page = _page(outsider, "petition", own_draft)
    search = client.get(page, {"q": "Alameda"})
    assert search.status_code == 200
    assert proposed not in search.context["results"]
    response = _post(client, f"{page}targets/", {"add": proposed.pk})
    assert _messages(response) == ["Choose an official from the directory."]
    assert not own_draft.targets.exists()
    # Its proposer finds it.
    client.force_login(owner_editor)
    mine = client.get(_page(owner, "petition", owner_draft), {"q": "Alameda"})
    assert proposed in mine.context["results"]


def test_a_co_sponsor_or_an_invited_organization_does_not_write_the_campaign(client, sides) -> None:
    """Only the drafting organization and its accepted co-leads reach a draft's pages."""
    owner, partner = sides
    owner_editor = _member(owner)
    partner_editor = _member(partner)
    client.force_login(owner_editor)
    petition = _draft(client, owner, "petition")
    letter = _draft(client, owner, "letter")
    for kind, campaign in (("petition", petition), ("letter", letter)):
        client.post(
            f"{_page(owner, kind, campaign)}invite/",
            {"organization": partner.pk, "role": "co_sponsor"},
        )
    client.force_login(partner_editor)
    pending = {
        kind: _page(partner, kind, c) for kind, c in (("petition", petition), ("letter", letter))
    }
    assert {client.get(url).status_code for url in pending.values()} == {404}
    for kind, invitation in (
        ("petition", PetitionInvitation.objects.get()),
        ("letter", LetterInvitation.objects.get()),
    ):
        client.post(f"{_base(partner)}invitations/{kind}/{invitation.pk}/", {"answer": "accept"})
    assert partner in petition.sponsors.all()
    assert OrganizationSignature.objects.get(letter=letter).organization == partner
    before = _snapshot()
    for kind, url in pending.items():
        assert client.get(url).status_code == 404
        assert client.post(url, _form(kind, title_en="Hijacked", save="1")).status_code == 404
        assert client.post(f"{url}submit/").status_code == 404
    assert _snapshot() == before


# --- Roles within the organization ---------------------------------------------------------------


@pytest.mark.parametrize("role", ["viewer", "steward"])
def test_viewers_and_data_stewards_get_403_on_the_workspace_and_every_write(
    client, sides, role
) -> None:
    owner, partner = sides
    _member(owner)
    _member(partner)
    world = _world(client, owner, partner)
    before = _snapshot()
    client.force_login(_member(owner, role))

    assert client.get(_base(owner)).status_code == 403
    for kind in ("petition", "letter"):
        assert client.get(f"{_base(owner)}new/{kind}/").status_code == 403
        assert client.post(f"{_base(owner)}new/{kind}/", _form(kind, save="1")).status_code == 403
    for url in _reads(owner.slug, world):
        assert client.get(url).status_code == 403, url
    for method, url, data in _writes(owner.slug, world, invite=partner):
        assert getattr(client, method)(url, data).status_code == 403, (method, url, data)
    # Membership.create above wrote no outbox row; nothing else changed.
    assert _snapshot() == before


@pytest.mark.parametrize("role", ["editor", "admin"])
def test_editors_and_administrators_draft_invite_answer_and_submit(client, sides, role) -> None:
    owner, partner = sides
    partner_editor = _member(partner)
    user = _member(owner, role)
    client.force_login(partner_editor)
    partner_letter = _draft(client, partner, "letter", title_en="No drones over protests")
    client.post(
        f"{_page(partner, 'letter', partner_letter)}invite/",
        {"organization": owner.pk, "role": "co_lead"},
    )
    target = TargetFactory()

    client.force_login(user)
    assert client.get(_base(owner)).status_code == 200
    petition = _draft(client, owner, "petition")
    page = _page(owner, "petition", petition)
    assert (petition.organization, petition.review) == (owner, "editing")
    for url in (page, f"{page}history/", f"{page}history/1/", f"{page}targets/propose/"):
        assert client.get(url).status_code == 200, url
    assert client.post(page, petition_form(title_it="Basta Ring", save="1")).status_code == 302
    assert client.post(f"{page}targets/", {"add": target.pk}).status_code == 302
    assert client.post(f"{page}targets/propose/", _official()).status_code == 302
    assert client.post(f"{page}targets/", {"remove": target.pk}).status_code == 302
    client.post(f"{page}invite/", {"organization": partner.pk, "role": "co_sponsor"})
    assert client.post(f"{page}submit/").status_code == 302
    petition.refresh_from_db()
    assert petition.title_it == "Basta Ring"
    assert list(petition.targets.values_list("name", flat=True)) == ["Jane Roe"]
    assert PetitionInvitation.objects.get(campaign=petition).organization == partner
    assert petition.review == "submitted"

    invitation = LetterInvitation.objects.get(organization=owner)
    client.post(f"{_base(owner)}invitations/letter/{invitation.pk}/", {"answer": "accept"})
    assert owner in partner_letter.lead_organizations.all()
    # As a co-lead it writes the partner's letter too.
    assert client.get(_page(owner, "letter", partner_letter)).status_code == 200

    published = _approved(client, owner, user, title_en="Ban face recognition")
    response = client.post(f"{_page(owner, 'petition', published)}updates/new/", _update_form())
    assert response.status_code == 302
    assert PetitionUpdate.objects.get().organization == owner


# --- Organizations staff have not verified -------------------------------------------------------


def _unverify(organization: Organization, verification: str) -> None:
    Organization.objects.filter(pk=organization.pk).update(
        verification=verification, verified_at=None
    )
    organization.refresh_from_db()


@pytest.mark.parametrize("verification", ["rejected", "pending", "unverified"])
def test_an_organization_not_verified_cannot_draft_submit_invite_or_accept(
    client, sides, verification
) -> None:
    owner, partner = sides
    editor = _member(owner)
    _member(partner)
    world = _world(client, owner, partner)
    _unverify(owner, verification)
    _quiet()
    before = _snapshot()
    client.force_login(editor)

    for kind in ("petition", "letter"):
        response = _post(client, f"{_base(owner)}new/{kind}/", _form(kind, save="1"))
        assert (response.status_code, response.url) == (302, _base(owner))
        assert _messages(response) == [NOT_VERIFIED]
        assert client.get(f"{_base(owner)}new/{kind}/").status_code == 302

    for kind, campaign in (("petition", world.petition), ("letter", world.letter)):
        page = _page(owner, kind, campaign)
        submitted = _post(client, f"{page}submit/")
        assert (submitted.status_code, submitted.url) == (302, page)
        assert _messages(submitted) == [NOT_VERIFIED]
        invited = _post(client, f"{page}invite/", {"organization": partner.pk, "role": "co_lead"})
        assert _messages(invited) == [NOT_VERIFIED]
        proposed = client.post(f"{page}targets/propose/", _official())
        assert proposed.status_code == 400
        assert NOT_VERIFIED in proposed.content.decode()
        assert "Jane Roe" in proposed.content.decode()

    for kind, invitation in (("petition", world.invitation), ("letter", world.letter_invitation)):
        answered = _post(
            client, f"{_base(owner)}invitations/{kind}/{invitation.pk}/", {"answer": "accept"}
        )
        assert (answered.status_code, answered.url) == (302, _base(owner))
        assert _messages(answered) == [NOT_VERIFIED]

    # Nor write to the signers of the petition staff approved before.
    update = client.post(
        f"{_page(owner, 'petition', world.published)}updates/new/",
        _update_form(body_en="Typed, refused, kept."),
    )
    assert update.status_code == 400
    assert NOT_VERIFIED in update.content.decode()
    assert "Typed, refused, kept." in update.content.decode()

    assert _snapshot() == before
    assert _sent() == []


@pytest.mark.parametrize("verification", ["rejected", "pending", "unverified"])
def test_the_services_refuse_an_organization_not_verified(client, sides, verification) -> None:
    owner, partner = sides
    editor = _member(owner)
    _member(partner)
    world = _world(client, owner, partner)
    _unverify(owner, verification)
    before = _snapshot()

    steps = [
        lambda: services.draft_create(
            kind=PETITION,
            campaign=Petition(title_en="Another", summary_en="Another one."),
            organization=owner,
            user=editor,
        ),
        lambda: services.draft_submit(
            kind=PETITION, campaign_id=world.petition.pk, organization=owner, user=editor
        ),
        lambda: services.draft_submit(
            kind=LETTER, campaign_id=world.letter.pk, organization=owner, user=editor
        ),
        lambda: services.invitation_create(
            kind=PETITION,
            campaign_id=world.petition.pk,
            organization=owner,
            invited=partner,
            role="co_sponsor",
            user=editor,
        ),
        lambda: services.invitation_decide(
            kind=PETITION,
            invitation_id=world.invitation.pk,
            organization=owner,
            user=editor,
            accept=True,
        ),
        lambda: services.invitation_decide(
            kind=LETTER,
            invitation_id=world.letter_invitation.pk,
            organization=owner,
            user=editor,
            accept=True,
        ),
    ]
    for step in steps:
        with pytest.raises(ValidationError) as refused:
            step()
        assert refused.value.code == "unverified"
    assert _snapshot() == before


@pytest.mark.parametrize("verification", ["rejected", "pending", "unverified"])
def test_an_organization_not_verified_cannot_be_invited(client, sides, verification) -> None:
    owner, invited = sides
    third = OrganizationFactory(name="Privacy International", slug="privacy-international")
    editor = _member(owner)
    _member(invited)
    _unverify(invited, verification)
    client.force_login(editor)
    petition = _draft(client, owner, "petition")
    page = _page(owner, "petition", petition)

    choices = client.get(page).context["invite_form"].fields["organization"].queryset
    assert invited not in choices
    assert third in choices

    _quiet()
    forged = _post(client, f"{page}invite/", {"organization": invited.pk, "role": "co_lead"})
    assert forged.status_code == 302
    assert _messages(forged) == [NOT_LISTED]
    assert not PetitionInvitation.objects.exists()
    with pytest.raises(ValidationError):
        services.invitation_create(
            kind=PETITION,
            campaign_id=petition.pk,
            organization=owner,
            invited=invited,
            role="co_lead",
            user=editor,
        )
    assert not PetitionInvitation.objects.exists()
    assert _sent() == []


# --- Forms refused keep what was typed and write nothing ----------------------------------------


@pytest.mark.parametrize("kind", ["petition", "letter"])
def test_the_draft_form_keeps_what_was_typed_new_and_edit(client, sides, kind) -> None:
    owner, _other = sides
    client.force_login(_member(owner))
    model = Petition if kind == "petition" else OpenLetter

    missing = client.post(
        f"{_base(owner)}new/{kind}/",
        _form(kind, title_en="", summary_en="Typed and kept, new.", save="1"),
    )
    assert missing.status_code == 400
    assert "Typed and kept, new." in missing.content.decode()
    assert not model.objects.exists()

    campaign = _draft(client, owner, kind)
    versions = campaign.versions.count()
    edited = client.post(
        _page(owner, kind, campaign),
        _form(kind, title_en="", summary_en="Typed and kept, edit.", save="1"),
    )
    assert edited.status_code == 400
    assert "Typed and kept, edit." in edited.content.decode()
    stored = model.objects.get()
    assert (stored.title_en, stored.summary_en) == (campaign.title_en, campaign.summary_en)
    assert stored.versions.count() == versions


def test_the_propose_official_form_keeps_what_was_typed(client, sides) -> None:
    owner, _other = sides
    client.force_login(_member(owner))
    petition = _draft(client, owner, "petition")
    versions = petition.versions.count()
    response = client.post(
        f"{_page(owner, 'petition', petition)}targets/propose/",
        _official(locality="", name="Typed Official", email="typed@alameda.example"),
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "A local target needs a locality." in page
    assert "Typed Official" in page
    assert "typed@alameda.example" in page
    assert not Target.objects.exists()
    assert not petition.targets.exists()
    assert petition.versions.count() == versions


def test_the_update_form_keeps_what_was_typed(client, sides) -> None:
    owner, _other = sides
    editor = _member(owner)
    client.force_login(editor)
    petition = _approved(client, owner, editor)
    _quiet()
    response = client.post(
        f"{_page(owner, 'petition', petition)}updates/new/",
        _update_form(title_en="", body_en="Typed update body, kept."),
    )
    assert response.status_code == 400
    assert "Typed update body, kept." in response.content.decode()
    assert not PetitionUpdate.objects.exists()
    assert _sent() == []


def test_the_invitation_form_refuses_a_forged_organization(client, sides) -> None:
    owner, partner = sides
    client.force_login(_member(owner))
    _member(partner)
    petition = _draft(client, owner, "petition")
    page = _page(owner, "petition", petition)
    _quiet()
    # An id that does not exist, the drafting organization itself, and a role that does not.
    for data in (
        {"organization": 999_999, "role": "co_lead"},
        {"organization": owner.pk, "role": "co_lead"},
        {"organization": "x", "role": "co_lead"},
    ):
        response = _post(client, f"{page}invite/", data)
        assert (response.status_code, response.url) == (302, page)
        assert _messages(response) == [NOT_LISTED]
    bad_role = _post(client, f"{page}invite/", {"organization": partner.pk, "role": "owner"})
    assert _messages(bad_role) == ["Choose co-sponsor or co-lead."]
    assert not PetitionInvitation.objects.exists()
    assert _sent() == []


def test_the_admin_reason_form_refuses_an_empty_reason_and_keeps_what_was_typed(
    client, sides
) -> None:
    owner, _other = sides
    editor = _member(owner)
    client.force_login(editor)
    petition = _draft(client, owner, "petition")
    client.post(f"{_page(owner, 'petition', petition)}targets/propose/", _official())
    client.post(f"{_page(owner, 'petition', petition)}submit/")
    staff = _staff()
    _quiet()
    before = _snapshot()
    client.force_login(staff)
    review = f"/admin/petitions/petition/{petition.pk}/review/"

    for reason in ("", "   \n  "):
        empty = client.post(review, {"reason": reason, "_return": "1"})
        assert empty.status_code == 200
        assert WRITE_THE_REASON in empty.content.decode()
    # A step refused for another reason keeps the reason staff typed.
    refused = client.post(review, {"reason": "Typed by staff, kept.", "_publish": "1"})
    assert refused.status_code == 200
    page = refused.content.decode()
    assert "Confirm or remove the officials this draft proposes before publishing it." in page
    assert "Typed by staff, kept." in page
    assert _snapshot() == before
    assert _sent() == []


# --- The opening clock ----------------------------------------------------------------------------


def test_drafts_not_approved_never_open_and_an_approved_one_opens_on_its_date(
    client, sides
) -> None:
    owner, other = sides
    owner_editor = _member(owner)
    other_editor = _member(other)
    _staff()
    past = timezone.now() - timedelta(days=3)

    client.force_login(owner_editor)
    editing = _draft(client, owner, "petition", title_en="Being written")
    submitted = _draft(client, owner, "petition", title_en="Waiting for review")
    client.post(f"{_page(owner, 'petition', submitted)}submit/")
    client.force_login(other_editor)
    returned = _draft(client, other, "petition", title_en="Returned for changes")
    client.post(f"{_page(other, 'petition', returned)}submit/")
    services.draft_return(
        kind=PETITION, campaign_id=returned.pk, user=_staff(), reason="Name them."
    )
    waiting = [editing, submitted, returned]
    Petition.objects.filter(pk__in=[p.pk for p in waiting]).update(opens_at=past)
    # Staff's own draft, which needs no review, opens on its date as before.
    staff_own = PetitionFactory(status="draft", opens_at=past)

    client.force_login(owner_editor)
    later = _draft(client, owner, "petition", title_en="Opens later", opens_at="2031-05-01T09:00")
    assert later.opens_at is not None
    client.post(f"{_page(owner, 'petition', later)}submit/")
    services.draft_publish(kind=PETITION, campaign_id=later.pk, user=_staff())
    later.refresh_from_db()
    assert (later.status, later.review) == ("draft", "approved")
    # Approved for the same date, then taken back by staff before it: it waits for its editors.
    withdrawn = _draft(
        client, owner, "petition", title_en="Taken back", opens_at="2031-05-01T09:00"
    )
    client.post(f"{_page(owner, 'petition', withdrawn)}submit/")
    services.draft_publish(kind=PETITION, campaign_id=withdrawn.pk, user=_staff())
    services.campaign_unpublish(
        kind=PETITION, campaign_id=withdrawn.pk, user=_staff(), reason="Not yet."
    )

    def statuses() -> dict[int, tuple[str, str]]:
        return {
            pk: (status, review)
            for pk, status, review in Petition.objects.values_list("pk", "status", "review")
        }

    petitions_open_and_close_due(now=later.opens_at - timedelta(minutes=1))
    assert statuses() == {
        editing.pk: ("draft", "editing"),
        submitted.pk: ("draft", "submitted"),
        returned.pk: ("draft", "returned"),
        later.pk: ("draft", "approved"),
        withdrawn.pk: ("draft", "returned"),
        staff_own.pk: ("open", ""),
    }
    petitions_open_and_close_due(now=later.opens_at)
    assert statuses() == {
        editing.pk: ("draft", "editing"),
        submitted.pk: ("draft", "submitted"),
        returned.pk: ("draft", "returned"),
        later.pk: ("open", "approved"),
        withdrawn.pk: ("draft", "returned"),
        staff_own.pk: ("open", ""),
    }
    client.logout()
    assert client.get(f"/en/p/{later.slug}/").status_code == 200
    for petition in waiting:
        assert client.get(f"/en/p/{petition.slug}/").status_code == 404


# --- Drafts are not public ------------------------------------------------------------------------


def test_a_draft_is_404_on_its_public_page_until_staff_approve_it(client, sides) -> None:
    owner, _other = sides
    editor = _member(owner)
    staff = _staff()
    client.force_login(editor)
    petition = _draft(client, owner, "petition")
    letter = _draft(client, owner, "letter")
    # The page, the sponsor's share link to it, its embedded widget, and the letter's page.
    pages = {
        "petition": f"/en/p/{petition.slug}/",
        "share": f"/en/p/{petition.slug}/from/{owner.slug}/",
        "embed": f"/en/p/{petition.slug}/embed/",
        "letter": f"/en/letters/{letter.slug}/",
    }
    anonymous = Client()

    def answers() -> set[int]:
        return {c.get(url).status_code for c in (client, anonymous) for url in pages.values()}

    assert petition.sponsors.get() == owner

    assert answers() == {404}
    for kind, campaign in (("petition", petition), ("letter", letter)):
        client.post(f"{_page(owner, kind, campaign)}submit/")
    assert answers() == {404}
    for draft_kind, campaign in ((PETITION, petition), (LETTER, letter)):
        services.draft_return(kind=draft_kind, campaign_id=campaign.pk, user=staff, reason="No.")
    assert answers() == {404}
    for kind, campaign in (("petition", petition), ("letter", letter)):
        client.post(f"{_page(owner, kind, campaign)}submit/")
    for draft_kind, campaign in ((PETITION, petition), (LETTER, letter)):
        services.draft_publish(kind=draft_kind, campaign_id=campaign.pk, user=staff)
    assert answers() == {200}


# --- Updates to signers ---------------------------------------------------------------------------


@dataclass
class Signers:
    consenting: Signature
    not_consenting: Signature


def _signers(petition: Petition) -> Signers:
    return Signers(
        consenting=SignatureFactory(
            petition=petition, confirmed=True, consent_updates=True, email="yes@example.net"
        ),
        not_consenting=SignatureFactory(
            petition=petition, confirmed=True, consent_updates=False, email="no@example.net"
        ),
    )


def _signer_mail() -> list[str]:
    return [m.to[0] for m in mail.outbox if m.to[0].endswith("@example.net")]


def _update_setup(client: Client, owner: Organization, *, trusted: bool) -> tuple[Petition, User]:
    if trusted:
        Organization.objects.filter(pk=owner.pk).update(trusted=True)
        owner.refresh_from_db()
    editor = _member(owner)
    _member(owner, "viewer")
    client.force_login(editor)
    petition = _approved(client, owner, editor)
    _signers(petition)
    _quiet()
    return petition, editor


def test_an_editors_update_waits_for_review_and_emails_no_signer(client, sides) -> None:
    owner, other = sides
    _member(other)
    petition, _editor = _update_setup(client, owner, trusted=False)
    response = _post(client, f"{_page(owner, 'petition', petition)}updates/new/", _update_form())
    assert response.status_code == 302
    assert _messages(response) == ["Update sent to our staff for review. We email you then."]
    update = PetitionUpdate.objects.get()
    assert (update.organization, update.review, update.published_at) == (owner, "submitted", None)
    assert (
        "The council votes on Monday"
        not in Client().get(f"/en/p/{petition.slug}/").content.decode()
    )
    sent = _sent()
    assert _signer_mail() == []
    assert {to for to, _s, _b in sent} == {
        f"editor@{owner.slug}.example",
        f"viewer@{owner.slug}.example",
    }
    assert all(s == "Update waiting for review: The council votes on Monday" for _t, s, _b in sent)


def test_a_trusted_organizations_update_is_published_and_emailed_at_once(client, sides) -> None:
    owner, _other = sides
    petition, _editor = _update_setup(client, owner, trusted=True)
    response = _post(client, f"{_page(owner, 'petition', petition)}updates/new/", _update_form())
    assert _messages(response) == ["Update published and on its way to signers."]
    update = PetitionUpdate.objects.get()
    assert update.published_at is not None
    assert update.review == "approved"
    page = Client().get(f"/en/p/{petition.slug}/").content.decode()
    assert "The council votes on Monday" in page
    _sent()
    assert _signer_mail() == ["yes@example.net"]
    to_signer = next(m for m in mail.outbox if m.to == ["yes@example.net"])
    assert to_signer.subject.startswith("The council votes on Monday")


def test_trust_is_the_organizations_own_not_its_partners(client, sides) -> None:
    owner, trusted_partner = sides
    Organization.objects.filter(pk=trusted_partner.pk).update(trusted=True)
    petition, _editor = _update_setup(client, owner, trusted=False)
    client.post(f"{_page(owner, 'petition', petition)}updates/new/", _update_form())
    assert PetitionUpdate.objects.get().published_at is None
    _sent()
    assert _signer_mail() == []


def test_staff_unpublishing_an_update_takes_it_off_and_stops_unsent_emails(client, sides) -> None:
    """Through the admin's review page for updates."""
    owner, _other = sides
    petition, _editor = _update_setup(client, owner, trusted=True)
    client.post(f"{_page(owner, 'petition', petition)}updates/new/", _update_form())
    update = PetitionUpdate.objects.get()
    assert OutboundEmail.objects.filter(kind="petition_update", state="pending").count() == 1

    client.force_login(_staff())
    review = f"/admin/petitions/petitionupdate/{update.pk}/review/"
    assert client.get(review).status_code == 200
    empty = client.post(review, {"reason": "", "_unpublish": "1"})
    assert WRITE_THE_REASON in empty.content.decode()
    update.refresh_from_db()
    assert update.unpublished_at is None
    done = client.post(review, {"reason": "The date was wrong.", "_unpublish": "1"})
    assert done.status_code == 302
    update.refresh_from_db()
    assert update.unpublished_at is not None
    page = Client().get(f"/en/p/{petition.slug}/").content.decode()
    assert "The council votes on Monday" not in page
    sent = _sent()
    assert _signer_mail() == []
    unpublished = [b for _t, s, b in sent if s.startswith("Update unpublished")]
    assert len(unpublished) == 2  # the editor and the viewer
    assert all("The date was wrong." in body for body in unpublished)


def test_update_unpublish_service_takes_it_off_and_stops_unsent_emails(client, sides) -> None:
    """The same step as the admin's, through the service: enqueue, unpublish, then drain."""
    owner, _other = sides
    petition, _editor = _update_setup(client, owner, trusted=True)
    client.post(f"{_page(owner, 'petition', petition)}updates/new/", _update_form())
    update = PetitionUpdate.objects.get()
    assert Client().get(f"/en/p/{petition.slug}/").content.decode().count("The council votes") == 1
    with pytest.raises(ValidationError):
        services.update_unpublish(update_id=update.pk, user=_staff(), reason=" ")
    assert services.update_unpublish(
        update_id=update.pk, user=_staff(), reason="The date was wrong."
    )
    assert not services.update_unpublish(update_id=update.pk, user=_staff(), reason="Twice.")
    assert "The council votes" not in Client().get(f"/en/p/{petition.slug}/").content.decode()
    sent = _sent()
    assert _signer_mail() == []
    bodies = [b for _t, s, b in sent if s.startswith("Update unpublished")]
    assert bodies
    assert all("The date was wrong." in body for body in bodies)


def test_staff_returning_an_update_emails_the_organization_the_reason(client, sides) -> None:
    """Through the admin's review page for updates."""
    owner, other = sides
    _member(other)
    petition, _editor = _update_setup(client, owner, trusted=False)
    client.post(f"{_page(owner, 'petition', petition)}updates/new/", _update_form())
    update = PetitionUpdate.objects.get()
    _quiet()

    client.force_login(_staff())
    review = f"/admin/petitions/petitionupdate/{update.pk}/review/"
    empty = client.post(review, {"reason": "", "_return": "1"})
    assert WRITE_THE_REASON in empty.content.decode()
    done = client.post(review, {"reason": "Say which council meeting.", "_return": "1"})
    assert done.status_code == 302
    update.refresh_from_db()
    assert (update.review, update.review_reason, update.published_at) == (
        "returned",
        "Say which council meeting.",
        None,
    )
    sent = _sent()
    assert {to for to, _s, _b in sent} == {
        f"editor@{owner.slug}.example",
        f"viewer@{owner.slug}.example",
    }
    assert all("Say which council meeting." in body for _t, _s, body in sent)
    assert _signer_mail() == []


def test_update_return_service_emails_the_organization_the_reason(client, sides) -> None:
    owner, other = sides
    _member(other)
    petition, _editor = _update_setup(client, owner, trusted=False)
    client.post(f"{_page(owner, 'petition', petition)}updates/new/", _update_form())
    update = PetitionUpdate.objects.get()
    _quiet()
    assert services.update_return(
        update_id=update.pk, user=_staff(), reason="Say which council meeting."
    )
    sent = _sent()
    assert {to for to, _s, _b in sent} == {
        f"editor@{owner.slug}.example",
        f"viewer@{owner.slug}.example",
    }
    assert all(s == "Update returned: The council votes on Monday" for _t, s, _b in sent)
    assert all("Say which council meeting." in body for _t, _s, body in sent)
    # A returned update is never sent.
    assert "The council votes" not in Client().get(f"/en/p/{petition.slug}/").content.decode()
    assert _signer_mail() == []


# --- Staff in the admin ---------------------------------------------------------------------------


def test_confirming_a_proposed_official_activates_it_and_emails_the_proposer(client, sides) -> None:
    owner, other = sides
    client.force_login(_member(owner))
    _member(other)
    petition = _draft(client, owner, "petition")
    client.post(f"{_page(owner, 'petition', petition)}targets/propose/", _official())
    proposed = Target.objects.get()
    assert (proposed.active, proposed.awaiting_confirmation) == (False, True)
    directory = TargetFactory()
    _quiet()

    client.force_login(_staff())
    response = _post(
        client,
        "/admin/petitions/target/",
        {"action": "confirm", "_selected_action": [proposed.pk, directory.pk]},
    )
    assert "Confirmed 1 official." in _messages(response)
    assert "1 was not awaiting confirmation." in _messages(response)
    proposed.refresh_from_db()
    assert (proposed.active, proposed.awaiting_confirmation) == (True, False)
    sent = _sent()
    assert [(to, subject) for to, subject, _b in sent] == [
        (f"editor@{owner.slug}.example", "Official confirmed: Mayor of Alameda (Jane Roe)")
    ]


def test_publishing_is_refused_while_a_proposed_official_awaits_confirmation(client, sides) -> None:
    owner, _other = sides
    client.force_login(_member(owner))
    petition = _draft(client, owner, "petition")
    page = _page(owner, "petition", petition)
    client.post(f"{page}targets/propose/", _official())
    client.post(f"{page}submit/")
    proposed = Target.objects.get()

    client.force_login(_staff())
    review = f"/admin/petitions/petition/{petition.pk}/review/"
    refused = client.post(review, {"reason": "", "_publish": "1"})
    assert refused.status_code == 200
    assert (
        "Confirm or remove the officials this draft proposes before publishing it."
        in refused.content.decode()
    )
    petition.refresh_from_db()
    assert (petition.status, petition.review) == ("draft", "submitted")
    assert Client().get(f"/en/p/{petition.slug}/").status_code == 404

    client.post(
        "/admin/petitions/target/", {"action": "confirm", "_selected_action": [proposed.pk]}
    )
    assert client.post(review, {"reason": "", "_publish": "1"}).status_code == 302
    petition.refresh_from_db()
    assert (petition.status, petition.review) == ("open", "approved")


def test_the_review_queues_list_only_submitted_campaigns(client, sides) -> None:
    owner, other = sides
    owner_editor = _member(owner)
    other_editor = _member(other)
    staff = _staff()
    submitted: dict[str, set[int]] = {"petition": set(), "letter": set()}
    left_out: dict[str, set[int]] = {"petition": set(), "letter": set()}
    for organization, editor in ((owner, owner_editor), (other, other_editor)):
        client.force_login(editor)
        for kind, draft_kind in (("petition", PETITION), ("letter", LETTER)):
            prefix = f"{organization.slug} {kind}"
            editing = _draft(client, organization, kind, title_en=f"{prefix} editing")
            waiting = _draft(client, organization, kind, title_en=f"{prefix} waiting")
            returned = _draft(client, organization, kind, title_en=f"{prefix} returned")
            approved = _draft(client, organization, kind, title_en=f"{prefix} approved")
            for campaign in (waiting, returned, approved):
                client.post(f"{_page(organization, kind, campaign)}submit/")
            services.draft_return(
                kind=draft_kind, campaign_id=returned.pk, user=staff, reason="No."
            )
            services.draft_publish(kind=draft_kind, campaign_id=approved.pk, user=staff)
            submitted[kind].add(waiting.pk)
            left_out[kind] |= {editing.pk, returned.pk, approved.pk}
    left_out["petition"].add(PetitionFactory().pk)  # staff's own: never reviewed
    left_out["petition"].add(PetitionFactory(status="draft").pk)

    client.force_login(staff)
    for kind, queue in (
        ("petition", "/admin/petitions/petitionreview/"),
        ("letter", "/admin/letters/letterreview/"),
    ):
        response = client.get(queue)
        assert response.status_code == 200
        listed = {row.pk for row in response.context["cl"].result_list}
        assert listed == submitted[kind]
        assert not listed & left_out[kind]
        assert len(submitted[kind]) == 2


@pytest.mark.parametrize("kind", ["petition", "letter"])
def test_staff_unpublish_an_approved_campaign_with_a_reason(client, sides, kind) -> None:
    owner, other = sides
    editor = _member(owner)
    _member(other)
    staff = _staff()
    client.force_login(editor)
    campaign = _draft(client, owner, kind)
    client.post(f"{_page(owner, kind, campaign)}submit/")
    draft_kind = PETITION if kind == "petition" else LETTER
    services.draft_publish(kind=draft_kind, campaign_id=campaign.pk, user=staff)
    public = f"/en/p/{campaign.slug}/" if kind == "petition" else f"/en/letters/{campaign.slug}/"
    assert Client().get(public).status_code == 200
    _quiet()

    client.force_login(staff)
    app = "petitions/petition" if kind == "petition" else "letters/openletter"
    review = f"/admin/{app}/{campaign.pk}/review/"
    empty = client.post(review, {"reason": "", "_unpublish": "1"})
    assert WRITE_THE_REASON in empty.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == "open"
    assert Client().get(public).status_code == 200

    done = client.post(review, {"reason": "It names a private person.", "_unpublish": "1"})
    assert done.status_code == 302
    campaign.refresh_from_db()
    assert (campaign.status, campaign.review, campaign.review_reason) == (
        "draft",
        "returned",
        "It names a private person.",
    )
    assert Client().get(public).status_code == 404
    assert campaign.versions.order_by("-number").first().event == "unpublished"
    sent = _sent()
    assert [(to, subject) for to, subject, _b in sent] == [
        (f"editor@{owner.slug}.example", f"Unpublished: {campaign.title}")
    ]
    assert "It names a private person." in sent[0][2]
    # Back with its editors, who may change it again.
    client.force_login(editor)
    assert client.get(_page(owner, kind, campaign)).context["editable"] is True


# --- Invitations are answered once ----------------------------------------------------------------


def test_an_invitation_is_answered_once_only(client, sides) -> None:
    owner, invited = sides
    owner_editor = _member(owner)
    invited_editor = _member(invited)
    client.force_login(owner_editor)
    petition = _draft(client, owner, "petition")
    letter = _draft(client, owner, "letter")
    client.post(
        f"{_page(owner, 'petition', petition)}invite/",
        {"organization": invited.pk, "role": "co_sponsor"},
    )
    client.post(
        f"{_page(owner, 'letter', letter)}invite/",
        {"organization": invited.pk, "role": "co_sponsor"},
    )
    petition_invitation = PetitionInvitation.objects.get()
    letter_invitation = LetterInvitation.objects.get()
    _quiet()

    client.force_login(invited_editor)
    answer = f"{_base(invited)}invitations/"
    accepted = _post(client, f"{answer}petition/{petition_invitation.pk}/", {"answer": "accept"})
    assert _messages(accepted)[0].startswith("Accepted:")
    declined = _post(client, f"{answer}letter/{letter_invitation.pk}/", {"answer": "decline"})
    assert _messages(declined) == ["Declined. We told the organization that invited you."]
    first = _sent()
    assert len(first) == 2  # the owner's editor hears each answer once
    mail.outbox.clear()
    before = _snapshot()

    for url, answer_again in (
        (f"{answer}petition/{petition_invitation.pk}/", "decline"),
        (f"{answer}petition/{petition_invitation.pk}/", "accept"),
        (f"{answer}letter/{letter_invitation.pk}/", "accept"),
        (f"{answer}letter/{letter_invitation.pk}/", "decline"),
    ):
        again = _post(client, url, {"answer": answer_again})
        assert (again.status_code, again.url) == (302, _base(invited))
        assert _messages(again) == [ANSWERED]
    assert _snapshot() == before
    petition_invitation.refresh_from_db()
    letter_invitation.refresh_from_db()
    assert (petition_invitation.status, letter_invitation.status) == ("accepted", "declined")
    assert set(petition.sponsors.all()) == {owner, invited}
    assert not OrganizationSignature.objects.filter(organization=invited).exists()
    assert _sent() == []
    with pytest.raises(ValidationError) as refused:
        services.invitation_decide(
            kind=LETTER,
            invitation_id=letter_invitation.pk,
            organization=invited,
            user=invited_editor,
            accept=True,
        )
    assert refused.value.code == "answered"
