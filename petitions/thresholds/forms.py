"""The forms of response thresholds: a target's answer, and a threshold an editor adds."""

from __future__ import annotations

import unicodedata
from typing import Any

from crispy_forms.helper import FormHelper
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from petitions.models import Target
from petitions.models.thresholds import ANSWER_MAX_LENGTH, DAYS_TO_RESPOND_MAX

# Line breaks and tabs belong in a Markdown answer; other control and formatting characters
# (NUL, bidi overrides) only hide or reorder text on the page and in signers' emails.
_KEPT = {"\n", "\r", "\t"}


def _no_hidden_characters(value: str) -> None:
    if any(
        char not in _KEPT and unicodedata.category(char) in {"Cc", "Cf", "Co", "Cs"}
        for char in value
    ):
        raise ValidationError(
            _("Please remove the invisible or control characters from your answer."),
            code="control_characters",
        )


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label=_("Your answer"),
        max_length=ANSWER_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 12}),
        validators=[_no_hidden_characters],
        help_text=_(
            "Plain text, or Markdown for emphasis, lists and links. At most %(max)s characters."
        )
        % {"max": f"{ANSWER_MAX_LENGTH:,}"},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False


class ThresholdForm(forms.Form):
    count = forms.IntegerField(
        label=_("Signatures"), min_value=1, max_value=100_000_000, initial=10_000
    )
    days_to_respond = forms.IntegerField(
        label=_("Days to respond"), min_value=1, max_value=DAYS_TO_RESPOND_MAX, initial=30
    )
    target = forms.ModelChoiceField(
        label=_("Only for this target"),
        queryset=Target.objects.none(),
        required=False,
        empty_label=_("Every target of the petition"),
    )

    def __init__(self, *args: Any, targets: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["target"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = targets
        self.helper = FormHelper()
        self.helper.form_tag = False
