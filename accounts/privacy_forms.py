from __future__ import annotations

from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from mechanisms.validators import validate_deliverable_email


class MySignaturesForm(forms.Form):
    email = forms.EmailField(
        label=_("The email you signed with"),
        max_length=254,
        validators=[validate_deliverable_email],
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        # The server's messages, next to each field, are the ones we want read (and translated).
        self.helper.attrs = {"novalidate": ""}
        self.helper.add_input(Submit("send", _("Email me a link")))
