"""Writes of a target's answer to a response threshold: kept from its answer link (and revised
until published), staff told once, and published by staff as the petition's response."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from mechanisms import outbox
from mechanisms.audit import audit_log
from mechanisms.outbox import Recipient
from petitions.drafting.selectors import staff_reviewers
from petitions.models import Response, ThresholdRequest
from petitions.models.thresholds import ANSWER_MAX_LENGTH
from petitions.services import deliveries
from petitions.thresholds import emails
from petitions.thresholds.selectors import threshold_request_for_token

Status = ThresholdRequest.Status


def threshold_answer_save(
    *, slug: str, token: str, text: str, now: datetime | None = None
) -> ThresholdRequest:
    """Keep the target's answer (a first one, or a revision before staff publish it). The first
    answer is announced to staff, once. Raises what threshold_request_for_token raises, and
    ValidationError for an empty or too long answer; either way nothing is written."""
    now = now or timezone.now()
    text = text.strip()
    if not text:
        raise ValidationError(gettext("Write your answer first."))
    if len(text) > ANSWER_MAX_LENGTH:
        raise ValidationError(
            gettext("An answer may be at most %(max)s characters long.")
            % {"max": ANSWER_MAX_LENGTH}
        )
    with transaction.atomic():
        request = threshold_request_for_token(slug=slug, token=token, now=now, lock=True)
        first = request.answered_at is None
        request.answer = text
        request.answer_changed_at = now
        request.answered_at = request.answered_at or now
        request.status = Status.ANSWERED
        request.save(update_fields=["answer", "answer_changed_at", "answered_at", "status"])
        if first:
            outbox.emails_enqueue(
                kind=emails.THRESHOLD_ANSWERED,
                about=request.pk,
                recipients=[
                    Recipient(
                        to=user.email,
                        language=emails.STAFF_LANGUAGE,
                        ref={"request": request.pk},
                    )
                    for user in staff_reviewers(perm=emails.PUBLISH_PERMISSION)
                    if user.email
                ],
            )
    return request


def threshold_answer_publish(*, request_id: int, user: Any, now: datetime | None = None) -> bool:
    """Publish a target's answer as the petition's response: a Response linked to the request,
    published as an update emailed to the signers who asked for them. Once: a request not
    answered, or already published, is left alone. Returns whether this call published it."""
    now = now or timezone.now()
    with transaction.atomic():
        request = ThresholdRequest.objects.select_for_update().filter(pk=request_id).first()
        if request is None or request.status != Status.ANSWERED or request.answered_at is None:
            return False
        response = Response.objects.create(
            petition_id=request.petition_id,
            target_id=request.target_id,
            text=request.answer,
            received_at=timezone.localdate(request.answered_at),
        )
        ThresholdRequest.objects.filter(pk=request.pk).update(
            response=response, status=Status.PUBLISHED, published_at=now
        )
        deliveries.response_publish(response_id=response.pk)
        audit_log(
            user=user,
            objects=[request],
            message=gettext("Published the target's answer as the petition's response."),
        )
    return True
