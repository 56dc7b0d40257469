"""Staff's view of bounces and complaints (mechanisms.bounces): what each report said and what
Cosign did about it. Read-only: the reports come from the providers and the bounce mailbox."""

from __future__ import annotations

from django.contrib import admin

from mechanisms.admin_records import RecordAdminMixin
from mechanisms.models import BounceEvent


@admin.register(BounceEvent)
class BounceEventAdmin(RecordAdminMixin, admin.ModelAdmin):
    list_display = ("received_at", "type", "source", "email_kind", "status", "effect")
    list_filter = ("type", "source", "email_kind")
    date_hierarchy = "received_at"
    ordering = ("-received_at",)
    readonly_fields = [f.name for f in BounceEvent._meta.fields]
    list_select_related = ("email",)
