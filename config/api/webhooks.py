"""An organization's webhooks through the API, for a token of scope "manage its webhooks": what
its administrators do on the workspace page, for a deployment script. Registering checks the
address as the page does; every change is in the audit log under the token's maker."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import webhooks
from accounts.models import ApiToken, Organization, User, WebhookDelivery, WebhookEndpoint
from config.api.authentication import ApiTokenAuthentication
from config.api.osdi import HasScope
from config.api.serializers import TOKEN_ERRORS
from config.api.throttling import TokenThrottle
from mechanisms.validators import validate_no_control_characters

# Events carrying a supporter's details.
PERSONAL_EVENTS = frozenset(
    {WebhookEndpoint.Event.SIGNATURE_CONFIRMED, WebhookEndpoint.Event.SIGNATURE_WITHDRAWN}
)


class Endpoint(serializers.ModelSerializer[WebhookEndpoint]):
    class Meta:
        model = WebhookEndpoint
        fields: tuple[str, ...] = (
            "id",
            "kind",
            "url",
            "events",
            "active",
            "disabled_reason",
            "created_at",
        )


class EndpointNew(serializers.Serializer[Any]):
    url = serializers.CharField(max_length=500, validators=[validate_no_control_characters])
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEndpoint.Event.choices),
        required=False,
        default=list,
    )
    kind = serializers.ChoiceField(
        choices=WebhookEndpoint.Kind.choices, default=WebhookEndpoint.Kind.STANDARD
    )
    osdi_api_key = serializers.CharField(max_length=200, required=False, default="")


class EndpointMade(Endpoint):
    """The endpoint as made, with its secret: to verify its signatures."""

    class Meta(Endpoint.Meta):
        fields = (*Endpoint.Meta.fields, "secret")


class Delivery(serializers.ModelSerializer[WebhookDelivery]):
    endpoint = serializers.IntegerField(source="endpoint_id")

    class Meta:
        model = WebhookDelivery
        fields = (
            "id",
            "endpoint",
            "event",
            "message_id",
            "state",
            "attempts",
            "last_status",
            "last_error",
            "created_at",
            "sent_at",
        )


class WebhookView(APIView):
    authentication_classes = (ApiTokenAuthentication,)
    permission_classes = (HasScope,)
    throttle_classes = (TokenThrottle,)
    scopes = (ApiToken.Scope.MANAGE_WEBHOOKS,)

    @property
    def token(self) -> ApiToken:
        token = self.request.auth
        assert isinstance(token, ApiToken)
        return token

    @property
    def organization(self) -> Organization:
        return self.token.organization

    @property
    def maker(self) -> User:
        assert self.token.created_by is not None  # tokens without their maker do not work
        return self.token.created_by

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cache-Control"] = "private, no-store"
        return response


@extend_schema(tags=["organization webhooks"])
class EndpointList(WebhookView):
    @extend_schema(responses={200: Endpoint(many=True), **TOKEN_ERRORS})
    def get(self, request: Request) -> Response:
        rows = webhooks.webhook_endpoints_of(organization=self.organization)
        return Response(Endpoint(rows, many=True).data)

    @extend_schema(request=EndpointNew, responses={201: EndpointMade, **TOKEN_ERRORS})
    def post(self, request: Request) -> Response:
        given = EndpointNew(data=request.data)
        given.is_valid(raise_exception=True)
        personal = given.validated_data["kind"] == WebhookEndpoint.Kind.OSDI_PUSH or any(
            event in PERSONAL_EVENTS for event in given.validated_data["events"]
        )
        if personal:
            # Supporters' details leave only where an administrator sent them, on the page.
            raise PermissionDenied(
                "Endpoints that receive supporters' details are registered by an administrator "
                "on the organization's webhooks page."
            )
        try:
            endpoint = webhooks.webhook_endpoint_create(
                organization=self.organization,
                user=self.maker,
                url=given.validated_data["url"],
                events=given.validated_data["events"],
                kind=WebhookEndpoint.Kind(given.validated_data["kind"]),
                osdi_api_key=given.validated_data["osdi_api_key"],
            )
        except DjangoValidationError as error:
            raise ValidationError(
                error.message_dict if hasattr(error, "error_dict") else {"detail": error.messages}
            ) from None
        return Response(EndpointMade(endpoint).data, status=status.HTTP_201_CREATED)


def _endpoint(organization: Organization, pk: int) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.filter(pk=pk, organization=organization).first()
    if endpoint is None:
        raise Http404
    return endpoint


@extend_schema(tags=["organization webhooks"])
class EndpointDetail(WebhookView):
    @extend_schema(responses={204: None, **TOKEN_ERRORS})
    def delete(self, request: Request, pk: int) -> Response:
        webhooks.webhook_endpoint_delete(endpoint=_endpoint(self.organization, pk), user=self.maker)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["organization webhooks"])
class DeliveryList(WebhookView):
    @extend_schema(responses={200: Delivery(many=True), **TOKEN_ERRORS})
    def get(self, request: Request) -> Response:
        rows = webhooks.webhook_deliveries_recent(organization=self.organization)
        return Response(Delivery(rows, many=True).data)


@extend_schema(tags=["organization webhooks"])
class DeliveryAgain(WebhookView):
    @extend_schema(request=None, responses={202: Delivery, **TOKEN_ERRORS})
    def post(self, request: Request, pk: int) -> Response:
        if not WebhookDelivery.objects.filter(
            pk=pk, endpoint__organization=self.organization
        ).exists():
            raise Http404
        try:
            again = webhooks.webhook_redeliver(
                organization=self.organization, delivery_id=pk, user=self.maker
            )
        except DjangoValidationError as error:
            raise ValidationError({"detail": error.messages}) from None
        return Response(Delivery(again).data, status=status.HTTP_202_ACCEPTED)
