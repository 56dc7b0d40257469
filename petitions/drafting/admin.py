"""Staff's side of the drafting workflow in the admin: a review page for each campaign an
organization drafted (approve and publish, return with a reason, unpublish) and for each update
an organization wrote, and the queues listing what waits for review."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.selectors import user_logged_in
from mechanisms.markdown import markdown_render
from petitions.drafting import selectors, services
from petitions.drafting.forms import ReasonForm
from petitions.drafting.kinds import DraftKind
from petitions.drafting.models import Review

# (button name, label, the step: (object's pk, staff user, reason) -> None)
Decision = tuple[str, Any, Callable[[int, Any, str], object]]


class ReviewAdminMixin(admin.ModelAdmin):
    """Adds `<pk>/review/` to a ModelAdmin: the object as its readers would see it, a reason,
    and one button per step the object allows now (`review_decisions`). Listed before the
    admin's other bases (TranslationAdmin), whose ModelAdmin it shares."""

    review_template = "admin/drafting/review.html"

    def review_decisions(self, obj: Any) -> list[Decision]:
        raise NotImplementedError

    def review_context(self, obj: Any) -> dict[str, Any]:
        return {}

    def get_urls(self) -> list[URLPattern]:
        opts = self.model._meta
        review = path(
            "<path:object_id>/review/",
            self.admin_site.admin_view(self.review_view),
            name=f"{opts.app_label}_{opts.model_name}_review",
        )
        return [review, *super().get_urls()]

    def review_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        obj = self.get_object(request, object_id)
        if obj is None:
            # A private ModelAdmin method, so its stubs do not declare it.
            return self._get_obj_does_not_exist_redirect(  # type: ignore[attr-defined]
                request, self.model._meta, object_id
            )
        if not self.has_change_permission(request, obj):
            raise PermissionDenied
        decisions = self.review_decisions(obj)
        form = ReasonForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            chosen = next((d for d in decisions if d[0] in request.POST), None)
            if chosen is None:
                form.add_error(None, gettext("That step is not possible any more."))
            else:
                try:
                    chosen[2](obj.pk, user_logged_in(request=request), form.cleaned_data["reason"])
                except ValidationError as error:
                    form.add_error(None, error)
                else:
                    self.message_user(
                        request, gettext("Done: %(step)s.") % {"step": chosen[1]}, messages.SUCCESS
                    )
                    return HttpResponseRedirect(request.path)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": obj,
            "title": gettext("Review: %(object)s") % {"object": obj},
            "form": form,
            "decisions": [(name, label) for name, label, _run in decisions],
            **self.review_context(obj),
        }
        return TemplateResponse(request, self.review_template, context)

    @admin.display(description=_("review"))
    def review_link(self, obj: Any) -> str:
        opts = obj._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_review", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, gettext("Review"))


class CampaignReviewAdminMixin(ReviewAdminMixin):
    """Review of a campaign an organization drafted."""

    draft_kind: DraftKind

    def review_decisions(self, obj: Any) -> list[Decision]:
        kind = self.draft_kind
        if obj.review == Review.SUBMITTED:
            return [
                (
                    "_publish",
                    _("Approve and publish"),
                    lambda pk, user, reason: services.draft_publish(
                        kind=kind, campaign_id=pk, user=user
                    ),
                ),
                (
                    "_return",
                    _("Return with the reason"),
                    lambda pk, user, reason: services.draft_return(
                        kind=kind, campaign_id=pk, user=user, reason=reason
                    ),
                ),
            ]
        if obj.review == Review.APPROVED:
            return [
                (
                    "_unpublish",
                    _("Unpublish with the reason"),
                    lambda pk, user, reason: services.campaign_unpublish(
                        kind=kind, campaign_id=pk, user=user, reason=reason
                    ),
                )
            ]
        return []

    def review_context(self, obj: Any) -> dict[str, Any]:
        kind = self.draft_kind
        return {
            "campaign": obj,
            "texts": [
                (
                    code,
                    getattr(obj, f"title_{code}", ""),
                    getattr(obj, f"summary_{code}", ""),
                    [
                        markdown_render(getattr(obj, f"{name}_{code}", ""))
                        for name in kind.markdown_fields
                    ],
                )
                for code in ("en", "it")
                if getattr(obj, f"title_{code}", "")
            ],
            "targets": list(obj.targets.order_by("title")),
            "partners": list(kind.partners(obj)),
            "invitations": selectors.invitations_sent(kind=kind, campaign=obj),
            "versions": selectors.versions_of(kind=kind, campaign=obj, limit=20),
        }


class ReviewQueueAdmin(admin.ModelAdmin):
    """The campaigns waiting for review, oldest first; each opens its review page."""

    list_display = ("title", "organization", "submitted_at", "review_link")
    list_select_related = ("organization",)
    ordering = ("submitted_at",)
    actions = None

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).filter(review=Review.SUBMITTED)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # Whoever may change the campaigns themselves reviews them.
        concrete = self.model._meta.concrete_model._meta
        return request.user.has_perm(f"{concrete.app_label}.change_{concrete.model_name}")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    @admin.display(description=_("review"))
    def review_link(self, obj: Any) -> str:
        concrete = obj._meta.concrete_model._meta
        url = reverse(f"admin:{concrete.app_label}_{concrete.model_name}_review", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, gettext("Review"))
