"""Open letters in the drafting workflow (petitions.drafting): the drafting organization and its
co-leads are the letter's lead organizations, who approve its co-signers; a co-sponsor's name is
on the letter from the moment it accepts (an approved co-signature)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization, User
from letters.models import LetterInvitation, LetterVersion, OpenLetter, OrganizationSignature
from petitions.drafting.forms import DraftForm, in_every_language
from petitions.drafting.kinds import DraftKind, draft_kind_register
from petitions.drafting.models import CampaignInvitation

_TEXTS = ("title", "summary", "ask", "addressed_to", "body")


class LetterDraftForm(DraftForm):
    required_en = ("title", "summary", "ask", "addressed_to", "body")
    sections: ClassVar = [
        (_("Text"), in_every_language(_TEXTS)),
        (_("Topic"), ["topic"]),
        (
            _("Individual signers"),
            [
                "individuals_may_sign",
                "names_may_be_withheld",
                "individual_email_domains",
                "withheld_label",
            ],
        ),
        (_("Press"), ["media_contact_name", "media_contact_email", "media_contact_phone"]),
    ]

    class Meta:
        model = OpenLetter
        fields: ClassVar = [
            *in_every_language(_TEXTS),
            "topic",
            "individuals_may_sign",
            "names_may_be_withheld",
            "individual_email_domains",
            "withheld_label",
            "media_contact_name",
            "media_contact_email",
            "media_contact_phone",
        ]


def _publish(letter: OpenLetter, now: datetime) -> None:
    # Open for co-signers; staff publish it to the press and its targets when it is ready.
    letter.status = OpenLetter.Status.OPEN


def _unpublish(letter: OpenLetter) -> None:
    letter.status = OpenLetter.Status.DRAFT


def _start(letter: OpenLetter, organization: Organization) -> None:
    letter.lead_organizations.add(organization)


def _join(letter: OpenLetter, invitation: Any, user: User) -> None:
    if invitation.role == CampaignInvitation.Role.CO_LEAD:
        letter.lead_organizations.add(invitation.organization)
        return
    OrganizationSignature.objects.update_or_create(
        letter=letter,
        organization=invitation.organization,
        defaults={
            "signed_by": user,
            "status": OrganizationSignature.Status.APPROVED,
            "decided_at": timezone.now(),
        },
    )


def _partners(letter: OpenLetter) -> QuerySet[Organization]:
    return (
        Organization.objects.filter(
            Q(led_letters=letter)
            | Q(
                letter_signatures__letter=letter,
                letter_signatures__status=OrganizationSignature.Status.APPROVED,
            )
        )
        .distinct()
        .order_by("name")
    )


LETTER = DraftKind(
    name="letter",
    label=_("open letter"),
    model=OpenLetter,
    version_model=LetterVersion,
    invitation_model=LetterInvitation,
    form=LetterDraftForm,
    markdown_fields=("body",),
    publish=_publish,
    unpublish=_unpublish,
    start=_start,
    join=_join,
    partners=_partners,
    admin_review_url_name="admin:letters_openletter_review",
)
draft_kind_register(LETTER)
