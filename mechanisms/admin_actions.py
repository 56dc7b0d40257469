"""One way for an admin action to act on the rows staff selected and to say what happened.

Petitions', letters' and accounts' admins run a service on each selected row (publish an update,
send a failed delivery again, verify an organization), and staff need the same things back from
every one of them: how many rows were done, how many were left alone and why, and an audit entry
for each row changed. `action_run` does all of it; `action_report` only tells, for services that
take every id at once (moderation).

Messages are `ngettext_lazy(singular, plural)` with one `%d` and no count: the count given here
picks the plural form (Django's documented way to pluralize a lazy message later).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol, TypeVar

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models, router, transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from mechanisms.audit import audit_log

RowT = TypeVar("RowT", bound=models.Model)


class CountMessage(Protocol):
    """A message with one `%d`, from `ngettext_lazy(singular, plural)`."""

    def __mod__(self, count: int, /) -> str: ...


def action_report(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    *,
    done: CountMessage,
    done_count: int,
    left: Iterable[tuple[CountMessage, int]] = (),
) -> None:
    """Tell staff how many rows the action changed, as a warning when none (they expected
    something to happen), then, for each reason rows were left alone, how many."""
    model_admin.message_user(
        request, done % done_count, messages.SUCCESS if done_count else messages.WARNING
    )
    for message, count in left:
        if count:
            model_admin.message_user(request, message % count, messages.WARNING)


def action_run(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet[RowT],
    *,
    run: Callable[[RowT], bool],
    done: CountMessage,
    left: CountMessage | Callable[[RowT], CountMessage],
    audit: str = "",
) -> list[RowT]:
    """Call `run` on each selected row, which returns whether it acted (the service's own
    answer: a row already published or not failed is left alone), and report with
    `action_report`. `left` says why a row was left alone, one message for all or, given a
    function, one per row as it was selected. With an `audit` message, every row acted on gets
    an audit entry; a service that writes its own entries is given none. A ValidationError from
    `run` stops at that row: what was done before it stands and is reported, then the error.
    Returns the rows acted on."""
    acted: list[RowT] = []
    # Grouped by identity: lazy messages without a count all compare equal to one another.
    left_counts: dict[int, tuple[CountMessage, int]] = {}
    error: ValidationError | None = None
    # The rows changed and their audit entries stand or fall together.
    with transaction.atomic(using=router.db_for_write(queryset.model)):
        # The rows as selected, before any changes: `left` reads why each was not acted on.
        for row in list(queryset):
            try:
                did = run(row)
            except ValidationError as exc:
                error = exc
                break
            if did:
                acted.append(row)
                continue
            # A lazy message is not callable; a function choosing one per row is.
            message = left(row) if callable(left) else left
            _, count = left_counts.get(id(message), (message, 0))
            left_counts[id(message)] = (message, count + 1)
        if audit:
            audit_log(user=request.user, objects=acted, message=audit)
    action_report(model_admin, request, done=done, done_count=len(acted), left=left_counts.values())
    if error is not None:
        model_admin.message_user(request, " ".join(error.messages), messages.ERROR)
    return acted
