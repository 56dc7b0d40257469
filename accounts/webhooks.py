"""Organizations' webhooks: their endpoints, the events owed to them, and their sending.

An event is owed (`webhook_events_emit`) in the transaction of what caused it, as one row per
subscribed endpoint (WebhookDelivery, the webhook outbox); nothing is sent from the request. The
dispatcher (accounts.tasks.webhooks_dispatch, every WEBHOOK_DISPATCH_SECONDS) claims due rows
with a lease, sends them (mechanisms.webhooks), and records the answer: delivered, or tried again
after WEBHOOK_RETRY_BASE_SECONDS doubling each time, or failed for good after
WEBHOOK_MAX_ATTEMPTS. A row is claimed by one sender at a time, and a sender that dies leaves it
to another once its lease runs out, so each event reaches its endpoint once (a receiver that
answered 2xx is never sent it again). An endpoint failing WEBHOOK_DISABLE_AFTER_FAILURES attempts
in a row is disabled and its organization's administrators are emailed."""

from __future__ import annotations

import base64
import json
import logging
import secrets
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from accounts import tasks
from accounts.models import Membership, Organization, User, WebhookDelivery, WebhookEndpoint
from mechanisms import metrics
from mechanisms.audit import audit_log
from mechanisms.mail import EmailKind, absolute_url, message_render
from mechanisms.models import OutboundEmail
from mechanisms.outbox import Recipient, emails_enqueue
from mechanisms.queue import enqueue_after_commit
from mechanisms.webhooks import (
    Sent,
    WebhookRefused,
    signed_headers,
    webhook_post,
    webhook_target,
)

logger = logging.getLogger(__name__)

# Rows a sender claims at once, and how long it holds them: every attempt of the batch at its
# longest (mechanisms.webhooks bounds each to twice WEBHOOK_TIMEOUT_SECONDS), and a minute more.
CLAIM_BATCH = 10


def _lease() -> timedelta:
    return timedelta(seconds=CLAIM_BATCH * 2 * settings.WEBHOOK_TIMEOUT_SECONDS + 60)


def _secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _checked(url: str, events: Sequence[str]) -> None:
    try:
        webhook_target(url)
    except WebhookRefused as refused:
        raise ValidationError({"url": str(refused)}) from None
    unknown = set(events) - set(WebhookEndpoint.Event.values)
    if not events or unknown:
        raise ValidationError({"events": gettext("Choose at least one of the events listed.")})


def webhook_endpoint_create(
    *,
    organization: Organization,
    user: User,
    url: str,
    events: Sequence[str],
    kind: WebhookEndpoint.Kind = WebhookEndpoint.Kind.STANDARD,
    osdi_api_key: str = "",
) -> WebhookEndpoint:
    """Register an endpoint, after checking its address leads to a public host. An OSDI push
    sends confirmed supporters only, with the OSDI server's key."""
    if not organization.is_verified:
        raise ValidationError(gettext("Only an organization our staff have verified can do this."))
    if kind == WebhookEndpoint.Kind.OSDI_PUSH:
        events = [WebhookEndpoint.Event.SIGNATURE_CONFIRMED]
        if not osdi_api_key.strip():
            raise ValidationError(
                {"osdi_api_key": gettext("An OSDI push needs the key your OSDI server gave you.")}
            )
        # It travels in a header: printable ASCII only, never a line break.
        if not all(0x21 <= ord(char) <= 0x7E for char in osdi_api_key.strip()):
            raise ValidationError(
                {"osdi_api_key": gettext("The key may hold only printable ASCII characters.")}
            )
    _checked(url, events)
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(
            organization=organization,
            kind=kind,
            url=url,
            osdi_api_key=osdi_api_key.strip() if kind == WebhookEndpoint.Kind.OSDI_PUSH else "",
            events=sorted(set(events)),
            secret=_secret(),
            created_by=user,
        )
        audit_log(user=user, objects=[endpoint], message=gettext("Webhook endpoint registered."))
    return endpoint


def webhook_secret_rotate(*, endpoint: WebhookEndpoint, user: User) -> WebhookEndpoint:
    """A new secret; the old one keeps signing beside it for WEBHOOK_SECRET_OVERLAP_HOURS."""
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_until = timezone.now() + timedelta(
            hours=settings.WEBHOOK_SECRET_OVERLAP_HOURS
        )
        endpoint.secret = _secret()
        endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_until"])
        audit_log(user=user, objects=[endpoint], message=gettext("Webhook secret rotated."))
    return endpoint


def webhook_endpoint_enable(*, endpoint: WebhookEndpoint, user: User) -> None:
    """Turn a disabled endpoint on again (its address checked again); its count starts over."""
    _checked(endpoint.url, endpoint.events)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        active=True, disabled_reason="", consecutive_failures=0
    )
    audit_log(user=user, objects=[endpoint], message=gettext("Webhook endpoint enabled."))


def webhook_endpoint_delete(*, endpoint: WebhookEndpoint, user: User) -> None:
    with transaction.atomic():
        audit_log(
            user=user,
            objects=[endpoint.organization],
            message=gettext("Webhook endpoint removed: %(url)s") % {"url": endpoint.url},
        )
        endpoint.delete()


# --- Events -------------------------------------------------------------------------------------


def webhook_events_emit(
    *,
    organization_ids: Iterable[int],
    event: WebhookEndpoint.Event,
    data: dict[str, Any],
    now: datetime | None = None,
) -> int:
    """Owe `event` to every active endpoint of these organizations that asked for it, in the
    caller's transaction. Returns how many rows were written. One indexed query when none did."""
    organization_ids = list(set(organization_ids))
    if not organization_ids:
        return 0
    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(
            organization_id__in=organization_ids,
            active=True,
            organization__verification=Organization.Verification.VERIFIED,
        ).only("pk", "events")
        if event in endpoint.events
    ]
    if not endpoints:
        return 0
    now = now or timezone.now()
    rows = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                endpoint=endpoint,
                event=event,
                message_id=f"msg_{uuid.uuid4().hex}",
                payload={
                    "type": str(event),
                    "timestamp": now.isoformat(),
                    "data": json.loads(json.dumps(data, cls=DjangoJSONEncoder)),
                },
                next_attempt_at=now,
                created_at=now,
            )
            for endpoint in endpoints
        ]
    )
    _send_soon([row.pk for row in rows])
    return len(rows)


def _send_soon(ids: list[int]) -> None:
    """In-process (development, most tests: no broker), send after the commit, as the
    dispatcher would; in production the dispatcher finds them within a few seconds."""
    # Celery's own setting, not Django's copy: a test may switch the app to a real broker.
    if tasks.webhooks_send.app.conf.task_always_eager and ids:
        enqueue_after_commit(tasks.webhooks_send, ids)


def webhook_redeliver(
    *, organization: Organization, delivery_id: int, user: User
) -> WebhookDelivery:
    """Owe a past delivery's event again, as a new message (a new `webhook-id`)."""
    old = WebhookDelivery.objects.select_related("endpoint").get(
        pk=delivery_id, endpoint__organization=organization
    )
    if old.payload.get("forgotten"):
        raise ValidationError(
            gettext("This event named a person who withdrew: it cannot be sent again.")
        )
    with transaction.atomic():
        row = WebhookDelivery.objects.create(
            endpoint=old.endpoint,
            event=old.event,
            message_id=f"msg_{uuid.uuid4().hex}",
            payload=old.payload,
        )
        audit_log(user=user, objects=[old.endpoint], message=gettext("Webhook event sent again."))
        _send_soon([row.pk])
    return row


def webhook_deliveries_forget(*, event: str, key: str, values: Iterable[object]) -> int:
    """A person's data leaves the webhook outbox with them (withdrawal, retention): the rows of
    `event` whose payload's data names them by `key` (a dotted path, "signature.id") are not
    sent any more, nor sent again, and keep no detail of theirs. Returns how many."""
    values = list(values)
    if not values:
        return 0
    lookup = "payload__data__" + key.replace(".", "__") + "__in"
    return WebhookDelivery.objects.filter(event=event, **{lookup: values}).update(
        payload={"type": event, "forgotten": True},
        state=WebhookDelivery.State.FAILED,
        last_error=gettext("The person withdrew or their data was removed."),
    )


def webhook_deliveries_prune(*, now: datetime | None = None) -> int:
    """Delivered or failed rows older than WEBHOOK_DELIVERY_RETENTION_DAYS go: the log shows
    recent deliveries, and old payloads need not outlive their purpose."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.WEBHOOK_DELIVERY_RETENTION_DAYS)
    deleted, _ = WebhookDelivery.objects.filter(
        state__in=(WebhookDelivery.State.SENT, WebhookDelivery.State.FAILED), created_at__lt=cutoff
    ).delete()
    return deleted


# --- Sending ------------------------------------------------------------------------------------


@dataclass
class Dispatched:
    sent: int = 0
    retrying: int = 0
    failed: int = 0


def _due(now: datetime) -> Q:
    return Q(state=WebhookDelivery.State.PENDING, next_attempt_at__lte=now) | Q(
        state=WebhookDelivery.State.SENDING, lease_until__lt=now
    )


def _claim(
    *, now: datetime, ids: Sequence[int] | None = None, done: Sequence[int] = ()
) -> list[int]:
    """Take due rows (these, or any but those `done` in this run) for this sender: one claim
    each, skipping rows another sender is claiming at this moment."""
    with transaction.atomic():
        # An organization staff no longer verify receives nothing more; its rows wait.
        rows = WebhookDelivery.objects.select_for_update(skip_locked=True).filter(
            _due(now),
            endpoint__active=True,
            endpoint__organization__verification=Organization.Verification.VERIFIED,
        )
        if ids is not None:
            rows = rows.filter(pk__in=list(ids))
        if done:
            rows = rows.exclude(pk__in=list(done))
        claimed = list(rows.order_by("pk").values_list("pk", flat=True)[:CLAIM_BATCH])
        WebhookDelivery.objects.filter(pk__in=claimed).update(
            state=WebhookDelivery.State.SENDING, lease_until=now + _lease()
        )
    return claimed


def webhooks_dispatch(*, now: datetime | None = None) -> Dispatched:
    """Send every due delivery, a batch at a time; each once in a run (one failing now waits
    for its backoff, and a later run)."""
    done = Dispatched()
    seen: list[int] = []
    while claimed := _claim(now=now or timezone.now(), done=seen):
        _send_claimed(claimed, done)
        seen.extend(claimed)
    return done


def webhooks_send(*, delivery_ids: Sequence[int]) -> Dispatched:
    done = Dispatched()
    claimed = _claim(now=timezone.now(), ids=delivery_ids)
    if claimed:
        _send_claimed(claimed, done)
    return done


def _secrets_of(endpoint: WebhookEndpoint) -> list[str]:
    return [
        endpoint.secret,
        *([endpoint.previous_secret] if endpoint.previous_secret_signs else []),
    ]


def osdi_signature(payload: dict[str, Any]) -> dict[str, Any]:
    """A signature.confirmed event as OSDI's "record signature helper" takes it (Action
    Network's among them): the person, and where they came from."""
    signature = payload["data"]["signature"]
    given, _sep, family = str(signature["name"]).strip().partition(" ")
    person: dict[str, Any] = {
        "given_name": given,
        "family_name": family,
        "email_addresses": [{"address": signature["email"], "primary": True}],
    }
    if signature["postal_code"] or signature["country"]:
        person["postal_addresses"] = [
            {"postal_code": signature["postal_code"], "country": signature["country"]}
        ]
    return {
        "person": person,
        "origin_system": "Cosign",
        "referrer_data": {"source": signature["source"] or payload["data"]["petition"]["slug"]},
    }


def _send_claimed(claimed: Sequence[int], done: Dispatched) -> None:
    for delivery in WebhookDelivery.objects.filter(pk__in=claimed).select_related(
        "endpoint__organization"
    ):
        now = timezone.now()
        endpoint = delivery.endpoint
        osdi = endpoint.kind == WebhookEndpoint.Kind.OSDI_PUSH
        content = osdi_signature(delivery.payload) if osdi else delivery.payload
        body = json.dumps(content, separators=(",", ":")).encode()
        headers = signed_headers(
            message_id=delivery.message_id,
            timestamp=now,
            body=body,
            secrets=_secrets_of(endpoint),
        )
        if osdi:
            headers["OSDI-API-Token"] = endpoint.osdi_api_key
        try:
            result = webhook_post(url=endpoint.url, body=body, headers=headers)
        except Exception as error:
            # Whatever one endpoint does, the others of the batch are sent and this one's
            # failure is recorded (it counts towards turning it off).
            logger.exception("Webhook delivery %s failed unexpectedly", delivery.pk)
            result = Sent(status=None, error=type(error).__name__)
        if not result.ok:
            metrics.webhook_failure_counted(status=result.status)
        _record(delivery, result.ok, result.status, result.error, done)


# What a delivered event means to the app that owed it, in the sender's transaction: a
# supporter's details sent are an export (petitions.webhook_events registers it).
AfterSent = Callable[[WebhookDelivery], None]
AFTER_SENT: dict[str, AfterSent] = {}


def _record(
    delivery: WebhookDelivery, ok: bool, status: int | None, error: str, done: Dispatched
) -> None:
    now = timezone.now()
    attempts = delivery.attempts + 1
    endpoint = delivery.endpoint
    # Only while this sender still holds the row: one whose lease ran out may have been sent by
    # another meanwhile, and that outcome stands.
    mine = WebhookDelivery.objects.filter(
        pk=delivery.pk, state=WebhookDelivery.State.SENDING, lease_until=delivery.lease_until
    )
    with transaction.atomic():
        if ok:
            if not mine.update(
                state=WebhookDelivery.State.SENT,
                attempts=attempts,
                sent_at=now,
                lease_until=None,
                last_status=status,
                last_error="",
            ):
                return
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=0)
            after = AFTER_SENT.get(delivery.event)
            if after is not None:
                after(delivery)
            done.sent += 1
            return
        final = attempts >= settings.WEBHOOK_MAX_ATTEMPTS
        backoff = timedelta(seconds=settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** (attempts - 1))
        if not mine.update(
            state=WebhookDelivery.State.FAILED if final else WebhookDelivery.State.PENDING,
            attempts=attempts,
            next_attempt_at=now + backoff,
            lease_until=None,
            last_status=status,
            last_error=(error or f"HTTP {status}")[:300],
        ):
            return
        if final:
            done.failed += 1
        else:
            done.retrying += 1
        failures = WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            consecutive_failures=F("consecutive_failures") + 1
        )
        if failures and _disable_if_failing(endpoint, now):
            _tell_disabled(endpoint)


def _disable_if_failing(endpoint: WebhookEndpoint, now: datetime) -> bool:
    # In the organization's language: its administrators read it on their page and by email.
    with translation.override(endpoint.organization.language):
        reason = gettext("%(count)d attempts failed in a row (the last on %(at)s UTC).") % {
            "count": settings.WEBHOOK_DISABLE_AFTER_FAILURES,
            "at": f"{now:%Y-%m-%d %H:%M}",
        }
    disabled = WebhookEndpoint.objects.filter(
        pk=endpoint.pk,
        active=True,
        consecutive_failures__gte=settings.WEBHOOK_DISABLE_AFTER_FAILURES,
    ).update(active=False, disabled_reason=reason)
    return bool(disabled)


# --- Telling the administrators -----------------------------------------------------------------


def _disabled_build(email: OutboundEmail) -> EmailMultiAlternatives | None:
    endpoint = (
        WebhookEndpoint.objects.select_related("organization")
        .filter(pk=email.ref.get("endpoint"), active=False)
        .first()
    )
    if endpoint is None:
        return None  # enabled again meanwhile
    with translation.override(email.language):
        url = absolute_url(
            reverse("accounts:webhooks", kwargs={"slug": endpoint.organization.slug})
        )
    return message_render(
        to=email.recipient,
        language=email.language,
        template="accounts/email/webhook_disabled",
        context={"endpoint": endpoint, "webhooks_url": url},
    )


# To the administrators of a verified organization, who have accounts: never unsolicited.
WEBHOOK_DISABLED = EmailKind("webhook_disabled", build=_disabled_build)


def _tell_disabled(endpoint: WebhookEndpoint) -> None:
    organization = endpoint.organization
    admins = User.objects.filter(
        is_active=True,
        memberships__organization=organization,
        memberships__role=Membership.Role.ADMIN,
    ).values_list("email", flat=True)
    emails_enqueue(
        kind=WEBHOOK_DISABLED,
        # One email per disabling: an endpoint turned on and failing again is told again.
        about=f"{endpoint.pk}:{timezone.now():%Y%m%d%H%M%S%f}",
        recipients=[
            Recipient(to=address, language=organization.language, ref={"endpoint": endpoint.pk})
            for address in admins
        ],
    )


# --- Reads ----------------------------------------------------------------------------------------


def webhook_endpoints_of(*, organization: Organization) -> list[WebhookEndpoint]:
    return list(organization.webhook_endpoints.all())


def webhook_deliveries_recent(
    *, organization: Organization, limit: int = 50
) -> list[WebhookDelivery]:
    return list(
        WebhookDelivery.objects.filter(endpoint__organization=organization)
        .select_related("endpoint")
        .defer("payload")
        .order_by("-created_at", "-pk")[:limit]
    )
