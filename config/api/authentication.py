"""An organization's token on a request: `Authorization: Bearer cosign_...`, or OSDI's own
header, `OSDI-API-Token: cosign_...`, which tools built for Action Network send. A request
without one is anonymous; one with a wrong or revoked key is refused with 401 at once."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from accounts.api_tokens import api_token_for_key
from accounts.models import ApiToken

OSDI_HEADER = "HTTP_OSDI_API_TOKEN"


def _key(request: Request) -> str | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _sep, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    osdi = request.META.get(OSDI_HEADER, "").strip()
    return osdi or None


class ApiTokenAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[AnonymousUser, ApiToken] | None:
        key = _key(request)
        if key is None:
            return None
        token = api_token_for_key(key)
        if token is None:
            raise AuthenticationFailed("This token is not valid, or it was revoked.")
        # The token, not a person, is who asks: request.auth carries it and its organization.
        return AnonymousUser(), token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """The token as the schema (and its documentation page) describes it."""

    target_class = ApiTokenAuthentication
    name = "organizationToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "An organization's token, made by its administrators in its workspace: "
                "`Authorization: Bearer cosign_...` (or `OSDI-API-Token: cosign_...`)."
            ),
        }
