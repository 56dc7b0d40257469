"""Delivery to officials in the admin: targets, the postal areas that route signers to them,
what each target was sent, and their responses."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext, ngettext_lazy
from django.utils.translation import gettext_lazy as _
from django_countries.filters import CountryFilter

from accounts.selectors import user_logged_in
from mechanisms.admin_actions import action_report, action_run
from mechanisms.admin_deliveries import DeliveryRecordAdmin
from mechanisms.audit import AuditedAdminMixin
from petitions.drafting.services import targets_confirm
from petitions.jurisdiction import postal_code_normalize
from petitions.models import Delivery, PostalArea, Response, Target
from petitions.routing import POSTAL_AREA_AUDITED_FIELDS, TARGET_AUDITED_FIELDS
from petitions.services import deliveries


@admin.register(Target)
class TargetAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = (
        "title",
        "name",
        "level",
        "country",
        "region",
        "locality",
        "has_email",
        "active",
        "awaiting_confirmation",
        "proposed_by",
    )
    list_filter = (
        "awaiting_confirmation",
        "level",
        "active",
        ("country", CountryFilter),
        # Targets without an email receive no deliveries.
        ("email", admin.EmptyFieldListFilter),
    )
    search_fields = ("title", "name", "region", "locality", "email")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    ordering = ("level", "country", "region", "locality", "title")
    readonly_fields = ("created_at", "proposed_by", "awaiting_confirmation")
    audited_fields = TARGET_AUDITED_FIELDS
    actions = ("confirm",)

    @admin.action(
        description=_("Confirm the proposed officials, and tell who proposed them"),
        permissions=("change",),
    )
    def confirm(self, request: HttpRequest, queryset: QuerySet[Target]) -> None:
        confirmed = targets_confirm(
            target_ids=list(queryset.values_list("pk", flat=True)),
            user=user_logged_in(request=request),
        )
        action_report(
            self,
            request,
            done=ngettext_lazy("Confirmed %d official.", "Confirmed %d officials."),
            done_count=len(confirmed),
            left=[
                (
                    ngettext_lazy(
                        "%d was not awaiting confirmation.", "%d were not awaiting confirmation."
                    ),
                    queryset.count() - len(confirmed),
                )
            ],
        )

    @admin.display(description=_("has email"), boolean=True, ordering="email")
    def has_email(self, target: Target) -> bool:
        return bool(target.email)


class PostalAreaForm(forms.ModelForm):
    class Meta:
        model = PostalArea
        fields = ("country", "postal_code", "region", "locality")

    def clean_postal_code(self) -> str:
        # Stored as signers' codes are matched: upper-case, single spaces.
        return postal_code_normalize(self.cleaned_data["postal_code"])


@admin.register(PostalArea)
class PostalAreaAdmin(AuditedAdminMixin, admin.ModelAdmin):
    form = PostalAreaForm
    # Moving a postal code moves its signers to other officials.
    audited_fields = POSTAL_AREA_AUDITED_FIELDS
    list_display = ("postal_code", "country", "region", "locality")
    list_filter = (("country", CountryFilter),)
    search_fields = ("postal_code", "region", "locality")
    ordering = ("country", "postal_code")


@admin.register(Delivery)
class DeliveryAdmin(DeliveryRecordAdmin):
    """The record of what each target was sent; written only by the delivery services."""

    list_display = (
        "petition",
        "target",
        "period",
        "status",
        "total_count",
        "new_count",
        "sent_at",
        "attempts",
    )
    list_filter = ("status", "petition")
    list_select_related = ("petition", "target")
    search_fields = ("period", "target__title", "target__name", "petition__slug")
    readonly_fields = (
        "petition",
        "target",
        "period",
        "status",
        "total_count",
        "new_count",
        "created_at",
        "claimed_at",
        "sent_at",
        "attempts",
        "last_error",
    )

    def delivery_retry(self, *, delivery_id: int) -> bool:
        return deliveries.delivery_retry(delivery_id=delivery_id)


@admin.register(Response)
class ResponseAdmin(admin.ModelAdmin):
    list_display = ("target", "petition", "received_at", "published")
    list_filter = ("petition",)
    list_select_related = ("petition", "target", "update")
    search_fields = ("target__title", "target__name", "petition__slug", "text")
    autocomplete_fields = ("petition", "target")
    actions = ("publish",)

    @admin.display(description=_("published"), boolean=True, ordering="update__published_at")
    def published(self, response: Response) -> bool:
        update = response.update  # None, without a query, when update_id is
        return update is not None and update.published_at is not None

    def get_readonly_fields(self, request: HttpRequest, obj: Response | None = None):
        # Once published, signers were emailed these words; a correction is a new response.
        if obj is not None and obj.update_id is not None:
            return ("petition", "target", "text", "received_at")
        return ()

    @admin.action(
        description=_("Publish, and email signers who asked for updates"), permissions=("change",)
    )
    def publish(self, request: HttpRequest, queryset: QuerySet[Response]) -> None:
        action_run(
            self,
            request,
            queryset,
            run=lambda response: deliveries.response_publish(response_id=response.pk),
            done=ngettext_lazy("Published %d response.", "Published %d responses."),
            left=ngettext_lazy(
                "%d response was already published and was not sent again.",
                "%d responses were already published and were not sent again.",
            ),
            audit=gettext("Published, and signers who asked for updates emailed."),
        )
