"""Optional error reports to Sentry (SENTRY_DSN), with personal data scrubbed before they leave.

Off unless SENTRY_DSN is set. On: the Django and Celery integrations, `send_default_pii=False`
(no user, cookies or client address added by the SDK; with sentry-sdk 3, its successor
`data_collection` with user info, cookies, headers, bodies, query strings, SQL values and frame
variables all off), no local variables in stack frames (a
frame of the sign view holds the signer's form, one of the confirm view its token, under names
no deny-list knows), no request bodies, and `before_send` / `before_breadcrumb` that scrub what
is left with the same redaction as the logs (mechanisms.log_redaction): every string in the
event, emails, IP addresses, tokens in our URLs, API keys and bearer credentials blanked; the
request's cookies, body, query string and environment dropped; of its headers only harmless ones
kept. Tracing is not switched on: transactions would need their own scrubbing, and the metrics
(mechanisms.metrics) already time every view.

tests/mechanisms/test_error_reports.py raises in real views with an email, an address and a token
on the request, records the events with an in-process transport, and finds none of them.
"""

from __future__ import annotations

from typing import Any, cast

from mechanisms.log_redaction import REDACTED, personal_data_redact, sql_redact
from mechanisms.request_ids import NONE, request_id_get

# Request headers an event keeps: nothing that identifies a person or carries a credential.
KEPT_HEADERS = frozenset(
    {"accept", "accept-language", "content-length", "content-type", "host", "x-request-id"}
)
# Parts of an event's request that are dropped whole.
_DROPPED_REQUEST_PARTS = ("cookies", "data", "query_string", "env")


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return personal_data_redact(value)
    if isinstance(value, dict):
        # Keys too: extra, tags and contexts are keyed by whatever the code put there.
        return {_scrub(key): _scrub(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(item) for item in value]
    return value


def event_scrub(event: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """Sentry's before_send: the event without personal data (see the module's docstring)."""
    request = event.get("request")
    if isinstance(request, dict):
        for part in _DROPPED_REQUEST_PARTS:
            request.pop(part, None)
        headers = request.get("headers")
        if isinstance(headers, dict):
            request["headers"] = {
                name: value for name, value in headers.items() if name.lower() in KEPT_HEADERS
            }
        if isinstance(request.get("url"), str):
            request["url"] = request["url"].split("?", 1)[0]
    user = event.get("user")
    if isinstance(user, dict):
        # A staff account's id helps find the report; its email, name and address are not sent.
        event["user"] = {"id": user["id"]} if "id" in user else {}
    breadcrumbs = event.get("breadcrumbs")
    if isinstance(breadcrumbs, dict) and isinstance(breadcrumbs.get("values"), list):
        breadcrumbs["values"] = [
            crumb
            for crumb in (breadcrumb_scrub(crumb) for crumb in breadcrumbs["values"])
            if crumb is not None
        ]
    # The id of the request (or of the request that enqueued the task) joins the report to its
    # log lines.
    request_id = request_id_get()
    if request_id != NONE:
        event.setdefault("tags", {})["request_id"] = request_id
    # Local variables hold what a view was handling; the SDK is told not to send them
    # (sentry_init), and they are dropped here should an integration add them all the same.
    for exception in (event.get("exception") or {}).get("values") or []:
        for frame in ((exception or {}).get("stacktrace") or {}).get("frames") or []:
            if isinstance(frame, dict):
                frame.pop("vars", None)
    scrubbed: dict[str, Any] = _scrub(event)
    return scrubbed


def breadcrumb_scrub(
    crumb: dict[str, Any], hint: dict[str, Any] | None = None
) -> dict[str, Any] | None:
    """Sentry's before_breadcrumb: SQL without its values or parameters, outgoing HTTP without
    query strings, every string redacted."""
    if crumb.get("category") == "query":
        if isinstance(crumb.get("message"), str):
            crumb["message"] = sql_redact(crumb["message"])
        crumb.pop("data", None)
    data = crumb.get("data")
    if isinstance(data, dict):
        for key in ("http.query", "http.fragment"):
            if key in data:
                data[key] = REDACTED
        if isinstance(data.get("url"), str):
            data["url"] = data["url"].split("?", 1)[0]
    scrubbed: dict[str, Any] = _scrub(crumb)
    return scrubbed


def sentry_init(*, dsn: str, environment: str, release: str = "", **options: Any) -> None:
    """Start reporting errors to `dsn`; `options` go to sentry_sdk.init as they are (a test's
    transport)."""
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    privacy: dict[str, Any]
    if int(sentry_sdk.VERSION.split(".", 1)[0]) >= 3:
        # sentry-sdk 3 replaced send_default_pii and include_local_variables with this.
        privacy = {
            "data_collection": {
                "user_info": False,
                "cookies": {"mode": "off"},
                "http_headers": {"request": {"mode": "off"}},
                "http_bodies": [],
                "url_query_params": {"mode": "off"},
                "database_query_data": False,
                "stack_frame_variables": False,
            }
        }
    else:
        privacy = {"send_default_pii": False, "include_local_variables": False}
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release or None,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        max_request_body_size="never",
        # Sentry's Event is a TypedDict; the scrubber takes and returns any dict.
        before_send=cast(Any, event_scrub),
        before_breadcrumb=breadcrumb_scrub,
        traces_sample_rate=None,
        **privacy,
        **options,
    )
