"""Mail providers' bounce and complaint webhooks, through django-anymail's tracking views: Mailgun
(an HMAC-SHA256 of each event's timestamp and token, with the webhook signing key) and Mandrill
(an HMAC-SHA1 of the URL and the posted fields, with the webhook key). Anymail checks the
signature; a request that fails it is refused (400) before any event is read.

The endpoints are public, so in front of anymail: a provider not configured answers 404, a body
over BOUNCE_WEBHOOK_MAX_BYTES 413, and a sender over its rate limit 429. Each event anymail reads
goes, through the `tracking` signal, to tracking_event_receive, which turns it into a
BounceReport (mechanisms.bounces) or ignores it (opens, clicks, deliveries).

Mailgun signs only a timestamp and a random token, so a captured request stays validly signed for
ever. MailgunFreshWebhookView refuses a timestamp more than MAILGUN_WEBHOOK_MAX_AGE_SECONDS away
from now and ignores (200, nothing read) a token already used (remembered in Redis for longer
than that window): a replay is either too old or already seen. When Redis is away the token
check fails open, like the cache's other one-time claims (mechanisms.redis_breaker): the window
still bounds a replay, and every event we act on is stored once by its id (BounceEvent, kept 90
days, far beyond the window), so a replay inside the window changes nothing; failing closed
would lose real bounces for the length of an outage.

Mandrill signs the URL and the posted fields, with no time of signing, so no window applies (its
events' own times, ts, may be hours old when a batch is retried). A replayed Mandrill post
repeats events already stored under the same ids (_event_id: message, event, time, recipient):
it is a no-op.

A request that fails these checks is refused (400) with one WARNING line and no traceback
(Django would log it as an ERROR with a traceback from django.security, plus a "Bad Request"
line); any other error still reaches Django's handling and logs in full.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections.abc import Callable
from typing import Any

from anymail.exceptions import AnymailWebhookValidationFailure
from anymail.signals import AnymailTrackingEvent, EventType, RejectReason
from anymail.webhooks.mailgun import MailgunTrackingWebhookView
from anymail.webhooks.mandrill import MandrillCombinedWebhookView
from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from mechanisms.abuse.rate_limits import rate_limited
from mechanisms.bounces import BounceReport, bounce_record
from mechanisms.models import BounceEvent

logger = logging.getLogger(__name__)

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


def _mailgun_stamp(request: HttpRequest) -> tuple[str, str]:
    """The signed timestamp and token of a Mailgun request, read as anymail reads them (a JSON
    body's signature block, or the legacy form fields, last value first)."""
    if request.content_type == "application/json":
        signature_block = json.loads(request.body.decode("utf-8"))["signature"]
        return str(signature_block["timestamp"]), str(signature_block["token"])
    return str(request.POST["timestamp"]), str(request.POST["token"])


class _TokenUsed(Exception):
    """A validly signed, fresh Mailgun request whose token was used before."""


class MailgunFreshWebhookView(MailgunTrackingWebhookView):
    """anymail's Mailgun view that also refuses stale and replayed signatures."""

    claimed_key: str | None = None

    def run_validators(self, request: HttpRequest) -> None:
        # The signature first: only Mailgun's own requests may spend a token.
        super().run_validators(request)
        raw_timestamp, token = _mailgun_stamp(request)
        try:
            timestamp = float(raw_timestamp)
        except ValueError as error:
            raise AnymailWebhookValidationFailure("Mailgun webhook timestamp unreadable") from error
        window = settings.MAILGUN_WEBHOOK_MAX_AGE_SECONDS
        # Either side: a timestamp from the future is as suspect as an old one (clocks drift
        # by seconds, not by the window).
        if not abs(time.time() - timestamp) <= window:
            raise AnymailWebhookValidationFailure(
                f"Mailgun webhook signed outside the {window} s window"
            )
        key = "mailgun-webhook-token:" + hashlib.sha256(token.encode()).hexdigest()
        # Remembered longer than the window, so a token is refused as long as its timestamp
        # would still pass. add() is Redis's SET NX: two copies racing, one wins.
        if not cache.add(key, 1, timeout=2 * window + 60):
            raise _TokenUsed
        self.claimed_key = key

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            response: HttpResponse = super().post(request, *args, **kwargs)
        except _TokenUsed:
            # Mailgun itself posts again, with the same token, when our answer was late: it is
            # told "done" (or it retries for hours), and nothing is read or acted on again.
            logger.warning("Bounce webhook ignored (%s): token already used", request.path)
            return HttpResponse()
        except AnymailWebhookValidationFailure:
            raise
        except Exception:
            # We failed after spending the token (the database, say): Mailgun will try again
            # with the same signature, which must then pass.
            if self.claimed_key:
                cache.delete(self.claimed_key)
            raise
        return response


def _refused(request: HttpRequest, error: AnymailWebhookValidationFailure) -> HttpResponse:
    # anymail's message names the cause on a second line: one line is the point here.
    reason = str(error).splitlines()[0] if str(error) else type(error).__name__
    logger.warning("Bounce webhook refused (%s): %s", request.path, reason)
    response = HttpResponse(status=400)
    # Logged just above: without this, django.request adds its own "Bad Request" line.
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


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
        try:
            return view(request, *args, **kwargs)
        except AnymailWebhookValidationFailure as error:
            # Forged, stale, replayed or malformed: anyone may post here, so one line each,
            # not an ERROR with a traceback (as a SuspiciousOperation would be logged).
            return _refused(request, error)

    return guarded


mailgun_webhook = _guarded(MailgunFreshWebhookView.as_view(), setting="MAILGUN_WEBHOOK_SIGNING_KEY")
mandrill_webhook = _guarded(MandrillCombinedWebhookView.as_view(), setting="MANDRILL_WEBHOOK_KEY")
