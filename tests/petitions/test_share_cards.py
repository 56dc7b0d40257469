"""Share cards (mechanisms.share_cards, petitions/letters share_cards.py): each campaign page
names a server-drawn PNG with its title and count in its Open Graph and Twitter tags, also in
the page cache's shared copy; the card's address moves with the count, and a card is drawn
once and then served from the cache. And the stored images are served from local storage as
JPEGs only, with long cache headers and the site's security headers."""

from __future__ import annotations

import html
import io
import re
from unittest import mock

import pytest
from django.core.files.storage import default_storage
from django.test import Client
from PIL import Image as PillowImage

from mechanisms import page_cache, share_cards
from mechanisms.images import image_prepare, image_store
from tests.factories import OpenLetterFactory, OrganizationSignatureFactory, PetitionFactory
from tests.images import (
    fresh_media,  # noqa: F401 (a fixture, used by pytestmark)
    photo_bytes,
    upload,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_media")]

OG_IMAGE = re.compile(r'<meta property="og:image" content="([^"]+)">')


def _meta(page: str, name: str) -> str:
    found = re.search(rf'<meta (?:property|name)="{re.escape(name)}" content="([^"]*)">', page)
    assert found, f"no {name} in the page"
    return html.unescape(found.group(1))


def _card_path(page: str, site: str) -> str:
    url = _meta(page, "og:image")
    assert url.startswith(site)
    return url.removeprefix(site)


@pytest.fixture
def site(settings) -> str:
    settings.SITE_URL = "https://cosign.example.org"
    return settings.SITE_URL


@pytest.fixture
def draws():
    """Counts the cards drawn (the drawing itself runs as it is)."""
    with mock.patch.object(share_cards, "card_draw", wraps=share_cards.card_draw) as spy:
        yield spy


def test_the_petition_page_names_its_card_in_its_meta_tags(client, site) -> None:
    petition = PetitionFactory(signature_count=1234)
    page = client.get(petition.get_absolute_url()).content.decode()
    assert _meta(page, "og:image") == f"{site}/en/p/{petition.slug}/card/1234.png"
    assert _meta(page, "og:image:width") == "1200"
    assert _meta(page, "og:image:height") == "630"
    assert _meta(page, "og:image:alt") == f"{petition.title}: 1,234 signatures"
    assert _meta(page, "twitter:card") == "summary_large_image"
    assert _meta(page, "twitter:image") == _meta(page, "og:image")


def test_the_card_is_a_1200_by_630_png_drawn_once_then_cached(client, site, draws) -> None:
    petition = PetitionFactory(signature_count=7)
    path = _card_path(client.get(petition.get_absolute_url()).content.decode(), site)
    first = client.get(path)
    assert first.status_code == 200
    assert first["Content-Type"] == "image/png"
    assert "public" in first["Cache-Control"] and "max-age=" in first["Cache-Control"]
    card = PillowImage.open(io.BytesIO(first.content))
    assert (card.format, card.size) == ("PNG", (1200, 630))
    again = client.get(path)
    assert again.content == first.content
    assert draws.call_count == 1
    assert draws.call_args.kwargs["count_line"] == "7 signatures"
    assert draws.call_args.kwargs["title"] == petition.title


def test_when_the_count_moves_the_page_names_a_new_card_and_the_old_one_redirects(
    client, site, draws
) -> None:
    petition = PetitionFactory(signature_count=99)
    old = _card_path(client.get(petition.get_absolute_url()).content.decode(), site)
    old_png = client.get(old).content
    petition.signature_count = 100
    petition.save(update_fields=["signature_count"])

    new = _card_path(client.get(petition.get_absolute_url()).content.decode(), site)
    assert new != old and new.endswith("/card/100.png")
    moved = client.get(old)
    assert moved.status_code == 302 and moved["Location"] == new
    new_png = client.get(new).content
    assert new_png != old_png
    assert draws.call_count == 2


def test_the_cached_copy_of_the_page_carries_the_card_of_its_count(settings, site) -> None:
    settings.PETITION_PAGE_CACHE_SECONDS = 60
    page_cache._local.clear()
    page_cache._shared_paths.clear()
    clock = mock.Mock(return_value=1_800_000_000.0)
    petition = PetitionFactory(signature_count=10)
    try:
        with mock.patch.object(page_cache, "_clock", clock):
            first = Client().get(petition.get_absolute_url()).content.decode()
            petition.signature_count = 11
            petition.save(update_fields=["signature_count"])
            # The shared copy, made before the count moved: its card matches its count.
            cached = Client().get(petition.get_absolute_url()).content.decode()
            assert _card_path(cached, site) == _card_path(first, site)
            assert _card_path(cached, site).endswith("/card/10.png")
            assert _meta(cached, "twitter:card") == "summary_large_image"
            # The next bucket's copy shows the new count and names the new card.
            clock.return_value += 61
            later = Client().get(petition.get_absolute_url()).content.decode()
            assert _card_path(later, site).endswith("/card/11.png")
    finally:
        page_cache._local.clear()
        page_cache._shared_paths.clear()


def test_the_card_speaks_the_language_of_its_address(client, draws) -> None:
    petition = PetitionFactory(
        signature_count=2, title_en="Stop the cameras", title_it="Fermiamo le telecamere"
    )
    assert client.get(f"/it/p/{petition.slug}/card/2.png").status_code == 200
    assert draws.call_args.kwargs["title"] == "Fermiamo le telecamere"
    assert client.get(f"/en/p/{petition.slug}/card/2.png").status_code == 200
    assert draws.call_args.kwargs["title"] == "Stop the cameras"
    assert draws.call_count == 2


def test_a_draft_has_no_card(client) -> None:
    draft = PetitionFactory(status="draft")
    assert client.get(f"/en/p/{draft.slug}/card/0.png").status_code == 404


def test_a_long_title_in_any_script_still_draws() -> None:
    png = share_cards.card_draw(
        title="Città senza sorveglianza: fermiamo il riconoscimento facciale " * 6
        + "Überwachungskameraverbotsgesetzesentwurfsbegründungsschreiben",
        count_line="12.345 firme",
        site="cosign.example.org",
    )
    assert PillowImage.open(io.BytesIO(png)).size == (1200, 630)


def test_the_letter_page_names_a_card_with_its_organizations(client, site, draws) -> None:
    letter = OpenLetterFactory()
    OrganizationSignatureFactory(letter=letter, approved=True)
    OrganizationSignatureFactory(letter=letter, approved=True)
    page = client.get(letter.get_absolute_url()).content.decode()
    path = _card_path(page, site)
    assert path == f"/en/letters/{letter.slug}/card/2.png"
    assert _meta(page, "og:image:alt") == f"{letter.title}: 2 organizations signed"
    response = client.get(path)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert draws.call_args.kwargs["count_line"] == "2 organizations signed"
    assert client.get(f"/en/letters/{letter.slug}/card/5.png")["Location"] == path


def test_stored_images_are_served_as_jpeg_with_long_cache_and_security_headers(client) -> None:
    image = image_store(prepared=image_prepare(upload=upload(photo_bytes((800, 500)))))
    response = client.get(image.src)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert "immutable" in response["Cache-Control"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" in response
    body = b"".join(response.streaming_content)
    assert PillowImage.open(io.BytesIO(body)).size == (800, 500)


@pytest.mark.parametrize(
    "name",
    ["notes.txt", "..%2F..%2Fconfig%2Fsettings.py", "0123456789abcdef0123456789abcdef-480.png"],
)
def test_nothing_but_stored_image_names_is_served(client, name) -> None:
    # A file under MEDIA_ROOT that this module did not write is not served either.
    default_storage.save("images/notes.txt", io.BytesIO(b"private"))
    assert client.get(f"/media/images/{name}").status_code == 404
    missing = "0123456789abcdef0123456789abcdef-480.jpg"
    assert client.get(f"/media/images/{missing}").status_code == 404
