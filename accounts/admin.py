from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.admin.models import DELETION, LogEntry
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import BaseUserCreationForm, UserChangeForm
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Case, QuerySet, Value, When
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext_lazy
from django.utils.translation import gettext_lazy as _

from accounts import services
from accounts.forms import RejectionForm
from accounts.models import Membership, Organization, User
from mechanisms.admin_actions import CountMessage, action_run
from mechanisms.admin_records import RecordAdminMixin
from mechanisms.audit import AuditedAdminMixin, AuditedInlineMixin


class _LoginEmailMixin:
    cleaned_data: dict[str, Any]

    def clean_email(self) -> str:
        return User.objects.login_email(self.cleaned_data["email"])


class UserCreationForm(_LoginEmailMixin, BaseUserCreationForm):
    """Django's creation form asks for a username; ours is the email."""

    class Meta:
        model = User
        fields = ("email", "full_name")


class UserEditForm(_LoginEmailMixin, UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(AuditedAdminMixin, BaseUserAdmin):
    add_form = UserCreationForm
    form = UserEditForm
    # Who may read and export signers' data (staff rights, groups, permissions), and where
    # the account's mail goes: audited (mechanisms.audit).
    audited_fields = (
        "email",
        "is_active",
        "is_staff",
        "is_superuser",
        "groups",
        "user_permissions",
    )
    ordering = ("email",)
    list_display = ("email", "full_name", "is_staff", "is_active", "date_joined")
    search_fields = ("email", "full_name")
    readonly_fields = ("last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Personal info"), {"fields": ("full_name",)}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "full_name", "password1", "password2")}),
    )


class MembershipInline(AuditedInlineMixin, admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)
    audited_fields = services.MEMBERSHIP_AUDITED_FIELDS


@admin.register(Organization)
class OrganizationAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = (
        "name",
        "email_domain",
        "verification",
        "contact_email",
        "contact_confirmed_at",
        "created_at",
    )
    list_filter = ("verification", "trusted")
    search_fields = ("name", "email_domain", "slug", "contact_email", "contact_name")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("contact_confirmed_at", "created_at")
    fieldsets = (
        (None, {"fields": ("name", "slug", "website", "email_domain", "description")}),
        (
            _("Contact"),
            {"fields": ("contact_name", "contact_email", "contact_confirmed_at", "language")},
        ),
        (
            _("Verification"),
            {"fields": ("verification", "verified_at", "rejection_reason", "trusted")},
        ),
        (_("Dates"), {"fields": ("created_at",)}),
    )
    inlines = (MembershipInline,)
    actions = ("verify", "reject_with_reason")
    # The contact becomes the organization's administrator on confirming; verification lets
    # its administrators bring in members, who hear from the campaigns it sponsors.
    audited_fields = ("contact_email", "verification", "trusted")
    # The queue first: organizations whose contact confirmed and that wait for staff, oldest
    # first; then the rest by name. (The 5.2 stubs allow only names here; Django takes
    # expressions too.)
    ordering = (  # type: ignore[assignment]
        Case(
            When(verification=Organization.Verification.PENDING, then=Value(0)),
            default=Value(1),
        ).asc(),
        "created_at",
        "name",
    )
    # A website typed without a scheme is taken as https (Django 6's default, chosen now).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    @admin.action(description=_("Verify, and email the contact"), permissions=("change",))
    def verify(self, request: HttpRequest, queryset: QuerySet[Organization]) -> None:
        action_run(
            self,
            request,
            queryset,
            run=lambda organization: services.organization_verify(organization_id=organization.pk),
            done=ngettext_lazy("Verified %d organization.", "Verified %d organizations."),
            left=_verify_refusal,
            audit=gettext("Verified."),
        )

    @admin.action(
        description=_("Reject with a reason, and email the contact"), permissions=("change",)
    )
    def reject_with_reason(
        self, request: HttpRequest, queryset: QuerySet[Organization]
    ) -> TemplateResponse | None:
        """An intermediate page asks for the reason; its form posts back to this action."""
        form = RejectionForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            reason = form.cleaned_data["reason"]
            action_run(
                self,
                request,
                queryset,
                run=lambda organization: services.organization_reject(
                    organization_id=organization.pk, reason=reason
                ),
                done=ngettext_lazy("Rejected %d organization.", "Rejected %d organizations."),
                left=ngettext_lazy(
                    "%d organization was already rejected and was left as it was.",
                    "%d organizations were already rejected and were left as they were.",
                ),
                audit=gettext("Rejected. Reason: %(reason)s") % {"reason": reason.strip()},
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Reject organizations"),
            "opts": self.model._meta,
            "organizations": queryset,
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media,
        }
        return TemplateResponse(
            request,
            "admin/accounts/organization/reject_with_reason.html",
            context,
            status=400 if form.is_bound else 200,
        )


# Why an organization could not be verified, by its state as selected.
_VERIFY_REFUSALS: dict[str, CountMessage] = {
    Organization.Verification.UNVERIFIED: ngettext_lazy(
        "%d organization was skipped: its contact has not confirmed their email address yet.",
        "%d organizations were skipped: their contacts have not confirmed their email "
        "addresses yet.",
    ),
    Organization.Verification.VERIFIED: ngettext_lazy(
        "%d organization was already verified.", "%d organizations were already verified."
    ),
    Organization.Verification.REJECTED: ngettext_lazy(
        "%d organization was skipped because it was rejected; only organizations awaiting "
        "verification can be verified.",
        "%d organizations were skipped because they were rejected; only organizations awaiting "
        "verification can be verified.",
    ),
}


def _verify_refusal(organization: Organization) -> CountMessage:
    # One awaiting verification whose contact never confirmed counts as unconfirmed: staff set
    # its state by hand.
    return _VERIFY_REFUSALS.get(
        organization.verification, _VERIFY_REFUSALS[Organization.Verification.UNVERIFIED]
    )


@admin.register(Membership)
class MembershipAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("user", "organization", "role", "created_at")
    list_filter = ("role",)
    search_fields = ("user__email", "organization__name")
    autocomplete_fields = ("user", "organization")
    audited_fields = services.MEMBERSHIP_AUDITED_FIELDS


# Django's group admin, audited: a role's permissions decide who may export signers' data.
admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(AuditedAdminMixin, BaseGroupAdmin):
    audited_fields = ("name", "permissions")


@admin.register(LogEntry)
class LogEntryAdmin(RecordAdminMixin, admin.ModelAdmin):
    """The audit log: who changed what, when and why, from the admin and its actions.

    Read-only for everyone, superusers included: a record that its subjects could edit would
    prove nothing. Moderators read it (admin.view_logentry) to see what other staff did.
    """

    list_display = ("action_time", "user", "object_link", "message", "action_flag", "content_type")
    list_filter = (
        ("user", admin.RelatedOnlyFieldListFilter),
        "action_flag",
        ("content_type", admin.RelatedOnlyFieldListFilter),
    )
    date_hierarchy = "action_time"
    search_fields = ("object_repr", "change_message", "user__email")
    list_select_related = ("user", "content_type")
    ordering = ("-action_time", "-pk")

    @admin.display(description=_("object"), ordering="object_repr")
    def object_link(self, entry: LogEntry) -> str:
        url = entry.get_admin_url() if entry.action_flag != DELETION else ""
        if url:
            return format_html('<a href="{}">{}</a>', url, entry.object_repr)
        return entry.object_repr

    @admin.display(description=_("message"))
    def message(self, entry: LogEntry) -> str:
        return entry.get_change_message()
