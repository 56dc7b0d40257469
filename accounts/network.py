"""The client's network address, and the only form in which we keep it."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest
from django.utils.crypto import salted_hmac


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR, or the address our own NUM_PROXIES proxies saw, never one the client chose."""
    remote = request.META.get("REMOTE_ADDR", "")
    if settings.NUM_PROXIES:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= settings.NUM_PROXIES:
            remote = forwarded[-settings.NUM_PROXIES]
    try:
        return str(ipaddress.ip_address(remote))
    except ValueError:
        return ""


def ip_hash(ip: str) -> str:
    """A keyed hash of an address: equal for equal addresses, useless without the key.

    The raw address is never stored; with the key gone, the hash links to no one.
    """
    if not ip:
        return ""
    return salted_hmac("cosign.ip", ip, secret=settings.IP_HASH_KEY, algorithm="sha256").hexdigest()
