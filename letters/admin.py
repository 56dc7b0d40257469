from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext_lazy
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationAdmin, TranslationTabularInline

from letters import delivery, moderation, services
from letters.drafting import LETTER
from letters.models import (
    IndividualSignature,
    LetterDelivery,
    LetterReview,
    LetterUpdate,
    OpenLetter,
    OrganizationSignature,
    Statement,
)
from mechanisms.admin_actions import action_run
from mechanisms.admin_deliveries import DeliveryRecordAdmin
from mechanisms.admin_images import IMAGE_ADMIN_FIELDS, ImageAdminMixin
from mechanisms.admin_moderation import (
    AbuseFlagFilter,
    ModerationServices,
    SignatureModerationAdmin,
)
from mechanisms.audit import AuditedAdminMixin
from mechanisms.personal_data import retention_clock_keep
from petitions.admin.questions import QuestionInline
from petitions.drafting.admin import CampaignReviewAdminMixin, ReviewQueueAdmin
from petitions.questions import answers_text
from petitions.services.questions import questions_publish


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=1000,
        help_text=_("Sent to the organization, so write it for them."),
    )


def _decide_many(
    admin_view: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet,
    decide: Callable[..., object],
    *,
    approve: bool,
    id_name: str,
) -> HttpResponse | None:
    """Approve at once, or reject after asking the reason on an intermediate page."""
    reason = ""
    if not approve:
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            context = {
                **admin_view.admin_site.each_context(request),
                "title": _("Reject with a reason"),
                "form": form,
                "queryset": queryset,
                "action": request.POST["action"],
                "opts": admin_view.model._meta,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/reject_with_reason.html", context)
        reason = form.cleaned_data["reason"]

    def decide_one(row: OrganizationSignature | Statement) -> bool:
        if row.status != "pending":
            return False
        decide(**{id_name: row.pk}, user=request.user, approve=approve, reason=reason)
        return True

    # Each decision writes its own audit entry (letters.services), as it does from the
    # letter's page, so the action writes none.
    action_run(
        admin_view,
        request,
        queryset,
        run=decide_one,
        done=(
            ngettext_lazy("Approved %d.", "Approved %d.")
            if approve
            else ngettext_lazy("Rejected %d.", "Rejected %d.")
        ),
        left=ngettext_lazy(
            "%d was already decided and was left as it is.",
            "%d were already decided and were left as they are.",
        ),
    )
    return None


class LetterUpdateInline(TranslationTabularInline):
    model = LetterUpdate
    extra = 0


class LetterQuestionInline(QuestionInline):
    """The individual sign form's own questions: the petition's inline, owned by the letter."""

    fk_name = "letter"

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return request.user.has_perm("letters.change_openletter")

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return request.user.has_perm("letters.change_openletter")

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return request.user.has_perm("letters.change_openletter")

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return request.user.has_perm("letters.view_openletter")


@admin.register(OpenLetter)
class OpenLetterAdmin(
    ImageAdminMixin, CampaignReviewAdminMixin, AuditedAdminMixin, TranslationAdmin
):
    draft_kind = LETTER

    def save_model(
        self, request: HttpRequest, obj: OpenLetter, form: forms.ModelForm, change: bool
    ) -> None:
        retention_clock_keep(campaign=obj, ended=obj.status == OpenLetter.Status.CLOSED)
        super().save_model(request, obj, form, change)

    def save_related(
        self, request: HttpRequest, form: forms.ModelForm, formsets: object, change: bool
    ) -> None:
        super().save_related(request, form, formsets, change)
        # Individual signers answer the questions as just saved, from a new snapshot (earlier
        # signatures keep theirs).
        questions_publish(kind=LETTER, campaign_id=form.instance.pk)

    list_display = ("title", "status", "review", "published_at", "page")
    list_filter = ("status", "review", "topic")
    search_fields = ("title_en", "title_it", "slug")
    prepopulated_fields = {"slug": ("title_en",)}
    autocomplete_fields = ("lead_organizations", "related_petition")
    inlines = (LetterUpdateInline, LetterQuestionInline)
    actions = ("publish",)
    # Lead organizations' members are told of each co-signer and approve them; targets receive
    # the letter: who gets them is audited (mechanisms.audit).
    audited_fields = ("lead_organizations", "targets")
    fieldsets = (
        (None, {"fields": ("slug", "status", "published_at", "topic", "lead_organizations")}),
        (_("Text"), {"fields": ("title", "summary", "addressed_to", "ask", "body")}),
        (_("Image"), {"fields": IMAGE_ADMIN_FIELDS}),
        (
            _("Individual signers"),
            {
                "fields": (
                    "individuals_may_sign",
                    "names_may_be_withheld",
                    "individual_email_domains",
                    "withheld_label",
                )
            },
        ),
        (
            _("Press"),
            {"fields": ("media_contact_name", "media_contact_email", "media_contact_phone")},
        ),
        (_("Delivery"), {"fields": ("targets", "related_petition")}),
        (
            _("Drafted by an organization"),
            {"fields": ("organization", "review", "review_reason", "submitted_at", "review_link")},
        ),
    )
    readonly_fields = ("organization", "review", "review_reason", "submitted_at", "review_link")
    filter_horizontal = ("targets",)

    def save_formset(self, request: HttpRequest, form, formset, change: bool) -> None:
        """A new update to a published letter goes to its targets too."""
        new = [f for f in formset.forms if f.instance.pk is None and f.has_changed()]
        super().save_formset(request, form, formset, change)
        new_updates = [f.instance for f in new if isinstance(f.instance, LetterUpdate)]
        letter = form.instance
        if letter.status == OpenLetter.Status.PUBLISHED:
            for update in new_updates:
                delivery.letter_deliveries_create(letter_id=letter.pk, update=update)

    @admin.display(description=_("Page"))
    def page(self, letter: OpenLetter) -> str:
        return format_html('<a href="{}">{}</a>', letter.get_absolute_url(), _("View"))

    @admin.action(
        description=_("Publish, and tell the signing organizations"), permissions=("change",)
    )
    def publish(self, request: HttpRequest, queryset: QuerySet[OpenLetter]) -> None:
        action_run(
            self,
            request,
            queryset,
            run=lambda letter: services.letter_publish(letter_id=letter.pk),
            done=ngettext_lazy("Published %d letter.", "Published %d letters."),
            left=ngettext_lazy(
                "%d letter was already published or closed, and was left as it was.",
                "%d letters were already published or closed, and were left as they were.",
            ),
            audit=gettext("Published, and the signing organizations told."),
        )


class StatementInline(admin.StackedInline):
    model = Statement
    extra = 0
    readonly_fields = ("status", "decided_at", "rejection_reason")


@admin.register(OrganizationSignature)
class OrganizationSignatureAdmin(admin.ModelAdmin):
    """The queue of co-signatures: filter on 'Awaiting approval'."""

    list_display = ("organization", "letter", "status", "verified", "created_at", "signed_by")
    list_filter = ("status", "letter", "organization__verification")
    search_fields = ("organization__name", "letter__slug")
    list_select_related = ("organization", "letter", "signed_by")
    # Decisions go through the actions (letters.services.cosignature_decide), which tell the
    # organization, record who decided and write the audit log; an edited status would not.
    readonly_fields = (
        "status",
        "created_at",
        "decided_at",
        "decided_by",
        "rejection_reason",
        "withdrawn_at",
        "signed_by",
    )
    autocomplete_fields = ("organization",)
    inlines = (StatementInline,)
    actions = ("approve", "reject")

    @admin.display(description=_("organization verified"), boolean=True)
    def verified(self, signature: OrganizationSignature) -> bool:
        return signature.organization.is_verified

    @admin.action(description=_("Approve the selected signatures"), permissions=("change",))
    def approve(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return _decide_many(
            self,
            request,
            queryset,
            services.cosignature_decide,
            approve=True,
            id_name="signature_id",
        )

    @admin.action(
        description=_("Reject the selected signatures, with a reason"), permissions=("change",)
    )
    def reject(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return _decide_many(
            self,
            request,
            queryset,
            services.cosignature_decide,
            approve=False,
            id_name="signature_id",
        )


@admin.register(Statement)
class StatementAdmin(admin.ModelAdmin):
    """The queue of statements to approve."""

    list_display = ("speaker_name", "speaker_title", "organization", "letter", "status")
    list_filter = ("status", "signature__letter")
    search_fields = ("speaker_name", "signature__organization__name")
    list_select_related = ("signature__organization", "signature__letter")
    # As for co-signatures: decided through the actions only (letters.services.statement_decide).
    readonly_fields = ("signature", "status", "decided_at", "rejection_reason")
    actions = ("approve", "reject")

    @admin.display(description=_("organization"))
    def organization(self, statement: Statement) -> str:
        return statement.signature.organization.name

    @admin.display(description=_("letter"))
    def letter(self, statement: Statement) -> str:
        return statement.signature.letter.title

    @admin.action(description=_("Approve the selected statements"), permissions=("change",))
    def approve(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return _decide_many(
            self, request, queryset, services.statement_decide, approve=True, id_name="statement_id"
        )

    @admin.action(
        description=_("Reject the selected statements, with a reason"), permissions=("change",)
    )
    def reject(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return _decide_many(
            self,
            request,
            queryset,
            services.statement_decide,
            approve=False,
            id_name="statement_id",
        )


@admin.register(LetterDelivery)
class LetterDeliveryAdmin(DeliveryRecordAdmin):
    """Every letter sent to a target; a failed one can be sent again."""

    list_display = ("letter", "target", "occasion", "status", "organization_count", "sent_at")
    list_filter = ("status", "letter")
    list_select_related = ("letter", "target")
    readonly_fields = [f.name for f in LetterDelivery._meta.fields]

    def delivery_retry(self, *, delivery_id: int) -> bool:
        return delivery.letter_delivery_retry(delivery_id=delivery_id)


@admin.register(IndividualSignature)
class IndividualSignatureAdmin(SignatureModerationAdmin):
    """Staff see who signed, names withheld publicly included. Signatures held for review
    come first, the longest-waiting at the top: the queue (or filter on "held for review")."""

    list_display = (
        "name",
        "email",
        "letter",
        "withhold_name",
        "status",
        "held",
        "flag_reasons",
        "created_at",
        "confirmed_at",
    )
    list_filter = ("status", "held", AbuseFlagFilter, "letter", "withhold_name")
    search_fields = ("name", "email", "canonical_email")
    list_select_related = ("letter",)
    date_hierarchy = "created_at"
    ordering = ("-held", "created_at", "pk")
    moderation = ModerationServices(
        confirm=moderation.individual_signatures_confirm,
        reject=moderation.individual_signatures_reject,
        mark_spam=moderation.individual_signatures_mark_spam,
        resend_confirmation=moderation.individual_signatures_resend_confirmation,
    )
    readonly_fields = (
        "letter",
        "email",
        "canonical_email",
        "created_at",
        "confirmed_at",
        # Status and hold change only through the moderation actions.
        "status",
        "held",
        "flag_reasons",
        "ip_hash",
        "moderated_at",
        "moderated_by",
        "moderation_reason",
        "anonymized_at",
        # What the signer answered, as they saw the questions: never edited by anyone.
        "answers_shown",
    )

    @admin.display(description=_("answers to the letter's questions"))
    def answers_shown(self, signature: IndividualSignature) -> str:
        return answers_text(signature)


@admin.register(LetterReview)
class LetterReviewAdmin(ReviewQueueAdmin):
    pass
