"""What the public read API shows of a campaign: its texts in both languages, status, dates and
counts, and the names signers chose to make public, exactly as the pages show them. Nothing else
personal: no email, postal code or address, and no count of an area under SMALL_COUNT (nor one
that subtraction would give: petitions.open_data)."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Organization
from letters.models import OpenLetter, Statement
from letters.selectors import (
    letter_individuals_public,
    letter_organizations_public,
    letter_statements_public,
)
from petitions import open_data
from petitions.models import Petition, Target, Topic
from petitions.selectors import signatures_recent_public

LANGUAGES = [code for code, _name in settings.LANGUAGES]


class Texts(serializers.Serializer[Any]):
    """One text in every language, `{"en": ..., "it": ...}`; empty where it was not written
    (the pages show the other language then)."""

    en = serializers.CharField()
    it = serializers.CharField()

    def __init__(self, field: str, **kwargs: Any) -> None:
        self.base = field
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, instance: Any) -> dict[str, str]:
        return {code: getattr(instance, f"{self.base}_{code}") or "" for code in LANGUAGES}


class OrganizationRef(serializers.ModelSerializer[Organization]):
    class Meta:
        model = Organization
        fields = ("name", "slug", "website")


class PublicURLs(serializers.Serializer[Any]):
    page = serializers.URLField()
    api = serializers.URLField()


def _absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


# What petitions and letters share: their titles and pitches, topic, and addresses (the page,
# and the API's own, under `api_path`). A comment, not a docstring: the schema would show it.
class CampaignSummary(serializers.ModelSerializer[Any]):
    api_path: ClassVar[str]
    title = Texts("title")
    summary = Texts("summary")
    topic: serializers.SlugRelatedField[Topic] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, allow_null=True
    )
    urls = serializers.SerializerMethodField()

    @extend_schema_field(PublicURLs)
    def get_urls(self, campaign: Any) -> PublicURLs:
        return {  # type: ignore[return-value]
            "page": _absolute(campaign.get_absolute_url()),
            "api": _absolute(f"/api/v1/{self.api_path}/{campaign.slug}/"),
        }


class PetitionSummary(CampaignSummary):
    api_path = "petitions"
    sponsors = OrganizationRef(many=True, read_only=True)
    goal = serializers.IntegerField(source="current_goal", read_only=True)

    class Meta:
        model = Petition
        fields: tuple[str, ...] = (
            "slug",
            "urls",
            "title",
            "summary",
            "status",
            "topic",
            "opens_at",
            "closes_at",
            "signature_count",
            "goal",
            "sponsors",
            "created_at",
        )


class TargetCount(serializers.Serializer[Any]):
    name = serializers.CharField(source="target.name")
    title = serializers.CharField(source="target.title")
    level = serializers.ChoiceField(source="target.level", choices=Target.Level.choices)
    country = serializers.CharField(source="target.country.code", allow_blank=True)
    region = serializers.CharField(source="target.region", allow_blank=True)
    locality = serializers.CharField(source="target.locality", allow_blank=True)
    signatures = serializers.SerializerMethodField(
        help_text=f"Null when fewer than {open_data.SMALL_COUNT} of its constituents signed."
    )

    # A local target's few constituents are an area like any other.
    def get_signatures(self, row: Any) -> int | None:
        return open_data.count_shown(row.count)


class AreaCount(serializers.Serializer[Any]):
    country = serializers.CharField()
    region = serializers.CharField(allow_blank=True)
    signatures = serializers.IntegerField(
        source="count",
        min_value=open_data.SMALL_COUNT,
        help_text=(
            f"Only areas with at least {open_data.SMALL_COUNT} signatures are listed, and only"
            " when no smaller number could be worked out from them by subtraction: areas with"
            f" fewer, with none, and any held back for that reason are left out alike, and"
            " together (the total, or the country's count, less the listed areas) they are"
            f" always none or at least {open_data.SMALL_COUNT}."
        ),
    )


class PublicSigner(serializers.Serializer[Any]):
    """A name as the page shows it; a signer who withheld theirs has none here (the page says
    "Name withheld" in its reader's language)."""

    name = serializers.SerializerMethodField()
    withheld = serializers.SerializerMethodField()
    confirmed_at = serializers.DateTimeField()

    def get_name(self, signature: Any) -> str | None:
        return None if signature.display == "withheld" else signature.public_name

    def get_withheld(self, signature: Any) -> bool:
        return bool(signature.display == "withheld")


class PetitionDetail(PetitionSummary):
    demand = Texts("demand")
    addressed_to = Texts("addressed_to")
    body = Texts("body", help_text="Markdown, as written.")
    outcome = Texts("outcome")
    targets = serializers.SerializerMethodField()
    by_country = serializers.SerializerMethodField()
    by_region = serializers.SerializerMethodField()
    recent_signers = serializers.SerializerMethodField()

    class Meta(PetitionSummary.Meta):
        fields = (
            *PetitionSummary.Meta.fields,
            "demand",
            "addressed_to",
            "body",
            "outcome",
            "targets",
            "by_country",
            "by_region",
            "recent_signers",
        )

    @extend_schema_field(TargetCount(many=True))
    def get_targets(self, petition: Petition) -> list[TargetCount]:
        rows = open_data.counts_by_target(petition=petition)
        return TargetCount(rows, many=True).data  # type: ignore[return-value]

    def _areas(self, petition: Petition) -> open_data.Areas:
        # Countries and regions come from one scan and one suppression (open_data's rule).
        areas = getattr(self, "_areas_of", None)
        if areas is None or areas[0] != petition.pk:
            areas = (petition.pk, open_data.areas_counted(petition=petition))
            self._areas_of = areas
        return areas[1]

    @extend_schema_field(AreaCount(many=True))
    def get_by_country(self, petition: Petition) -> list[AreaCount]:
        rows = self._areas(petition).countries
        return AreaCount(rows, many=True).data  # type: ignore[return-value]

    @extend_schema_field(AreaCount(many=True))
    def get_by_region(self, petition: Petition) -> list[AreaCount]:
        rows = self._areas(petition).regions
        return AreaCount(rows, many=True).data  # type: ignore[return-value]

    @extend_schema_field(PublicSigner(many=True))
    def get_recent_signers(self, petition: Petition) -> list[PublicSigner]:
        rows = signatures_recent_public(petition=petition)
        return PublicSigner(rows, many=True).data  # type: ignore[return-value]


class PetitionCount(serializers.Serializer[Any]):
    slug = serializers.SlugField()
    signature_count = serializers.IntegerField()
    goal = serializers.IntegerField(source="current_goal")
    status = serializers.ChoiceField(choices=Petition.Status.choices)


class Period(serializers.Serializer[Any]):
    period = serializers.CharField(help_text="A day (YYYY-MM-DD) or an hour in UTC (ISO 8601).")
    signatures = serializers.IntegerField()


class PetitionHistory(serializers.Serializer[Any]):
    daily = Period(many=True, help_text="Every day with confirmed signatures, oldest first.")
    hourly = Period(
        many=True,
        help_text=f"Every hour of the last {open_data.HOURLY_DAYS} days with confirmed signatures.",
    )


class LetterSummary(CampaignSummary):
    api_path = "letters"
    lead_organizations = OrganizationRef(many=True, read_only=True)

    class Meta:
        model = OpenLetter
        fields: tuple[str, ...] = (
            "slug",
            "urls",
            "title",
            "summary",
            "status",
            "topic",
            "published_at",
            "lead_organizations",
            "created_at",
        )


class SigningOrganization(serializers.Serializer[Any]):
    name = serializers.CharField(source="organization.name")
    website = serializers.CharField(source="organization.website", allow_blank=True)
    signed_at = serializers.DateTimeField(source="signature.created_at")


class PublicStatement(serializers.ModelSerializer[Statement]):
    organization = serializers.CharField(source="signature.organization.name")

    class Meta:
        model = Statement
        fields = ("organization", "speaker_name", "speaker_title", "text")


class IndividualSigner(serializers.Serializer[Any]):
    """As the page names them; one who withheld their name has none here, only the letter's
    label for such signers ("Employee"), and neither title nor affiliation."""

    name = serializers.SerializerMethodField()
    withheld = serializers.BooleanField(source="withhold_name")
    withheld_label = serializers.SerializerMethodField()
    title = serializers.SerializerMethodField()
    affiliation = serializers.SerializerMethodField()

    def get_name(self, signer: Any) -> str | None:
        return None if signer.withhold_name else signer.name

    def get_withheld_label(self, signer: Any) -> str:
        return signer.letter.withheld_label if signer.withhold_name else ""

    # A signer who withheld their name withheld their title and affiliation with it.
    def get_title(self, signer: Any) -> str:
        return "" if signer.withhold_name else signer.title

    def get_affiliation(self, signer: Any) -> str:
        return "" if signer.withhold_name else signer.affiliation


class LetterDetail(LetterSummary):
    body = Texts("body", help_text="Markdown, as written.")
    addressed_to = Texts("addressed_to")
    ask = Texts("ask")
    organizations = serializers.SerializerMethodField()
    statements = serializers.SerializerMethodField()
    individuals = serializers.SerializerMethodField()

    class Meta(LetterSummary.Meta):
        fields = (
            *LetterSummary.Meta.fields,
            "body",
            "addressed_to",
            "ask",
            "organizations",
            "statements",
            "individuals",
        )

    @extend_schema_field(SigningOrganization(many=True))
    def get_organizations(self, letter: OpenLetter) -> list[SigningOrganization]:
        rows = letter_organizations_public(letter=letter)
        return SigningOrganization(rows, many=True).data  # type: ignore[return-value]

    @extend_schema_field(PublicStatement(many=True))
    def get_statements(self, letter: OpenLetter) -> list[PublicStatement]:
        rows = letter_statements_public(letter=letter)
        return PublicStatement(rows, many=True).data  # type: ignore[return-value]

    @extend_schema_field(IndividualSigner(many=True))
    def get_individuals(self, letter: OpenLetter) -> list[IndividualSigner]:
        rows = letter_individuals_public(letter=letter)
        return IndividualSigner(rows, many=True).data  # type: ignore[return-value]


class Problem(serializers.Serializer[Any]):
    """Every error of the API: a sentence saying what went wrong."""

    detail = serializers.CharField()


# The errors each kind of operation may answer, for the schema (and its fuzzing) to know.
PUBLIC_ERRORS = {400: Problem, 404: Problem, 429: Problem}
TOKEN_ERRORS = {400: Problem, 401: Problem, 403: Problem, 404: Problem, 429: Problem}
