"""Forms of the paper-signature workspace: a batch's reference, one typed line of a sheet, and a
CSV file of lines. They check shape; petitions.services.paper decides the rest."""

from __future__ import annotations

from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from mechanisms.validators import validate_no_control_characters
from petitions.models import Petition
from petitions.services.paper import SHEET_LINES, PaperRow

# A CSV of a batch: BATCH_MAX_ROWS lines are far below this.
CSV_MAX_BYTES = 1_000_000


def _helper(submit: Submit) -> FormHelper:
    helper = FormHelper()
    helper.attrs = {"novalidate": ""}
    helper.add_input(submit)
    return helper


class PaperBatchForm(forms.Form):
    sheet_reference = forms.CharField(
        label=_("Sheet reference (optional)"),
        max_length=100,
        required=False,
        validators=[validate_no_control_characters],
        help_text=_("Where the sheets are kept or came from, e.g. 'Market stall, 12 May, box 3'."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper(Submit("start", _("Start typing a batch")))


class PaperRowForm(forms.Form):
    sheet = forms.IntegerField(
        label=_("Sheet"), min_value=1, max_value=10_000, widget=forms.NumberInput()
    )
    line = forms.IntegerField(
        label=_("Line"),
        validators=[MinValueValidator(1), MaxValueValidator(SHEET_LINES)],
        widget=forms.NumberInput(),
    )
    name = forms.CharField(
        label=_("Name"), max_length=200, validators=[validate_no_control_characters]
    )
    postal_code = forms.CharField(
        label=_("Postal code"),
        max_length=20,
        required=False,
        validators=[validate_no_control_characters],
    )
    country = forms.ChoiceField(label=_("Country"), required=False)
    email = forms.EmailField(
        label=_("Email (if written)"),
        max_length=254,
        required=False,
        help_text=_("Only to count once someone who also signed online; never written to."),
    )

    def __init__(self, *args: Any, petition: Petition, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["postal_code"].required = petition.postal_code_required
        offered = list(petition.countries) if petition.countries else None
        country = self.fields["country"]
        assert isinstance(country, forms.ChoiceField)
        country.choices = [("", _("Not written"))] + (
            [(c.code, c.name) for c in offered] if offered else list(countries)
        )
        self.helper = _helper(Submit("save", _("Save this line and go to the next")))

    def row(self) -> PaperRow:
        data = self.cleaned_data
        return PaperRow(
            sheet=data["sheet"],
            line=data["line"],
            name=data["name"],
            postal_code=data["postal_code"],
            country=data["country"],
            email=data["email"],
        )


class PaperCsvForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "UTF-8, with the header sheet,line,name,postal_code,country,email. Every row is "
            "checked first: if one is wrong, nothing is saved and each problem is listed."
        ),
    )
    sheet_reference = PaperBatchForm.base_fields["sheet_reference"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Its own ids: the batch form beside it on the page has a field of the same name.
        kwargs.setdefault("auto_id", "id_csv_%s")
        super().__init__(*args, **kwargs)
        self.helper = _helper(Submit("import", _("Check and import")))

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > CSV_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than 1 MB; split it into smaller batches.")
            )
        return upload
