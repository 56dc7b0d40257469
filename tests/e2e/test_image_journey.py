"""A campaign's image and its share card, in a browser (issue 20, item 7):
- an editor of the lead organization opens the draft's image page, chooses a phone photo that
  carries its GPS position and camera, forgets the Italian description and is told so, with
  the English one kept and the file to choose again; then saves it with both;
- once staff publish the petition, a reader sees the picture with its description, in widths
  the browser picks from (srcset, with its size so nothing shifts), and the file the browser got
  holds no EXIF, no GPS, no camera: only pixels;
- the page's meta tags name its share card, a 1200 x 630 PNG of its title and count, which a
  social network fetches from the address they give, also from the page cache's shared copy.
On desktop and on a phone, with axe-core's audit of every page visited."""

from __future__ import annotations

import io

import pytest
from django.core.files.storage import default_storage
from PIL import Image as PillowImage
from playwright.sync_api import Page, expect

from accounts.models import Membership, Organization, User
from mechanisms import page_cache
from petitions.drafting import services
from petitions.drafting.petition_kind import PETITION
from petitions.models import Petition
from tests.conftest import STAFF_PASSWORD
from tests.e2e.helpers import PASSWORD, audit, log_in, visit
from tests.factories import OrganizationFactory, PetitionFactory
from tests.images import (
    SECRET_COMMENT,
    SECRET_MAKE,
    SECRET_XMP,
    fresh_media,  # noqa: F401 (a fixture, used by pytestmark)
    photo_bytes,
)

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("fresh_media")]

EDITOR = "ed@oaklandprivacy.example"
ALT_EN = "Residents fill the council chamber, holding signs"
ALT_IT = "I residenti riempiono l'aula del consiglio con dei cartelli"


@pytest.fixture
def draft(transactional_db) -> Petition:
    lead = OrganizationFactory(name="Oakland Privacy", slug="oakland-privacy")
    user = User.objects.create_user(EDITOR, PASSWORD, full_name="Tracy Rosenberg")
    Membership.objects.create(user=user, organization=lead, role=Membership.Role.EDITOR)
    return PetitionFactory(
        organization=lead,
        review="editing",
        status="draft",
        title_en="End the Ring partnership in Oakland",
        signature_count=0,
    )


@pytest.fixture
def photo(tmp_path) -> str:
    path = tmp_path / "IMG_2041.jpg"
    path.write_bytes(photo_bytes((2000, 1500)))
    return str(path)


def _publish(petition: Petition) -> None:
    organization = petition.organization
    assert isinstance(organization, Organization)
    editor = User.objects.get(email=EDITOR)
    staff = User.objects.create_superuser("staff@cosign.example", STAFF_PASSWORD)
    services.draft_submit(
        kind=PETITION, campaign_id=petition.pk, organization=organization, user=editor
    )
    services.draft_publish(kind=PETITION, campaign_id=petition.pk, user=staff)


def _fetched(page: Page, url: str) -> bytes:
    response = page.request.get(url)
    assert response.status == 200, f"{url}: {response.status}"
    return response.body()


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_an_image_uploaded_with_its_descriptions_is_served_stripped_and_shared_with_a_card(
    browse, draft, photo, settings, device
) -> None:
    workspace = f"/en/organizations/oakland-privacy/campaigns/petition/{draft.pk}/"
    editor = browse(device=device)
    visit(editor, workspace)
    log_in(editor, EDITOR)
    image_section = editor.get_by_role("region", name="Image")
    expect(image_section).to_contain_text("No image yet.")
    image_section.get_by_role("link", name="Add an image").click()
    expect(editor.get_by_role("heading", level=1)).to_contain_text("Image of")
    audit(editor, "image-upload")

    editor.get_by_label("Image", exact=True).set_input_files(photo)
    editor.get_by_label("Description in English").fill(ALT_EN)
    editor.get_by_role("button", name="Save the image").click()
    alert = editor.get_by_role("alert")
    expect(alert).to_contain_text("choose the image again")
    expect(alert).to_contain_text("Describe the image in this language too.")
    expect(editor.get_by_label("Description in English")).to_have_value(ALT_EN)
    assert not default_storage.exists("images")
    audit(editor, "image-upload-refused")

    editor.get_by_label("Image", exact=True).set_input_files(photo)
    editor.get_by_label("Description in Italian").fill(ALT_IT)
    editor.get_by_role("button", name="Save the image").click()
    expect(editor.get_by_role("status").first).to_contain_text("Image saved.")
    expect(editor.get_by_role("img", name=ALT_EN)).to_be_visible()
    audit(editor, "image-saved")

    _publish(draft)
    # Readers get the page cache's shared copy, as in production.
    settings.PETITION_PAGE_CACHE_SECONDS = 60
    page_cache._local.clear()
    page_cache._shared_paths.clear()
    try:
        reader = browse(device=device)
        visit(reader, f"/en/p/{draft.slug}/")
        picture = reader.get_by_role("img", name=ALT_EN)
        expect(picture).to_be_visible()
        assert picture.evaluate("img => img.complete && img.naturalWidth > 0")
        assert picture.get_attribute("width") == "1600"
        assert picture.get_attribute("height") == "1200"
        assert picture.get_attribute("srcset").count("w, ") == 2
        audit(reader, "image-petition-page")

        # The very bytes the browser was given: only pixels.
        served = _fetched(reader, picture.evaluate("img => img.currentSrc"))
        received = PillowImage.open(io.BytesIO(served))
        assert received.format == "JPEG"
        assert dict(received.getexif()) == {}
        assert not {"exif", "icc_profile", "xmp", "comment"} & set(received.info)
        for secret in (SECRET_MAKE.encode(), SECRET_XMP, SECRET_COMMENT, b"Exif", b"GPS"):
            assert secret not in served

        # A second reader gets the shared copy, whose tags name the card of its count.
        again = browse(device=device)
        visit(again, f"/en/p/{draft.slug}/")
        card_url = again.locator('meta[property="og:image"]').get_attribute("content")
        assert card_url == f"{settings.SITE_URL}/en/p/{draft.slug}/card/0.png"
        expect(again.locator('meta[name="twitter:card"]')).to_have_attribute(
            "content", "summary_large_image"
        )
        expect(again.locator('meta[property="og:image:alt"]')).to_have_attribute(
            "content", "End the Ring partnership in Oakland: 0 signatures"
        )
        card = PillowImage.open(io.BytesIO(_fetched(again, card_url)))
        assert (card.format, card.size) == ("PNG", (1200, 630))
    finally:
        page_cache._local.clear()
        page_cache._shared_paths.clear()
