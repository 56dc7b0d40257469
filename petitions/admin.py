from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Count, F, Q, QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.urls import URLPattern, path
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django_countries.filters import CountryFilter
from modeltranslation.admin import TranslationAdmin

from mechanisms.admin_moderation import (
    AbuseFlagFilter,
    ModerationServices,
    SignatureModerationAdmin,
)
from mechanisms.audit import AuditedAdminMixin, audit_log
from petitions.exports import petition_signatures_csv
from petitions.jurisdiction import postal_code_normalize
from petitions.models import (
    Delivery,
    FlaggedSignature,
    Petition,
    PetitionMilestone,
    PetitionUpdate,
    PostalArea,
    Response,
    Signature,
    SponsorOptIn,
    Target,
    Topic,
)
from petitions.routing import POSTAL_AREA_AUDITED_FIELDS, TARGET_AUDITED_FIELDS
from petitions.services import campaigns, deliveries, moderation, signature_place_resolve


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
class PetitionAdmin(AuditedAdminMixin, TranslationAdmin):
    list_display = ("title", "status", "topic", "signature_count", "opens_at", "closes_at")
    list_filter = ("status", "topic", "language")
    search_fields = ("title_en", "title_it", "slug", "summary_en", "summary_it")
    prepopulated_fields = {"slug": ("title_en",)}
    autocomplete_fields = ("sponsors", "targets")
    # The count belongs to the counter and the recount command; editing it by hand would drift.
    readonly_fields = ("preview_link", "signature_count", "created_at", "updated_at")
    inlines = (PetitionUpdateInline,)
    # Who receives signers' data: sponsors get the supporters who opted in and milestone mails,
    # targets get their constituents' signatures on the schedule (mechanisms.audit).
    audited_fields = ("sponsors", "offer_sponsor_opt_in", "targets", "delivery_schedule")
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
        (_("Delivery to officials"), {"fields": ("targets", "delivery_schedule")}),
        (_("After it closes"), {"fields": ("outcome",)}),
        (_("Count"), {"fields": ("signature_count", "created_at", "updated_at")}),
    )

    def get_urls(self) -> list[URLPattern]:
        export = path(
            "<int:petition_id>/signatures.csv",
            self.admin_site.admin_view(self.export_signatures),
            name="petitions_petition_export_signatures",
        )
        return [export, *super().get_urls()]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, object] | None = None,
    ) -> HttpResponse:
        # The change form shows a download button to staff who may export (see its template).
        extra_context = {
            **(extra_context or {}),
            "may_export_signatures": request.user.has_perm("petitions.export_signatures"),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def export_signatures(self, request: HttpRequest, petition_id: int) -> StreamingHttpResponse:
        """Every signature of the petition as CSV, streamed from a server-side cursor. The
        download is written to the audit log: it takes signers' emails off the platform."""
        if not request.user.has_perm("petitions.export_signatures"):
            raise PermissionDenied
        petition = self.get_object(request, str(petition_id))
        if petition is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, str(petition_id))
        audit_log(
            user=request.user,
            objects=[petition],
            message=gettext("Downloaded the signatures as CSV."),
        )
        response = StreamingHttpResponse(
            petition_signatures_csv(petition_id=petition.pk), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{petition.slug}-signatures.csv"'
        return response

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

    @admin.action(
        description=_("Publish, and email signers who asked for updates"), permissions=("change",)
    )
    def publish(self, request: HttpRequest, queryset: QuerySet[PetitionUpdate]) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        done = [pk for pk in ids if campaigns.petition_update_publish(update_id=pk)]
        audit_log(
            user=request.user,
            objects=list(PetitionUpdate.objects.filter(pk__in=done)),
            message=gettext("Published, and signers who asked for updates emailed."),
        )
        published, skipped = len(done), len(ids) - len(done)
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


class PostalCodeFoundFilter(admin.SimpleListFilter):
    """Signatures whose postal code gave no place reach no local or state target: staff list
    them to load the missing postal codes."""

    title = _("postal code")
    parameter_name = "postal_code_known"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
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


# --- Signatures and their moderation ----------------------------------------------------------


_SIGNATURE_READONLY = (
    "petition",
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
)


@admin.register(Signature)
class SignatureAdmin(SignatureModerationAdmin):
    list_display = (
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
    list_filter = (
        "status",
        "held",
        AbuseFlagFilter,
        "petition",
        ("country", CountryFilter),
        PostalCodeFoundFilter,
    )
    search_fields = ("name", "email", "canonical_email")
    list_select_related = ("petition",)
    date_hierarchy = "created_at"
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
    )
    list_filter = (
        "level",
        "active",
        ("country", CountryFilter),
        # Targets without an email receive no deliveries.
        ("email", admin.EmptyFieldListFilter),
    )
    search_fields = ("title", "name", "region", "locality", "email")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    ordering = ("level", "country", "region", "locality", "title")
    readonly_fields = ("created_at",)
    audited_fields = TARGET_AUDITED_FIELDS

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


# --- Deliveries to targets and their responses ------------------------------------------------


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
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
    actions = ("retry_failed",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("petitions.change_delivery")

    @admin.action(description=_("Retry failed deliveries"), permissions=("retry",))
    def retry_failed(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        done = [pk for pk in ids if deliveries.delivery_retry(delivery_id=pk)]
        audit_log(
            user=request.user,
            objects=list(Delivery.objects.filter(pk__in=done)),
            message=gettext("Failed delivery sent again."),
        )
        retried = len(done)
        self.message_user(
            request,
            ngettext(
                "%d delivery will be sent again.", "%d deliveries will be sent again.", retried
            )
            % retried,
            messages.SUCCESS,
        )
        skipped = len(ids) - retried
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%d delivery had not failed and was left alone.",
                    "%d deliveries had not failed and were left alone.",
                    skipped,
                )
                % skipped,
                messages.WARNING,
            )


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
        return response.update_id is not None and response.update.published_at is not None

    def get_readonly_fields(self, request: HttpRequest, obj: Response | None = None):
        # Once published, signers were emailed these words; a correction is a new response.
        if obj is not None and obj.update_id is not None:
            return ("petition", "target", "text", "received_at")
        return ()

    @admin.action(
        description=_("Publish, and email signers who asked for updates"), permissions=("change",)
    )
    def publish(self, request: HttpRequest, queryset: QuerySet[Response]) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        done = [pk for pk in ids if deliveries.response_publish(response_id=pk)]
        audit_log(
            user=request.user,
            objects=list(Response.objects.filter(pk__in=done).select_related("target")),
            message=gettext("Published, and signers who asked for updates emailed."),
        )
        published = len(done)
        self.message_user(
            request,
            ngettext("Published %d response.", "Published %d responses.", published) % published,
            messages.SUCCESS,
        )
        skipped = len(ids) - published
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%d response was already published and was not sent again.",
                    "%d responses were already published and were not sent again.",
                    skipped,
                )
                % skipped,
                messages.WARNING,
            )
