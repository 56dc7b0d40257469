"""The abstract parts of a campaign an organization drafts; each app's models make them concrete
(Petition and OpenLetter, PetitionVersion and LetterVersion, PetitionInvitation and
LetterInvitation), so every row has a real foreign key to its campaign."""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Review(models.TextChoices):
    """Where an organization's campaign stands with staff. Campaigns staff write in the admin
    have none (an empty value): they never go through review."""

    EDITING = "editing", _("Being written")
    SUBMITTED = "submitted", _("Waiting for review")
    RETURNED = "returned", _("Returned for changes")
    APPROVED = "approved", _("Approved and published")


class ReviewedCampaign(models.Model):
    """What a campaign needs to be drafted by an organization and reviewed by staff."""

    # The organization that drafted it; its editors (and its co-leads') write it.
    organization = models.ForeignKey(
        "accounts.Organization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="drafted_%(class)ss",
        verbose_name=_("drafted by"),
    )
    review = models.CharField(
        _("review"), max_length=20, choices=Review.choices, blank=True, default=""
    )
    # Staff's words when they return or unpublish it, shown to its editors.
    review_reason = models.TextField(_("reason given by staff"), blank=True)
    submitted_at = models.DateTimeField(_("submitted for review at"), null=True, blank=True)

    class Meta:
        abstract = True


class CampaignVersion(models.Model):
    """One step in a draft's history: its content as it was saved, submitted, returned or
    published, who did it, and staff's reason. Never changed once written."""

    class Event(models.TextChoices):
        CREATED = "created", _("Created")
        SAVED = "saved", _("Saved")
        SUBMITTED = "submitted", _("Submitted for review")
        RETURNED = "returned", _("Returned for changes")
        PUBLISHED = "published", _("Approved and published")
        UNPUBLISHED = "unpublished", _("Unpublished by staff")

    number = models.PositiveIntegerField(_("version"))
    event = models.CharField(_("event"), max_length=20, choices=Event.choices)
    note = models.TextField(_("reason"), blank=True)
    content = models.JSONField(_("content"), encoder=DjangoJSONEncoder)
    # The names of the fields that differ from the version before, written with the version so
    # that a history lists its steps without reading every version's content.
    changed = models.JSONField(_("changed"), default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        abstract = True
        ordering = ("-number",)


class CampaignInvitation(models.Model):
    """A lead organization asking another verified organization to join its campaign."""

    class Role(models.TextChoices):
        CO_SPONSOR = "co_sponsor", _("Co-sponsor")
        CO_LEAD = "co_lead", _("Co-lead")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for an answer")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        # Not answered when staff published the campaign: nobody joins without their review.
        EXPIRED = "expired", _("Closed at publication")

    organization = models.ForeignKey(
        "accounts.Organization",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("invited organization"),
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("invited at"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ("created_at",)
