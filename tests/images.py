"""Pictures the image tests upload, made here with Pillow: a photo carrying what a phone would
leave in it (GPS position, camera, an orientation, a colour profile, a comment, XMP), and files
that only pretend to be images."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image

SECRET_MAKE = "SpyPhone 9000"
SECRET_XMP = b"<x:xmpmeta xmlns:x='adobe:ns:meta/'>home address</x:xmpmeta>"
SECRET_COMMENT = b"taken at the safe house"


def photo_bytes(
    size: tuple[int, int] = (1800, 1200),
    *,
    fmt: str = "JPEG",
    orientation: int = 1,
    mode: str = "RGB",
) -> bytes:
    """A photo with the metadata a phone leaves: GPS, make, orientation, ICC, comment, XMP."""
    picture = Image.new(mode, size, (200, 40, 40) if mode == "RGB" else (200, 40, 40, 128))
    # A band on the left, so that an applied orientation can be seen in the pixels.
    picture.paste(
        (20, 20, 220) if mode == "RGB" else (20, 20, 220, 255), (0, 0, size[0] // 4, size[1])
    )
    exif = picture.getexif()
    exif[ExifTags.Base.Make] = SECRET_MAKE
    exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (45.0, 27.0, 51.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (9.0, 11.0, 23.0)
    out = io.BytesIO()
    options: dict[str, object] = {"exif": exif, "icc_profile": b"\x00" * 128}
    if fmt == "JPEG":
        options.update(comment=SECRET_COMMENT, xmp=SECRET_XMP, quality=90)
    picture.save(out, format=fmt, **options)
    return out.getvalue()


def upload(data: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def png_named_jpg() -> SimpleUploadedFile:
    return upload(photo_bytes(fmt="PNG"), "photo.jpg", "image/jpeg")


SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="800" height="600">'
    b"<script>alert(1)</script></svg>"
)


@pytest.fixture
def fresh_media(settings, tmp_path) -> Path:
    """A MEDIA_ROOT of the test's own: what one test stored, another never sees."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT
