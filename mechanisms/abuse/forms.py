"""The invisible fields a public form carries: a honeypot, when the form was rendered, and the
proof of work the browser solved. They never make a form invalid (a person cannot fix a field
they cannot see); after validation `form.human_check` says what they held."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from django import forms
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from mechanisms.abuse.proof_of_work import form_started_token

HONEYPOT_FIELD = "ref_code"
STARTED_FIELD = "form_started"
PROOF_FIELD = "altcha"


class HoneypotInput(forms.TextInput):
    """A text field people never see or reach, which form-filling bots fill.

    Rendered with its own label inside an aria-hidden wrapper moved off-screen by CSS (never
    `display: none`, which bots detect). It reports itself hidden so crispy forms renders no
    label or wrapper of its own around it.
    """

    def __init__(self) -> None:
        super().__init__(attrs={"tabindex": "-1", "autocomplete": "off"})

    @property
    def is_hidden(self) -> bool:
        return True

    def render(
        self,
        name: str,
        value: Any,
        attrs: dict[str, Any] | None = None,
        renderer: Any = None,
    ) -> SafeString:
        attrs = attrs or {}
        # Never echo a value back: re-rendering a page must not keep a trap sprung.
        field = super().render(name, "", attrs, renderer)
        return format_html(
            '<div class="form-trap" aria-hidden="true"><label for="{}">{}</label>{}</div>',
            attrs.get("id", ""),
            _("Leave this field empty"),
            field,
        )


class _RawField(forms.Field):
    """Whatever was sent, as text, never an error: a person cannot fix a field they cannot see."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, **kwargs)

    def to_python(self, value: Any) -> str:
        return value if isinstance(value, str) else ""


@dataclass(frozen=True)
class HumanCheck:
    """What the invisible fields of a submitted form said."""

    honeypot: str = ""
    started: str = ""
    proof: str = ""

    @property
    def honeypot_filled(self) -> bool:
        return bool(self.honeypot.strip())


class HumanChecked(Protocol):
    """A bound form with the invisible fields: a Django form with HoneypotMixin, as the signing
    pipeline and the signals see it."""

    human_check: HumanCheck
    cleaned_data: dict[str, Any]

    def is_valid(self) -> bool: ...


class HoneypotMixin:
    """Adds the honeypot to a form. After validation `form.human_check` holds what the invisible
    fields said, and they are removed from `cleaned_data`, which views pass on to services."""

    human_check: HumanCheck
    fields: dict[str, forms.Field]
    cleaned_data: dict[str, Any]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields[HONEYPOT_FIELD] = _RawField(
            label=_("Leave this field empty"), widget=HoneypotInput()
        )
        self.human_check = HumanCheck()

    def clean(self) -> dict[str, Any]:
        data = super().clean()  # type: ignore[misc]
        self.human_check = HumanCheck(
            honeypot=data.pop(HONEYPOT_FIELD, "") or "",
            started=data.pop(STARTED_FIELD, "") or "",
            proof=data.pop(PROOF_FIELD, "") or "",
        )
        return data


class HumanCheckMixin(HoneypotMixin):
    """The honeypot, a signed timestamp of when the form was rendered, and a hidden field for the
    proof of work that static/js/proof-of-work.js fills in. The challenge comes from
    `GET /abuse/challenge`, not the page, so the page itself stays cacheable for readers."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields[STARTED_FIELD] = _RawField(widget=forms.HiddenInput, initial=form_started_token)
        self.fields[PROOF_FIELD] = _RawField(
            widget=forms.HiddenInput(
                attrs={
                    "data-pow-challenge": reverse("abuse_challenge"),
                    # Said while a press of the button waits for the work to finish, so that
                    # nobody, seeing or not, takes the pause for a button that did nothing.
                    "data-pow-waiting": _("Sending… this takes a moment."),
                    "class": "pow-proof",
                }
            )
        )
