"""The form side of a petition's sign-form questions: the fields a snapshot asks on the sign
form, and the form the workspace's editors write one question with."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from mechanisms.validators import validate_no_control_characters
from petitions.models import Question, QuestionKind
from petitions.questions import NUMBER_LIMIT, AskedQuestion
from petitions.services.questions import question_check

FIELD_PREFIX = "question_"

_YES_NO = (("yes", _("Yes")), ("no", _("No")))


def _yes_no(value: str) -> bool:
    return value == "yes"


def question_field(question: AskedQuestion) -> forms.Field:
    """The sign form's field for one question, labelled in the reader's language."""
    field = _field(question)
    field.error_messages["required"] = _("Please answer this question.")
    return field


def _field(question: AskedQuestion) -> forms.Field:
    label = question.label_in()
    required = question.required
    if question.kind == QuestionKind.TEXT:
        return forms.CharField(
            label=label,
            required=required,
            max_length=question.max_length,
            validators=[validate_no_control_characters],
        )
    if question.kind == QuestionKind.NUMBER:
        low = question.min if question.min is not None else -NUMBER_LIMIT
        high = question.max if question.max is not None else NUMBER_LIMIT
        return forms.IntegerField(label=label, required=required, min_value=low, max_value=high)
    if question.kind == QuestionKind.YES_NO:
        return forms.TypedChoiceField(
            label=label,
            required=required,
            choices=_YES_NO,
            coerce=_yes_no,
            empty_value=None,
            widget=forms.RadioSelect,
        )
    choices = [(key, question.choice_in(key)) for key in question.choice_keys()]
    if question.kind == QuestionKind.MULTIPLE:
        return forms.MultipleChoiceField(
            label=label, required=required, choices=choices, widget=forms.CheckboxSelectMultiple
        )
    return forms.ChoiceField(
        label=label, required=required, choices=choices, widget=forms.RadioSelect
    )


def question_fields_add(
    form: forms.BaseForm, questions: list[AskedQuestion], *, before: str
) -> None:
    """Put the questions' fields in `form`, in their order, before the field named `before`."""
    added = {FIELD_PREFIX + question.key: question_field(question) for question in questions}
    fields = list(form.fields.items())
    at = next((i for i, (name, _field) in enumerate(fields) if name == before), len(fields))
    form.fields = dict([*fields[:at], *added.items(), *fields[at:]])


def answers_take(data: dict[str, Any], questions: list[AskedQuestion]) -> dict[str, Any]:
    """The answers in a sign form's cleaned data, by question key, taken out of it (the signing
    service receives them as one argument); unanswered questions are left out."""
    answers: dict[str, Any] = {}
    for question in questions:
        value = data.pop(FIELD_PREFIX + question.key, None)
        if value is None or value == "" or value == []:
            continue
        answers[question.key] = value
    return answers


class QuestionForm(forms.ModelForm):
    """One question, in every language, as an organization's editor writes it."""

    class Meta:
        model = Question
        fields = (
            "kind",
            "label_en",
            "label_it",
            "choices_en",
            "choices_it",
            "required",
            "position",
            "min_value",
            "max_value",
            "max_length",
        )
        labels = {
            "label_en": _("Question (English)"),
            "label_it": _("Question (Italian)"),
            "choices_en": _("Choices (English)"),
            "choices_it": _("Choices (Italian)"),
        }
        widgets = {
            "choices_en": forms.Textarea(attrs={"rows": 4}),
            "choices_it": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["label_en"].required = True
        self.fields["choices_en"].help_text = _(
            "For a choice question: one choice a line. Give the Italian ones in the same order."
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        candidate = Question(**{name: data.get(name) for name in self.Meta.fields})
        try:
            question_check(question=candidate)
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)
        return data
