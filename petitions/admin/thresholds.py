"""Response thresholds in the admin: each petition's thresholds, and the requests they made,
with the queue of answers to publish and asking a target again."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from accounts.selectors import user_logged_in
from mechanisms.admin_actions import action_run
from mechanisms.audit import AuditedAdminMixin
from petitions.models import Threshold, ThresholdRequest
from petitions.services import threshold_answers, thresholds


class ThresholdAdminForm(forms.ModelForm):
    class Meta:
        model = Threshold
        fields = ("petition", "count", "days_to_respond", "target")

    def clean(self) -> dict[str, Any] | None:
        data = super().clean() or {}
        petition, target = data.get("petition"), data.get("target")
        if (
            petition is not None
            and target is not None
            and not petition.targets.filter(pk=target.pk).exists()
        ):
            self.add_error("target", _("Choose one of the petition's targets."))
        return data


# An admin of its own rather than an inline of the petition's: an inline would make every post
# of the petition's form carry its management form, and nothing else about a petition changes.
@admin.register(Threshold)
class ThresholdAdmin(AuditedAdminMixin, admin.ModelAdmin):
    form = ThresholdAdminForm
    list_display = ("petition", "count", "days_to_respond", "target")
    list_select_related = ("petition", "target")
    search_fields = ("petition__slug", "petition__title_en", "target__title")
    autocomplete_fields = ("petition", "target")
    audited_fields = ("count", "days_to_respond", "target")

    def get_readonly_fields(self, request: HttpRequest, obj: Threshold | None = None):
        # Reached: its targets were asked with these numbers; the record stays as it was.
        if obj is not None and obj.requests.exists():
            return ("petition", "count", "days_to_respond", "target")
        return ()


@admin.register(ThresholdRequest)
class ThresholdRequestAdmin(admin.ModelAdmin):
    list_display = (
        "petition",
        "target",
        "count",
        "notice",
        "status",
        "due_at",
        "answered_at",
    )
    list_filter = ("status", "notice")
    list_select_related = ("petition", "target")
    search_fields = ("petition__slug", "target__title", "target__name")
    ordering = ("-reached_at",)
    actions = ("publish", "ask_again")
    readonly_fields = (
        "petition",
        "target",
        "threshold",
        "count",
        "days_to_respond",
        "reached_at",
        "signatures_at_reach",
        "notice",
        "asked_at",
        "due_at",
        "link_expires_at",
        "answered_at",
        "answer_changed_at",
        "status",
        "response",
        "published_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # made by the counter, once per threshold and target

    def get_readonly_fields(self, request: HttpRequest, obj: ThresholdRequest | None = None):
        # Staff may mend the target's words (a typo, a stray signature) before publishing them;
        # once published, signers were emailed them.
        if obj is None or obj.status == ThresholdRequest.Status.ANSWERED:
            return self.readonly_fields
        return (*self.readonly_fields, "answer")

    @admin.action(
        description=_("Publish the answers as the petitions' responses, and email signers"),
        permissions=("change",),
    )
    def publish(self, request: HttpRequest, queryset: QuerySet[ThresholdRequest]) -> None:
        user = user_logged_in(request=request)
        action_run(
            self,
            request,
            queryset,
            run=lambda found: threshold_answers.threshold_answer_publish(
                request_id=found.pk, user=user
            ),
            done=ngettext_lazy("Published %d answer.", "Published %d answers."),
            left=ngettext_lazy(
                "%d request had no answer waiting to be published.",
                "%d requests had no answer waiting to be published.",
            ),
        )

    @admin.action(
        description=_("Email the targets again, with a new answer link"), permissions=("change",)
    )
    def ask_again(self, request: HttpRequest, queryset: QuerySet[ThresholdRequest]) -> None:
        user = user_logged_in(request=request)
        action_run(
            self,
            request,
            queryset,
            run=lambda found: thresholds.threshold_request_ask(request_id=found.pk, user=user),
            done=ngettext_lazy("Asked %d target again.", "Asked %d targets again."),
            left=ngettext_lazy(
                "%d was left alone: published already, or its target has no confirmed email.",
                "%d were left alone: published already, or their targets have no confirmed email.",
            ),
        )


__all__ = ["ThresholdAdmin", "ThresholdRequestAdmin"]
