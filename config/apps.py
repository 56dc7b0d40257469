from __future__ import annotations

from django.contrib.admin.apps import AdminConfig


class CosignAdminConfig(AdminConfig):
    """The Django admin, served by Cosign's own site (see config/admin_site.py); every
    `admin.site.register` and `@admin.register` lands on it unchanged."""

    default_site = "config.admin_site.CosignAdminSite"

    def ready(self) -> None:
        super().ready()  # autodiscovers every app's admin.py, django-otp's among them
        from django.contrib import admin

        from config.admin_site import totp_devices_for_superusers_only

        totp_devices_for_superusers_only(admin.site)
