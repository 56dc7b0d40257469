"""A second factor for staff: enrol an authenticator app (TOTP), then give its code once per
session before the admin opens (when STAFF_REQUIRE_2FA is on; see config/admin_site.py).

django-otp keeps the devices and throttles wrong codes; these views only ask for a code and tell
the person plainly what happened. A lost device is reset by a superuser, who deletes it in the
admin ("TOTP devices"); its owner then enrols a new one on their next visit.
"""

from __future__ import annotations

import math
from base64 import b32encode, b64encode
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from urllib.parse import urlencode

import django_otp
import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from accounts.selectors import user_logged_in
from accounts.two_factor_forms import TOTPCodeForm

# Stored on the device row and shown in the admin's device list; data, not interface text.
DEVICE_NAME = "Authenticator app"


# --- Services -------------------------------------------------------------------------------------
def staff_verified(user: User | AnonymousUser, *, perm: str | None = None) -> bool:
    """Whether `user` may use staff rights (and `perm`, when named) on this request: active
    staff who, when STAFF_REQUIRE_2FA is on, gave their second factor in this session.

    Every staff right outside the admin asks this, so a stolen password alone opens no more on
    the public site than in the admin. OTPMiddleware installs `is_verified` on the request's
    user; a user that did not pass through it counts as unverified (fail closed).
    """
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return False
    if perm is not None and not user.has_perm(perm):
        return False
    if not settings.STAFF_REQUIRE_2FA:
        return True
    is_verified = getattr(user, "is_verified", None)
    return callable(is_verified) and bool(is_verified())


@dataclass(frozen=True)
class CodeCheck:
    """The outcome of one code: the device that took it, or why none did."""

    device: TOTPDevice | None
    # Set when every device refused to look at the code because of earlier wrong ones.
    locked_until: datetime | None = None


def totp_device_for_setup(*, user: User) -> TOTPDevice:
    """The device being enrolled, created unconfirmed on the first visit and the same on every
    later one: the key on the page must not change while someone types it into their app."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


def totp_code_check(*, user: User, code: str, confirmed: bool) -> CodeCheck:
    """Check a code against the user's confirmed devices (logging in) or the one being enrolled
    (`confirmed=False`, which confirms it on a right code).

    Rows are locked so two requests cannot spend the same code, and nothing raises inside the
    transaction: django-otp's count of wrong codes, which drives its throttling, must be kept."""
    with transaction.atomic():
        devices = list(
            TOTPDevice.objects.filter(user=user, confirmed=confirmed)
            .select_for_update()
            .order_by("pk")
        )
        locks = []
        for device in devices:
            allowed, details = device.verify_is_allowed()
            if not allowed:
                # Not even tried while throttled: a guess in the waiting time tells nothing.
                locks.append((details or {}).get("locked_until") or timezone.now())
                continue
            if device.verify_token(code):
                if not confirmed:
                    device.confirmed = True
                    device.save(update_fields=["confirmed"])
                return CodeCheck(device=device)
    if devices and len(locks) == len(devices):
        return CodeCheck(device=None, locked_until=min(locks))
    return CodeCheck(device=None)


# --- Views ----------------------------------------------------------------------------------------
def second_factor_redirect(request: HttpRequest, *, next_url: str) -> HttpResponseRedirect:
    """Where staff who gave their password go next: the code, or enrolment if they have no
    device yet; `next_url` is where they were going."""
    if django_otp.user_has_device(request.user, confirmed=True):
        name = "accounts:two_factor_verify"
    else:
        name = "accounts:two_factor_setup"
    return redirect(f"{reverse(name)}?{urlencode({'next': next_url})}")


def _next_url(request: HttpRequest) -> str:
    # Only a path on this site: a crafted link must not bounce a freshly verified staff member
    # to a look-alike page.
    candidate = request.GET.get("next", "")
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("admin:index")


def _staff_only(view: Callable[[HttpRequest], HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapped(request: HttpRequest) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        if not (user.is_active and user.is_staff):
            raise PermissionDenied
        return view(request)

    return wrapped


def _refusal(check: CodeCheck) -> str:
    if check.locked_until is None:
        return _("That code is not right. Check that your phone's clock is correct and try again.")
    seconds = max(1, math.ceil((check.locked_until - timezone.now()).total_seconds()))
    return ngettext(
        "Too many wrong codes. Wait %(seconds)d second, then try again.",
        "Too many wrong codes. Wait %(seconds)d seconds, then try again.",
        seconds,
    ) % {"seconds": seconds}


def _verified(request: HttpRequest, device: TOTPDevice, next_url: str) -> HttpResponse:
    # More rights than a moment ago: a session id seen before this point must not carry them.
    request.session.cycle_key()
    django_otp.login(request, device)
    return redirect(next_url)


def _qr_code(device: TOTPDevice) -> str:
    """The enrolment address as an SVG image in a data: URL (the CSP allows data: images, and an
    <img> keeps its alt text for screen readers)."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage)
    return "data:image/svg+xml;base64," + b64encode(image.to_string()).decode("ascii")


def _key_text(device: TOTPDevice) -> str:
    """The secret in base32, in groups of four, for typing into an app by hand."""
    key = b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@_staff_only
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    user = user_logged_in(request=request)
    next_url = _next_url(request)
    if django_otp.user_has_device(user, confirmed=True):
        # A second device only through a superuser: otherwise a stolen password plus a logged-in
        # session could enrol the thief's phone.
        return second_factor_redirect(request, next_url=next_url)
    device = totp_device_for_setup(user=user)
    form = TOTPCodeForm(
        request.POST if request.method == "POST" else None,
        submit_label=_("Confirm and continue"),
    )
    if form.is_bound and form.is_valid():
        check = totp_code_check(user=user, code=form.cleaned_data["code"], confirmed=False)
        if check.device is not None:
            return _verified(request, check.device, next_url)
        form.add_error("code", _refusal(check))
    context = {"form": form, "qr_code": _qr_code(device), "key": _key_text(device)}
    status = 400 if form.is_bound else 200
    return render(request, "accounts/two_factor_setup.html", context, status=status)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@_staff_only
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    user = user_logged_in(request=request)
    next_url = _next_url(request)
    if not django_otp.user_has_device(user, confirmed=True):
        return second_factor_redirect(request, next_url=next_url)
    # OTPMiddleware installs is_verified on the request's user; the model has no such method.
    if user.is_verified():  # type: ignore[attr-defined]
        return redirect(next_url)
    form = TOTPCodeForm(
        request.POST if request.method == "POST" else None, submit_label=_("Verify")
    )
    if form.is_bound and form.is_valid():
        check = totp_code_check(user=user, code=form.cleaned_data["code"], confirmed=True)
        if check.device is not None:
            return _verified(request, check.device, next_url)
        form.add_error("code", _refusal(check))
    status = 400 if form.is_bound else 200
    return render(request, "accounts/two_factor_verify.html", {"form": form}, status=status)
