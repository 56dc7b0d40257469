"""Reads of the drafting workflow: which campaigns an organization leads, what a version holds,
what differs between two versions, and the officials an editor may choose."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Field, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext

from accounts.models import Organization, User
from petitions.drafting.kinds import DRAFT_KINDS, DraftKind
from petitions.drafting.models import CampaignInvitation, CampaignVersion, ReviewedCampaign
from petitions.models import Target

DIRECTORY_RESULTS = 20


def campaign_content(*, kind: DraftKind, campaign: ReviewedCampaign) -> dict[str, Any]:
    """What a version records: every field the editors' form sets, and the targets, as plain
    values (a topic's id, countries' codes, dates as they are)."""
    content: dict[str, Any] = {}
    for name in kind.form._meta.fields or ():
        field = type(campaign)._meta.get_field(name)
        assert isinstance(field, Field)
        if getattr(field, "multiple", False):  # countries: a list of Country objects
            content[name] = [str(country) for country in getattr(campaign, name)]
        else:
            content[name] = field.value_from_object(campaign)
    content["targets"] = (
        sorted(campaign.targets.values_list("pk", flat=True)) if campaign.pk else []  # type: ignore[attr-defined]
    )
    return content


def _led_filter(organization: Organization) -> Q:
    return Q(organization=organization) | Q(
        invitations__organization=organization,
        invitations__role=CampaignInvitation.Role.CO_LEAD,
        invitations__status=CampaignInvitation.Status.ACCEPTED,
    )


def campaigns_led(*, kind: DraftKind, organization: Organization) -> QuerySet[Any]:
    """The organization's own campaigns, drafted on the site, and those it co-leads."""
    return (
        kind.model._default_manager.filter(_led_filter(organization))
        .exclude(review="")
        .distinct()
        .order_by("-created_at")
    )


def campaign_for_editor(*, kind: DraftKind, organization: Organization, pk: int) -> Any:
    """One campaign the organization leads; a 404 for any other, so another organization's
    drafts are not even known to exist."""
    campaign = campaigns_led(kind=kind, organization=organization).filter(pk=pk).first()
    if campaign is None:
        raise Http404
    return campaign


def campaign_led_by(*, kind: DraftKind, campaign: ReviewedCampaign) -> list[Organization]:
    """The organizations that lead the campaign: its drafter and its co-leads."""
    co_leads = kind.invitation_model._default_manager.filter(
        campaign=campaign,
        role=CampaignInvitation.Role.CO_LEAD,
        status=CampaignInvitation.Status.ACCEPTED,
    ).values("organization")
    return list(
        Organization.objects.filter(
            Q(pk=campaign.organization_id or 0) | Q(pk__in=co_leads)
        ).order_by("name")
    )


@dataclass(frozen=True)
class WorkspaceCampaign:
    kind: DraftKind
    campaign: Any


def workspace_campaigns(*, organization: Organization) -> list[WorkspaceCampaign]:
    """Every campaign the organization leads, of every kind, newest first."""
    found = [
        WorkspaceCampaign(kind=kind, campaign=campaign)
        for kind in DRAFT_KINDS.values()
        for campaign in campaigns_led(kind=kind, organization=organization).select_related(
            "organization"
        )
    ]
    return sorted(found, key=lambda item: item.campaign.created_at, reverse=True)


@dataclass(frozen=True)
class ReceivedInvitation:
    kind: DraftKind
    invitation: CampaignInvitation


def invitations_received(*, organization: Organization) -> list[ReceivedInvitation]:
    """Invitations to the organization still waiting for its answer."""
    found = [
        ReceivedInvitation(kind=kind, invitation=invitation)
        for kind in DRAFT_KINDS.values()
        for invitation in kind.invitation_model._default_manager.filter(
            organization=organization, status=CampaignInvitation.Status.PENDING
        ).select_related("campaign", "campaign__organization")
    ]
    return sorted(found, key=lambda item: item.invitation.created_at)


def invitations_sent(*, kind: DraftKind, campaign: ReviewedCampaign) -> list[CampaignInvitation]:
    return list(
        kind.invitation_model._default_manager.filter(campaign=campaign).select_related(
            "organization"
        )
    )


def organizations_invitable(
    *, kind: DraftKind, campaign: ReviewedCampaign
) -> QuerySet[Organization]:
    """Verified organizations that neither lead the campaign nor were invited to it."""
    invited = kind.invitation_model._default_manager.filter(campaign=campaign).values(
        "organization"
    )
    return (
        Organization.objects.filter(verification=Organization.Verification.VERIFIED)
        .exclude(pk=campaign.organization_id or 0)
        .exclude(pk__in=invited)
        .order_by("name")
    )


@dataclass(frozen=True)
class VersionRow:
    version: CampaignVersion
    # The labels of the fields that differ from the version before.
    changed: list[str]


def versions_of(
    *,
    kind: DraftKind,
    campaign: ReviewedCampaign,
    limit: int | None = None,
    before: int | None = None,
) -> list[VersionRow]:
    """The draft's history, newest first (the `limit` newest, older than version `before`),
    each with what it changed. Their contents stay in the database: a long history of a long
    text is listed as cheaply as a short one."""
    versions = kind.version_model._default_manager.filter(campaign=campaign)
    if before is not None:
        versions = versions.filter(number__lt=before)
    versions = versions.select_related("created_by").defer("content").order_by("-number")
    labels = field_labels(kind=kind)
    return [
        VersionRow(
            version=version,
            changed=[labels[name] for name in labels if name in version.changed],
        )
        for version in (versions[:limit] if limit is not None else versions)
    ]


def field_labels(*, kind: DraftKind) -> dict[str, str]:
    """What a version records, in the form's order, each with the label editors see."""
    form = kind.form()
    labels = {name: str(field.label or name) for name, field in form.fields.items()}
    labels["targets"] = str(Target._meta.verbose_name_plural).capitalize()
    return labels


def version_rows(*, kind: DraftKind, version: CampaignVersion) -> list[tuple[str, str]]:
    """A version's content as editors read it: each field's label and its value in words (a
    topic's name, targets' names, yes or no)."""
    rows = []
    for name, label in field_labels(kind=kind).items():
        value = version.content.get(name)
        if name == "targets":
            shown = ", ".join(str(t) for t in Target.objects.filter(pk__in=value or []))
        elif isinstance(value, bool):
            shown = gettext("yes") if value else gettext("no")
        elif isinstance(value, list):
            shown = ", ".join(str(item) for item in value)
        else:
            field = kind.model._meta.get_field(name)
            related = getattr(field, "related_model", None)
            if related is not None and value is not None:
                shown = str(related._default_manager.filter(pk=value).first() or value)
            else:
                shown = "" if value is None else str(value)
        rows.append((label, shown))
    return rows


def version_get(*, kind: DraftKind, campaign: ReviewedCampaign, number: int) -> CampaignVersion:
    version = kind.version_model._default_manager.filter(campaign=campaign, number=number).first()
    if version is None:
        raise Http404
    return version


def directory_search(*, organization: Organization, query: str) -> list[Target]:
    """Officials matching the query by name, office or place: the directory's confirmed ones,
    and those this organization proposed."""
    query = query.strip()
    if not query:
        return []
    matches = Q()
    for word in query.split()[:5]:
        matches &= (
            Q(name__icontains=word)
            | Q(title__icontains=word)
            | Q(locality__icontains=word)
            | Q(region__iexact=word)
        )
    return list(_choosable(organization).filter(matches)[:DIRECTORY_RESULTS])


def _choosable(organization: Organization) -> QuerySet[Target]:
    return Target.objects.filter(
        Q(active=True, awaiting_confirmation=False)
        | Q(awaiting_confirmation=True, proposed_by=organization)
    )


def target_choosable(*, organization: Organization, target_id: int) -> Target | None:
    return _choosable(organization).filter(pk=target_id).first()


def staff_reviewers(*, perm: str) -> QuerySet[User]:
    """Active staff holding `perm` (directly, through a group, or as superusers): whom a draft
    waiting for review is announced to."""
    app_label, codename = perm.split(".")
    holds = Q(is_superuser=True) | Q(
        user_permissions__codename=codename, user_permissions__content_type__app_label=app_label
    )
    holds |= Q(
        groups__permissions__codename=codename,
        groups__permissions__content_type__app_label=app_label,
    )
    return User.objects.filter(holds, is_active=True, is_staff=True).distinct().order_by("email")
