"""A campaign's image in the organizations' workspace (petitions/drafting/image_views.py) and in
the admin (mechanisms/admin_images.py): uploaded with its description in both languages,
replaced, removed; refused with a message and what was typed kept, and nothing stored, when
the file or the descriptions are wrong, when the draft is with staff, and for anyone who does
not lead the campaign (other organizations: 404; members who may not edit: 403)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse

from accounts.models import Membership, Organization, User
from letters.models import OpenLetter
from mechanisms.images import FOLDER, Image
from petitions.models import Petition, PetitionInvitation
from tests.admin_forms import admin_edit
from tests.factories import OpenLetterFactory, OrganizationFactory, PetitionFactory
from tests.images import (
    SVG,
    fresh_media,  # noqa: F401 (a fixture, used by pytestmark)
    photo_bytes,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_media")]

PASSWORD = "a long enough password 42"
ALT = {"image_alt_en": "Residents at the council meeting", "image_alt_it": "Residenti al consiglio"}


def _member(organization: Organization, role: str = "editor") -> User:
    user = User.objects.create_user(f"{role}@{organization.slug}.example", PASSWORD)
    Membership.objects.create(user=user, organization=organization, role=role)
    return user


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _file(data: bytes | None = None, name: str = "rally.jpg") -> io.BytesIO:
    handle = io.BytesIO(photo_bytes() if data is None else data)
    handle.name = name
    return handle


def _url(organization: Organization, campaign: Any) -> str:
    kind = "petition" if isinstance(campaign, Petition) else "letter"
    return f"/en/organizations/{organization.slug}/campaigns/{kind}/{campaign.pk}/image/"


def _stored() -> list[str]:
    if not default_storage.exists(FOLDER):
        return []
    return sorted(default_storage.listdir(FOLDER)[1])


@pytest.fixture
def owner() -> Organization:
    return OrganizationFactory(name="Oakland Privacy", slug="oakland-privacy")


@pytest.fixture(params=["petition", "letter"])
def draft(request, owner) -> Any:
    factory = PetitionFactory if request.param == "petition" else OpenLetterFactory
    return factory(organization=owner, review="editing", status="draft")


@pytest.fixture
def editor(owner) -> Client:
    return _client(_member(owner))


def test_an_editor_uploads_an_image_with_its_descriptions(editor, owner, draft) -> None:
    response = editor.post(_url(owner, draft), {"image": _file(), **ALT})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.image is not None
    assert (draft.image_alt_en, draft.image_alt_it) == (ALT["image_alt_en"], ALT["image_alt_it"])
    assert _stored() == sorted(item["name"].split("/")[1] for item in draft.image.renditions)
    page = editor.get(response["Location"]).content.decode()
    assert "Image saved." in page
    assert draft.image.thumbnail in page


@pytest.mark.parametrize("missing", ["image_alt_en", "image_alt_it"])
def test_an_image_without_a_description_is_refused_and_what_was_typed_kept(
    editor, owner, draft, missing
) -> None:
    typed = {**ALT, missing: "  "}
    response = editor.post(_url(owner, draft), {"image": _file(), **typed})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Describe the image in this language too." in page
    assert "choose the image again" in page
    kept = "image_alt_it" if missing == "image_alt_en" else "image_alt_en"
    assert f'value="{ALT[kept]}"' in page
    assert not Image.objects.exists() and _stored() == []
    draft.refresh_from_db()
    assert draft.image is None


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (SVG, "rally.svg", "not a JPEG, PNG or WebP image"),
        (b"hello", "rally.jpg", "not a JPEG, PNG or WebP image"),
        (photo_bytes((300, 120)), "small.jpg", "too small"),
    ],
)
def test_a_file_that_is_not_an_acceptable_image_is_refused(
    editor, owner, draft, data, name, message
) -> None:
    response = editor.post(_url(owner, draft), {"image": _file(data, name), **ALT})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Image.objects.exists() and _stored() == []


def test_no_file_and_no_image_yet_asks_for_one(editor, owner, draft) -> None:
    response = editor.post(_url(owner, draft), ALT)
    assert response.status_code == 400
    assert "Choose an image." in response.content.decode()


def test_a_body_far_over_the_limit_is_refused_before_it_is_read(
    editor, owner, draft, settings
) -> None:
    settings.IMAGE_MAX_BYTES = 100 * 1024
    big = _file(b"\xff" * (600 * 1024), "huge.jpg")
    response = editor.post(_url(owner, draft), {"image": big, **ALT})
    assert response.status_code == 413
    assert "far too large" in response.content.decode()
    assert not Image.objects.exists() and _stored() == []


def test_a_file_over_the_limit_is_dropped_as_it_arrives_and_refused(
    editor, owner, draft, settings
) -> None:
    # Within the body's margin (so the form is read), over the file limit: even with an image
    # already there, the missing file is not taken for a change of descriptions alone.
    editor.post(_url(owner, draft), {"image": _file(), **ALT})
    draft.refresh_from_db()
    before = draft.image_id
    settings.IMAGE_MAX_BYTES = 100 * 1024
    big = _file(photo_bytes((1800, 1200)) + b"\0" * (150 * 1024), "big.jpg")
    response = editor.post(_url(owner, draft), {"image": big, **ALT, "image_alt_en": "Changed"})
    assert response.status_code == 400
    assert "larger than" in response.content.decode()
    assert 'value="Changed"' in response.content.decode()
    # Dropped while it streamed in, not read whole and refused afterwards.
    assert "image" not in response.wsgi_request.FILES
    draft.refresh_from_db()
    assert draft.image_id == before and draft.image_alt_en == ALT["image_alt_en"]
    assert Image.objects.count() == 1


def test_the_upload_page_still_checks_the_csrf_token(owner, draft) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(_member(owner))
    response = client.post(_url(owner, draft), {"image": _file(), **ALT})
    assert response.status_code == 403
    _untouched(draft)


def test_replacing_and_removing_the_image_deletes_the_old_files(
    editor, owner, draft, django_capture_on_commit_callbacks
) -> None:
    editor.post(_url(owner, draft), {"image": _file(), **ALT})
    draft.refresh_from_db()
    first = draft.image
    other = photo_bytes((1000, 700))
    with django_capture_on_commit_callbacks(execute=True):
        assert editor.post(_url(owner, draft), {"image": _file(other), **ALT}).status_code == 302
    draft.refresh_from_db()
    assert draft.image_id != first.pk
    assert not Image.objects.filter(pk=first.pk).exists()
    assert not any(default_storage.exists(item["name"]) for item in first.renditions)
    # A description changed alone keeps the image.
    changed = {**ALT, "image_alt_en": "The council chamber, full"}
    assert editor.post(_url(owner, draft), changed).status_code == 302
    draft.refresh_from_db()
    assert draft.image_alt_en == "The council chamber, full"
    second = draft.image
    assert second is not None
    with django_capture_on_commit_callbacks(execute=True):
        assert editor.post(_url(owner, draft), {"remove": "1"}).status_code == 302
    draft.refresh_from_db()
    assert draft.image is None and draft.image_alt_en == "" and draft.image_alt_it == ""
    assert not Image.objects.exists() and _stored() == []


def test_a_co_lead_edits_the_image_too(owner) -> None:
    partner = OrganizationFactory(slug="partner")
    petition = PetitionFactory(organization=owner, review="editing", status="draft")
    PetitionInvitation.objects.create(
        campaign=petition, organization=partner, role="co_lead", status="accepted"
    )
    client = _client(_member(partner))
    assert client.post(_url(partner, petition), {"image": _file(), **ALT}).status_code == 302
    petition.refresh_from_db()
    assert petition.image is not None


def _untouched(campaign: Any) -> None:
    campaign.refresh_from_db()
    assert campaign.image is None
    assert not Image.objects.exists() and _stored() == []


def test_other_organizations_get_404_and_viewers_403_and_nothing_is_stored(owner, draft) -> None:
    other = OrganizationFactory(slug="elsewhere")
    outsider = _client(_member(other))
    # The outsider's own slug, or the owner's: the draft is not known to exist either way.
    for url in (_url(other, draft), _url(owner, draft)):
        assert outsider.get(url).status_code == 404
        assert outsider.post(url, {"image": _file(), **ALT}).status_code == 404
    viewer = _client(_member(owner, "viewer"))
    assert viewer.get(_url(owner, draft)).status_code == 403
    assert viewer.post(_url(owner, draft), {"image": _file(), **ALT}).status_code == 403
    anonymous = Client().post(_url(owner, draft), {"image": _file(), **ALT})
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    _untouched(draft)


def test_a_draft_with_staff_or_published_cannot_change_its_image(editor, owner, draft) -> None:
    type(draft).objects.filter(pk=draft.pk).update(
        review="submitted", submitted_at=draft.created_at
    )
    page = editor.get(_url(owner, draft))
    assert page.status_code == 200
    assert "its image cannot be changed now" in page.content.decode()
    response = editor.post(_url(owner, draft), {"image": _file(), **ALT})
    assert response.status_code == 409
    assert "cannot be changed now" in response.content.decode()
    _untouched(draft)


# --- The admin ------------------------------------------------------------------------------


@pytest.mark.parametrize("model", [Petition, OpenLetter])
def test_staff_upload_replace_and_remove_an_image_in_the_admin(
    editor_client, model, django_capture_on_commit_callbacks
) -> None:
    campaign = (PetitionFactory if model is Petition else OpenLetterFactory)()
    name = "petitions_petition" if model is Petition else "letters_openletter"
    url = reverse(f"admin:{name}_change", args=[campaign.pk])
    page = editor_client.get(url).content.decode()
    assert 'enctype="multipart/form-data"' in page and "No image." in page

    refused = admin_edit(editor_client, campaign, {"image_upload": _file()})
    assert refused.status_code == 200
    assert "Describe the image in this language too." in refused.content.decode()
    assert not Image.objects.exists()

    saved = admin_edit(editor_client, campaign, {"image_upload": _file(), **ALT})
    assert saved.status_code == 302, saved.content.decode()[:3000]
    campaign.refresh_from_db()
    assert campaign.image is not None and campaign.image_alt_it == ALT["image_alt_it"]
    assert campaign.image.thumbnail in editor_client.get(url).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        removed = admin_edit(editor_client, campaign, {"image_remove": "on"})
    assert removed.status_code == 302
    campaign.refresh_from_db()
    assert campaign.image is None and campaign.image_alt_en == ""
    assert not Image.objects.exists() and _stored() == []
