"""Writes of the drafting workflow: an organization's editors create and save a draft, invite
partners and submit it; staff return it with a reason, or approve and publish it, and may
unpublish it later. Every step locks the campaign's row, checks the step is allowed from where
the campaign stands, records a version, and owes the people concerned an email (outbox), all in
one transaction: a refused step changes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization, User, WebhookEndpoint
from accounts.webhooks import webhook_events_emit
from mechanisms.audit import audit_log
from petitions.drafting import emails
from petitions.drafting.kinds import DraftKind
from petitions.drafting.models import (
    CampaignInvitation,
    CampaignVersion,
    Review,
    ReviewedCampaign,
)
from petitions.drafting.petition_kind import PETITION
from petitions.drafting.selectors import (
    campaign_content,
    campaign_led_by,
    target_choosable,
)
from petitions.models import Petition, PetitionUpdate, Target
from petitions.services.campaigns import petition_update_publish

# Where editors may still change a draft: before it is submitted, or after staff returned it.
EDITABLE = (Review.EDITING, Review.RETURNED)

NOT_EDITABLE = _(
    "This draft is with our staff for review, or already published: it cannot be changed now."
)
NOT_VERIFIED = _("Only an organization our staff have verified can do this.")


def _locked(kind: DraftKind, campaign_id: int) -> Any:
    return kind.model._default_manager.select_for_update().get(pk=campaign_id)


def _require_verified(organization: Organization) -> None:
    if not organization.is_verified:
        raise ValidationError(NOT_VERIFIED, code="unverified")


def _require_editable(campaign: ReviewedCampaign) -> None:
    if campaign.review not in EDITABLE:
        raise ValidationError(NOT_EDITABLE, code="not_editable")


def version_record(
    *,
    kind: DraftKind,
    campaign: ReviewedCampaign,
    event: CampaignVersion.Event,
    user: User | None,
    note: str = "",
) -> CampaignVersion:
    """The campaign's next version, as it stands now, with the fields that differ from the
    last one. The caller holds its row's lock, so two steps at once number their versions one
    after the other."""
    last = (
        kind.version_model._default_manager.filter(campaign=campaign)
        .order_by("-number")
        .only("number", "content")
        .first()
    )
    content = campaign_content(kind=kind, campaign=campaign)
    # Through JSON and back, so that a date compares with the text stored for it.
    content = json.loads(json.dumps(content, cls=DjangoJSONEncoder))
    changed = (
        [name for name, value in content.items() if last.content.get(name) != value]
        if last is not None
        else []
    )
    return kind.version_model._default_manager.create(
        campaign=campaign,
        number=last.number + 1 if last is not None else 1,
        event=event,
        note=note,
        content=content,
        changed=changed,
        created_by=user,
    )


def _slug_free(kind: DraftKind, title: str) -> str:
    """A slug from the English title, with a number after it if another campaign has it."""
    base = slugify(title)[:90].strip("-") or kind.name
    slug, n = base, 1
    while kind.model._default_manager.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def draft_create(
    *, kind: DraftKind, campaign: ReviewedCampaign, organization: Organization, user: User | None
) -> ReviewedCampaign:
    """Save a new campaign, filled in from the editors' form (unsaved), as the organization's
    draft: never public, and published only by staff."""
    _require_verified(organization)
    campaign.organization = organization
    campaign.review = Review.EDITING
    campaign.status = kind.model.Status.DRAFT  # type: ignore[attr-defined]
    title = getattr(campaign, "title_en", "") or getattr(campaign, "title", "")
    for attempt in range(3):
        campaign.slug = _slug_free(kind, title)  # type: ignore[attr-defined]
        try:
            with transaction.atomic():
                campaign.save()
                kind.start(campaign, organization)
                version_record(
                    kind=kind, campaign=campaign, event=CampaignVersion.Event.CREATED, user=user
                )
                if user is not None:  # the demo's draft has no author
                    audit_log(
                        user=user, objects=[campaign], message=gettext("Drafted on the site.")
                    )
            return campaign
        except IntegrityError:
            # Another draft took the same slug between the check and the insert.
            campaign.pk = None
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


@transaction.atomic
def draft_save(
    *,
    kind: DraftKind,
    campaign: ReviewedCampaign,
    organization: Organization,
    user: User | None,
) -> bool:
    """Save the editors' changes to a draft (the form's instance), for a verified organization
    that leads it. Returns whether anything changed, which is when a version is recorded."""
    stored = _locked(kind, campaign.pk)
    _require_verified(organization)
    _require_editable(stored)
    before = campaign_content(kind=kind, campaign=stored)
    # The stored workflow fields win over whatever the form's copy had.
    for field in ("organization_id", "review", "review_reason", "submitted_at", "status", "slug"):
        setattr(campaign, field, getattr(stored, field))
    campaign.save()
    if campaign_content(kind=kind, campaign=campaign) == before:
        return False
    version_record(kind=kind, campaign=campaign, event=CampaignVersion.Event.SAVED, user=user)
    return True


@transaction.atomic
def draft_targets_change(
    *,
    kind: DraftKind,
    campaign_id: int,
    organization: Organization,
    user: User | None,
    add: int | None = None,
    remove: int | None = None,
) -> None:
    """Add an official from the directory (or one the organization proposed) to the draft's
    targets, or take one off."""
    campaign = _locked(kind, campaign_id)
    _require_verified(organization)
    _require_editable(campaign)
    targets = campaign.targets
    before = set(targets.values_list("pk", flat=True))
    if add is not None:
        target = target_choosable(organization=organization, target_id=add)
        if target is None:
            raise ValidationError(_("Choose an official from the directory."), code="unknown")
        targets.add(target)
    if remove is not None:
        targets.remove(remove)
    if set(targets.values_list("pk", flat=True)) != before:
        version_record(kind=kind, campaign=campaign, event=CampaignVersion.Event.SAVED, user=user)


@transaction.atomic
def target_propose(
    *, kind: DraftKind, campaign_id: int, organization: Organization, user: User, target: Target
) -> Target:
    """Add an official the directory lacks (the form's unsaved Target) to the draft. It is not
    delivered to, and not offered to anyone else, until staff confirm it."""
    campaign = _locked(kind, campaign_id)
    _require_verified(organization)
    _require_editable(campaign)
    target.active = False
    target.awaiting_confirmation = True
    target.proposed_by = organization
    target.full_clean()
    target.save()
    campaign.targets.add(target)
    version_record(kind=kind, campaign=campaign, event=CampaignVersion.Event.SAVED, user=user)
    audit_log(
        user=user,
        objects=[target],
        message=gettext("Proposed by %(organization)s for a draft.")
        % {"organization": organization.name},
    )
    return target


def targets_confirm(*, target_ids: Iterable[int], user: User) -> list[Target]:
    """Staff confirm proposed officials: they join the directory and receive deliveries. Each
    proposing organization is told. Returns the targets confirmed (others were not waiting)."""
    with transaction.atomic():
        targets = list(
            Target.objects.select_for_update().filter(pk__in=target_ids, awaiting_confirmation=True)
        )
        for target in targets:
            target.awaiting_confirmation = False
            target.active = True
            target.save(update_fields=["awaiting_confirmation", "active"])
            if target.proposed_by_id:
                emails.notice_enqueue(
                    notice=emails.TARGET_CONFIRMED,
                    about=target.pk,
                    organizations=[target.proposed_by],
                    ref={"target": target.pk},
                )
        audit_log(user=user, objects=targets, message=gettext("Confirmed the proposed official."))
    return targets


@transaction.atomic
def draft_submit(
    *, kind: DraftKind, campaign_id: int, organization: Organization, user: User
) -> CampaignVersion:
    """Send the draft to staff's review queue; its editors can no longer change it."""
    campaign = _locked(kind, campaign_id)
    _require_verified(organization)
    _require_editable(campaign)
    if campaign.organization_id and not campaign.organization.is_verified:
        raise ValidationError(NOT_VERIFIED, code="unverified")
    campaign.review = Review.SUBMITTED
    campaign.submitted_at = timezone.now()
    campaign.save(update_fields=["review", "submitted_at"])
    version = version_record(
        kind=kind, campaign=campaign, event=CampaignVersion.Event.SUBMITTED, user=user
    )
    _step_notify(kind=kind, campaign=campaign, version=version)
    emails.staff_notice_enqueue(kind=kind, version=version)
    return version


def _reason_required(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise ValidationError(
            _("Write the reason: the organization's editors read it."), code="reason"
        )
    return reason


@transaction.atomic
def draft_return(*, kind: DraftKind, campaign_id: int, user: User, reason: str) -> CampaignVersion:
    """Staff send a submitted draft back to its editors, with what to change."""
    reason = _reason_required(reason)
    campaign = _locked(kind, campaign_id)
    if campaign.review != Review.SUBMITTED:
        raise ValidationError(_("Only a draft waiting for review can be returned."))
    campaign.review = Review.RETURNED
    campaign.review_reason = reason
    campaign.save(update_fields=["review", "review_reason"])
    version = version_record(
        kind=kind, campaign=campaign, event=CampaignVersion.Event.RETURNED, user=user, note=reason
    )
    _step_notify(kind=kind, campaign=campaign, version=version)
    audit_log(user=user, objects=[campaign], message=gettext("Returned for changes: %s") % reason)
    return version


@transaction.atomic
def draft_publish(
    *, kind: DraftKind, campaign_id: int, user: User, now: datetime | None = None
) -> CampaignVersion:
    """Staff approve a submitted draft: it is published (or opens on its own date)."""
    campaign = _locked(kind, campaign_id)
    if campaign.review != Review.SUBMITTED:
        raise ValidationError(_("Only a draft waiting for review can be approved."))
    if campaign.targets.filter(awaiting_confirmation=True).exists():
        raise ValidationError(
            _("Confirm or remove the officials this draft proposes before publishing it."),
            code="targets",
        )
    kind.publish(campaign, now or timezone.now())
    campaign.review = Review.APPROVED
    campaign.review_reason = ""
    campaign.save()
    # Staff approved the campaign with the partners it has now; an answer coming later would
    # add one they never saw.
    kind.invitation_model._default_manager.filter(
        campaign=campaign, status=CampaignInvitation.Status.PENDING
    ).update(status=CampaignInvitation.Status.EXPIRED)
    version = version_record(
        kind=kind, campaign=campaign, event=CampaignVersion.Event.PUBLISHED, user=user
    )
    if campaign.status != kind.model.Status.DRAFT:  # not waiting for its opening date
        webhook_events_emit(
            organization_ids=[o.pk for o in kind.partners(campaign)],
            event=WebhookEndpoint.Event.CAMPAIGN_PUBLISHED,
            data={
                "kind": kind.name,
                kind.name: {
                    "id": campaign.pk,
                    "slug": campaign.slug,
                    "title": campaign.title,
                    "url": f"{settings.SITE_URL}{campaign.get_absolute_url()}",
                },
                "status": campaign.status,
            },
        )
    _step_notify(kind=kind, campaign=campaign, version=version)
    audit_log(user=user, objects=[campaign], message=gettext("Approved and published."))
    return version


@transaction.atomic
def campaign_unpublish(
    *, kind: DraftKind, campaign_id: int, user: User, reason: str
) -> CampaignVersion:
    """Staff take an organization's published campaign off the site, with their reason; it goes
    back to its editors as a returned draft. Signatures already given are kept."""
    reason = _reason_required(reason)
    campaign = _locked(kind, campaign_id)
    if campaign.review != Review.APPROVED:
        raise ValidationError(_("Only a published campaign of an organization can be unpublished."))
    kind.unpublish(campaign)
    campaign.review = Review.RETURNED
    campaign.review_reason = reason
    campaign.save()
    version = version_record(
        kind=kind,
        campaign=campaign,
        event=CampaignVersion.Event.UNPUBLISHED,
        user=user,
        note=reason,
    )
    _step_notify(kind=kind, campaign=campaign, version=version)
    audit_log(user=user, objects=[campaign], message=gettext("Unpublished: %s") % reason)
    return version


def _step_notify(*, kind: DraftKind, campaign: ReviewedCampaign, version: CampaignVersion) -> None:
    emails.notice_enqueue(
        notice=emails.REVIEW_STEP,
        about=f"{kind.name}:{version.pk}",
        organizations=campaign_led_by(kind=kind, campaign=campaign),
        ref={"kind": kind.name, "version": version.pk},
    )


# --- Invitations --------------------------------------------------------------------------------


@transaction.atomic
def invitation_create(
    *,
    kind: DraftKind,
    campaign_id: int,
    organization: Organization,
    invited: Organization,
    role: CampaignInvitation.Role,
    user: User | None,
) -> CampaignInvitation:
    """Ask another verified organization to co-sponsor or co-lead the campaign, while it is a
    draft: staff review the campaign with everyone invited to it, so nobody joins a published
    campaign without that review."""
    campaign = _locked(kind, campaign_id)
    _require_verified(organization)
    _require_editable(campaign)
    if not invited.is_verified or invited.pk == organization.pk:
        raise ValidationError(_("Choose another verified organization."), code="invited")
    if invited in campaign_led_by(kind=kind, campaign=campaign):
        raise ValidationError(_("This organization already leads the campaign."), code="lead")
    if kind.invitation_model._default_manager.filter(
        campaign=campaign, organization=invited
    ).exists():
        raise ValidationError(
            _("This organization has already been invited to this campaign."), code="invited"
        )
    invitation = kind.invitation_model._default_manager.create(
        campaign=campaign, organization=invited, role=role, invited_by=user
    )
    emails.notice_enqueue(
        notice=emails.INVITATION,
        about=f"{kind.name}:{invitation.pk}",
        organizations=[invited],
        ref={"kind": kind.name, "invitation": invitation.pk},
    )
    return invitation


@transaction.atomic
def invitation_decide(
    *,
    kind: DraftKind,
    invitation_id: int,
    organization: Organization,
    user: User,
    accept: bool,
) -> CampaignInvitation:
    """The invited organization's answer, while the campaign is a draft (publishing it closes
    the invitations still open). Accepting makes it a co-sponsor or co-lead at once."""
    invitation = (
        kind.invitation_model._default_manager.select_for_update()
        .select_related("campaign")
        .get(pk=invitation_id, organization=organization)
    )
    # The campaign's lock too: staff publishing it at this moment wait, or this waits for them.
    campaign = _locked(kind, invitation.campaign_id)
    if invitation.status == CampaignInvitation.Status.EXPIRED or campaign.review not in (
        *EDITABLE,
        Review.SUBMITTED,
    ):
        raise ValidationError(
            _("This campaign is already published: the invitation is closed."), code="closed"
        )
    if invitation.status != CampaignInvitation.Status.PENDING:
        raise ValidationError(_("This invitation has already been answered."), code="answered")
    if accept:
        _require_verified(organization)
    invitation.status = (
        CampaignInvitation.Status.ACCEPTED if accept else CampaignInvitation.Status.DECLINED
    )
    invitation.decided_by = user
    invitation.decided_at = timezone.now()
    invitation.save(update_fields=["status", "decided_by", "decided_at"])
    if accept:
        kind.join(campaign, invitation, user)
    emails.notice_enqueue(
        notice=emails.INVITATION_ANSWERED,
        about=f"{kind.name}:{invitation.pk}",
        organizations=[campaign.organization],
        ref={"kind": kind.name, "invitation": invitation.pk},
    )
    return invitation


# --- Updates to signers ---------------------------------------------------------------------


def _update_notify(*, update: PetitionUpdate, step: str) -> None:
    """Tell the organizations leading the petition (its author among them) of a step in an
    update's review: a co-lead's update reaches signers the drafting organization gathered."""
    if update.organization_id is None:
        return  # staff's own update: nobody to tell
    leads = campaign_led_by(kind=PETITION, campaign=update.petition)
    emails.notice_enqueue(
        notice=emails.UPDATE_STEP,
        about=f"{update.pk}:{step}",
        organizations=[update.organization, *(o for o in leads if o.pk != update.organization_id)],
        ref={"update": update.pk, "step": step},
    )


@transaction.atomic
def update_submit(
    *, petition_id: int, organization: Organization, user: User, update: PetitionUpdate
) -> PetitionUpdate:
    """An editor's update to a published petition's signers (the form's unsaved instance). It
    waits for staff's review, unless staff trust the organization: then it goes out now."""
    petition = Petition.objects.select_for_update().get(pk=petition_id)
    _require_verified(organization)
    if petition.review != Review.APPROVED:
        raise ValidationError(
            _("Updates go to the signers of a published petition; this one is not published."),
            code="unpublished",
        )
    update.petition = petition
    update.organization = organization
    update.review = Review.SUBMITTED
    update.save()
    audit_log(user=user, objects=[update], message=gettext("Written on the site."))
    if organization.trusted:
        update_approve(update_id=update.pk, user=None)
    else:
        _update_notify(update=update, step="submitted")
    update.refresh_from_db()
    return update


@transaction.atomic
def update_approve(*, update_id: int, user: User | None) -> bool:
    """Publish an update (staff's own, or an organization's after review) and email the signers
    who asked for updates. Returns whether this call published it."""
    update = PetitionUpdate.objects.select_for_update().get(pk=update_id)
    if update.published_at is not None:
        return False
    if update.organization_id is not None:
        update.review = Review.APPROVED
        update.review_reason = ""
        update.save(update_fields=["review", "review_reason"])
    published = petition_update_publish(update_id=update.pk)
    if published:
        _update_notify(update=update, step="published")
    return published


@transaction.atomic
def update_return(*, update_id: int, user: User, reason: str) -> bool:
    """Staff decline an organization's update: it is never sent, and its editors read why."""
    reason = _reason_required(reason)
    update = PetitionUpdate.objects.select_for_update().get(pk=update_id)
    if update.published_at is not None or update.review != Review.SUBMITTED:
        return False
    update.review = Review.RETURNED
    update.review_reason = reason
    update.save(update_fields=["review", "review_reason"])
    _update_notify(update=update, step="returned")
    audit_log(user=user, objects=[update], message=gettext("Returned: %s") % reason)
    return True


@transaction.atomic
def update_unpublish(*, update_id: int, user: User, reason: str) -> bool:
    """Take a published update off the petition's page; emails not yet sent are not sent."""
    reason = _reason_required(reason)
    update = PetitionUpdate.objects.select_for_update().get(pk=update_id)
    if update.published_at is None or update.unpublished_at is not None:
        return False
    update.unpublished_at = timezone.now()
    update.review_reason = reason
    update.save(update_fields=["unpublished_at", "review_reason"])
    _update_notify(update=update, step="unpublished")
    audit_log(user=user, objects=[update], message=gettext("Unpublished: %s") % reason)
    return True
