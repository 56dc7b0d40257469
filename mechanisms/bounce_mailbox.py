"""The bounce mailbox: where mail servers return what they could not deliver (the envelope
sender of Cosign's emails), read over IMAP every BOUNCE_MAILBOX_SECONDS by the
`bounce_mailbox_read` task.

Each message not read before is parsed (mechanisms.bounce_reports) and its reports recorded
(mechanisms.bounces, which acts on each once whatever happens here). It is then flagged with the
keyword COSIGN_READ (and \\Seen), so the next run does not read it again; a message that is no
report also gets COSIGN_UNREADABLE and stays in the mailbox for a person to look at, with a log
line that says why. BOUNCE_MAILBOX_URL is imaps://user:password@host[:port]/FOLDER (imap:// for a
server on the same machine; the folder defaults to INBOX).
"""

from __future__ import annotations

import imaplib
import logging
import ssl
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from mechanisms.bounce_reports import report_parse
from mechanisms.bounces import bounce_record

logger = logging.getLogger(__name__)

COSIGN_READ = "CosignRead"
COSIGN_UNREADABLE = "CosignUnreadable"


@dataclass
class MailboxRead:
    messages: int = 0
    reports: int = 0
    acted_on: int = 0
    ignored: int = 0
    unreadable: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class MailboxAddress:
    secure: bool
    host: str
    port: int
    user: str
    password: str
    folder: str


def mailbox_url_parse(url: str) -> MailboxAddress:
    parts = urlsplit(url)
    if parts.scheme not in ("imap", "imaps") or not parts.hostname:
        raise ImproperlyConfigured(
            "BOUNCE_MAILBOX_URL must look like imaps://user:password@host/INBOX"
        )
    secure = parts.scheme == "imaps"
    return MailboxAddress(
        secure=secure,
        host=parts.hostname,
        port=parts.port or (993 if secure else 143),
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        folder=unquote(parts.path.lstrip("/")) or "INBOX",
    )


def _connect(address: MailboxAddress) -> imaplib.IMAP4:
    timeout = settings.BOUNCE_MAILBOX_TIMEOUT
    if address.secure:
        return imaplib.IMAP4_SSL(
            address.host, address.port, ssl_context=ssl.create_default_context(), timeout=timeout
        )
    return imaplib.IMAP4(address.host, address.port, timeout=timeout)


def bounce_mailbox_read(*, url: str | None = None, limit: int = 500) -> MailboxRead:
    """Read up to `limit` messages of the bounce mailbox not read before, and act on their
    reports. Does nothing when no mailbox is configured."""
    url = url if url is not None else settings.BOUNCE_MAILBOX_URL
    done = MailboxRead()
    if not url:
        return done
    address = mailbox_url_parse(url)
    imap = _connect(address)
    try:
        imap.login(address.user, address.password)
        status, _ = imap.select(_quoted(address.folder))
        if status != "OK":
            raise imaplib.IMAP4.error(f"cannot open the folder {address.folder!r}")
        status, found = imap.uid("SEARCH", "UNKEYWORD", COSIGN_READ)
        uids = found[0].split() if status == "OK" and found and found[0] else []
        for uid in uids[:limit]:
            _read_one(imap, uid.decode(), done)
    finally:
        try:
            imap.logout()
        except (imaplib.IMAP4.error, OSError):
            logger.warning("Bounce mailbox: the logout failed", exc_info=True)
    return done


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _read_one(imap: imaplib.IMAP4, uid: str, done: MailboxRead) -> None:
    status, data = imap.uid("FETCH", uid, "(BODY.PEEK[])")
    raw = next((item[1] for item in data or [] if isinstance(item, tuple) and len(item) > 1), None)
    if status != "OK" or not isinstance(raw, bytes):
        logger.warning("Bounce mailbox: message %s could not be fetched", uid)
        return
    done.messages += 1
    parsed = report_parse(raw)
    flags = f"({COSIGN_READ} \\Seen)"
    if parsed.reports is None:
        done.unreadable += 1
        done.notes.append(f"message {uid}: {parsed.why}")
        logger.warning("Bounce mailbox: message %s left unread: %s", uid, parsed.why)
        flags = f"({COSIGN_READ} {COSIGN_UNREADABLE})"
    else:
        for report in parsed.reports:
            done.reports += 1
            if bounce_record(report=report) is None:
                done.ignored += 1
            else:
                done.acted_on += 1
    # Flagged after its reports are recorded: a run that dies between the two reads it again,
    # and bounce_record acts on each report once.
    imap.uid("STORE", uid, "+FLAGS", flags)
