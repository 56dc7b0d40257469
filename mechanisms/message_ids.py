"""The Message-ID every outbox email carries, and reading it back from a bounce.

One per outbox row, the same on every attempt: should a worker die after the mail server took the
message but before the row says so, the copy sent again carries the same id, and mail programs
that deduplicate (most do) show it once. It names the row and carries a keyed tag, so a bounce
report that quotes it (a DSN's returned headers, a provider's webhook) leads back to the row,
and a forged report cannot name a row it never saw: the ids are sequential, the tag is not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

_PATTERN = re.compile(
    r"<?outbox-(?P<pk>\d{1,18})\.(?P<kind>[a-z0-9_]{1,64})\.(?P<tag>[0-9a-f]{20})@"
)


def _tag(pk: int, kind: str) -> str:
    return salted_hmac("cosign.outbox.message-id", f"{pk}.{kind}").hexdigest()[:20]


def outbox_message_id(*, pk: int, kind: str) -> str:
    domain = urlsplit(settings.SITE_URL).hostname or "localhost"
    return f"<outbox-{pk}.{kind}.{_tag(pk, kind)}@{domain}>"


@dataclass(frozen=True)
class OutboxRef:
    pk: int
    kind: str


def outbox_message_id_parse(value: str) -> OutboxRef | None:
    """The outbox row a Message-ID names, if it is one of ours with a valid tag; else None."""
    match = _PATTERN.search(value or "")
    if match is None:
        return None
    pk, kind = int(match["pk"]), match["kind"]
    if not constant_time_compare(match["tag"], _tag(pk, kind)):
        return None
    return OutboxRef(pk=pk, kind=kind)
