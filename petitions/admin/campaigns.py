"""The campaigns in the admin: topics, petitions, their updates and milestones."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import CharField, F, OuterRef, QuerySet
from django.db.models.functions import Cast
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.urls import URLPattern, path
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext_lazy
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationAdmin

from accounts.selectors import user_logged_in
from mechanisms import outbox
from mechanisms.admin_actions import action_run
from mechanisms.admin_images import IMAGE_ADMIN_FIELDS, ImageAdminMixin
from mechanisms.audit import AuditedAdminMixin, audit_log
from mechanisms.markdown import markdown_render
from mechanisms.personal_data import retention_clock_keep
from petitions import emails
from petitions.admin.questions import QuestionInline
from petitions.drafting import services as drafting
from petitions.drafting.admin import (
    CampaignReviewAdminMixin,
    Decision,
    ReviewAdminMixin,
    ReviewQueueAdmin,
)
from petitions.drafting.models import Review
from petitions.drafting.petition_kind import PETITION
from petitions.exports import petition_signatures_csv
from petitions.models import Petition, PetitionMilestone, PetitionReview, PetitionUpdate, Topic
from petitions.services.questions import question_set_publish

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    class _SentCount(TypedDict):
        sent: int


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
class PetitionAdmin(ImageAdminMixin, CampaignReviewAdminMixin, AuditedAdminMixin, TranslationAdmin):
    draft_kind = PETITION

    def save_model(
        self, request: HttpRequest, obj: Petition, form: forms.ModelForm, change: bool
    ) -> None:
        retention_clock_keep(campaign=obj, ended=obj.ended)
        super().save_model(request, obj, form, change)

    def save_related(
        self, request: HttpRequest, form: forms.ModelForm, formsets: object, change: bool
    ) -> None:
        super().save_related(request, form, formsets, change)
        # Signers answer the questions as just saved, from a new snapshot (earlier signatures
        # keep theirs).
        question_set_publish(petition_id=form.instance.pk)

    list_display = (
        "title",
        "status",
        "review",
        "topic",
        "signature_count",
        "opens_at",
        "closes_at",
    )
    list_filter = ("status", "review", "topic", "language")
    search_fields = ("title_en", "title_it", "slug", "summary_en", "summary_it")
    prepopulated_fields = {"slug": ("title_en",)}
    autocomplete_fields = ("sponsors", "targets")
    # The count belongs to the counter and the recount command; editing it by hand would drift.
    readonly_fields = (
        "preview_link",
        "signature_count",
        "created_at",
        "updated_at",
        "organization",
        "review",
        "review_reason",
        "submitted_at",
        "review_link",
    )
    inlines = (PetitionUpdateInline, QuestionInline)
    # Who receives signers' data: sponsors get the supporters who opted in and milestone mails,
    # targets get their constituents' signatures on the schedule (mechanisms.audit).
    audited_fields = ("sponsors", "offer_sponsor_opt_in", "targets", "delivery_schedule")
    fieldsets = (
        (None, {"fields": ("preview_link", "slug", "language", "topic", "sponsors")}),
        (_("Text"), {"fields": ("title", "summary", "demand", "addressed_to", "body")}),
        (_("Image"), {"fields": IMAGE_ADMIN_FIELDS}),
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
        (
            _("Drafted by an organization"),
            {
                "fields": (
                    "organization",
                    "review",
                    "review_reason",
                    "submitted_at",
                    "review_link",
                )
            },
        ),
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
            # The admin's own "does not exist" answer; a private ModelAdmin method, so its stubs
            # do not declare it.
            return self._get_obj_does_not_exist_redirect(  # type: ignore[attr-defined]
                request, self.opts, str(petition_id)
            )
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


@admin.register(PetitionReview)
class PetitionReviewAdmin(ReviewQueueAdmin):
    pass


@admin.register(PetitionUpdate)
class PetitionUpdateAdmin(ReviewAdminMixin, TranslationAdmin):
    list_display = (
        "title",
        "petition",
        "organization",
        "review",
        "published_at",
        "email_signers",
        "emails_sent",
        "review_link",
    )
    list_filter = ("review", "petition", ("published_at", admin.EmptyFieldListFilter))
    search_fields = ("title_en", "title_it", "petition__slug")
    autocomplete_fields = ("petition",)
    readonly_fields = (
        "published_at",
        "mailing_started_at",
        "created_at",
        "organization",
        "review",
        "review_reason",
        "unpublished_at",
    )
    actions = ("publish",)
    # Unpublished updates first: they are the ones waiting for someone to act. (The 5.2 stubs
    # allow only names here; Django takes expressions too.)
    ordering = (  # type: ignore[assignment]
        F("published_at").desc(nulls_first=True),
        "-created_at",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[PetitionUpdate]:
        return (
            super()
            .get_queryset(request)
            .select_related("petition")
            .annotate(
                sent=outbox.sent_count(
                    kind=emails.UPDATE, about=Cast(OuterRef("pk"), output_field=CharField())
                )
            )
        )

    @admin.display(description=_("emails sent"), ordering="sent")
    def emails_sent(self, update: WithAnnotations[PetitionUpdate, _SentCount]) -> int:
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
        action_run(
            self,
            request,
            queryset,
            run=lambda update: drafting.update_approve(
                update_id=update.pk, user=user_logged_in(request=request)
            ),
            done=ngettext_lazy("Published %d update.", "Published %d updates."),
            left=ngettext_lazy(
                "%d update was already published and was not sent again.",
                "%d updates were already published and were not sent again.",
            ),
            audit=gettext("Published, and signers who asked for updates emailed."),
        )

    def review_decisions(self, obj: PetitionUpdate) -> list[Decision]:
        if obj.published_at is None and obj.review == Review.SUBMITTED:
            return [
                (
                    "_publish",
                    _("Approve, publish and email"),
                    lambda pk, user, reason: drafting.update_approve(update_id=pk, user=user),
                ),
                (
                    "_return",
                    _("Return with the reason"),
                    lambda pk, user, reason: drafting.update_return(
                        update_id=pk, user=user, reason=reason
                    ),
                ),
            ]
        if obj.published_at is not None and obj.unpublished_at is None:
            return [
                (
                    "_unpublish",
                    _("Unpublish with the reason"),
                    lambda pk, user, reason: drafting.update_unpublish(
                        update_id=pk, user=user, reason=reason
                    ),
                )
            ]
        return []

    def review_context(self, obj: PetitionUpdate) -> dict[str, object]:
        return {
            "update": obj,
            "texts": [
                (code, getattr(obj, f"title_{code}"), markdown_render(getattr(obj, f"body_{code}")))
                for code in ("en", "it")
                if getattr(obj, f"title_{code}")
            ],
        }


@admin.register(PetitionMilestone)
class PetitionMilestoneAdmin(admin.ModelAdmin):
    list_display = ("petition", "goal", "reached_at", "notified_at")
    list_filter = ("petition",)
    list_select_related = ("petition",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # recorded by the counter as goals are reached

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
