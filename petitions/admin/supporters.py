"""What organizations took away of their supporters, for staff to read: every download and every
page of the list (petitions.models.SupporterExport). Read-only: a record of what happened."""

from __future__ import annotations

from django.contrib import admin

from mechanisms.admin_records import RecordAdminMixin
from petitions.models import SupporterExport


@admin.register(SupporterExport)
class SupporterExportAdmin(RecordAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "organization", "kind", "exported_by", "petition", "rows")
    list_filter = ("kind", "organization")
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    list_select_related = ("organization", "exported_by", "petition")
    readonly_fields = [field.name for field in SupporterExport._meta.fields]
