"""The admin of a delivery record (mechanisms.deliveries), for petitions and letters alike: the
record of what each target was sent, written only by the delivery services, and one action to
send the failed ones again."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext, ngettext, ngettext_lazy
from django.utils.translation import gettext_lazy as _

from mechanisms.admin_actions import action_run
from mechanisms.deliveries import BOUNCED_PREFIX
from mechanisms.models import DeliveryRecord


class DeliveryRecordAdmin(admin.ModelAdmin):
    """Subclasses say how one of their deliveries is retried (`delivery_retry`)."""

    actions = ("retry_failed",)

    def delivery_retry(self, *, delivery_id: int) -> bool:
        raise NotImplementedError

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        # The alert for staff: an official's mail server returned a delivery after it was sent.
        bounced = self.model._default_manager.filter(
            status=DeliveryRecord.Status.FAILED, last_error__startswith=BOUNCED_PREFIX
        ).count()
        if bounced and request.method == "GET":
            messages.warning(
                request,
                ngettext(
                    "%d delivery bounced: the official's address refused it. Mend the address, "
                    "then retry it.",
                    "%d deliveries bounced: the officials' addresses refused them. Mend the "
                    "addresses, then retry them.",
                    bounced,
                )
                % bounced,
            )
        return super().changelist_view(request, extra_context)

    def has_retry_permission(self, request: HttpRequest) -> bool:
        opts = self.model._meta
        return request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")

    @admin.action(description=_("Retry failed deliveries"), permissions=("retry",))
    def retry_failed(self, request: HttpRequest, queryset: QuerySet[DeliveryRecord]) -> None:
        action_run(
            self,
            request,
            queryset,
            run=lambda delivery: self.delivery_retry(delivery_id=delivery.pk),
            done=ngettext_lazy(
                "%d delivery will be sent again.", "%d deliveries will be sent again."
            ),
            left=ngettext_lazy(
                "%d delivery had not failed and was left alone.",
                "%d deliveries had not failed and were left alone.",
            ),
            audit=gettext("Failed delivery sent again."),
        )
