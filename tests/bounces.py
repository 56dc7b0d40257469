"""Recorded bounce reports (tests/bounce_samples: DSNs of Postfix, Exim, Gmail and Outlook, an ARF
complaint, Mailgun's and Mandrill's webhook payloads), filled in with one of our emails and signed
as each provider signs them, for the unit and the integration tests alike."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from pathlib import Path
from urllib.parse import urlencode

from mechanisms.message_ids import outbox_message_id
from mechanisms.models import OutboundEmail

SAMPLES = Path(__file__).resolve().parent / "bounce_samples"
MAILGUN_KEY = "key-mailgun-webhook-signing-for-tests"
MANDRILL_KEY = "mandrill-webhook-key-for-tests"


def our_message_id(email: OutboundEmail) -> str:
    return outbox_message_id(pk=email.pk, kind=email.kind)


def dsn(name: str, *, message_id: str, recipient: str) -> bytes:
    text = (SAMPLES / f"{name}.eml").read_text()
    return text.replace("{MESSAGE_ID}", message_id).replace("{RECIPIENT}", recipient).encode()


def mailgun_body(
    name: str,
    *,
    recipient: str,
    provider_id: str = "20261207091402.1.ABCDEF0123456789@mg.cosign.example.org",
    metadata: dict[str, str] | None = None,
    key: str = MAILGUN_KEY,
    token: str | None = None,
    timestamp: int | None = None,
) -> bytes:
    """A Mailgun webhook's JSON body, signed with `key` (HMAC-SHA256 of timestamp and token), as
    Mailgun signs it now unless `timestamp` says when."""
    token = token or secrets.token_hex(25)
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    text = (SAMPLES / f"{name}.json").read_text()
    for field, value in {
        "{TIMESTAMP}": timestamp,
        "{TOKEN}": token,
        "{SIGNATURE}": signature,
        "{RECIPIENT}": recipient,
        "{PROVIDER_ID}": provider_id,
        "{USER_VARIABLES}": json.dumps(metadata or {}),
    }.items():
        text = text.replace(field, value)
    json.loads(text)  # still JSON
    return text.encode()


MANDRILL_EVENTS = {
    # event: (state, bounce description, diagnostic)
    "hard_bounce": ("bounced", "bad_mailbox", "smtp;550 5.1.1 The email account does not exist."),
    "soft_bounce": ("soft-bounced", "mailbox_full", "smtp;552 5.2.2 Over Quota"),
    "spam": ("sent", "", ""),
}


def mandrill_form(
    event: str,
    *,
    recipient: str,
    url: str,
    provider_id: str = "5f8a1e2b3c4d5e6f7a8b9c0d1e2f3a4b",
    metadata: dict[str, str] | None = None,
    key: str = MANDRILL_KEY,
    ts: int = 1765102460,
) -> tuple[bytes, str]:
    """A Mandrill webhook's form body and its X-Mandrill-Signature (base64 HMAC-SHA1 of the URL
    and the sorted fields), as Mandrill posts to `url`."""
    state, description, diag = MANDRILL_EVENTS[event]
    text = (SAMPLES / "mandrill_events.json").read_text()
    for field, value in {
        "{EVENT}": event,
        "{STATE}": state,
        "{BOUNCE_DESCRIPTION}": description,
        "{DIAG}": diag,
        "{RECIPIENT}": recipient,
        "{PROVIDER_ID}": provider_id,
        "{USER_VARIABLES}": json.dumps(metadata or {}),
        "{TS}": str(ts),
    }.items():
        text = text.replace(field, value)
    events = json.dumps(json.loads(text))
    signed = url + "mandrill_events" + events
    signature = base64.b64encode(
        hmac.new(key.encode(), signed.encode(), hashlib.sha1).digest()
    ).decode()
    return urlencode({"mandrill_events": events}).encode(), signature
