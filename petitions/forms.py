from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django_countries import countries
from django_countries.fields import CountryField
from django_countries.widgets import LazySelect

from accounts.models import Organization
from mechanisms.abuse.forms import HumanCheckMixin
from mechanisms.validators import (
    validate_deliverable_email,
    validate_no_control_characters,
    validate_not_an_email,
)
from petitions.models import Petition, Signature
from petitions.question_forms import answers_take, question_fields_add
from petitions.questions import questions_of

_POSTAL_CODE = re.compile(r"^[A-Z0-9](?:[A-Z0-9 -]{0,18}[A-Z0-9])?$")


@functools.cache
def _country_codes() -> frozenset[str]:
    # The codes do not depend on the language, only their names (and the order) do.
    return frozenset(code for code, _name in countries)


class _CountryChoiceField(forms.TypedChoiceField):
    """The country field, checked against the codes in a set: ChoiceField walks its choices one by
    one, and for the whole world that is about 250 lazily translated names on every sign POST
    (half a millisecond, a tenth of the view). `codes`, when set, are a petition's own few."""

    # As django-countries' own form field (LazyTypedChoiceField, missing from its type stubs).
    widget = LazySelect
    codes: frozenset[str] | None = None

    def valid_value(self, value: Any) -> bool:
        return str(value) in (self.codes if self.codes is not None else _country_codes())

    def choice_label(self, value: str) -> str | None:
        """The name shown for a code, found directly (mechanisms.admission shows the signer's
        choice on the busy page, which is answered to every signer turned away in a surge)."""
        return str(countries.name(value)) if self.valid_value(value) else None


# What a share link's source may be: an organization's slug.
SOURCE_SLUG = re.compile(r"[-a-zA-Z0-9_]{1,100}")


class _SourceField(forms.CharField):
    """The organization whose share link brought the signer, as the page put it (its slug):
    a hidden field, so never an error, since nobody can correct what they cannot see; anything
    but a slug is dropped, and the service keeps it only if it names a sponsor."""

    widget = forms.HiddenInput

    def __init__(self) -> None:
        super().__init__(required=False)

    def clean(self, value: Any) -> str:
        text = value if isinstance(value, str) else ""
        return text if SOURCE_SLUG.fullmatch(text) else ""


def _name_field() -> forms.CharField:
    return forms.CharField(
        label=_("Your name"),
        max_length=200,
        validators=[validate_no_control_characters, validate_not_an_email],
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )


def _display_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label=_("Show my name as"),
        choices=Signature.Display.choices,
        initial=Signature.Display.SHORT,
        widget=forms.RadioSelect,
    )


def _helper(*, action: str | None, submit: Submit) -> FormHelper:
    helper = FormHelper()
    if action:
        helper.form_action = action
    # The server's messages, next to each field, are the ones we want read (and translated).
    helper.attrs = {"novalidate": ""}
    helper.add_input(submit)
    return helper


class SignatureForm(HumanCheckMixin, forms.Form):
    name = _name_field()
    email = forms.EmailField(
        label=_("Email"),
        max_length=254,
        validators=[validate_deliverable_email],
        help_text=_("We send you a link to confirm. Never shown publicly."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    postal_code = forms.CharField(
        label=_("Postal code"),
        max_length=20,
        required=False,
        help_text=_("So officials learn how many of their own constituents signed."),
        widget=forms.TextInput(attrs={"autocomplete": "postal-code"}),
    )
    # Choices stay lazy so country names appear in the reader's language. (django-countries types
    # blank_label as str; it only becomes the label of a choice, which may be lazy.)
    country = CountryField(
        blank=True,
        blank_label=_("Choose your country"),  # type: ignore[call-overload]
    ).formfield(label=_("Country"), required=False, choices_form_class=_CountryChoiceField)
    display = _display_field()
    comment = forms.CharField(
        label=_("Why are you signing? (optional)"),
        max_length=1000,
        required=False,
        validators=[validate_no_control_characters],
        help_text=_("Seen by the campaign's staff and delivered with the signatures."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    consent_updates = forms.BooleanField(
        label=_("Email me updates about this campaign"),
        required=False,
    )
    sponsor_opt_ins = forms.TypedMultipleChoiceField(
        label=_("Organizations that may email me about their work"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    source = _SourceField()

    def __init__(
        self,
        *args: Any,
        action: str,
        petition: Petition,
        sponsors: Sequence[Organization] = (),
        source: str = "",
        **kwargs: Any,
    ) -> None:
        """The fields follow the petition's settings; `sponsors` are offered for opt-in when the
        petition asks (the caller passes them, so the sign POST reads them only then). `source`
        is the slug of the sponsor whose share link the page was reached through."""
        super().__init__(*args, **kwargs)
        self.fields["source"].initial = source
        self.fields["postal_code"].required = petition.postal_code_required
        if petition.countries:
            country = self.fields["country"]
            assert isinstance(country, _CountryChoiceField)
            country.choices = [("", _("Choose your country"))] + [
                (c.code, c.name) for c in petition.countries
            ]
            country.codes = frozenset(c.code for c in petition.countries)
            if len(petition.countries) == 1:
                country.initial = petition.countries[0].code
        if not petition.ask_comment:
            del self.fields["comment"]
        # The petition's own questions, from the snapshot read with it: no query, and nothing at
        # all for a petition without questions.
        self.questions = questions_of(petition.question_set) if petition.question_set_id else []
        if self.questions:
            question_fields_add(self, self.questions, before="consent_updates")
        # The names the opt-in boxes show, by organization id.
        self.sponsor_names = {org.pk: org.name for org in sponsors}
        if petition.offer_sponsor_opt_in and sponsors:
            opt_ins = self.fields["sponsor_opt_ins"]
            assert isinstance(opt_ins, forms.ChoiceField)
            opt_ins.choices = list(self.sponsor_names.items())
        else:
            del self.fields["sponsor_opt_ins"]
        self.helper = _helper(
            action=action, submit=Submit("sign", _("Sign the petition"), css_class="btn-lg w-100")
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.questions:
            data["answers"] = answers_take(data, self.questions)
        chosen = data.get("sponsor_opt_ins") or []
        if chosen:
            # The words the signer agreed to, in the language the form was shown in, for each
            # organization they ticked: kept with the opt-in (petitions.models.ConsentWording).
            label = self.fields["sponsor_opt_ins"].label
            data["consent_wordings"] = {pk: f"{label}: {self.sponsor_names[pk]}" for pk in chosen}
        return data

    def clean_postal_code(self) -> str:
        value = self.cleaned_data["postal_code"].strip().upper()
        if value and not _POSTAL_CODE.match(value):
            raise ValidationError(
                _("Enter a postal code of letters, digits, spaces or hyphens, e.g. 94612."),
                code="postal_code",
            )
        return value


class NewLinkForm(forms.Form):
    email = forms.EmailField(
        label=_("The email you signed with"),
        max_length=254,
        validators=[validate_deliverable_email],
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    def __init__(self, *args: Any, action: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper(action=action, submit=Submit("send", _("Email me a new link")))


class ConfirmForm(forms.Form):
    """The confirmation is the mailbox owner's word: they may correct how they appear, since
    whoever filled in the sign form may not have been them."""

    name = _name_field()
    display = _display_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper(
            action=None, submit=Submit("confirm", _("Confirm my signature"), css_class="btn-lg")
        )


class SupporterFilterForm(forms.Form):
    """Which of an organization's supporters to list or download: a campaign and a range of
    consent dates, all optional."""

    petition = forms.ModelChoiceField(
        label=_("Campaign"),
        queryset=Petition.objects.none(),
        required=False,
        empty_label=_("All campaigns"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    since = forms.DateField(
        label=_("Consent from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d"),
    )
    until = forms.DateField(
        label=_("Consent until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        petition = self.fields["petition"]
        assert isinstance(petition, forms.ModelChoiceField)
        # Its own campaigns only: another organization's petition is not a choice, by id either.
        petition.queryset = organization.sponsored_petitions.exclude(
            status=Petition.Status.DRAFT
        ).order_by("title")

    def clean(self) -> dict[str, Any] | None:
        data = super().clean()
        if data and data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", _("The end date must be on or after the start date."))
        return data
