"""Staff's view of the outbox: what failed and why, and a way to send it again."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from mechanisms import (
    admin_bounces,  # noqa: F401 (registers the bounces' admin)
    outbox,
)
from mechanisms.admin_records import RecordAdminMixin
from mechanisms.audit import audit_log
from mechanisms.models import OutboundEmail


@admin.register(OutboundEmail)
class OutboundEmailAdmin(RecordAdminMixin, admin.ModelAdmin):
    # Viewing only: what an email says is its builder's, from the rows it names.
    list_display = ("kind", "about", "state", "attempts", "created_at", "sent_at", "last_error")
    list_filter = ("state", "kind")
    # The address is searchable while it is kept (until sent): staff answering "did my
    # confirmation go out?" look it up by the address they were given.
    search_fields = ("recipient",)
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    actions = ("retry",)
    readonly_fields = [f.name for f in OutboundEmail._meta.fields if f.name != "recipient_key"]
    exclude = ("recipient_key",)

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("mechanisms.view_outboundemail") and request.user.is_staff

    @admin.action(description=_("Send failed emails again"), permissions=("retry",))
    def retry(self, request: HttpRequest, queryset: QuerySet[OutboundEmail]) -> None:
        failed = list(queryset.filter(state=OutboundEmail.State.FAILED))
        retried = outbox.emails_retry(email_ids=[email.pk for email in failed])
        audit_log(user=request.user, objects=failed, message="Sent again from the outbox")
        if retried:
            self.message_user(
                request,
                ngettext("%d email will be sent again.", "%d emails will be sent again.", retried)
                % retried,
                messages.SUCCESS,
            )
        left = queryset.count() - retried
        if left:
            self.message_user(
                request,
                ngettext(
                    "%d email had not failed and was left alone.",
                    "%d emails had not failed and were left alone.",
                    left,
                )
                % left,
                messages.WARNING,
            )
