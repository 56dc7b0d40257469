"""The page where a lead organization's editors give a campaign its image: upload, replace or
remove it, with its description in each language. The same rules as the other drafting pages:
other members get a 403, everyone else a 404, and nothing is stored on a refusal."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods

from accounts.selectors import user_logged_in
from mechanisms.images import (
    ImageUploadField,
    UploadLimitHandler,
    alt_missing,
    too_large_error,
    upload_too_large,
)
from petitions.drafting.images import campaign_image_change
from petitions.drafting.services import EDITABLE
from petitions.drafting.views import _campaign

ALT_HELP = gettext_lazy(
    "What the image shows, for readers who cannot see it, in a sentence: 'Protesters holding "
    "signs outside City Hall'."
)
# Shown above a refused form: a file input is always empty when the page comes back.
CHOOSE_AGAIN = gettext_lazy(
    "Please correct the fields marked below; nothing was saved. Browsers do not keep a chosen "
    "file after an error: choose the image again."
)


class CampaignImageForm(forms.Form):
    image = ImageUploadField(required=False)
    image_alt_en = forms.CharField(
        label=gettext_lazy("Description in English"), max_length=300, required=False
    )
    image_alt_it = forms.CharField(
        label=gettext_lazy("Description in Italian"), max_length=300, required=False
    )

    def __init__(self, *args: Any, has_image: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.has_image = has_image
        for code, _language in settings.LANGUAGES:
            self.fields[f"image_alt_{code}"].help_text = ALT_HELP

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        if not cleaned.get("image") and not self.has_image:
            self.add_error("image", _("Choose an image."))
        elif cleaned.get("image") or self.has_image:
            for name in alt_missing(cleaned_data=cleaned):
                self.add_error(name, _("Describe the image in this language too."))
        return cleaned


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@csrf_exempt  # only until the upload limit is in place: _campaign_image checks the token
def campaign_image(request: HttpRequest, organization: str, kind: str, pk: int) -> HttpResponse:
    limit = UploadLimitHandler(request)
    # Before anything reads the body: the CSRF check reads the form, and with it the file.
    request.upload_handlers = [limit, *request.upload_handlers]
    return _campaign_image(request, organization, kind, pk, limit=limit)


@csrf_protect
@login_required
def _campaign_image(
    request: HttpRequest, organization: str, kind: str, pk: int, *, limit: UploadLimitHandler
) -> HttpResponse:
    found, draft_kind, campaign = _campaign(request, organization, kind, pk)
    initial = {
        f"image_alt_{code}": getattr(campaign, f"image_alt_{code}") or ""
        for code, _l in settings.LANGUAGES
    }
    has_image = campaign.image_id is not None
    context: dict[str, Any] = {
        "organization": found,
        "kind": draft_kind,
        "campaign": campaign,
        "editable": campaign.review in EDITABLE,
        "choose_again": CHOOSE_AGAIN,
    }
    if request.method != "POST":
        context["form"] = CampaignImageForm(initial=initial, has_image=has_image)
        return render(request, "drafting/image.html", context)
    if upload_too_large(content_length=request.META.get("CONTENT_LENGTH")):
        # A body this large is no image we accept; its file was dropped as it came in
        # (UploadLimitHandler), and the descriptions are not read from it.
        context["form"] = CampaignImageForm(initial=initial, has_image=has_image)
        context["refusal"] = _(
            "This file is far too large to be an image we accept. Nothing was saved: choose a "
            "smaller image and type its descriptions again."
        )
        return render(request, "drafting/image.html", context, status=413)
    form = CampaignImageForm(request.POST, request.FILES, has_image=has_image)
    context["form"] = form
    if limit.refused:
        # The file was dropped as it came in; without this the form would see no file at all.
        form.is_valid()
        form.add_error("image", too_large_error())
        return render(request, "drafting/image.html", context, status=400)
    remove = "remove" in request.POST
    if not remove and not form.is_valid():
        return render(request, "drafting/image.html", context, status=400)
    try:
        campaign_image_change(
            kind=draft_kind,
            campaign_id=campaign.pk,
            organization=found,
            user=user_logged_in(request=request),
            prepared=None if remove else form.cleaned_data.get("image"),
            alt={
                code: "" if remove else form.cleaned_data.get(f"image_alt_{code}", "")
                for code, _l in settings.LANGUAGES
            },
            remove=remove,
        )
    except ValidationError as error:
        form.add_error(None, error)
        status = 409 if error.code == "not_editable" else 400
        return render(request, "drafting/image.html", context, status=status)
    messages.success(request, _("Image removed.") if remove else _("Image saved."))
    return redirect(
        "drafting:campaign", organization=found.slug, kind=draft_kind.name, pk=campaign.pk
    )
