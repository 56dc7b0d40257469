"""The organization API: an organization's own campaigns, signatures and supporters, for the
tools it already uses, read with one of its tokens (accounts.api_tokens), in the shape of the
Open Supporter Data Interface (OSDI 1.1, as Action Network speaks it): HAL+JSON, resources
`osdi:petitions`, `osdi:signatures` and `osdi:people`, paginated with `page` and `per_page`.

A token reads its own organization's data only: every query starts from the token's
organization, and anything else is a 404, as if it did not exist. People and their signatures
are only those who opted in to this organization (what its data stewards export), and every page
of them read is recorded as an export (petitions.services.supporters)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.permissions import BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import ApiToken, Organization
from config.api.authentication import ApiTokenAuthentication
from config.api.params import int_param
from config.api.serializers import TOKEN_ERRORS
from config.api.throttling import TokenThrottle
from petitions.models import Petition, SponsorOptIn
from petitions.questions import questions_of
from petitions.services.supporters import supporter_export_record
from petitions.supporters import supporters_of

PER_PAGE = 25
MAX_PER_PAGE = 100


class HALRenderer(JSONRenderer):
    media_type = "application/hal+json"


class HasScope(BasePermission):
    """A token of the right scope (the view's `scopes`), of a verified organization."""

    message = "This token may not read this."

    def has_permission(self, request: Request, view: Any) -> bool:
        token = request.auth
        return (
            isinstance(token, ApiToken)
            and token.scope in view.scopes
            and token.organization.is_verified
        )


class OsdiView(APIView):
    authentication_classes = (ApiTokenAuthentication,)
    permission_classes = (HasScope,)
    throttle_classes = (TokenThrottle,)
    renderer_classes = (HALRenderer,)
    scopes: tuple[str, ...] = (ApiToken.Scope.READ_CAMPAIGNS, ApiToken.Scope.READ_SUPPORTERS)

    @property
    def organization(self) -> Organization:
        token = self.request.auth
        assert isinstance(token, ApiToken)
        return token.organization

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        # One organization's data, for its own tools only.
        response["Cache-Control"] = "private, no-store"
        return response


def _url(name: str, request: Request, **kwargs: Any) -> str:
    return request.build_absolute_uri(reverse(f"api:{name}", kwargs=kwargs or None))


def _page(
    request: Request, rows: QuerySet[Any], *, name: str, **kwargs: Any
) -> tuple[list[Any], dict[str, Any]]:
    """One page of `rows` and OSDI's paging fields and links (self, next, previous)."""
    per_page = int_param(request, "per_page", default=PER_PAGE, maximum=MAX_PER_PAGE)
    page = int_param(request, "page", default=1)
    total = rows.count()
    pages = max((total + per_page - 1) // per_page, 1)
    if page > pages:
        raise NotFound(f"There is no page {page}: the last is {pages}.")
    shown = list(rows[(page - 1) * per_page : page * per_page])
    base = _url(name, request, **kwargs)

    def link(number: int) -> dict[str, str]:
        return {"href": f"{base}?page={number}&per_page={per_page}"}

    links: dict[str, Any] = {"self": link(page)}
    if page < pages:
        links["next"] = link(page + 1)
    if page > 1:
        links["previous"] = link(page - 1)
    return shown, {
        "total_pages": pages,
        "per_page": per_page,
        "page": page,
        "total_records": total,
        "_links": links,
    }


def _petitions(organization: Organization) -> QuerySet[Petition]:
    return (
        organization.sponsored_petitions.exclude(status=Petition.Status.DRAFT)
        .select_related("question_set")
        .prefetch_related("targets")
        .order_by("-created_at", "-pk")
    )


def _petition(request: Request, petition: Petition) -> dict[str, Any]:
    language = petition.language or settings.LANGUAGE_CODE
    return {
        "identifiers": [f"cosign:{petition.pk}"],
        "origin_system": "Cosign",
        "created_date": petition.created_at.isoformat(),
        "modified_date": petition.updated_at.isoformat(),
        "title": getattr(petition, f"title_{language}", "") or petition.title,
        "description": petition.summary,
        "petition_text": petition.demand,
        "browser_url": f"{settings.SITE_URL}{petition.get_absolute_url()}",
        "total_signatures": petition.signature_count,
        "target": [{"name": str(target)} for target in petition.targets.all()],
        # OSDI has no field for a sign form's own questions: Cosign's, by key, as asked now.
        "custom_fields": {
            "questions": [
                {
                    "key": question.key,
                    "kind": question.kind,
                    "question": question.label_in(language),
                    "required": question.required,
                }
                for question in questions_of(petition.question_set)
            ]
        },
        "_links": {
            "self": {"href": _url("osdi_petition", request, pk=petition.pk)},
            "osdi:signatures": {"href": _url("osdi_signatures", request, pk=petition.pk)},
        },
    }


def _name_parts(name: str) -> tuple[str, str]:
    first, _sep, rest = name.strip().partition(" ")
    return first, rest


def _person(request: Request, opt_in: SponsorOptIn) -> dict[str, Any]:
    signature = opt_in.signature
    given, family = _name_parts(signature.name)
    country = signature.country.code or ""
    return {
        "identifiers": [f"cosign:{opt_in.pk}"],
        "origin_system": "Cosign",
        "created_date": opt_in.created_at.isoformat(),
        "modified_date": (opt_in.exported_at or opt_in.created_at).isoformat(),
        "given_name": given,
        "family_name": family,
        "languages_spoken": [signature.language],
        "email_addresses": [{"primary": True, "address": signature.email}],
        "postal_addresses": [
            {"primary": True, "postal_code": signature.postal_code, "country": country}
        ]
        if signature.postal_code or country
        else [],
        "custom_fields": {
            "campaign": signature.petition.slug,
            "source": signature.source.slug if signature.source else "",
            "consented_at": opt_in.created_at.isoformat(),
            "consent_wording": opt_in.wording.text if opt_in.wording else "",
        },
        "_links": {"self": {"href": _url("osdi_person", request, pk=opt_in.pk)}},
    }


def _signature(request: Request, opt_in: SponsorOptIn) -> dict[str, Any]:
    signature = opt_in.signature
    language = signature.petition.language or settings.LANGUAGE_CODE
    return {
        "identifiers": [f"cosign:{signature.pk}"],
        "origin_system": "Cosign",
        "created_date": (signature.confirmed_at or signature.created_at).isoformat(),
        "referrer_data": {
            "source": signature.source.slug if signature.source else "",
        },
        # The signer's answers to the petition's own questions, by question key, in the words
        # they saw (OSDI has no standard field for them).
        "custom_fields": {
            question.key: question.answer_shown(signature.answers[question.key], language)
            for question in questions_of(signature.question_set)
            if question.key in (signature.answers or {})
        },
        "_links": {
            "osdi:person": {"href": _url("osdi_person", request, pk=opt_in.pk)},
            "osdi:petition": {"href": _url("osdi_petition", request, pk=signature.petition_id)},
        },
    }


def _record(
    request: Request, organization: Organization, shown: list[SponsorOptIn], **filters: Any
) -> None:
    """Every page of people read through the API is an export, as a page of the list is."""
    if shown:
        token = request.auth
        assert isinstance(token, ApiToken) and token.created_by is not None
        supporter_export_record(
            organization=organization,
            user=token.created_by,
            shown=[opt_in.pk for opt_in in shown],
            through_api=True,
            **filters,
        )


_PAGING = [
    OpenApiParameter("page", {"type": "integer", "minimum": 1}, required=False),
    OpenApiParameter(
        "per_page", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE}, required=False
    ),
]


@extend_schema(tags=["organization (OSDI)"], responses={200: OpenApiTypes.OBJECT, **TOKEN_ERRORS})
class EntryPoint(OsdiView):
    """OSDI's entry point: where the organization's resources are."""

    scopes = tuple(ApiToken.Scope)

    def get(self, request: Request) -> Response:
        links: dict[str, Any] = {"self": {"href": _url("osdi", request)}}
        token = request.auth
        assert isinstance(token, ApiToken)
        if token.scope in (ApiToken.Scope.READ_CAMPAIGNS, ApiToken.Scope.READ_SUPPORTERS):
            links["osdi:petitions"] = {"href": _url("osdi_petitions", request)}
        if token.scope == ApiToken.Scope.READ_SUPPORTERS:
            links["osdi:people"] = {"href": _url("osdi_people", request)}
        return Response(
            {
                "motd": f"{self.organization.name} on Cosign",
                "vendor_name": "Cosign",
                "product_name": "Cosign",
                "osdi_version": "1.1",
                "_links": links,
            }
        )


@extend_schema(
    tags=["organization (OSDI)"],
    parameters=_PAGING,
    responses={200: OpenApiTypes.OBJECT, **TOKEN_ERRORS},
)
class PetitionList(OsdiView):
    """The published petitions the organization sponsors or leads."""

    @extend_schema(operation_id="osdi_petitions_list")
    def get(self, request: Request) -> Response:
        shown, paging = _page(request, _petitions(self.organization), name="osdi_petitions")
        return Response(
            {**paging, "_embedded": {"osdi:petitions": [_petition(request, p) for p in shown]}}
        )


@extend_schema(tags=["organization (OSDI)"], responses={200: OpenApiTypes.OBJECT, **TOKEN_ERRORS})
class PetitionDetail(OsdiView):
    def get(self, request: Request, pk: int) -> Response:
        petition = _petitions(self.organization).filter(pk=pk).first()
        if petition is None:
            raise Http404
        return Response(_petition(request, petition))


def _opt_ins(organization: Organization, **filters: Any) -> QuerySet[SponsorOptIn]:
    return supporters_of(organization=organization, **filters)


@extend_schema(
    tags=["organization (OSDI)"],
    parameters=_PAGING,
    responses={200: OpenApiTypes.OBJECT, **TOKEN_ERRORS},
)
class SignatureList(OsdiView):
    """The petition's signatures by people who opted in to the organization.

    Each signature's `custom_fields` holds its signer's answers to the petition's own sign-form
    questions, keyed by the question's key (the petition's `custom_fields.questions` says which
    question each key is), each answer as the signer's words or choice, "yes"/"no", or a number.
    """

    scopes = (ApiToken.Scope.READ_SUPPORTERS,)

    def get(self, request: Request, pk: int) -> Response:
        petition = _petitions(self.organization).filter(pk=pk).first()
        if petition is None:
            raise Http404
        rows = _opt_ins(self.organization, petition=petition).select_related(
            "signature__question_set"
        )
        shown, paging = _page(request, rows, name="osdi_signatures", pk=pk)
        _record(request, self.organization, shown, petition=petition)
        return Response(
            {**paging, "_embedded": {"osdi:signatures": [_signature(request, o) for o in shown]}}
        )


@extend_schema(
    tags=["organization (OSDI)"],
    parameters=_PAGING,
    responses={200: OpenApiTypes.OBJECT, **TOKEN_ERRORS},
)
class PersonList(OsdiView):
    """The people who opted in to the organization, oldest consent first."""

    scopes = (ApiToken.Scope.READ_SUPPORTERS,)

    @extend_schema(operation_id="osdi_people_list")
    def get(self, request: Request) -> Response:
        shown, paging = _page(request, _opt_ins(self.organization), name="osdi_people")
        _record(request, self.organization, shown)
        return Response(
            {**paging, "_embedded": {"osdi:people": [_person(request, o) for o in shown]}}
        )


@extend_schema(tags=["organization (OSDI)"], responses={200: OpenApiTypes.OBJECT, **TOKEN_ERRORS})
class PersonDetail(OsdiView):
    scopes = (ApiToken.Scope.READ_SUPPORTERS,)

    def get(self, request: Request, pk: int) -> Response:
        opt_in = _opt_ins(self.organization).filter(pk=pk).first()
        if opt_in is None:
            raise Http404
        _record(request, self.organization, [opt_in])
        return Response(_person(request, opt_in))
