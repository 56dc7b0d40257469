"""What organizations took away of their supporters, for staff to read: every download and every
page of the list (petitions.models.SupporterExport). Read-only: a record of what happened."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from petitions.models import SupporterExport


@admin.register(SupporterExport)
class SupporterExportAdmin(admin.ModelAdmin):
    list_display = ("created_at", "organization", "kind", "exported_by", "petition", "rows")
    list_filter = ("kind", "organization")
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    list_select_related = ("organization", "exported_by", "petition")
    readonly_fields = [field.name for field in SupporterExport._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
