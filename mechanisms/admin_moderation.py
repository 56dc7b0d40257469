"""Admin pieces for moderating signatures, shared by petitions' and letters' admins: the flag
filter, the reason page and the bulk actions, each calling a moderation service and telling the
moderator what it did and what it left alone. Each app names its own services; nothing here
knows a petition or a letter."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from mechanisms.admin_actions import action_report
from mechanisms.models import AbuseFlag
from mechanisms.moderation import REASON_MAX_LENGTH, Moderated

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


def flag_labels(flags: str) -> str:
    """Space-separated AbuseFlag codes as the words a moderator reads (in the admin and in the
    staff's CSV export)."""
    labels = dict(AbuseFlag.choices)
    return ", ".join(str(labels.get(code, code)) for code in flags.split())


class AbuseFlagFilter(admin.SimpleListFilter):
    """Why signatures were held: one abuse signal at a time."""

    title = _("flag reason")
    parameter_name = "flag"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin
    ) -> list[tuple[str, StrOrPromise]]:
        return list(AbuseFlag.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() in AbuseFlag.values:
            # No flag code is part of another, so containment matches exactly one signal.
            return queryset.filter(flags__contains=self.value())
        return queryset


class ModerationReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=REASON_MAX_LENGTH,
        help_text=_(
            "Kept with the signatures and in the audit log for other staff; the signers are "
            "not told."
        ),
    )


@dataclass(frozen=True)
class ModerationServices:
    """The moderation writes of one kind of signature (petitions or letters moderation)."""

    confirm: Callable[..., Moderated]
    reject: Callable[..., Moderated]
    mark_spam: Callable[..., Moderated]
    resend_confirmation: Callable[..., Moderated]


class SignatureModerationAdmin(admin.ModelAdmin):
    """Bulk moderation actions over a changelist of signatures; every one reports what it did
    and what it left alone. Subclasses name their services in `moderation`."""

    moderation: ModerationServices
    actions = ("confirm", "reject_with_reason", "mark_spam", "resend_confirmation")

    @admin.display(description=_("flags"))
    def flag_reasons(self, signature: Any) -> str:
        return flag_labels(signature.flags) or "-"

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Signatures come from signers confirming by email, never from staff typing them in.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # Deleting would drift the counts and erase what the audit log refers to: reject or
        # mark as spam instead (withdrawal and retention have their own paths).
        return False

    @admin.action(description=_("Approve the selected signatures"), permissions=("change",))
    def confirm(self, request: HttpRequest, queryset: QuerySet) -> None:
        result = self.moderation.confirm(signature_ids=_ids(queryset), moderator=request.user)
        action_report(
            self,
            request,
            done=ngettext_lazy("Approved %d signature.", "Approved %d signatures."),
            done_count=result.done,
            left=[
                (
                    ngettext_lazy(
                        "%d was neither awaiting confirmation nor held, and was left as it was.",
                        "%d were neither awaiting confirmation nor held, and were left as they "
                        "were.",
                    ),
                    result.skipped - result.closed,
                ),
                # Said apart: the moderator may think these were simply missed.
                (
                    ngettext_lazy(
                        "%d was skipped: it was never confirmed by its signer, and the campaign "
                        "no longer takes signatures.",
                        "%d were skipped: they were never confirmed by their signers, and the "
                        "campaign no longer takes signatures.",
                    ),
                    result.closed,
                ),
            ],
        )

    @admin.action(
        description=_("Reject the selected signatures, with a reason"), permissions=("change",)
    )
    def reject_with_reason(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        """An intermediate page asks for the reason; its form posts back to this action."""
        form = ModerationReasonForm(request.POST if "apply" in request.POST else None)
        if not (form.is_bound and form.is_valid()):
            context = {
                **self.admin_site.each_context(request),
                "title": _("Reject signatures with a reason"),
                "form": form,
                "queryset": queryset,
                "action": "reject_with_reason",
                "opts": self.model._meta,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                "media": self.media,
            }
            return TemplateResponse(
                request,
                "admin/reject_with_reason.html",
                context,
                status=400 if form.is_bound else 200,
            )
        result = self.moderation.reject(
            signature_ids=_ids(queryset),
            moderator=request.user,
            reason=form.cleaned_data["reason"],
        )
        action_report(
            self,
            request,
            done=ngettext_lazy("Rejected %d signature.", "Rejected %d signatures."),
            done_count=result.done,
            left=[
                (
                    ngettext_lazy("%d was already rejected.", "%d were already rejected."),
                    result.skipped,
                )
            ],
        )
        return None

    @admin.action(description=_("Mark the selected signatures as spam"), permissions=("change",))
    def mark_spam(self, request: HttpRequest, queryset: QuerySet) -> None:
        result = self.moderation.mark_spam(signature_ids=_ids(queryset), moderator=request.user)
        action_report(
            self,
            request,
            done=ngettext_lazy("Marked %d signature as spam.", "Marked %d signatures as spam."),
            done_count=result.done,
            left=[
                (
                    ngettext_lazy(
                        "%d was already marked as spam.", "%d were already marked as spam."
                    ),
                    result.skipped,
                )
            ],
        )

    @admin.action(
        description=_("Send the confirmation email again (signatures awaiting confirmation)"),
        permissions=("change",),
    )
    def resend_confirmation(self, request: HttpRequest, queryset: QuerySet) -> None:
        result = self.moderation.resend_confirmation(
            signature_ids=_ids(queryset), moderator=request.user
        )
        action_report(
            self,
            request,
            done=ngettext_lazy(
                "Sending the confirmation email again to %d signer.",
                "Sending the confirmation email again to %d signers.",
            ),
            done_count=result.done,
            left=[
                (
                    ngettext_lazy(
                        "%d was not awaiting confirmation and was not emailed.",
                        "%d were not awaiting confirmation and were not emailed.",
                    ),
                    result.skipped,
                )
            ],
        )


def _ids(queryset: QuerySet) -> list[int]:
    return list(queryset.values_list("pk", flat=True))
