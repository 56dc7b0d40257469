"""Reads of response thresholds: the request an answer link opens, and what the petition's
page says (the next threshold, each target's status).

The page's words are computed from dates when the page is rendered: the petition page is
cached for PETITION_PAGE_CACHE_SECONDS (a second by default), so "12 days left" is at most that
stale, and it turns into "11 days left" at the local midnight the reader's copy was rendered
after. Day counts compare local dates (TIME_ZONE), never 24-hour spans, so a request due today
says "due today" all day long."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.utils import timezone

from mechanisms.link_keys import link_key_of, link_token_matches
from petitions.models import Petition, Target, Threshold, ThresholdRequest

Status = ThresholdRequest.Status


class LinkInvalid(Exception):
    """Not a link we made, or not for this petition, or replaced by a newer one."""


class LinkExpired(Exception):
    def __init__(self, request: ThresholdRequest) -> None:
        super().__init__(request.pk)
        self.request = request


class AlreadyPublished(Exception):
    def __init__(self, request: ThresholdRequest) -> None:
        super().__init__(request.pk)
        self.request = request


def threshold_request_for_token(
    *, slug: str, token: str, now: datetime | None = None, lock: bool = False
) -> ThresholdRequest:
    """The request an answer link opens. Raises LinkInvalid, LinkExpired or AlreadyPublished.
    With `lock`, the row is locked for the caller's transaction."""
    key = link_key_of(token)
    if key is None:
        raise LinkInvalid
    found = ThresholdRequest.objects.select_related("petition", "target").filter(
        link_key=key, petition__slug=slug
    )
    if lock:
        found = found.select_for_update(of=("self",))
    request = found.first()
    if request is None or not link_token_matches(digest=request.token_digest, token=token):
        raise LinkInvalid
    if request.status == Status.PUBLISHED:
        raise AlreadyPublished(request)
    if request.link_expires_at is None or request.link_expires_at <= (now or timezone.now()):
        raise LinkExpired(request)
    return request


# --- The petition's page ----------------------------------------------------------------------


@dataclass(frozen=True)
class TargetStatus:
    target: Target
    count: int
    state: str  # "awaiting", "due_today", "overdue", "received", "responded"
    days: int = 0
    due_date: date | None = None
    answered_on: date | None = None
    response_id: int | None = None


@dataclass(frozen=True)
class ThresholdsBlock:
    next_threshold: Threshold | None
    statuses: list[TargetStatus]

    def __bool__(self) -> bool:
        return self.next_threshold is not None or bool(self.statuses)


def _status(request: ThresholdRequest, today: date) -> TargetStatus:
    target, count = request.target, request.count
    if request.status == Status.PUBLISHED and request.response is not None:
        return TargetStatus(
            target,
            count,
            "responded",
            answered_on=request.response.received_at,
            response_id=request.response_id,
        )
    if request.status in (Status.ANSWERED, Status.PUBLISHED) and request.answered_at is not None:
        # Published, but its response deleted since: still answered, never "overdue".
        return TargetStatus(
            target, count, "received", answered_on=timezone.localdate(request.answered_at)
        )
    assert request.due_at is not None
    due = timezone.localdate(request.due_at)
    days = (due - today).days
    if days > 0:
        return TargetStatus(target, count, "awaiting", days=days, due_date=due)
    if days == 0:
        return TargetStatus(target, count, "due_today", due_date=due)
    return TargetStatus(target, count, "overdue", days=-days, due_date=due)


def petition_thresholds_block(
    *, petition: Petition, now: datetime | None = None
) -> ThresholdsBlock:
    """What the petition's page shows of its thresholds: the next one not reached, and each
    target asked so far with its status. Two queries, once per render of the cached page."""
    today = timezone.localdate(now or timezone.now())
    next_threshold = (
        Threshold.objects.filter(petition=petition, count__gt=petition.total_count)
        .select_related("target")
        .order_by("count", "target_id")
        .first()
    )
    requests = (
        ThresholdRequest.objects.filter(petition=petition, notice=ThresholdRequest.Notice.ASKED)
        .select_related("target", "response")
        .order_by("-count", "target__title", "pk")
    )
    return ThresholdsBlock(
        next_threshold=next_threshold,
        statuses=[_status(request, today) for request in requests],
    )
