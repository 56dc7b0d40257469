"""The admin site: Django's, plus a second factor for staff when STAFF_REQUIRE_2FA is on.

A staff password alone opens every supporter's name and email, so a leaked or guessed password
must not be enough: the admin also wants a TOTP device verified in this session. The setting is
read on each request, not at import, so tests (and a deployment that flips it) see it at once.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


def second_factor_pending(request: HttpRequest) -> bool:
    """Whether this request comes from active staff who gave the password but, though the
    setting asks for it, no second factor yet."""
    # Imported here: this module is loaded while the app registry is still filling.
    from accounts.two_factor import staff_verified

    user = request.user
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return False
    # One rule for the admin and for staff rights on the public site (staff_verified).
    return not staff_verified(user)


class CosignAdminSite(admin.AdminSite):
    site_header = _("Cosign administration")
    site_title = _("Cosign admin")

    def has_permission(self, request: HttpRequest) -> bool:
        if not super().has_permission(request):
            return False
        # Leaving asks no second factor: staff stopped at the code page must be able to log out
        # here, not be sent round to the code page again.
        if request.path == reverse("admin:logout", current_app=self.name):
            return True
        return not second_factor_pending(request)

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        # Imported here: this module is loaded while the app registry is still filling.
        from accounts.two_factor import second_factor_redirect
        from mechanisms.abuse import rate_limits

        default_next = reverse("admin:index", current_app=self.name)
        if second_factor_pending(request):
            # Already past the password: straight on to the code, never the password form again.
            next_url = request.GET.get(REDIRECT_FIELD_NAME) or default_next
            return second_factor_redirect(request, next_url=next_url)
        # Counted like the site's login (the same action, so the same budget): the admin's form
        # would otherwise take unlimited guesses at staff passwords.
        if request.method == "POST" and rate_limits.login_rate_limited(request):
            return self._login_refused(request, extra_context, default_next=default_next)
        response = super().login(request, extra_context)
        if (
            request.method == "POST"
            and isinstance(response, HttpResponseRedirect)
            and second_factor_pending(request)
        ):
            # The password was right; where the login form would go next, the code goes first.
            return second_factor_redirect(request, next_url=response.url)
        return response

    def _login_refused(
        self,
        request: HttpRequest,
        extra_context: dict[str, Any] | None,
        *,
        default_next: str,
    ) -> TemplateResponse:
        """The admin's login page again, with the rate-limit message and the typed address,
        without the password being checked at all."""
        from django.contrib.admin.forms import AdminAuthenticationForm

        from mechanisms.abuse import rate_limits

        form_class = self.login_form or AdminAuthenticationForm
        form = form_class(request, initial={"username": request.POST.get("username", "")})
        # The admin's base template shows messages; its login template knows no other notice.
        messages.error(request, rate_limits.rate_limit_message("login"))
        context = {
            **self.each_context(request),
            "title": _("Log in"),
            "subtitle": None,
            "app_path": request.get_full_path(),
            "username": request.user.get_username(),
            "form": form,
            REDIRECT_FIELD_NAME: request.POST.get(REDIRECT_FIELD_NAME) or default_next,
            **(extra_context or {}),
        }
        request.current_app = self.name
        template = self.login_template or "admin/login.html"
        return TemplateResponse(request, template, context, status=429)


def totp_devices_for_superusers_only(site: admin.AdminSite) -> None:
    """Swap django-otp's device admin for one only superusers may use: anyone else allowed to
    add a device could enrol their own phone on a colleague's account (or remove its factor)."""
    from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
    from django_otp.plugins.otp_totp.models import TOTPDevice

    class SuperusersOnlyTOTPDeviceAdmin(TOTPDeviceAdmin):
        def has_module_permission(self, request: HttpRequest) -> bool:
            return request.user.is_superuser

        def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
            return request.user.is_superuser

        def has_add_permission(self, request: HttpRequest) -> bool:
            return request.user.is_superuser

        def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
            return request.user.is_superuser

        def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
            return request.user.is_superuser

    if site.is_registered(TOTPDevice):
        site.unregister(TOTPDevice)
    site.register(TOTPDevice, SuperusersOnlyTOTPDeviceAdmin)
