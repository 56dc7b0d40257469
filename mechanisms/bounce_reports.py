"""Reading bounce messages: standard delivery status notifications (RFC 3464: multipart/report;
report-type=delivery-status) and complaint feedback reports (RFC 5965, ARF: multipart/report;
report-type=feedback-report), as mail servers return them to the bounce mailbox.

Each recipient line of a DSN is one report: Action "failed" with a 5.x.x status is a hard bounce,
with a 4.x.x status a soft one (the server gave up for now); "delayed", "delivered", "relayed" and
"expanded" say nothing to act on (the server is still trying, or it went). The email bounced is
found by the Message-ID in the returned message or headers (message/rfc822, text/rfc822-headers).
Anything else (an autoreply, a bounce in no standard shape) is not a report: the reader leaves it
in the mailbox with a log line.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import Message
from email.parser import HeaderParser

from mechanisms.bounces import BounceReport
from mechanisms.models import BounceEvent

Type = BounceEvent.Type
SOURCE = "mailbox"

_STATUS = re.compile(r"\b([245])\.\d{1,3}\.\d{1,3}\b")


@dataclass(frozen=True)
class Parsed:
    # What to act on (possibly none: a "delayed" notice); None when the message is no report.
    reports: list[BounceReport] | None
    why: str = ""


def _text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        return payload.decode(part.get_content_charset() or "utf-8", errors="replace")
    raw = part.get_payload()
    return raw if isinstance(raw, str) else ""


def _header_blocks(part: Message) -> list[Message]:
    """The blocks of a message/delivery-status or message/feedback-report part."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [block for block in payload if isinstance(block, Message)]
    blocks = re.split(r"\r?\n\s*\r?\n", _text(part).strip())
    return [HeaderParser().parsestr(block) for block in blocks if block.strip()]


def _returned_message_id(report: Message) -> str:
    for part in report.walk():
        content_type = part.get_content_type()
        if content_type == "message/rfc822":
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                return str(payload[0].get("Message-ID", "")).strip()
        elif content_type == "text/rfc822-headers":
            return str(HeaderParser().parsestr(_text(part)).get("Message-ID", "")).strip()
    return ""


def _address(field: object) -> str:
    # "rfc822; jane@example.org" (the address type, then the address)
    value = str(field or "").strip()
    if ";" in value:
        value = value.split(";", 1)[1]
    return value.strip().strip("<>").strip()


def _event_base(message: Message, raw: bytes) -> str:
    # The bounce's own Message-ID names it; a message without one is named by its digest.
    own = str(message.get("Message-ID", "")).strip()
    return own[:200] if own else f"sha256:{hashlib.sha256(raw).hexdigest()}"


def report_parse(raw: bytes) -> Parsed:
    """The reports one message of the bounce mailbox carries."""
    message = message_from_bytes(raw, policy=policy.compat32)
    if message.get_content_type() != "multipart/report":
        return Parsed(reports=None, why=f"not a report ({message.get_content_type()})")
    report_type = str(message.get_param("report-type", "", header="content-type")).lower()
    original = _returned_message_id(message)
    if not original:
        return Parsed(reports=None, why="the report returns no Message-ID")
    base = _event_base(message, raw)
    if report_type == "delivery-status":
        return _delivery_status(message, original=original, base=base)
    if report_type == "feedback-report":
        return _feedback(message, original=original, base=base)
    return Parsed(reports=None, why=f"a report of type {report_type!r}")


def _delivery_status(message: Message, *, original: str, base: str) -> Parsed:
    part = next(
        (p for p in message.walk() if p.get_content_type() == "message/delivery-status"), None
    )
    if part is None:
        return Parsed(reports=None, why="no message/delivery-status part")
    # The first block is about the message, each next one about one recipient.
    recipients = [block for block in _header_blocks(part)[1:] if block.get("Action")]
    if not recipients:
        return Parsed(reports=None, why="no recipient in the delivery status")
    reports = []
    for block in recipients:
        action = str(block.get("Action", "")).strip().lower()
        status_match = _STATUS.search(str(block.get("Status", "")))
        status = status_match.group(0) if status_match else ""
        if action != "failed" or not status_match or status_match.group(1) == "2":
            continue
        recipient = _address(block.get("Final-Recipient")) or _address(
            block.get("Original-Recipient")
        )
        diagnostic = " ".join(str(block.get("Diagnostic-Code", "")).split())
        reports.append(
            BounceReport(
                source=SOURCE,
                event_id=f"{base}|{recipient.lower()}",
                type=Type.HARD if status_match.group(1) == "5" else Type.SOFT,
                message_id=original,
                recipient=recipient,
                status=status,
                description=diagnostic or status,
            )
        )
    return Parsed(reports=reports)


def _feedback(message: Message, *, original: str, base: str) -> Parsed:
    part = next(
        (p for p in message.walk() if p.get_content_type() == "message/feedback-report"), None
    )
    if part is None:
        return Parsed(reports=None, why="no message/feedback-report part")
    fields = _header_blocks(part)
    if not fields:
        return Parsed(reports=None, why="an empty feedback report")
    feedback = fields[0]
    feedback_type = str(feedback.get("Feedback-Type", "")).strip().lower()
    if feedback_type not in ("abuse", "fraud", "virus", "other"):
        # "not-spam" and "auth-failure" are no complaint from the recipient.
        return Parsed(reports=[])
    # Providers often redact the recipient; the keyed Message-ID is then what names the email.
    recipient = _address(feedback.get("Original-Rcpt-To"))
    if "redacted" in recipient.lower() or "@" not in recipient:
        recipient = ""
    return Parsed(
        reports=[
            BounceReport(
                source=SOURCE,
                event_id=f"{base}|complaint",
                type=Type.COMPLAINT,
                message_id=original,
                recipient=recipient,
                description=f"Feedback-Type: {feedback_type}",
            )
        ]
    )
