"""Campaign images (mechanisms.images): an upload is decoded, bounded, turned upright, stripped
of every kind of metadata and stored as a few widths through Django's storage API; anything
that is not a JPEG, PNG or WebP of a sensible size is refused with a message a person can act
on, and nothing is stored for it."""

from __future__ import annotations

import io
import random

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from PIL import Image as PillowImage

from mechanisms import images
from mechanisms.images import Image, image_prepare, image_release, image_store
from tests.factories import OpenLetterFactory, PetitionFactory
from tests.images import (
    SECRET_COMMENT,
    SECRET_MAKE,
    SECRET_XMP,
    SVG,
    fresh_media,  # noqa: F401 (a fixture, used by pytestmark)
    photo_bytes,
    png_named_jpg,
    upload,
)

pytestmark = pytest.mark.usefixtures("fresh_media")


def _refused(file, code: str) -> str:
    with pytest.raises(ValidationError) as refused:
        image_prepare(upload=file)
    assert refused.value.code == code
    return " ".join(refused.value.messages)


def _stored_files() -> set[str]:
    if not default_storage.exists(images.FOLDER):
        return set()
    return set(default_storage.listdir(images.FOLDER)[1])


def test_every_width_is_a_jpeg_with_no_metadata_left() -> None:
    prepared = image_prepare(upload=upload(photo_bytes()))
    assert [r.width for r in prepared.renditions] == [480, 960, 1600]
    for rendition in prepared.renditions:
        picture = PillowImage.open(io.BytesIO(rendition.data))
        assert picture.format == "JPEG"
        assert picture.size == (rendition.width, rendition.height)
        assert dict(picture.getexif()) == {}
        for key in ("exif", "icc_profile", "xmp", "comment"):
            assert key not in picture.info, key
        for secret in (SECRET_MAKE.encode(), SECRET_XMP, SECRET_COMMENT, b"Exif", b"GPS"):
            assert secret not in rendition.data


def test_the_exif_orientation_is_applied_before_it_is_dropped() -> None:
    # Orientation 6: the camera was turned; the picture is stored upright, portrait.
    prepared = image_prepare(upload=upload(photo_bytes((1800, 1200), orientation=6)))
    largest = prepared.renditions[-1]
    assert (largest.width, largest.height) == (1200, 1800)
    picture = PillowImage.open(io.BytesIO(largest.data)).convert("RGB")
    # The blue band that was on the left is now along the top.
    red, _green, blue = picture.getpixel((600, 20))
    assert blue > 150 and red < 100


def test_a_small_picture_is_kept_at_its_own_width_not_enlarged() -> None:
    prepared = image_prepare(upload=upload(photo_bytes((700, 400))))
    assert [r.width for r in prepared.renditions] == [480, 700]


def test_png_and_webp_are_accepted_whatever_their_name_and_transparency_turns_white() -> None:
    # The name and the claimed type are never read: a real PNG called .jpg is a PNG.
    assert image_prepare(upload=png_named_jpg()).renditions
    webp = upload(photo_bytes((900, 600), fmt="WEBP", mode="RGBA"), "x.webp", "image/webp")
    prepared = image_prepare(upload=webp)
    picture = PillowImage.open(io.BytesIO(prepared.renditions[-1].data))
    assert picture.format == "JPEG" and picture.mode == "RGB"


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (SVG, "picture.svg"),
        (SVG, "picture.jpg"),
        (b"just some text, not a picture\n" * 40, "notes.jpg"),
        (b"", "empty.jpg"),
    ],
)
def test_what_is_not_an_image_is_refused(data: bytes, name: str) -> None:
    message = _refused(upload(data, name), "not_an_image")
    assert "not a JPEG, PNG or WebP image" in message


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF"])
def test_other_image_formats_are_refused_even_named_jpg(fmt: str) -> None:
    out = io.BytesIO()
    PillowImage.new("RGB", (800, 600), "red").save(out, format=fmt)
    _refused(upload(out.getvalue(), "photo.jpg"), "not_an_image")


def test_a_truncated_jpeg_is_refused_as_damaged() -> None:
    data = photo_bytes()
    assert "damaged" in _refused(upload(data[: len(data) // 2]), "damaged")


def test_a_file_over_the_size_limit_is_refused_before_it_is_decoded(settings) -> None:
    settings.IMAGE_MAX_BYTES = 100 * 1024
    # Noise compresses badly: well over 100 KB.
    noise = random.Random(7).randbytes(800 * 600 * 3)
    picture = PillowImage.frombytes("RGB", (800, 600), noise)
    out = io.BytesIO()
    picture.save(out, format="PNG")
    assert len(out.getvalue()) > settings.IMAGE_MAX_BYTES
    assert "larger than" in _refused(upload(out.getvalue(), "big.png"), "too_large")


def test_too_many_pixels_is_refused_without_decoding_them(monkeypatch) -> None:
    monkeypatch.setattr(images, "MAX_PIXELS", 1_000_000)
    message = _refused(upload(photo_bytes((1500, 1000))), "too_many_pixels")
    assert "1500 x 1000" in message


def test_a_decompression_bomb_is_a_form_error_not_a_crash(monkeypatch) -> None:
    # Pillow's own limit, below ours here: its warning and its error are both refusals.
    monkeypatch.setattr(PillowImage, "MAX_IMAGE_PIXELS", 500_000)
    _refused(upload(photo_bytes((900, 600))), "too_many_pixels")
    _refused(upload(photo_bytes((1800, 1200))), "too_many_pixels")


def test_a_tiny_picture_is_refused() -> None:
    message = _refused(upload(photo_bytes((300, 150))), "too_small")
    assert "300 x 150" in message


@pytest.mark.django_db
def test_stored_under_content_hashed_names_once_and_released_with_its_files(
    django_capture_on_commit_callbacks,
) -> None:
    prepared = image_prepare(upload=upload(photo_bytes()))
    image = image_store(prepared=prepared)
    names = [item["name"] for item in image.renditions]
    assert names == [f"images/{prepared.key}-{w}.jpg" for w in (480, 960, 1600)]
    assert all(default_storage.exists(name) for name in names)
    assert (image.width, image.height) == (1600, 1067)
    assert image.srcset.split(", ")[0] == f"/media/images/{prepared.key}-480.jpg 480w"
    # The same picture again: the same row, no second copy of its files.
    again = image_store(prepared=image_prepare(upload=upload(photo_bytes())))
    assert again.pk == image.pk
    assert Image.objects.count() == 1
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        image_release(image_id=image.pk)
    # The files outlive the row until the commit: a rollback keeps both.
    assert all(default_storage.exists(name) for name in names)
    for callback in callbacks:
        callback()
    assert not Image.objects.exists()
    assert not any(default_storage.exists(name) for name in names)


@pytest.mark.django_db
def test_an_image_a_campaign_uses_is_not_released() -> None:
    image = image_store(prepared=image_prepare(upload=upload(photo_bytes())))
    PetitionFactory(image=image, image_alt_en="A rally", image_alt_it="Un presidio")
    image_release(image_id=image.pk)
    assert Image.objects.filter(pk=image.pk).exists()
    assert all(default_storage.exists(item["name"]) for item in image.renditions)


@pytest.mark.django_db
@pytest.mark.parametrize("factory", [PetitionFactory, OpenLetterFactory])
@pytest.mark.parametrize("alt", [{"image_alt_en": "A rally"}, {"image_alt_it": "Un presidio"}, {}])
def test_the_database_refuses_an_image_without_both_descriptions(factory, alt) -> None:
    image = image_store(prepared=image_prepare(upload=upload(photo_bytes())))
    with pytest.raises(IntegrityError), transaction.atomic():
        factory(image=image, **alt)


@pytest.mark.django_db
def test_images_go_through_whatever_storage_the_setting_names(settings, tmp_path) -> None:
    other = tmp_path / "elsewhere"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(other), "base_url": "/elsewhere/"},
        },
    }
    image = image_store(prepared=image_prepare(upload=upload(photo_bytes((800, 500)))))
    assert sorted(p.name for p in (other / "images").iterdir()) == sorted(
        item["name"].split("/")[1] for item in image.renditions
    )
    assert image.src.startswith("/elsewhere/images/")
