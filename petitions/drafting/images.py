"""A campaign's image, changed by its lead organizations' editors while the draft is theirs to
edit (as its texts are: staff review the picture with the rest before it is public)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import Organization
from mechanisms.audit import audit_log
from mechanisms.images import ALT_REQUIRED, PreparedImage, image_release, image_store
from petitions.drafting.kinds import DraftKind
from petitions.drafting.services import _locked, _require_editable, _require_verified


@transaction.atomic
def campaign_image_change(
    *,
    kind: DraftKind,
    campaign_id: int,
    organization: Organization,
    user: Any,
    prepared: PreparedImage | None,
    alt: dict[str, str],
    remove: bool = False,
) -> Any:
    """Set, replace or remove the campaign's image and set its descriptions (one per language,
    required with an image). The image a campaign no longer uses is deleted, files and all,
    once nothing else uses it."""
    campaign = _locked(kind, campaign_id)
    _require_verified(organization)
    _require_editable(campaign)
    before = campaign.image_id
    if remove:
        campaign.image = None
        alt = {code: "" for code, _language in settings.LANGUAGES}
    elif prepared is not None:
        campaign.image = image_store(prepared=prepared)
    for code, _language in settings.LANGUAGES:
        setattr(campaign, f"image_alt_{code}", (alt.get(code) or "").strip())
    if campaign.image_id is not None and not all(
        getattr(campaign, f"image_alt_{code}") for code, _language in settings.LANGUAGES
    ):
        raise ValidationError(ALT_REQUIRED, code="alt_required")
    fields = ["image", *(f"image_alt_{code}" for code, _language in settings.LANGUAGES)]
    campaign.save(update_fields=fields)
    if before != campaign.image_id:
        image_release(image_id=before)
        audit_log(
            user=user,
            objects=[campaign],
            message=f"Image removed by {organization.name}"
            if remove
            else f"Image {campaign.image.key} set by {organization.name}",
        )
    return campaign
