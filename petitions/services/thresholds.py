"""Writes of response thresholds: the rules editors and staff set, and each rule reached once
per target (in the counter's transaction, with the email that asks the target). The target's
answer and its publishing are petitions.services.threshold_answers.

Reaching is serialized on the petition row: the counter and the recount already hold its lock
when they change the count, and `thresholds_reach` takes it again, so two counters (or a task
run twice) see each other's requests; the unique (petition, target, count) row is the last
guard. The email is owed through the outbox in that same transaction, so it is sent once or the
request does not exist.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from mechanisms import outbox
from mechanisms.audit import audit_log
from petitions.models import Petition, Target, Threshold, ThresholdRequest
from petitions.models.thresholds import DAYS_TO_RESPOND_MAX
from petitions.thresholds import emails

logger = logging.getLogger(__name__)

Status = ThresholdRequest.Status
Notice = ThresholdRequest.Notice


# --- Reaching ---------------------------------------------------------------------------------


def thresholds_reach(*, petition_ids: Iterable[int], now: datetime | None = None) -> list[int]:
    """Record each threshold the petitions' counts have reached, once per target, and owe each
    target with a confirmed email its request. Call it in the transaction that changed the
    counts. Returns the ids of the new requests.

    Only open petitions ask: a closed one's count is final, and a recount of it must not write
    to officials months later. Targets without an email, or awaiting staff confirmation, get a
    request row that says why they were not emailed (staff ask them from the admin later).
    """
    now = now or timezone.now()
    ids = sorted(set(petition_ids))
    # The counter's usual run: one query, and nothing more for petitions without thresholds.
    with_rules = sorted(
        set(Threshold.objects.filter(petition_id__in=ids).values_list("petition_id", flat=True))
    )
    created: list[int] = []
    for petition_id in with_rules:
        with transaction.atomic():
            created += _reach_locked(petition_id=petition_id, now=now)
    if created:
        logger.info("Thresholds reached: %d targets asked to respond", len(created))
    return created


def _reach_locked(*, petition_id: int, now: datetime) -> list[int]:
    petition = Petition.objects.select_for_update().get(pk=petition_id)
    if petition.status != Petition.Status.OPEN:
        return []
    count = petition.total_count
    rules = list(Threshold.objects.filter(petition=petition, count__lte=count))
    if not rules:
        return []
    targets = {t.pk: t for t in petition.targets.filter(active=True).order_by("pk")}
    # (target, count) -> the rule: the petition's own for every target, then each target's own,
    # which replaces the petition's at the same count.
    owed: dict[tuple[int, int], Threshold] = {}
    for rule in sorted(rules, key=lambda r: r.target_id is not None):
        for target_id in targets if rule.target_id is None else [rule.target_id]:
            if target_id in targets:
                owed[(target_id, rule.count)] = rule
    done = set(ThresholdRequest.objects.filter(petition=petition).values_list("target_id", "count"))
    new_ids = []
    for (target_id, at), rule in sorted(owed.items()):
        if (target_id, at) in done:
            continue
        request = _request_create(
            petition=petition, target=targets[target_id], rule=rule, count=count, now=now
        )
        new_ids.append(request.pk)
    return new_ids


def _notice_for(target: Target) -> str:
    if target.awaiting_confirmation:
        return Notice.UNCONFIRMED
    if not target.email:
        return Notice.NO_EMAIL
    return Notice.ASKED


def _request_create(
    *, petition: Petition, target: Target, rule: Threshold, count: int, now: datetime
) -> ThresholdRequest:
    request = ThresholdRequest(
        petition=petition,
        target=target,
        threshold=rule,
        count=rule.count,
        days_to_respond=rule.days_to_respond,
        reached_at=now,
        signatures_at_reach=count,
        notice=_notice_for(target),
    )
    if request.notice == Notice.ASKED:
        _ask(request, now=now)
    request.save()
    if request.notice == Notice.ASKED:
        _owe_email(request)
    return request


def _ask(request: ThresholdRequest, *, now: datetime) -> None:
    """Start the due date (unless it runs already) and make a new answer link."""
    if request.asked_at is None:
        request.asked_at = now
        request.due_at = now + timedelta(days=request.days_to_respond)
    assert request.due_at is not None
    request.link_expires_at = max(request.due_at, now) + timedelta(
        days=settings.THRESHOLD_ANSWER_GRACE_DAYS
    )
    for name, value in emails.link_fields().items():
        setattr(request, name, value)


def _owe_email(request: ThresholdRequest) -> None:
    outbox.email_enqueue(
        kind=emails.THRESHOLD_REQUEST,
        to=request.target.email,
        language=request.petition.language,
        # Once per request and link: a new link (staff asking again) is a new email.
        about=f"{request.pk}:{request.link_key}",
        ref={"request": request.pk, "key": request.link_key},
    )


def threshold_request_ask(*, request_id: int, user: Any, now: datetime | None = None) -> bool:
    """Staff ask a target again: one that was not emailed (its email has been added, or it
    was confirmed since), or one whose link expired or was lost. A new link replaces the old
    one; the due date runs from the first time it was asked. Returns whether an email is owed
    (not for a published answer, nor a target still without a confirmed email)."""
    now = now or timezone.now()
    with transaction.atomic():
        request = (
            ThresholdRequest.objects.select_for_update()
            .select_related("petition", "target")
            .get(pk=request_id)
        )
        if request.status == Status.PUBLISHED or _notice_for(request.target) != Notice.ASKED:
            return False
        request.notice = Notice.ASKED
        _ask(request, now=now)
        request.save()
        _owe_email(request)
        audit_log(
            user=user,
            objects=[request],
            message=gettext("Asked the target again, with a new link."),
        )
    return True


# --- The rules, set by staff and by the leading organization's editors -------------------------


def _check_rule(*, petition: Petition, target: Target | None, count: int, days: int) -> None:
    if count < 1:
        raise ValidationError(gettext("A threshold is a number of signatures, at least 1."))
    if not 1 <= days <= DAYS_TO_RESPOND_MAX:
        raise ValidationError(
            gettext("Days to respond must be between 1 and %(max)d.") % {"max": DAYS_TO_RESPOND_MAX}
        )
    if target is not None and not petition.targets.filter(pk=target.pk).exists():
        raise ValidationError(gettext("Choose one of the petition's targets."))
    if Threshold.objects.filter(petition=petition).count() >= settings.THRESHOLDS_PER_PETITION:
        raise ValidationError(
            gettext("A petition may have at most %(max)d thresholds.")
            % {"max": settings.THRESHOLDS_PER_PETITION}
        )
    if petition.status == Petition.Status.OPEN and count <= petition.total_count:
        # It would write to officials at once about a number already passed.
        raise ValidationError(
            gettext(
                "The petition already has %(count)s signatures: a new threshold must be higher."
            )
            % {"count": petition.total_count}
        )


def threshold_add(
    *, petition_id: int, target_id: int | None, count: int, days_to_respond: int, user: Any
) -> Threshold:
    """A new threshold on the petition (for every target, or one of them). Raises
    ValidationError, having written nothing, for a duplicate, a count the petition passed, a
    target not its own or one threshold too many."""
    with transaction.atomic():
        petition = Petition.objects.select_for_update().get(pk=petition_id)
        target = Target.objects.filter(pk=target_id).first() if target_id else None
        if target_id and target is None:
            raise ValidationError(gettext("Choose one of the petition's targets."))
        _check_rule(petition=petition, target=target, count=count, days=days_to_respond)
        try:
            with transaction.atomic():
                threshold = Threshold.objects.create(
                    petition=petition, target=target, count=count, days_to_respond=days_to_respond
                )
        except IntegrityError:
            raise ValidationError(
                gettext("There is already a threshold at this count for these targets.")
            ) from None
        audit_log(
            user=user,
            objects=[petition],
            message=gettext("Threshold added: %(count)s signatures, %(days)s days to respond.")
            % {"count": count, "days": days_to_respond},
        )
    return threshold


def threshold_remove(*, petition_id: int, threshold_id: int, user: Any) -> None:
    """Remove a threshold not reached yet. Raises ValidationError for one already reached
    (its targets were asked; the record stays) or not of this petition."""
    with transaction.atomic():
        petition = Petition.objects.select_for_update().get(pk=petition_id)
        threshold = Threshold.objects.filter(pk=threshold_id, petition=petition).first()
        if threshold is None:
            raise ValidationError(gettext("This threshold is not one of the petition's."))
        if threshold.requests.exists():
            raise ValidationError(
                gettext("This threshold was reached and its targets asked: it stays on record.")
            )
        threshold.delete()
        audit_log(
            user=user,
            objects=[petition],
            message=gettext("Threshold removed: %(count)s signatures.")
            % {"count": threshold.count},
        )
