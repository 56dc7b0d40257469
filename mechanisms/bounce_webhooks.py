"""Mail providers' bounce and complaint webhooks, through django-anymail's tracking views: Mailgun
(an HMAC-SHA256 of each event's timestamp and token, with the webhook signing key) and Mandrill
(an HMAC-SHA1 of the URL and the posted fields, with the webhook key). Anymail checks the
signature; a request that fails it is refused (400) before any event is read.

The endpoints are public, so in front of anymail: a provider not configured answers 404, a body
over BOUNCE_WEBHOOK_MAX_BYTES 413, and a sender over its rate limit 429. Each event anymail reads
goes, through the `tracking` signal, to tracking_event_receive, which turns it into a
BounceReport (mechanisms.bounces) or ignores it (opens, clicks, deliveries).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Any

from anymail.signals import AnymailTrackingEvent, EventType, RejectReason
from anymail.webhooks.mailgun import MailgunTrackingWebhookView
from anymail.webhooks.mandrill import MandrillCombinedWebhookView
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from mechanisms.abuse.rate_limits import rate_limited
from mechanisms.bounces import BounceReport, bounce_record
from mechanisms.models import BounceEvent

Type = BounceEvent.Type
_STATUS = re.compile(r"\b[245]\.\d{1,3}\.\d{1,3}\b")


def _type(event: AnymailTrackingEvent, *, esp_name: str) -> str | None:
    esp_event: Any = event.esp_event if isinstance(event.esp_event, dict) else {}
    if event.event_type == EventType.COMPLAINED:
        return Type.COMPLAINT
    if event.event_type == EventType.BOUNCED:
        # Mandrill names both kinds "bounced" for anymail; its own name tells them apart.
        return Type.SOFT if esp_event.get("event") == "soft_bounce" else Type.HARD
    if event.event_type == EventType.DEFERRED and esp_name == "Mailgun":
        # Mailgun's "failed" with a temporary severity: it gave up on this attempt.
        return Type.SOFT
    if event.event_type == EventType.REJECTED and event.reject_reason == RejectReason.BOUNCED:
        # The provider refused to send to an address that bounced before.
        return Type.HARD
    # Mandrill's "deferral" (it is still trying), deliveries, opens, clicks: nothing to act on.
    return None


def _event_id(event: AnymailTrackingEvent, *, esp_name: str) -> str:
    if event.event_id:
        return str(event.event_id)
    # Mandrill's events carry no id of their own: the message, the event and its time are one.
    esp_event: Any = event.esp_event if isinstance(event.esp_event, dict) else {}
    seed = f"{event.message_id}|{esp_event.get('event')}|{esp_event.get('ts')}|{event.recipient}"
    return f"{esp_name.lower()}:{hashlib.sha256(seed.encode()).hexdigest()}"


def tracking_event_receive(
    sender: object, event: AnymailTrackingEvent, esp_name: str, **kwargs: object
) -> None:
    """anymail's `tracking` signal: act on bounces and complaints (a thin adapter: the rules are
    in mechanisms.bounces)."""
    bounce_type = _type(event, esp_name=esp_name)
    if bounce_type is None:
        return
    metadata = event.metadata if isinstance(event.metadata, dict) else {}
    # The Message-ID we gave it, as the provider echoes our metadata; else the provider's id.
    message_id = str(metadata.get("cosign_message_id") or event.message_id or "")
    diagnostic = str(event.mta_response or event.description or "")
    status = _STATUS.search(diagnostic)
    bounce_record(
        report=BounceReport(
            source=esp_name.lower(),
            event_id=_event_id(event, esp_name=esp_name),
            type=bounce_type,
            message_id=message_id,
            recipient=str(event.recipient or ""),
            status=status.group(0) if status else "",
            description=diagnostic,
        )
    )


def _guarded(view: Callable[..., HttpResponse], *, setting: str) -> Callable[..., HttpResponse]:
    @csrf_exempt
    def guarded(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not settings.ANYMAIL.get(setting):
            raise Http404
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.BOUNCE_WEBHOOK_MAX_BYTES:
            return HttpResponse(status=413)
        if rate_limited(request, action="bounce_webhook"):
            return HttpResponse(status=429, headers={"Retry-After": "60"})
        return view(request, *args, **kwargs)

    return guarded


mailgun_webhook = _guarded(
    MailgunTrackingWebhookView.as_view(), setting="MAILGUN_WEBHOOK_SIGNING_KEY"
)
mandrill_webhook = _guarded(MandrillCombinedWebhookView.as_view(), setting="MANDRILL_WEBHOOK_KEY")
