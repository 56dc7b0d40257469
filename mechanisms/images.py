"""Campaign images: an upload checked by decoding it, stripped of its metadata and stored as a
few re-encoded widths, never as it came.

An upload is trusted in nothing: not its name, not its extension, not the type the browser
claims. Pillow decodes it (JPEG, PNG or WebP only), its size in bytes and in pixels is bounded
before the pixels are read (a decompression bomb is refused, not decoded), its EXIF orientation
is applied, and each width is drawn onto a fresh image and encoded as JPEG with nothing but
pixels: no EXIF (GPS, camera, dates), XMP, ICC profile or comment survives, because nothing of
the upload's `info` is passed to the encoder.

The files go through Django's storage API (`default_storage`: local files by default, an
S3-compatible bucket in production, see settings), under names made of their content's hash, so
a name says nothing of the uploader and the same picture is stored once. `Image` rows record the
widths; campaigns point to one with a foreign key, and `image_release` deletes an image (rows
and files) once nothing points to it.

Campaign-agnostic on purpose: petitions and letters both use it (mechanisms is the layer below
them), and the form and admin helpers in this module know only fields named `image` and
`image_alt_<language>`.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import warnings
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext_lazy as _
from PIL import Image as PillowImage
from PIL import ImageOps, UnidentifiedImageError

logger = logging.getLogger(__name__)

# What Pillow may decode: nothing else is even tried (no SVG, GIF, TIFF, BMP, PSD, ...).
FORMATS = ("JPEG", "PNG", "WEBP")
# The widths stored, each no wider than the upload; pages pick one with srcset.
WIDTHS = (480, 960, 1600)
MIN_WIDTH = 400
MIN_HEIGHT = 200
# Pillow's own bomb check stays on as a second line; this one is ours and smaller.
MAX_PIXELS = 40_000_000
JPEG_QUALITY = 85
FOLDER = "images"
# The names this module writes: the content hash, the width, and the suffix a storage adds if
# two processes stored the same file at once. Anything else is never served.
NAME = re.compile(rf"^{FOLDER}/[0-9a-f]{{32}}-[0-9]{{2,4}}(?:_[A-Za-z0-9]{{7}})?\.jpg$")

NOT_AN_IMAGE = _("This file is not a JPEG, PNG or WebP image. Choose a photo or picture file.")
DAMAGED = _("This image could not be read: the file seems damaged. Try saving it again.")
ALT_REQUIRED = _("Describe the image in English and in Italian, for readers who cannot see it.")


def max_bytes() -> int:
    return int(settings.IMAGE_MAX_BYTES)


def _too_large() -> ValidationError:
    return ValidationError(
        _("This image is larger than %(size)s MB. Choose a smaller one or reduce its size."),
        code="too_large",
        params={"size": max_bytes() // (1024 * 1024)},
    )


def upload_too_large(*, content_length: str | None) -> bool:
    """A request whose body is far larger than any allowed image: refused whole, whatever its
    fields say (its file, if any, was already dropped by UploadLimitHandler as it came in)."""
    try:
        return int(content_length or 0) > max_bytes() + 256 * 1024
    except ValueError:
        return False


class UploadLimitHandler(FileUploadHandler):
    """First among a request's upload handlers, set before anything reads the body (a view
    exempt from the CSRF middleware that checks the token itself after, as Django's docs show):
    a file is dropped as soon as it passes IMAGE_MAX_BYTES, the rest of it read and thrown
    away, so no larger file is ever held in memory or written to disk. `refused` tells the
    view to say so (the file is simply missing from request.FILES)."""

    refused = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if start + len(raw_data) > max_bytes():
            self.refused = True
            raise SkipFile
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def too_large_error() -> ValidationError:
    return _too_large()


@dataclass(frozen=True)
class Rendition:
    width: int
    height: int
    data: bytes


@dataclass(frozen=True)
class PreparedImage:
    """An accepted upload, decoded and re-encoded, not stored yet."""

    key: str
    renditions: tuple[Rendition, ...]


def _flatten(picture: PillowImage.Image) -> PillowImage.Image:
    """RGB pixels on white: a transparent PNG or WebP would turn black as JPEG."""
    if picture.mode in ("RGBA", "LA", "PA") or (
        picture.mode == "P" and "transparency" in picture.info
    ):
        rgba = picture.convert("RGBA")
        background = PillowImage.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return picture.convert("RGB")


def _encode(picture: PillowImage.Image, width: int) -> tuple[PillowImage.Image, Rendition]:
    """The picture at this width, and its JPEG."""
    height = max(1, round(picture.height * width / picture.width))
    # reducing_gap: a cheap box reduction first, then Lanczos on a picture near the target
    # size; indistinguishable at these sizes and many times faster on a phone's 12 megapixels.
    resized = picture.resize((width, height), PillowImage.Resampling.LANCZOS, reducing_gap=3.0)
    # A fresh image holds pixels only, whatever `info` the decoder or resize carried along.
    clean = PillowImage.frombytes("RGB", resized.size, resized.tobytes())
    out = io.BytesIO()
    clean.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return clean, Rendition(width=width, height=height, data=out.getvalue())


def image_prepare(*, upload: Any) -> PreparedImage:
    """Check an uploaded file and re-encode it; raises ValidationError with a message for the
    person who chose it. `upload` is any file-like object with a size (an UploadedFile)."""
    size = getattr(upload, "size", None)
    if size is None or size > max_bytes():
        raise _too_large()
    if size == 0:
        raise ValidationError(NOT_AN_IMAGE, code="not_an_image")
    upload.seek(0)
    try:
        with warnings.catch_warnings():
            # Pillow warns (not raises) between its limit and twice it: a refusal here.
            warnings.simplefilter("error", PillowImage.DecompressionBombWarning)
            source = PillowImage.open(upload, formats=FORMATS)
            width, height = source.size
            if width * height > MAX_PIXELS:
                raise ValidationError(
                    _(
                        "This image has too many pixels (%(width)s x %(height)s). Choose one "
                        "of at most %(megapixels)s megapixels."
                    ),
                    code="too_many_pixels",
                    params={"width": width, "height": height, "megapixels": MAX_PIXELS // 10**6},
                )
            if source.format == "JPEG":
                # Decode a large JPEG at 1/2, 1/4 or 1/8 scale straight away (DCT scaling),
                # never smaller than the widest width stored; the long side may become the
                # width once the orientation is applied.
                turned = source.getexif().get(0x0112, 1) in (5, 6, 7, 8)
                source.draft("RGB", (1, WIDTHS[-1]) if turned else (WIDTHS[-1], 1))
            source.load()
            picture = ImageOps.exif_transpose(source) or source
    except (PillowImage.DecompressionBombError, PillowImage.DecompressionBombWarning):
        raise ValidationError(
            _("This image has too many pixels. Choose one of at most %(megapixels)s megapixels."),
            code="too_many_pixels",
            params={"megapixels": MAX_PIXELS // 10**6},
        ) from None
    except UnidentifiedImageError:
        raise ValidationError(NOT_AN_IMAGE, code="not_an_image") from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise ValidationError(DAMAGED, code="damaged") from None
    if picture.width < MIN_WIDTH or picture.height < MIN_HEIGHT:
        raise ValidationError(
            _(
                "This image is too small (%(width)s x %(height)s pixels). Choose one at least "
                "%(min_width)s pixels wide and %(min_height)s high."
            ),
            code="too_small",
            params={
                "width": picture.width,
                "height": picture.height,
                "min_width": MIN_WIDTH,
                "min_height": MIN_HEIGHT,
            },
        )
    rgb = _flatten(picture)
    widths = [w for w in WIDTHS if w < rgb.width] or [rgb.width]
    if rgb.width < WIDTHS[-1] and rgb.width not in widths:
        widths.append(rgb.width)  # the full width of a smaller upload, not only 480
    renditions: list[Rendition] = []
    for width in sorted(widths, reverse=True):
        # Each narrower width from the one above it: less to resample, the same result.
        rgb, rendition = _encode(rgb, width)
        renditions.insert(0, rendition)
    digest = hashlib.sha256()
    for rendition in renditions:
        digest.update(rendition.data)
    return PreparedImage(key=digest.hexdigest()[:32], renditions=tuple(renditions))


class Image(models.Model):
    """One stored image: its widths, each a JPEG in the default storage."""

    key = models.CharField(_("content hash"), max_length=32, unique=True, editable=False)
    width = models.PositiveIntegerField(_("width"), editable=False)
    height = models.PositiveIntegerField(_("height"), editable=False)
    # [{"width": 480, "height": 270, "name": "images/<key>-480.jpg"}, ...], narrowest first.
    renditions = models.JSONField(_("widths"), default=list, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("image")
        verbose_name_plural = _("images")

    def __str__(self) -> str:
        return f"{self.key} ({self.width} x {self.height})"

    @property
    def src(self) -> str:
        return str(default_storage.url(self.renditions[-1]["name"]))

    @property
    def srcset(self) -> str:
        return ", ".join(
            f"{default_storage.url(item['name'])} {item['width']}w" for item in self.renditions
        )

    @property
    def thumbnail(self) -> str:
        return str(default_storage.url(self.renditions[0]["name"]))


def image_store(*, prepared: PreparedImage) -> Image:
    """Write the widths and the row; the same picture stored before is reused. Files written
    for a transaction that then rolls back stay behind, harmless (stripped, unlinked) and
    reused by the next upload of the same picture."""
    found = Image.objects.filter(key=prepared.key).first()
    if found is not None:
        return found
    renditions = []
    for rendition in prepared.renditions:
        name = f"{FOLDER}/{prepared.key}-{rendition.width}.jpg"
        if not default_storage.exists(name):
            name = default_storage.save(name, ContentFile(rendition.data))
        renditions.append({"width": rendition.width, "height": rendition.height, "name": name})
    largest = prepared.renditions[-1]
    try:
        with transaction.atomic():
            return Image.objects.create(
                key=prepared.key, width=largest.width, height=largest.height, renditions=renditions
            )
    except IntegrityError:  # the same picture, stored at the same moment by someone else
        return Image.objects.get(key=prepared.key)


def _referenced(image_id: int) -> bool:
    # Every foreign key to Image, whichever app declares it: this layer names none of them.
    for relation in Image._meta.related_objects:
        model = relation.related_model
        assert isinstance(model, type) and issubclass(model, models.Model)
        if model._base_manager.filter(**{relation.field.name: image_id}).exists():
            return True
    return False


def image_release(*, image_id: int | None) -> None:
    """Delete an image no campaign uses any more, its files after the commit (a rollback
    keeps them)."""
    if image_id is None or _referenced(image_id):
        return
    image = Image.objects.select_for_update().filter(pk=image_id).first()
    if image is None:
        return
    names = [item["name"] for item in image.renditions]
    image.delete()

    def delete_files() -> None:
        for name in names:
            try:
                default_storage.delete(name)
            except OSError:  # a file already gone, or a store that is down: an orphan, no harm
                logger.warning("could not delete %s", name)

    transaction.on_commit(delete_files)


def image_alt_constraint(*, prefix: str) -> models.CheckConstraint:
    """No image without its text for readers who cannot see it, in every language."""
    condition = models.Q(image__isnull=True)
    described = models.Q()
    for code, _language in settings.LANGUAGES:
        # NULL (modeltranslation's empty) must fail too, and NULL > '' is not false in a CHECK.
        described &= models.Q(**{f"image_alt_{code}__isnull": False}) & models.Q(
            **{f"image_alt_{code}__gt": ""}
        )
    return models.CheckConstraint(condition=condition | described, name=f"{prefix}_image_has_alt")


class ImageUploadField(forms.FileField):
    """A file field whose cleaned value is a PreparedImage: the checks above, as form errors."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("Image"))
        kwargs.setdefault(
            "help_text",
            _(
                "A JPEG, PNG or WebP picture, at most %(size)s MB, at least %(width)s x "
                "%(height)s pixels. Its hidden data (camera, place, date) is removed."
            )
            % {"size": max_bytes() // (1024 * 1024), "width": MIN_WIDTH, "height": MIN_HEIGHT},
        )
        # A plain input: "clear" is the form's own choice (a Remove button or box), said in words.
        kwargs.setdefault(
            "widget", forms.FileInput(attrs={"accept": "image/jpeg,image/png,image/webp"})
        )
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> PreparedImage | None:
        upload = super().clean(data, initial)
        if not upload:
            return None
        return image_prepare(upload=upload)


def alt_missing(*, cleaned_data: dict[str, Any]) -> list[str]:
    """The alt text fields left empty, for a form whose campaign will have an image."""
    return [
        f"image_alt_{code}"
        for code, _language in settings.LANGUAGES
        if not (cleaned_data.get(f"image_alt_{code}") or "").strip()
    ]
