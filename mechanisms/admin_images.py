"""A campaign's image in the admin: its preview, a file to upload in its place, a box to remove
it, and its descriptions (the translated `image_alt` field). For any model with an `image`
foreign key to mechanisms.Image and a translated `image_alt`: petitions and letters alike.

The upload goes through the same checks and re-encoding as the organizations' workspace
(mechanisms.images); a refused file is an error on the form, and nothing is stored."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from mechanisms.images import ImageUploadField, alt_missing, image_release, image_store

# The fieldset rows an admin adds: `(_("Image"), {"fields": IMAGE_ADMIN_FIELDS})`.
IMAGE_ADMIN_FIELDS = ("image_preview", "image_upload", "image_remove", "image_alt")


class ImageAdminForm(forms.ModelForm):
    image_upload = ImageUploadField(required=False, label=_("New image"))
    image_remove = forms.BooleanField(required=False, label=_("Remove the image"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.image_before: int | None = self.instance.image_id

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("image_remove"):
            if cleaned.get("image_upload"):
                self.add_error(
                    "image_remove", _("Remove the image, or upload a new one: not both.")
                )
                return cleaned
            # Before the model's own checks run, so its constraint sees the image gone.
            self.instance.image = None
            return cleaned
        if cleaned.get("image_upload") or self.image_before is not None:
            for name in alt_missing(cleaned_data=cleaned):
                if name in self.fields:
                    self.add_error(name, _("Describe the image in this language too."))
        return cleaned


class ImageAdminMixin:
    form: type[forms.ModelForm[Any]] = ImageAdminForm

    @staticmethod
    def _image_preview(obj: Any) -> str:
        if obj is None or obj.image is None:
            return str(_("No image."))
        return format_html(
            '<img src="{}" width="240" alt="{}"><br>{} x {}',
            obj.image.thumbnail,
            obj.image_alt or "",
            obj.image.width,
            obj.image.height,
        )

    def image_preview(self, obj: Any) -> str:
        return self._image_preview(obj)

    image_preview.short_description = _("Image")  # type: ignore[attr-defined]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = super().get_readonly_fields(request, obj)  # type: ignore[misc]
        return (*fields, "image_preview")

    def save_model(
        self, request: HttpRequest, obj: Any, form: forms.ModelForm[Any], change: bool
    ) -> None:
        prepared = form.cleaned_data.get("image_upload")
        if prepared is not None:
            obj.image = image_store(prepared=prepared)
        elif form.cleaned_data.get("image_remove"):
            obj.image = None
            for name in form.fields:
                if name.startswith("image_alt_"):
                    setattr(obj, name, "")
        super().save_model(request, obj, form, change)  # type: ignore[misc]
        before = getattr(form, "image_before", None)
        if before is not None and before != obj.image_id:
            image_release(image_id=before)
