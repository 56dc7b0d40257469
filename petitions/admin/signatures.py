"""Signatures in the admin: the list staff search and correct, and the moderators' queue."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django_countries.filters import CountryFilter

from mechanisms.admin_moderation import (
    AbuseFlagFilter,
    ModerationServices,
    SignatureModerationAdmin,
)
from petitions.models import FlaggedSignature, Signature, SponsorOptIn
from petitions.questions import answers_text
from petitions.services import moderation, signature_place_resolve

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# What the admin's list_filter takes; declared so that the moderators' queue may list others.
_ListFilters = tuple[str | type[admin.ListFilter] | tuple[str, type[admin.FieldListFilter]], ...]


class SponsorOptInInline(admin.TabularInline):
    model = SponsorOptIn
    fields = ("organization", "created_at")
    readonly_fields = ("organization", "created_at")
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class PostalCodeFoundFilter(admin.SimpleListFilter):
    """Signatures whose postal code gave no place reach no local or state target: staff list
    them to load the missing postal codes."""

    title = _("postal code")
    parameter_name = "postal_code_known"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin
    ) -> list[tuple[str, StrOrPromise]]:
        return [
            ("found", _("Found")),
            ("not_found", _("Not found")),
            ("none", _("Not looked up (none given, or not confirmed yet)")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Signature]) -> QuerySet[Signature]:
        if self.value() == "found":
            return queryset.filter(postal_code_known=True)
        if self.value() == "not_found":
            return queryset.filter(postal_code_known=False)
        if self.value() == "none":
            return queryset.filter(postal_code_known__isnull=True)
        return queryset


_SIGNATURE_READONLY = (
    "petition",
    "source",
    "email",
    "canonical_email",
    "ip_hash",
    "created_at",
    "confirmed_at",
    "confirmation_sent_at",
    "counted",
    # Status and hold change only through the moderation actions, which keep counts exact.
    "status",
    "held",
    "flag_reasons",
    "moderated_at",
    "moderated_by",
    "moderation_reason",
    "anonymized_at",
    # Resolved from the postal code on confirmation; routing to targets depends on them.
    "region",
    "locality",
    "postal_code_known",
    # What the signer answered, as they saw the questions: never edited by anyone.
    "answers_shown",
)


@admin.register(Signature)
class SignatureAdmin(SignatureModerationAdmin):
    list_display: tuple[str, ...] = (
        "name",
        "email",
        "petition",
        "status",
        "held",
        "flag_reasons",
        "country",
        "created_at",
        "confirmed_at",
    )
    # CountryFilter lists only the countries signers chose, not all 250.
    list_filter: ClassVar[_ListFilters] = (
        "status",
        "held",
        AbuseFlagFilter,
        "petition",
        ("country", CountryFilter),
        PostalCodeFoundFilter,
    )
    search_fields = ("name", "email", "canonical_email")
    list_select_related = ("petition",)
    date_hierarchy: ClassVar[str | None] = "created_at"
    moderation = ModerationServices(
        confirm=moderation.signatures_confirm,
        reject=moderation.signatures_reject,
        mark_spam=moderation.signatures_mark_spam,
        resend_confirmation=moderation.signatures_resend_confirmation,
    )
    # The email is what the signer proved they own, and the uniqueness check is keyed on its
    # canonical form: staff may correct a name, never swap the address.
    readonly_fields = _SIGNATURE_READONLY
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "petition",
                    "name",
                    "email",
                    "canonical_email",
                    "display",
                    "consent_updates",
                    "comment",
                    "language",
                    "source",
                    "answers_shown",
                )
            },
        ),
        (
            _("Place"),
            {"fields": ("postal_code", "country", "region", "locality", "postal_code_known")},
        ),
        (
            _("Status"),
            {
                "fields": (
                    "status",
                    "held",
                    "flag_reasons",
                    "created_at",
                    "confirmed_at",
                    "confirmation_sent_at",
                    "counted",
                    "ip_hash",
                )
            },
        ),
        (
            _("Moderation"),
            {"fields": ("moderated_at", "moderated_by", "moderation_reason", "anonymized_at")},
        ),
    )

    inlines = (SponsorOptInInline,)

    @admin.display(description=_("answers to the petition's questions"))
    def answers_shown(self, signature: Signature) -> str:
        return answers_text(signature)

    def save_model(
        self, request: HttpRequest, obj: Signature, form: forms.ModelForm, change: bool
    ) -> None:
        # Region and locality route the signature to local and state targets: a corrected
        # postal code or country must move it, as the signer's own confirmation placed it. A
        # signature never confirmed has no place yet; its confirmation will look it up.
        moved = {"postal_code", "country"} & set(form.changed_data)
        if change and moved and obj.confirmed_at is not None:
            for field, value in signature_place_resolve(signature=obj).items():
                setattr(obj, field, value)
        super().save_model(request, obj, form, change)


@admin.register(FlaggedSignature)
class FlaggedSignatureAdmin(SignatureAdmin):
    """The moderators' queue: only signatures held for review, the longest-waiting first.

    A view of signatures, so it asks for the signature permissions rather than the proxy
    model's own: whoever may moderate signatures may work the queue.
    """

    list_display = (
        "created_at",
        "flag_reasons",
        "name",
        "email",
        "petition",
        "status",
        "country",
    )
    list_filter = (AbuseFlagFilter, "status", "petition", ("country", CountryFilter))
    ordering = ("created_at", "pk")
    date_hierarchy = None

    def get_queryset(self, request: HttpRequest) -> QuerySet[Signature]:
        return super().get_queryset(request).filter(held=True)

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return request.user.has_perm("petitions.view_signature") or self.has_change_permission(
            request, obj
        )

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return request.user.has_perm("petitions.change_signature")
