"""Petitions in the drafting workflow: the drafting organization and everyone it invites become
the petition's sponsors (share links, dashboards, opt-ins); co-leads also write it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization, User
from petitions.drafting.forms import PetitionDraftForm
from petitions.drafting.kinds import DraftKind, draft_kind_register
from petitions.models import Petition, PetitionInvitation, PetitionVersion


def _publish(petition: Petition, now: datetime) -> None:
    # With an opening date still ahead, it stays a draft and opens by itself then
    # (petitions_open_and_close_due opens approved drafts only).
    if petition.opens_at is None or petition.opens_at <= now:
        petition.status = Petition.Status.OPEN


def _unpublish(petition: Petition) -> None:
    petition.status = Petition.Status.DRAFT


def _start(petition: Petition, organization: Organization) -> None:
    petition.sponsors.add(organization)


def _join(petition: Petition, invitation: Any, user: User) -> None:
    petition.sponsors.add(invitation.organization)


def _partners(petition: Petition) -> QuerySet[Organization]:
    return petition.sponsors.order_by("name")


PETITION = DraftKind(
    name="petition",
    label=_("petition"),
    model=Petition,
    version_model=PetitionVersion,
    invitation_model=PetitionInvitation,
    form=PetitionDraftForm,
    markdown_fields=("body",),
    publish=_publish,
    unpublish=_unpublish,
    start=_start,
    join=_join,
    partners=_partners,
    admin_review_url_name="admin:petitions_petition_review",
)
draft_kind_register(PETITION)
