"""Reads for open letters: what the public, the lead organizations and the press see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import Lower
from django.http import Http404
from django.shortcuts import get_object_or_404
from modeltranslation.utils import build_localized_fieldname

from accounts.models import Organization, User
from letters.emails import CONFIRM_TOKEN_PURPOSE
from letters.models import (
    IndividualSignature,
    LetterUpdate,
    OpenLetter,
    OrganizationSignature,
    Statement,
)
from mechanisms.tokens import TokenInvalid, token_read
from petitions.models import Topic


def letter_get_public(*, slug: str, preview: bool = False) -> OpenLetter:
    """Anything but a draft; a draft only as a staff preview."""
    letter = get_object_or_404(
        OpenLetter.objects.select_related("topic", "related_petition", "question_set"), slug=slug
    )
    if letter.status == OpenLetter.Status.DRAFT and not preview:
        raise Http404
    return letter


def _public_signatures(letter: OpenLetter) -> QuerySet[OrganizationSignature]:
    # An organization shows only once approved for this letter and verified by staff.
    return letter.organization_signatures.filter(
        status=OrganizationSignature.Status.APPROVED,
        organization__verification=Organization.Verification.VERIFIED,
    )


@dataclass(frozen=True)
class SigningOrganization:
    signature: OrganizationSignature
    organization: Organization
    is_lead: bool


def letter_organizations_public(*, letter: OpenLetter) -> list[SigningOrganization]:
    """The lead organizations first, then the others, each group in alphabetical order."""
    lead_ids = set(letter.lead_organizations.values_list("pk", flat=True))
    signatures = (
        _public_signatures(letter)
        .select_related("organization")
        .order_by(Lower("organization__name"))
    )
    rows = [
        SigningOrganization(
            signature=s, organization=s.organization, is_lead=s.organization_id in lead_ids
        )
        for s in signatures
    ]
    return sorted(rows, key=lambda row: not row.is_lead)  # stable: keeps the alphabetical order


def letter_statements_public(*, letter: OpenLetter) -> list[Statement]:
    return list(
        Statement.objects.filter(
            status=Statement.Status.APPROVED, signature__in=_public_signatures(letter)
        )
        .select_related("signature__organization")
        .order_by("signature__created_at")
    )


def letter_individuals_public(*, letter: OpenLetter) -> list[IndividualSignature]:
    return list(
        letter.individual_signatures.filter(status=IndividualSignature.Status.CONFIRMED, held=False)
        .select_related("letter")
        .order_by("confirmed_at")
    )


def letter_withdrawals(*, letter: OpenLetter) -> list[OrganizationSignature]:
    """The letter's history of organizations that took their names off it."""
    return list(
        letter.organization_signatures.filter(
            status=OrganizationSignature.Status.WITHDRAWN,
            # Approved before it was withdrawn: a request withdrawn while waiting was never public.
            decided_at__isnull=False,
            organization__verification=Organization.Verification.VERIFIED,
        )
        .select_related("organization")
        .order_by("withdrawn_at")
    )


def letter_updates(*, letter: OpenLetter) -> list[LetterUpdate]:
    return list(letter.updates.order_by("published_at"))


def letter_pending(*, letter: OpenLetter) -> tuple[list[OrganizationSignature], list[Statement]]:
    """What waits for the lead organizations: co-signatures, and statements of any signer."""
    signatures = list(
        letter.organization_signatures.filter(status=OrganizationSignature.Status.PENDING)
        .select_related("organization", "signed_by")
        .order_by("created_at")
    )
    statements = list(
        Statement.objects.filter(signature__letter=letter, status=Statement.Status.PENDING)
        .select_related("signature__organization")
        .order_by("signature__created_at")
    )
    return signatures, statements


def signatures_of_user(
    *, letter: OpenLetter, user: User | AnonymousUser
) -> list[OrganizationSignature]:
    """This member's organizations' signatures on the letter, so they can see and withdraw them."""
    if not user.is_authenticated:
        return []
    return list(
        letter.organization_signatures.filter(organization__memberships__user=user)
        .select_related("organization")
        .distinct()
    )


def individual_from_token(*, letter: OpenLetter, token: str) -> IndividualSignature:
    """Raises TokenInvalid or TokenExpired (from mechanisms.tokens) like the petition links."""
    signature_id = token_read(
        purpose=CONFIRM_TOKEN_PURPOSE, token=token, max_age=settings.SIGNATURE_CONFIRM_MAX_AGE
    )
    signature = (
        IndividualSignature.objects.select_related("letter")
        .filter(pk=signature_id, letter=letter)
        .first()
    )
    if signature is None:
        raise TokenInvalid
    return signature


# --- The press page ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PressRelease:
    letter: OpenLetter
    date: datetime | None
    organizations: list[SigningOrganization]
    statements: list[Statement]
    individual_count: int
    updates: list[LetterUpdate]

    @property
    def organization_count(self) -> int:
        return len(self.organizations)


def press_release(*, letter: OpenLetter) -> PressRelease:
    """Everything a press release needs, from the data: never an individual's name."""
    return PressRelease(
        letter=letter,
        date=letter.published_at,
        organizations=letter_organizations_public(letter=letter),
        statements=letter_statements_public(letter=letter),
        individual_count=letter.individual_signatures.filter(
            status=IndividualSignature.Status.CONFIRMED, held=False
        ).count(),
        updates=letter_updates(letter=letter),
    )


# --- The catalog ------------------------------------------------------------------------------

_CATALOG_STATUSES = {
    "": [OpenLetter.Status.OPEN, OpenLetter.Status.PUBLISHED, OpenLetter.Status.CLOSED],
    "open": [OpenLetter.Status.OPEN, OpenLetter.Status.PUBLISHED],
    "closed": [OpenLetter.Status.CLOSED],
}


def letter_catalog(
    *, words: str = "", topic: Topic | None = None, status: str = ""
) -> list[OpenLetter]:
    """Letters for the "join a cause" catalog, with the catalog's filters: every word in the
    title, summary or ask in any language, a topic, open (or published) or closed."""
    letters = OpenLetter.objects.filter(status__in=_CATALOG_STATUSES.get(status, []))
    if topic is not None:
        letters = letters.filter(topic=topic)
    for word in words.split():
        query = Q()
        for field in ("title", "summary", "ask"):
            for language, _name in settings.LANGUAGES:
                query |= Q(**{f"{build_localized_fieldname(field, language)}__icontains": word})
        letters = letters.filter(query)
    return list(
        letters.select_related("topic")
        .prefetch_related("lead_organizations")
        .annotate(
            organization_count=Count(
                "organization_signatures",
                filter=Q(
                    organization_signatures__status=OrganizationSignature.Status.APPROVED,
                    organization_signatures__organization__verification=(
                        Organization.Verification.VERIFIED
                    ),
                ),
            )
        )
        .order_by(F("published_at").desc(nulls_last=True), "-created_at")
    )
