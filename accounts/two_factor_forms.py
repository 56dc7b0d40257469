from __future__ import annotations

import re
from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# People copy codes as "123 456" or "123-456"; the separators are not part of the code.
_SEPARATORS = re.compile(r"[\s\-.]+")


class TOTPCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Six-digit code"),
        # Room for the separators above; the length that matters is checked in clean_code.
        max_length=20,
        help_text=_("The code your authenticator app shows now for Cosign."),
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autocapitalize": "off",
                "spellcheck": "false",
            }
        ),
    )

    def __init__(self, *args: Any, submit_label: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        # No action: the form posts back to this address, `next` included.
        self.helper.attrs = {"novalidate": ""}
        self.helper.add_input(Submit("verify", submit_label))

    def clean_code(self) -> str:
        code = _SEPARATORS.sub("", self.cleaned_data["code"])
        if not (len(code) == 6 and code.isascii() and code.isdigit()):
            raise ValidationError(
                _("Enter the six digits your app shows, without letters."), code="shape"
            )
        return code
