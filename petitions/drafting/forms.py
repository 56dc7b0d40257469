"""The forms of the drafting workspace: a petition draft (letters bring their own, on the same
base), inviting an organization, proposing an official, staff's reason, and an update."""

from __future__ import annotations

from typing import Any, ClassVar

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Fieldset, Layout
from django import forms
from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization
from mechanisms.validators import validate_no_control_characters
from petitions.drafting.models import CampaignInvitation
from petitions.importers.targets import TARGET_COLUMNS
from petitions.models import Petition, PetitionUpdate, Target
from petitions.routing import target_place_needs

LANGUAGE_NAMES = dict(settings.LANGUAGES)

# One line of text each (titles, names): no control or formatting characters.
_ONE_LINE = ("title", "demand", "addressed_to", "ask", "name")
# The longest text an editor may save in one field (a long open letter is a third of this): every
# save keeps a version, and a draft's page renders every text.
TEXT_MAX_LENGTH = 20_000


def _text_limit(field: forms.Field) -> None:
    """Hold a text field without a length of its own (the model's TextFields) to
    TEXT_MAX_LENGTH, said in the field and checked on the server."""
    if isinstance(field, forms.CharField) and field.max_length is None:
        field.max_length = TEXT_MAX_LENGTH
        field.validators.append(MaxLengthValidator(TEXT_MAX_LENGTH))
        field.widget.attrs["maxlength"] = str(TEXT_MAX_LENGTH)


class DraftForm(forms.ModelForm):
    """The base of each kind's draft form: its texts in both languages, English required (the
    language every campaign falls back to), with a label naming the language; a
    date-and-time input for dates. Laid out in fieldsets named by `sections`."""

    # (legend, field names), in order.
    sections: ClassVar[list[tuple[Any, list[str]]]] = []
    required_en: ClassVar[tuple[str, ...]] = ("title", "summary")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            base, _sep, language = name.rpartition("_")
            if language in LANGUAGE_NAMES and base:
                model_field = self._meta.model._meta.get_field(base)
                field.label = _("%(field)s (%(language)s)") % {
                    "field": str(model_field.verbose_name).capitalize(),
                    "language": LANGUAGE_NAMES[language],
                }
                field.help_text = model_field.help_text
                field.required = language == "en" and base in self.required_en
                if base in _ONE_LINE:
                    field.validators.append(validate_no_control_characters)
            _text_limit(field)
            if isinstance(field, forms.DateTimeField):
                field.widget = forms.DateTimeInput(
                    attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
                )
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(*(Fieldset(legend, *names) for legend, names in self.sections))


_TEXTS = ("title", "summary", "demand", "addressed_to", "body")


def in_every_language(names: tuple[str, ...]) -> list[str]:
    """The fields modeltranslation makes of `names`: title_en, title_it, summary_en, ..."""
    return [f"{name}_{code}" for name in names for code, _label in settings.LANGUAGES]


class PetitionDraftForm(DraftForm):
    sections: ClassVar = [
        (_("Text"), in_every_language(_TEXTS)),
        (_("Topic, goal and dates"), ["topic", "language", "goal", "opens_at", "closes_at"]),
        (
            _("Sign form"),
            [
                "postal_code_required",
                "countries",
                "ask_comment",
                "offer_sponsor_opt_in",
                "delivery_schedule",
            ],
        ),
    ]

    class Meta:
        model = Petition
        fields: ClassVar = [
            *in_every_language(_TEXTS),
            "topic",
            "language",
            "goal",
            "opens_at",
            "closes_at",
            "postal_code_required",
            "countries",
            "ask_comment",
            "offer_sponsor_opt_in",
            "delivery_schedule",
        ]


class InvitationForm(forms.Form):
    organization = forms.ModelChoiceField(
        label=_("Organization"),
        queryset=Organization.objects.none(),
        error_messages={"invalid_choice": _("Choose one of the verified organizations listed.")},
    )
    role = forms.ChoiceField(
        label=_("Invite as"),
        choices=CampaignInvitation.Role.choices,
        initial=CampaignInvitation.Role.CO_SPONSOR,
        error_messages={"invalid_choice": _("Choose co-sponsor or co-lead.")},
        help_text=_("A co-lead writes the campaign with you; a co-sponsor puts its name on it."),
    )

    def __init__(self, *args: Any, organizations: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["organization"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = organizations


class TargetProposalForm(forms.ModelForm):
    """An official the directory lacks. Staff check it before it receives anything."""

    class Meta:
        model = Target
        # What the officials importer takes, column for column.
        fields: ClassVar = list(TARGET_COLUMNS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].validators.append(validate_no_control_characters)
        self.fields["title"].validators.append(validate_no_control_characters)
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        # The database's own rules (petitions_target_*), as the importer says them, next to the
        # field to fill in.
        for name, message in target_place_needs(cleaned.get("level") or ""):
            if not cleaned.get(name):
                self.add_error(name, f"{capfirst(message)}.")
        return cleaned

    def validate_constraints(self, exclude: Any = None) -> None:
        # clean() says what is missing, field by field; the constraints' own message is vaguer.
        return None


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason, for the organization's editors"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=2000,
    )


class UpdateForm(forms.ModelForm):
    """An update an organization's editor writes to the petition's signers."""

    class Meta:
        model = PetitionUpdate
        fields: ClassVar = [*in_every_language(("title", "body")), "email_signers"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for code, language in settings.LANGUAGES:
            self.fields[f"title_{code}"].label = _("Title (%(language)s)") % {"language": language}
            self.fields[f"body_{code}"].label = _("Text (%(language)s)") % {"language": language}
            self.fields[f"title_{code}"].required = code == "en"
            self.fields[f"body_{code}"].required = code == "en"
            self.fields[f"title_{code}"].validators.append(validate_no_control_characters)
            _text_limit(self.fields[f"body_{code}"])
        self.helper = FormHelper()
        self.helper.form_tag = False
