"""A petition's history of versions and its invitations to other organizations
(petitions.drafting).

Imported by petitions.models, so Django registers these models with the petitions app.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from petitions.drafting.models import CampaignInvitation, CampaignVersion
from petitions.models.campaigns import Petition


class PetitionVersion(CampaignVersion):
    campaign = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="versions")

    class Meta(CampaignVersion.Meta):
        verbose_name = _("petition version")
        verbose_name_plural = _("petition versions")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=("campaign", "number"), name="petitions_version_once"),
        ]


class PetitionInvitation(CampaignInvitation):
    campaign = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="invitations")

    class Meta(CampaignInvitation.Meta):
        verbose_name = _("petition invitation")
        verbose_name_plural = _("petition invitations")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=("campaign", "organization"), name="petitions_invitation_once"
            ),
        ]


class PetitionReview(Petition):
    """The staff's queue in the admin: petitions organizations submitted for review."""

    class Meta:
        proxy = True
        verbose_name = _("petition awaiting review")
        verbose_name_plural = _("petitions awaiting review")
