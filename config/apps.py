from __future__ import annotations

from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class CosignAdminConfig(AdminConfig):
    """The Django admin, served by Cosign's own site (see config/admin_site.py); every
    `admin.site.register` and `@admin.register` lands on it unchanged."""

    default = False
    default_site = "config.admin_site.CosignAdminSite"

    def ready(self) -> None:
        super().ready()  # autodiscovers every app's admin.py, django-otp's among them
        from django.contrib import admin

        from config.admin_site import totp_devices_for_superusers_only

        totp_devices_for_superusers_only(admin.site)


class CosignSiteConfig(AppConfig):
    """The top layer as an app, so the commands that act across every app (the in-process beat,
    the address refresh) live here rather than in an app below that would have to import upward."""

    name = "config"
    label = "cosign_site"
    default = True
