"""Errors of the API as JSON a person can read: `{"detail": "..."}` with the status, and
`Retry-After` on 429 (DRF's own handler sets it from the throttle's wait)."""

from __future__ import annotations

from typing import Any

from rest_framework.response import Response
from rest_framework.views import exception_handler


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    response = exception_handler(exc, context)
    if response is not None:
        # An error is about this request only: never kept by a shared cache.
        response["Cache-Control"] = "no-store"
    return response
