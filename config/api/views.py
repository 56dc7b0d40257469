"""The public read API: published petitions and letters as open data, for anyone, without a
key. Every answer is JSON with an ETag (a client sending it back gets 304) and Cache-Control;
anonymous reads of a URL without a query string are kept in the page cache like the pages
(mechanisms.page_cache), so a viral campaign's figures cost what its page costs. GET only, from
any origin (CORS); over the rate limit, 429 with Retry-After."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseBase, JsonResponse
from django.utils.cache import get_conditional_response, patch_cache_control, set_response_etag
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import serializers
from config.api.params import choice_param, int_param, slug_param
from config.api.throttling import AddressThrottle
from letters.models import OpenLetter
from letters.selectors import letter_get_public
from mechanisms.page_cache import page_cached
from petitions import open_data
from petitions.models import Petition
from petitions.selectors import petition_get_public

# What anyone may read: everything staff or an organization published, never a draft.
PUBLIC_PETITION_STATUSES = (Petition.Status.OPEN, Petition.Status.CLOSED, Petition.Status.ARCHIVED)
PUBLIC_LETTER_STATUSES = (
    OpenLetter.Status.OPEN,
    OpenLetter.Status.PUBLISHED,
    OpenLetter.Status.CLOSED,
)


class Pages(PageNumberPagination):
    page_size = 20
    page_size_query_param = "per_page"
    max_page_size = 100

    def get_page_size(self, request: Request) -> int:
        return int_param(request, "per_page", default=self.page_size, maximum=self.max_page_size)

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> Any:
        int_param(request, "page", default=1)
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"] = {
                "type": "integer",
                "minimum": 1,
                **({"maximum": self.max_page_size} if parameter["name"] == "per_page" else {}),
            }
        return parameters


class PublicView(APIView):
    """No key, no session: the same answer for everyone, cached and conditional."""

    authentication_classes = ()
    permission_classes = ()
    throttle_classes = (AddressThrottle,)

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = super().dispatch(request, *args, **kwargs)
        if (
            request.method not in ("GET", "HEAD")
            or response.status_code != 200
            or not isinstance(response, Response)
        ):
            return response
        response.render()
        set_response_etag(response)
        # On every answer, not only one asked with an Origin (django-cors-headers' way): the page
        # cache keeps the first answer for every reader, browsers on other sites included.
        response["Access-Control-Allow-Origin"] = "*"
        response["Access-Control-Expose-Headers"] = "ETag, Retry-After"
        unchanged = get_conditional_response(request, etag=response["ETag"], response=response)
        if unchanged is not None and unchanged is not response:
            return unchanged
        shared = page_cached(
            request, render=lambda: response, public_max_age=settings.API_CACHE_SECONDS
        )
        if not shared.has_header("Cache-Control"):
            patch_cache_control(shared, public=True, max_age=settings.API_CACHE_SECONDS)
        return shared


_STATUS = OpenApiParameter(
    "status", OpenApiTypes.STR, enum=["open", "closed", "archived"], required=False
)
_TOPIC = OpenApiParameter(
    "topic",
    {"type": "string", "pattern": "^[-a-zA-Z0-9_]{1,100}$"},
    description="A topic's slug.",
    required=False,
)


@extend_schema(
    parameters=[_STATUS, _TOPIC],
    tags=["public"],
    responses={200: serializers.PetitionSummary(many=True), **serializers.PUBLIC_ERRORS},
)
class PetitionList(PublicView, generics.ListAPIView[Petition]):
    """Published petitions, newest first."""

    serializer_class = serializers.PetitionSummary
    pagination_class = Pages

    def get_queryset(self) -> QuerySet[Petition]:
        rows = (
            Petition.objects.filter(status__in=PUBLIC_PETITION_STATUSES)
            .select_related("topic")
            .prefetch_related("sponsors")
            .order_by("-created_at", "-pk")
        )
        status = choice_param(self.request, "status", PUBLIC_PETITION_STATUSES)
        if status is not None:
            rows = rows.filter(status=status)
        topic = slug_param(self.request, "topic")
        if topic is not None:
            rows = rows.filter(topic__slug=topic)
        return rows


@extend_schema(
    tags=["public"], responses={200: serializers.PetitionDetail, **serializers.PUBLIC_ERRORS}
)
class PetitionDetail(PublicView, generics.RetrieveAPIView[Petition]):
    """A published petition: its texts, its counts per target, country and region, and the
    names its latest signers chose to show."""

    serializer_class = serializers.PetitionDetail

    def get_object(self) -> Petition:
        return petition_get_public(slug=self.kwargs["slug"])


@extend_schema(
    tags=["public"], responses={200: serializers.PetitionCount, **serializers.PUBLIC_ERRORS}
)
class PetitionCount(PublicView):
    """Just the count and the goal: what a widget on another site polls."""

    def get(self, request: Request, slug: str) -> Response:
        petition = petition_get_public(slug=slug)
        return Response(serializers.PetitionCount(petition).data)


@extend_schema(
    tags=["public"], responses={200: serializers.PetitionHistory, **serializers.PUBLIC_ERRORS}
)
class PetitionHistory(PublicView):
    """Confirmed signatures per day over the petition's life, and per hour lately."""

    def get(self, request: Request, slug: str) -> Response:
        petition = petition_get_public(slug=slug)
        data = {
            "daily": [
                {"period": day, "signatures": n}
                for day, n in open_data.history_daily(petition=petition)
            ],
            "hourly": [
                {"period": hour, "signatures": n}
                for hour, n in open_data.history_hourly(petition=petition)
            ],
        }
        return Response(serializers.PetitionHistory(data).data)


@extend_schema(
    tags=["public"],
    responses={200: serializers.LetterSummary(many=True), **serializers.PUBLIC_ERRORS},
)
class LetterList(PublicView, generics.ListAPIView[OpenLetter]):
    """Open letters open for signatures or published, newest first."""

    serializer_class = serializers.LetterSummary
    pagination_class = Pages

    def get_queryset(self) -> QuerySet[OpenLetter]:
        return (
            OpenLetter.objects.filter(status__in=PUBLIC_LETTER_STATUSES)
            .select_related("topic")
            .prefetch_related("lead_organizations")
            .order_by("-created_at", "-pk")
        )


@extend_schema(
    tags=["public"], responses={200: serializers.LetterDetail, **serializers.PUBLIC_ERRORS}
)
class LetterDetail(PublicView, generics.RetrieveAPIView[OpenLetter]):
    """An open letter with its text, the organizations that signed it and their approved
    statements, and its individual signers as the page names them."""

    serializer_class = serializers.LetterDetail

    def get_object(self) -> OpenLetter:
        return letter_get_public(slug=self.kwargs["slug"])


# Exempt: a POST to a wrong path of the API (no session, no CSRF token) is told "not found" in
# JSON, not the site's CSRF page. It changes nothing.
@csrf_exempt
def not_found(request: HttpRequest) -> JsonResponse:
    """Any other path under the API: a 404 in its JSON (HAL+JSON under the organization API,
    as its other answers)."""
    osdi = request.path.startswith("/api/v1/osdi/")
    return JsonResponse(
        {"detail": "Not found."},
        status=404,
        content_type="application/hal+json" if osdi else "application/json",
    )
