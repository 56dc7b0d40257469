"""Query parameters read strictly: a value the schema does not allow is a 400 saying which and
why, never silently replaced by a default."""

from __future__ import annotations

import re
from collections.abc import Sequence

from rest_framework.exceptions import ParseError
from rest_framework.request import Request


def int_param(
    request: Request, name: str, *, default: int, minimum: int = 1, maximum: int | None = None
) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ParseError(f"“{name}” must be a whole number.") from None
    if value < minimum or (maximum is not None and value > maximum):
        bounds = f"from {minimum} to {maximum}" if maximum is not None else f"{minimum} or more"
        raise ParseError(f"“{name}” must be {bounds}.")
    return value


def choice_param(request: Request, name: str, choices: Sequence[str]) -> str | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if raw not in choices:
        raise ParseError(f"“{name}” must be one of: {', '.join(choices)}.")
    return raw


_SLUG = re.compile(r"[-a-zA-Z0-9_]{1,100}")


def slug_param(request: Request, name: str) -> str | None:
    """A slug (a topic's), or None when not given."""
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if not _SLUG.fullmatch(raw):
        raise ParseError(f"“{name}” must be a slug: letters, digits, hyphens and underscores.")
    return raw
