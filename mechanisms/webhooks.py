"""Sending one webhook: the Standard Webhooks way (`webhook-id`, `webhook-timestamp`,
`webhook-signature`: HMAC-SHA256 of id, timestamp and body, by the `standardwebhooks` package,
with every secret still valid so a receiver rotating its secret keeps verifying), to an address
that is checked as it is sent.

An endpoint's host is resolved and every address it gives must be public: not private,
loopback, link-local, multicast or reserved. The check runs when the endpoint is registered and
again for each send, and the request then goes to the very address checked (the TLS name is
still the host's), so a name that resolves to a public address at registration and to
169.254.169.254 a minute later (DNS rebinding) reaches nothing. No redirect is followed.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import urllib3
from django.conf import settings
from django.utils.translation import gettext
from standardwebhooks.webhooks import Webhook
from urllib3.connection import HTTPConnection, HTTPSConnection

USER_AGENT = "Cosign-Webhooks/1"


class WebhookRefused(Exception):
    """The address may not be sent to; the message says why, for the organization's admins, in
    the language of the page (or the English a delivery's record keeps)."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str


# IPv6 ranges that carry an IPv4 address inside (IPv4-compatible, NAT64, SIIT): what they reach
# is that IPv4 address, which must itself be public; refused outright, as no receiver needs them.
_EMBEDDING = tuple(
    ipaddress.ip_network(net)
    for net in ("::/96", "64:ff9b::/96", "64:ff9b:1::/48", "::ffff:0:0:0/96", "2002::/16")
)


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif ip.teredo is not None or any(ip in net for net in _EMBEDDING):
            return False
    return ip.is_global and not ip.is_multicast


# What a URL may hold, as sent: printable ASCII (an internationalized host or path is written
# in its ASCII form, xn-- and %-escapes), no space or control character.
_URL_CHARACTERS = frozenset(chr(code) for code in range(0x21, 0x7F))


def webhook_target(url: str) -> Target:
    """Where `url` sends, checked: https (plain http only where WEBHOOK_ALLOW_HTTP), a host that
    resolves, and only to public addresses (any address where WEBHOOK_ALLOW_PRIVATE_ADDRESSES,
    for tests and local trials)."""
    if not url or not set(url) <= _URL_CHARACTERS:
        raise WebhookRefused(
            gettext(
                "The address may hold only printable ASCII characters: write an international "
                "name in its xn-- form and escape the rest with %."
            )
        )
    try:
        parts = urlsplit(url)
        port_given = parts.port
    except ValueError:
        raise WebhookRefused(gettext("The address is not a valid web address.")) from None
    allowed_schemes = ("https", "http") if settings.WEBHOOK_ALLOW_HTTP else ("https",)
    if parts.scheme not in allowed_schemes or not parts.hostname:
        raise WebhookRefused(gettext("The address must start with https://."))
    if parts.username or parts.password:
        raise WebhookRefused(gettext("The address may not carry a user name or password."))
    port = port_given or (443 if parts.scheme == "https" else 80)
    try:
        found = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise WebhookRefused(gettext("The address's host name does not resolve.")) from None
    addresses = [str(info[4][0]) for info in found]
    if not settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES and not all(map(_public, addresses)):
        raise WebhookRefused(
            gettext(
                "The address leads to a private, local or reserved network, which Cosign does "
                "not send to."
            )
        )
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(
        scheme=parts.scheme, host=parts.hostname, port=port, path=path, address=addresses[0]
    )


def signed_headers(
    *, message_id: str, timestamp: datetime, body: bytes, secrets: Sequence[str]
) -> dict[str, str]:
    """The three Standard Webhooks headers; one signature per secret, space-separated."""
    signatures = " ".join(
        Webhook(secret).sign(msg_id=message_id, timestamp=timestamp, data=body)
        for secret in secrets
    )
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signatures,
    }


@dataclass(frozen=True)
class Sent:
    status: int | None
    error: str

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def webhook_post(*, url: str, body: bytes, headers: dict[str, str]) -> Sent:
    """POST the body to the checked address, in at most twice WEBHOOK_TIMEOUT_SECONDS all told
    (a receiver trickling its answer a byte at a time is cut off then). Never raises for what
    the receiver or the network did: the result says it (a status, or the error)."""
    try:
        target = webhook_target(url)
    except WebhookRefused as refused:
        return Sent(status=None, error=str(refused))
    seconds = settings.WEBHOOK_TIMEOUT_SECONDS
    connection: HTTPConnection
    if target.scheme == "https":
        connection = HTTPSConnection(
            target.address,
            target.port,
            timeout=seconds,
            server_hostname=target.host,
            assert_hostname=target.host,
        )
    else:
        connection = HTTPConnection(target.address, target.port, timeout=seconds)
    host = f"[{target.host}]" if ":" in target.host else target.host
    host_header = host if target.port in (80, 443) else f"{host}:{target.port}"
    # The socket's timeout bounds each read; this bounds the whole attempt.
    cut = threading.Event()
    watchdog = threading.Timer(2 * seconds, _cut, args=(connection, cut))
    watchdog.start()
    try:
        connection.request(
            "POST",
            target.path,
            body=body,
            headers={
                **headers,
                "Host": host_header,
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
            },
        )
        # The receiver's answer is a status; its body is not read (it could be endless).
        response = connection.getresponse()
        if cut.is_set():  # what arrived before the cut is no answer
            return Sent(status=None, error="TimeoutError")
        return Sent(status=response.status, error="")
    # ValueError: a certificate for another name (urllib3's CertificateError), a header value
    # the client refuses.
    except (
        OSError,
        ValueError,
        urllib3.exceptions.HTTPError,
        http.client.HTTPException,
    ) as error:
        return Sent(status=None, error="TimeoutError" if cut.is_set() else type(error).__name__)
    finally:
        watchdog.cancel()
        connection.close()


def _cut(connection: HTTPConnection, cut: threading.Event) -> None:
    """End an attempt that took too long: a blocked read returns at once."""
    cut.set()
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
