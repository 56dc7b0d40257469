"""Paper signatures in the admin: staff type a batch's lines in its inline, and count it with an
action, through the same services as organizations' editors (petitions.services.paper)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from mechanisms.addresses import email_canonicalize
from mechanisms.audit import audit_log
from petitions.models import PaperBatch, PaperSignature
from petitions.services import paper
from petitions.services.paper import PaperRow, paper_row_model


class PaperSignatureForm(forms.ModelForm):
    class Meta:
        model = PaperSignature
        fields = ("sheet", "line", "name", "postal_code", "country", "email")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        batch: PaperBatch | None = getattr(self, "parent_batch", None)
        email = data.get("email") or ""
        if batch is not None and email:
            # Per batch, as the constraint: on other batches the counter counts them once.
            twins = PaperSignature.objects.filter(
                batch_id=batch.pk,
                canonical_email=email_canonicalize(email),
                anonymized_at=None,
            ).exclude(pk=self.instance.pk)
            if twins.exists():
                self.add_error("email", _("This email is already on another line of this batch."))
        return data


class PaperSignatureInline(admin.TabularInline):
    model = PaperSignature
    form = PaperSignatureForm
    fields = ("sheet", "line", "name", "postal_code", "country", "email", "locality", "duplicate")
    readonly_fields = ("locality", "duplicate")
    extra = 5

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)
        # Each form's clean() needs the batch to look for the same person on other sheets.
        formset.form = type("BoundPaperSignatureForm", (formset.form,), {"parent_batch": obj})
        return formset

    def _open(self, obj: Any) -> bool:
        return obj is not None and obj.counted_at is None

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._open(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._open(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._open(obj) and super().has_delete_permission(request, obj)


@admin.register(PaperBatch)
class PaperBatchAdmin(admin.ModelAdmin):
    list_display = ("__str__", "petition", "organization", "entered_by", "created_at", "counted_at")
    list_filter = ("petition",)
    list_select_related = ("petition", "organization", "entered_by")
    fields = (
        "petition",
        "organization",
        "sheet_reference",
        "entered_by",
        "created_at",
        "counted_at",
    )
    readonly_fields = ("entered_by", "created_at", "counted_at")
    inlines = (PaperSignatureInline,)
    actions = ("count_batches",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None:
            return (*self.readonly_fields, "petition", "organization")
        return self.readonly_fields

    def get_inlines(self, request: HttpRequest, obj: Any = None) -> Any:
        # Lines are typed once the batch exists: they need its petition.
        return self.inlines if obj is not None else ()

    def save_model(self, request: HttpRequest, obj: PaperBatch, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        created = paper.paper_batch_create(
            petition=obj.petition,
            organization=obj.organization,
            user=request.user,
            sheet_reference=obj.sheet_reference,
        )
        obj.pk = created.pk
        obj.entered_by = created.entered_by
        obj.created_at = created.created_at

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        batch: PaperBatch = form.instance
        rows = formset.save(commit=False)
        for row in formset.deleted_objects:
            row.delete()
        for row in rows:
            typed = paper_row_model(
                batch=batch,
                row=PaperRow(
                    sheet=row.sheet,
                    line=row.line,
                    name=row.name,
                    postal_code=row.postal_code,
                    country=row.country.code or "",
                    email=row.email,
                ),
            )
            typed.pk = row.pk
            typed.created_at = row.created_at
            typed.save()
        if rows or formset.deleted_objects:
            audit_log(
                user=request.user,
                objects=[batch],
                message=ngettext(
                    "Typed or changed %(rows)d paper line, took back %(deleted)d.",
                    "Typed or changed %(rows)d paper lines, took back %(deleted)d.",
                    len(rows),
                )
                % {"rows": len(rows), "deleted": len(formset.deleted_objects)},
            )

    @admin.action(description=_("Finish and count the selected batches"))
    def count_batches(self, request: HttpRequest, queryset: Any) -> None:
        for batch in queryset.select_related("petition"):
            if batch.counted_at is not None:
                continue
            try:
                rows = paper.paper_batch_finish(batch=batch, user=request.user)
            except paper.PaperRefused as error:
                self.message_user(request, f"{batch}: {error}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    ngettext(
                        "%(batch)s: %(rows)d paper line finished; the counter counts it "
                        "within a minute.",
                        "%(batch)s: %(rows)d paper lines finished; the counter counts them "
                        "within a minute.",
                        rows,
                    )
                    % {"batch": batch, "rows": rows},
                    messages.SUCCESS,
                )
