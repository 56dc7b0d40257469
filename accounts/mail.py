"""One way to send the emails every app writes: text and HTML from templates, in the reader's
language, marked as automatic. Apps keep their own templates and say what goes in them."""

from __future__ import annotations

import smtplib
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation

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


def mail_send(
    *,
    to: Sequence[str],
    language: str,
    template: str,
    context: dict[str, Any],
    headers: dict[str, str] | None = None,
    attachments: Sequence[tuple[str, str | bytes, str]] = (),
) -> None:
    """Render `template`_subject.txt, .txt and .html in `language` and send them to `to` (one
    message: callers send one per person when recipients must not see each other).
    `attachments` are (filename, content, mimetype)."""
    with translation.override(language):
        context = {"site_url": settings.SITE_URL, "language": language, **context}
        subject = render_to_string(f"{template}_subject.txt", context)
        message = EmailMultiAlternatives(
            subject=" ".join(subject.split()),
            body=render_to_string(f"{template}.txt", context),
            to=list(to),
            headers={"Auto-Submitted": "auto-generated", **(headers or {})},
        )
        message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
        for filename, content, mimetype in attachments:
            message.attach(filename, content, mimetype)
        message.send()


def absolute_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"
