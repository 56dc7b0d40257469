from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization, User
from accounts.selectors import organizations_acted_for
from accounts.two_factor import staff_verified
from letters import services
from letters.models import STATEMENT_MAX_LENGTH, OpenLetter
from mechanisms.abuse.forms import HumanCheckMixin
from mechanisms.validators import (
    validate_deliverable_email,
    validate_no_control_characters,
    validate_not_an_email,
)
from petitions.question_forms import answers_take, question_fields_add
from petitions.questions import questions_of

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


def _helper(*, action: str, submit: StrOrPromise) -> FormHelper:
    helper = FormHelper()
    helper.form_action = action
    helper.attrs = {"novalidate": ""}
    helper.add_input(Submit("submit", submit))
    return helper


def _text(
    label: StrOrPromise, *, required: bool = True, max_length: int = 200, **kw: Any
) -> forms.CharField:
    kw.setdefault("validators", [validate_no_control_characters])
    return forms.CharField(label=label, required=required, max_length=max_length, **kw)


class CosignForm(forms.Form):
    organization = forms.ModelChoiceField(
        label=_("Sign for"), queryset=Organization.objects.none(), empty_label=None
    )
    speaker_name = _text(_("Spokesperson's name"), required=False)
    speaker_title = _text(
        _("Spokesperson's title"), required=False, help_text=_("e.g. Executive Director")
    )
    statement = _text(
        _("Statement (optional)"),
        required=False,
        max_length=STATEMENT_MAX_LENGTH,
        help_text=_("Quoted on the letter and in the press release once approved."),
        widget=forms.Textarea(attrs={"rows": 5}),
    )

    def __init__(self, *args: Any, user: User, action: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        organizations = (
            Organization.objects.all()
            if staff_verified(user, perm="letters.add_organizationsignature")
            else organizations_acted_for(user=user)
        )
        # The choices, which the view also asks whether there are any.
        self.organizations = organizations.order_by("name")
        organization = self.fields["organization"]
        assert isinstance(organization, forms.ModelChoiceField)
        organization.queryset = self.organizations
        self.helper = _helper(action=action, submit=_("Sign the letter"))

    def clean(self) -> dict[str, Any] | None:
        data = super().clean()
        if data is not None and data.get("statement"):
            for field in ("speaker_name", "speaker_title"):
                if not data.get(field):
                    self.add_error(
                        field, _("A statement needs the name and title it is attributed to.")
                    )
        return data


class IndividualSignatureForm(HumanCheckMixin, forms.Form):
    name = _text(
        _("Your name"),
        validators=[validate_no_control_characters, validate_not_an_email],
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label=_("Email"),
        max_length=254,
        validators=[validate_deliverable_email],
        help_text=_("We send you a link to confirm. Never shown publicly."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    title = _text(_("Title or role"), required=False, help_text=_("e.g. Professor of Law"))
    affiliation = _text(
        _("Affiliation"), required=False, help_text=_("e.g. a university or employer")
    )
    withhold_name = forms.BooleanField(
        label=_("Don't show my name publicly"),
        required=False,
        help_text=_("Cosign's staff still see who you are, to keep the list honest."),
    )

    def __init__(self, *args: Any, letter: OpenLetter, action: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.letter = letter
        if not letter.names_may_be_withheld:
            del self.fields["withhold_name"]
        # The letter's own questions, from the snapshot read with it (letters.selectors): no
        # query, and nothing at all for a letter without questions. Asked after the signer's
        # affiliation, before the name-withholding box and the human check.
        self.questions = questions_of(letter.question_set) if letter.question_set_id else []
        if self.questions:
            names = list(self.fields)
            question_fields_add(self, self.questions, before=names[names.index("affiliation") + 1])
        if letter.required_domains:
            self.fields["email"].help_text = _(
                "Use your address at %(domains)s: the letter is signed by its people. "
                "Never shown publicly."
            ) % {"domains": ", ".join(letter.required_domains)}
        self.helper = _helper(action=action, submit=_("Sign the letter"))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.questions:
            data["answers"] = answers_take(data, self.questions)
        return data

    def clean_email(self) -> str:
        email = self.cleaned_data["email"]
        try:
            services.individual_email_check(letter=self.letter, email=email)
        except ValidationError as error:
            raise ValidationError(error.messages, code="domain") from None
        return email


class IndividualConfirmForm(forms.Form):
    """The mailbox owner's own word on how they appear, whatever the sign form said."""

    name = IndividualSignatureForm.base_fields["name"]
    withhold_name = IndividualSignatureForm.base_fields["withhold_name"]

    def __init__(self, *args: Any, letter: OpenLetter, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not letter.names_may_be_withheld:
            del self.fields["withhold_name"]
        self.helper = FormHelper()
        self.helper.attrs = {"novalidate": ""}
        self.helper.add_input(Submit("confirm", _("Confirm my signature"), css_class="btn-lg"))


class DecisionForm(forms.Form):
    reason = _text(_("Reason (if rejecting)"), required=False, max_length=1000)
