"""A petition's sign-form questions in the admin: an inline on the petition, each question in
every language, checked as the workspace checks them; saving the petition publishes the set
(petitions.services.questions), so signers answer what staff just saved."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from modeltranslation.admin import TranslationStackedInline

from mechanisms.audit import AuditedInlineMixin
from petitions.models import Question
from petitions.services.questions import question_check, question_key_new


class QuestionAdminForm(forms.ModelForm):
    class Meta:
        model = Question
        fields = (
            "kind",
            "label",
            "choices",
            "required",
            "position",
            "min_value",
            "max_value",
            "max_length",
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        candidate = self.instance
        for name, value in data.items():
            setattr(candidate, name, value)
        try:
            question_check(question=candidate)
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)
        return data

    def save(self, commit: bool = True) -> Question:
        if not self.instance.key:
            self.instance.key = question_key_new()
        return super().save(commit=commit)


class QuestionInline(AuditedInlineMixin, TranslationStackedInline):
    model = Question
    form = QuestionAdminForm
    fields = (
        ("kind", "required", "position"),
        "label",
        "choices",
        ("min_value", "max_value", "max_length"),
    )
    extra = 0
    audited_fields = ("kind", "label", "choices", "required", "min_value", "max_value")

    # The questions are part of the petition's sign form: whoever may change the petition (a
    # campaign editor) may change them, with no permission of their own to hand out.
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("petitions.change_petition")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("petitions.change_petition")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("petitions.change_petition")

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("petitions.view_petition")
