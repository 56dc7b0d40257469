"""What differs between drafting a petition and drafting a letter: one `DraftKind` each, in a
registry the workflow reads (petitions register theirs here, letters theirs in letters.drafting)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import models
from django.http import Http404
from django.utils.functional import Promise

if TYPE_CHECKING:
    from django import forms

    from accounts.models import Organization, User
    from petitions.drafting.models import CampaignInvitation


@dataclass(frozen=True)
class DraftKind:
    # In URLs and emails' references: "petition", "letter".
    name: str
    label: Promise
    # Concrete subclasses of ReviewedCampaign, CampaignVersion and CampaignInvitation. Typed as
    # Any: each has its own `campaign` foreign key, which the abstract bases cannot declare.
    model: type[Any]
    version_model: type[Any]
    invitation_model: type[Any]
    # The editors' form (a ModelForm of `model`); its fields are what a version records.
    form: type[forms.ModelForm]
    # Fields previewed as Markdown, as the campaign's page renders them.
    markdown_fields: tuple[str, ...]
    # Make an approved campaign public (its status), and take it off again.
    publish: Callable[[Any, datetime], None]
    unpublish: Callable[[Any], None]
    # What the drafting organization is on its own campaign (a sponsor, a lead), and what an
    # accepted invitation makes the invited one.
    start: Callable[[Any, Organization], None]
    join: Callable[[Any, CampaignInvitation, User], None]
    # The organizations shown as the campaign's sponsors or co-signers on the draft page.
    partners: Callable[[Any], models.QuerySet[Organization]]
    # The admin's review page for one campaign (reverse with its pk).
    admin_review_url_name: str


DRAFT_KINDS: dict[str, DraftKind] = {}


def draft_kind_register(kind: DraftKind) -> None:
    DRAFT_KINDS[kind.name] = kind


def draft_kind_get(name: str) -> DraftKind:
    """The kind named in a URL; a 404 for any other word."""
    kind = DRAFT_KINDS.get(name)
    if kind is None:
        raise Http404
    return kind


def draft_kind_of(campaign: models.Model) -> DraftKind:
    for kind in DRAFT_KINDS.values():
        if isinstance(campaign, kind.model):
            return kind
    raise LookupError(f"No draft kind for {type(campaign).__name__}")
