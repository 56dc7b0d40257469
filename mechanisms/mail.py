"""The kinds of email Cosign sends and how one is rendered: text and HTML from templates, in the
reader's language, marked as automatic. Apps declare their kinds (with the builder that renders
one from the ids it carries); mechanisms.outbox sends them."""

from __future__ import annotations

import logging
import smtplib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.redis import RedisCache
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.crypto import salted_hmac

from mechanisms.addresses import email_canonicalize, email_delivery_address
from mechanisms.redis_breaker import REDIS_ERRORS, breaker

if TYPE_CHECKING:
    from mechanisms.models import OutboundEmail

logger = logging.getLogger(__name__)

# Worth retrying: the mail server is down, busy or hung up, or answered 4xx ("try later").
TRANSIENT_MAIL_ERRORS = (smtplib.SMTPException, ConnectionError, TimeoutError)
PERMANENT_MAIL_ERRORS = (smtplib.SMTPRecipientsRefused,)


def mail_error_is_permanent(error: BaseException) -> bool:
    """Whether trying again cannot help: the server refused the recipient or the message with a
    5xx answer. A 4xx (greylisting, a full mailbox) and a dropped connection are worth a retry."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        return bool(codes) and all(code >= 500 for code in codes)
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code >= 500
    return False


Builder = Callable[["OutboundEmail"], "EmailMultiAlternatives | None"]
# Loads what the builder reads for many emails of one kind at once, into each one's `prepared`.
Prepare = Callable[[Sequence["OutboundEmail"]], None]
AfterSend = Callable[["OutboundEmail"], None]
# (the email, what went wrong, whether it failed for good rather than waits for a retry)
AfterFailure = Callable[["OutboundEmail", str, bool], None]


@dataclass(frozen=True)
class EmailKind:
    """One kind of email Cosign sends.

    `build` renders one email of this kind from its outbox row (the ids in `ref`, read again
    now), or returns None when there is nothing to send any more (the signature was withdrawn).
    `after_send` records, in the sender's transaction, what the email's sending means to the app
    (a delivery is sent, a confirmation link went out at this time); `after_failure` what a
    failed attempt means (a delivery shows staff why it waits, or that it failed for good).

    The outbox sends one email per kind, subject (`about`) and recipient. `cooldown` widens that
    to one per period: a kind with a cooldown gets at most one email about one subject to one
    recipient per period, however often the form that causes it is sent.

    `unsolicited` kinds may reach an address that never confirmed anything on Cosign: anyone can
    type a stranger's address into the form that causes them. They carry no free text typed by
    whoever filled in that form (no name, no organization name that staff have not verified), and
    together they count against a daily budget per recipient (EMAIL_UNSOLICITED_PER_DAY), so a
    stranger's inbox gets only so many of them from all campaigns together.
    """

    name: str
    build: Builder
    # A duration, or the name of the setting that holds one (read when enqueueing, so tests and
    # deployments can change it); None for once per subject.
    cooldown: timedelta | str | None = None
    unsolicited: bool = False
    after_send: AfterSend | None = None
    after_failure: AfterFailure | None = None
    # For kinds sent in bulk (confirmations): one query for a batch instead of one per email.
    prepare: Prepare | None = None

    @property
    def cooldown_seconds(self) -> int:
        cooldown = self.cooldown
        if cooldown is None:
            return 0
        if isinstance(cooldown, str):
            cooldown = getattr(settings, cooldown)
        return int(cooldown.total_seconds())

    def __post_init__(self) -> None:
        if self.name in EMAIL_KINDS:
            raise ValueError(f"Two kinds of email are named {self.name!r}")
        EMAIL_KINDS[self.name] = self


# Every kind, by name: the outbox finds a row's builder here, and the README's table reads it.
EMAIL_KINDS: dict[str, EmailKind] = {}


def _budget_key(address: str, day: int) -> str:
    # An HMAC of the canonical address, never the address: a Redis dump must not list who was
    # mailed. Canonical, so `jane+1@x` and `Jane+2@X` share one budget.
    digest = salted_hmac("cosign.mail.unsolicited", f"{day}|{email_canonicalize(address)}")
    return f"{settings.ABUSE_CACHE_PREFIX}mail:budget:{digest.hexdigest()}"


def unsolicited_budget_take(address: str) -> bool:
    """Count one unsolicited email to `address` today; False once its daily budget is spent.
    Fails open: with the cache down the email goes (the outbox's uniqueness still holds)."""
    return unsolicited_budgets_take([address])[0]


def unsolicited_budgets_take(addresses: Sequence[str]) -> list[bool]:
    """unsolicited_budget_take for many emails at once (a batch of the outbox), in one Redis
    round trip: for each address in turn, whether its email is within today's budget."""
    budget = settings.EMAIL_UNSOLICITED_PER_DAY
    if budget <= 0 or not addresses:
        return [True] * len(addresses)
    day = int(time.time() // 86400)
    try:
        counts = _budget_counts([_budget_key(address, day) for address in addresses])
    except Exception as error:
        if isinstance(error, REDIS_ERRORS):
            breaker.failed(path=_BUDGET_PATH, error=error)
        logger.warning("Email budgets unavailable, sending anyway", exc_info=True)
        return [True] * len(addresses)
    if counts is None:
        return [True] * len(addresses)
    return [count <= budget for count in counts]


_BUDGET_PATH = "the unsolicited-email budgets (sending anyway)"
_BUDGET_SECONDS = 86400 + 60


def _budget_counts(keys: Sequence[str]) -> list[int] | None:
    """Count one email against each key, in order: one pipelined round trip on Redis, a call
    per key on any other cache. None while the Redis breaker is open (no timeout paid again)."""
    backend = caches[DEFAULT_CACHE_ALIAS]
    if not isinstance(backend, RedisCache):
        counts = []
        for key in keys:
            if backend.add(key, 1, _BUDGET_SECONDS):
                counts.append(1)
            else:
                try:
                    counts.append(backend.incr(key))
                except ValueError:
                    # Expired between the two calls: a new day's first email.
                    counts.append(1)
        return counts
    if not breaker.available():
        breaker.degraded(_BUDGET_PATH)
        return None
    client = backend._cache.get_client(write=True)  # type: ignore[attr-defined]
    pipe = client.pipeline(transaction=False)
    for key in keys:
        full = backend.make_and_validate_key(key)
        # A plain integer, as cache.add stores one, so the two ways count one budget.
        pipe.incr(full)
        pipe.expire(full, _BUDGET_SECONDS, nx=True)
    return [int(count) for count in pipe.execute()[0::2]]


def message_render(
    *,
    to: str,
    language: str,
    template: str,
    context: dict[str, Any],
    headers: dict[str, str] | None = None,
    attachments: Sequence[tuple[str, str | bytes, str]] = (),
) -> EmailMultiAlternatives:
    """Render `template`_subject.txt, .txt and .html in `language` into one message to one
    person, `to`. `attachments` are (filename, content, mimetype)."""
    with translation.override(language):
        context = {"site_url": settings.SITE_URL, "language": language, **context}
        subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
        # The HTML part's title and first heading (templates/email/base.html) say what the
        # subject says, so a screen reader opening the email hears what it is about first.
        context["email_subject"] = subject
        message = EmailMultiAlternatives(
            subject=subject,
            body=render_to_string(f"{template}.txt", context),
            to=[email_delivery_address(to)],
            headers={"Auto-Submitted": "auto-generated", **(headers or {})},
        )
        message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
        for filename, content, mimetype in attachments:
            message.attach(filename, content, mimetype)
    return message


def absolute_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"
