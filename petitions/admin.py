from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Count, F, Q, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_countries.filters import CountryFilter
from modeltranslation.admin import TranslationAdmin

from petitions import campaign_services
from petitions.models import (
    Petition,
    PetitionMilestone,
    PetitionUpdate,
    Signature,
    SponsorOptIn,
    Topic,
)


# Plain TranslationAdmin, not the tabbed one: its tabs load jQuery UI from a CDN, which our
# Content-Security-Policy (rightly) refuses.
@admin.register(Topic)
class TopicAdmin(TranslationAdmin):
    list_display = ("name", "slug", "position")
    prepopulated_fields = {"slug": ("name",)}
    search_fields = ("name",)


class PetitionUpdateInline(admin.TabularInline):
    model = PetitionUpdate
    fields = ("title", "published_at", "email_signers")
    readonly_fields = ("title", "published_at", "email_signers")
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # written in the Updates admin, where publishing is an explicit action


@admin.register(Petition)
class PetitionAdmin(TranslationAdmin):
    list_display = ("title", "status", "topic", "signature_count", "opens_at", "closes_at")
    list_filter = ("status", "topic", "language")
    search_fields = ("title_en", "title_it", "slug", "summary_en", "summary_it")
    prepopulated_fields = {"slug": ("title_en",)}
    autocomplete_fields = ("sponsors",)
    # The count belongs to the counter and the recount command; editing it by hand would drift.
    readonly_fields = ("preview_link", "signature_count", "created_at", "updated_at")
    inlines = (PetitionUpdateInline,)
    fieldsets = (
        (None, {"fields": ("preview_link", "slug", "language", "topic", "sponsors")}),
        (_("Text"), {"fields": ("title", "summary", "demand", "addressed_to", "body")}),
        (_("Dates and goal"), {"fields": ("status", "opens_at", "closes_at", "goal")}),
        (
            _("Sign form"),
            {
                "fields": (
                    "postal_code_required",
                    "countries",
                    "ask_comment",
                    "offer_sponsor_opt_in",
                )
            },
        ),
        (_("After it closes"), {"fields": ("outcome",)}),
        (_("Count"), {"fields": ("signature_count", "created_at", "updated_at")}),
    )

    @admin.display(description=_("Page"))
    def preview_link(self, petition: Petition) -> str:
        if not petition.pk:
            return "-"
        label = _("Preview") if petition.status == Petition.Status.DRAFT else _("View on site")
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">{}</a>',
            petition.get_absolute_url(),
            label,
        )


@admin.register(PetitionUpdate)
class PetitionUpdateAdmin(TranslationAdmin):
    list_display = ("title", "petition", "published_at", "email_signers", "emails_sent")
    list_filter = ("petition", ("published_at", admin.EmptyFieldListFilter))
    search_fields = ("title_en", "title_it", "petition__slug")
    autocomplete_fields = ("petition",)
    readonly_fields = ("published_at", "mailing_started_at", "created_at")
    actions = ("publish",)
    # Unpublished updates first: they are the ones waiting for someone to act.
    ordering = (F("published_at").desc(nulls_first=True), "-created_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[PetitionUpdate]:
        return (
            super()
            .get_queryset(request)
            .select_related("petition")
            .annotate(sent=Count("emails", filter=Q(emails__sent_at__isnull=False)))
        )

    @admin.display(description=_("emails sent"), ordering="sent")
    def emails_sent(self, update: PetitionUpdate) -> int:
        return update.sent

    def get_readonly_fields(self, request: HttpRequest, obj: PetitionUpdate | None = None):
        # Once sent, the words people received are the record; corrections go in a new update.
        if obj is not None and obj.published_at is not None:
            return (*self.readonly_fields, "petition", "email_signers")
        return self.readonly_fields

    @admin.action(description=_("Publish, and email signers who asked for updates"))
    def publish(self, request: HttpRequest, queryset: QuerySet[PetitionUpdate]) -> None:
        published = sum(
            campaign_services.petition_update_publish(update_id=pk)
            for pk in queryset.values_list("pk", flat=True)
        )
        skipped = queryset.count() - published
        self.message_user(
            request,
            ngettext("Published %d update.", "Published %d updates.", published) % published,
            messages.SUCCESS,
        )
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%d update was already published and was not sent again.",
                    "%d updates were already published and were not sent again.",
                    skipped,
                )
                % skipped,
                messages.WARNING,
            )


@admin.register(PetitionMilestone)
class PetitionMilestoneAdmin(admin.ModelAdmin):
    list_display = ("petition", "goal", "reached_at", "notified_at")
    list_filter = ("petition",)
    list_select_related = ("petition",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # recorded by the counter as goals are reached

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class SponsorOptInInline(admin.TabularInline):
    model = SponsorOptIn
    fields = ("organization", "created_at")
    readonly_fields = ("organization", "created_at")
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Signature)
class SignatureAdmin(admin.ModelAdmin):
    list_display = ("name", "email", "petition", "status", "country", "created_at", "confirmed_at")
    # CountryFilter lists only the countries signers chose, not all 250.
    list_filter = ("status", "petition", ("country", CountryFilter))
    search_fields = ("name", "email", "canonical_email")
    list_select_related = ("petition",)
    date_hierarchy = "created_at"
    # The email is what the signer proved they own, and the uniqueness check is keyed on its
    # canonical form: staff may correct a name, never swap the address.
    readonly_fields = (
        "petition",
        "email",
        "canonical_email",
        "ip_hash",
        "created_at",
        "confirmed_at",
        "confirmation_sent_at",
        "counted",
        "status",
    )
    fields = (
        "petition",
        "name",
        "email",
        "canonical_email",
        "postal_code",
        "country",
        "display",
        "consent_updates",
        "comment",
        "language",
        "status",
        "created_at",
        "confirmed_at",
        "confirmation_sent_at",
        "counted",
        "ip_hash",
    )

    inlines = (SponsorOptInInline,)

    def has_add_permission(self, request: object) -> bool:
        # Signatures come from signers confirming by email, never from staff typing them in.
        return False
