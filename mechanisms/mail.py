"""One way to send the emails every app writes: text and HTML from templates, in the reader's
language, marked as automatic, each of a declared kind with a per-recipient cooldown. Apps keep
their own templates and kinds and say what goes in them."""

from __future__ import annotations

import logging
import smtplib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.crypto import salted_hmac

from mechanisms.addresses import email_canonicalize, email_delivery_address

logger = logging.getLogger(__name__)

# Worth retrying: the mail server is down, busy or hung up. A refused recipient is permanent.
TRANSIENT_MAIL_ERRORS = (smtplib.SMTPException, ConnectionError, TimeoutError)
PERMANENT_MAIL_ERRORS = (smtplib.SMTPRecipientsRefused,)
# The Celery options of every task that sends mail: back off, then stop.
MAIL_RETRY = {
    "autoretry_for": TRANSIENT_MAIL_ERRORS,
    "dont_autoretry_for": PERMANENT_MAIL_ERRORS,
    "retry_backoff": 5,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 8,
}


@dataclass(frozen=True)
class EmailKind:
    """One kind of email Cosign sends, and the cooldown that keeps it from flooding an inbox.

    Every call of mail_send names its kind, so no email goes out without one. `cooldown` is how
    long after one email of this kind about one thing (`about`: a petition, an update, a
    delivery; "" for any) the same recipient gets no other; `claimed_by` names a database claim
    that already enforces it durably (the signature's notice time), in which case mail_send
    leaves the cooldown to it.

    `unsolicited` kinds may reach an address that never confirmed anything on Cosign: anyone can
    type a stranger's address into the form that causes them. They carry no free text typed by
    whoever filled in that form (no name, no organization name that staff have not verified), and
    together they count against a daily budget per recipient (EMAIL_UNSOLICITED_PER_DAY), so a
    stranger's inbox gets only so many of them from all campaigns together.
    """

    name: str
    # A duration, or the name of the setting that holds one (read when sending, so tests and
    # deployments can change it).
    cooldown: timedelta | str
    unsolicited: bool = False
    claimed_by: str = ""

    @property
    def cooldown_seconds(self) -> int:
        cooldown = self.cooldown
        if isinstance(cooldown, str):
            cooldown = getattr(settings, cooldown)
        return int(cooldown.total_seconds())

    def __post_init__(self) -> None:
        if self.name in EMAIL_KINDS:
            raise ValueError(f"Two kinds of email are named {self.name!r}")
        EMAIL_KINDS[self.name] = self


# Every kind, by name: the README's table and the tests read it.
EMAIL_KINDS: dict[str, EmailKind] = {}


def _recipient_key(kind: str, about: str, address: str) -> str:
    # An HMAC of the canonical address, never the address: a Redis dump must not list who was
    # mailed what. Canonical, so `jane+1@x` and `Jane+2@X` share one cooldown.
    digest = salted_hmac(f"cosign.mail.{kind}", f"{about}|{email_canonicalize(address)}")
    return f"{settings.ABUSE_CACHE_PREFIX}mail:{kind}:{digest.hexdigest()}"


def _budget_key(address: str, day: int) -> str:
    digest = salted_hmac("cosign.mail.unsolicited", f"{day}|{email_canonicalize(address)}")
    return f"{settings.ABUSE_CACHE_PREFIX}mail:budget:{digest.hexdigest()}"


def _claim(kind: EmailKind, about: str, address: str) -> str | None:
    """Take the recipient's cooldown for this kind: the key to give back if the send fails, ""
    when the kind's cooldown is a database claim, None when the recipient must not be mailed now.
    Fails open: with the cache down the email goes (the database claims still hold)."""
    try:
        if kind.unsolicited and not _within_budget(address):
            return None
        seconds = kind.cooldown_seconds
        if kind.claimed_by or seconds <= 0:
            return ""
        key = _recipient_key(kind.name, about, address)
        return key if cache.add(key, 1, seconds) else None
    except Exception:
        logger.warning("Email cooldowns unavailable, sending anyway", exc_info=True)
        return ""


def _within_budget(address: str) -> bool:
    budget = settings.EMAIL_UNSOLICITED_PER_DAY
    if budget <= 0:
        return True
    key = _budget_key(address, int(time.time() // 86400))
    if cache.add(key, 1, 86400 + 60):
        return True
    return cache.incr(key) <= budget


def _release(key: str) -> None:
    if not key:
        return
    try:
        cache.delete(key)
    except Exception:
        logger.warning("Email cooldowns unavailable", exc_info=True)


def mail_send(
    *,
    kind: EmailKind,
    to: str,
    language: str,
    template: str,
    context: dict[str, Any],
    about: object = "",
    headers: dict[str, str] | None = None,
    attachments: Sequence[tuple[str, str | bytes, str]] = (),
) -> bool:
    """Render `template`_subject.txt, .txt and .html in `language` and send them to one person,
    `to`, unless the recipient's cooldown for this kind of email (about `about`) or their daily
    budget of unsolicited email says not now. Returns whether it was sent. `attachments` are
    (filename, content, mimetype).

    A send that fails gives the cooldown back, so the task's retry may send.
    """
    claim = _claim(kind, str(about), to)
    if claim is None:
        logger.info("Email %s not sent: the recipient's cooldown or daily budget holds", kind.name)
        return False
    try:
        with translation.override(language):
            context = {"site_url": settings.SITE_URL, "language": language, **context}
            subject = render_to_string(f"{template}_subject.txt", context)
            message = EmailMultiAlternatives(
                subject=" ".join(subject.split()),
                body=render_to_string(f"{template}.txt", context),
                to=[email_delivery_address(to)],
                headers={"Auto-Submitted": "auto-generated", **(headers or {})},
            )
            message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
            for filename, content, mimetype in attachments:
                message.attach(filename, content, mimetype)
            message.send()
    except Exception:
        _release(claim)
        raise
    return True


def absolute_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"
