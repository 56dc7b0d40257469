from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, SetPasswordForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts import services
from accounts.models import Membership
from mechanisms.abuse.forms import HoneypotMixin
from mechanisms.validators import (
    validate_deliverable_email,
    validate_no_control_characters,
    validate_not_an_email,
)
from mechanisms.web_urls import WebURLFormField

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


def _helper(*, submit: Submit, action: str | None = None) -> FormHelper:
    helper = FormHelper()
    if action:
        helper.form_action = action
    # The server's messages, next to each field, are the ones we want read (and translated).
    helper.attrs = {"novalidate": ""}
    helper.add_input(submit)
    return helper


def _person_name_field(
    label: StrOrPromise, *, required: bool = True, autocomplete: str = "name"
) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=200,
        required=required,
        validators=[validate_no_control_characters, validate_not_an_email],
        widget=forms.TextInput(attrs={"autocomplete": autocomplete}),
    )


def _email_field(
    label: StrOrPromise, *, help_text: StrOrPromise = "", autocomplete: str = "email"
) -> forms.EmailField:
    return forms.EmailField(
        label=label,
        max_length=254,
        help_text=help_text,
        validators=[validate_deliverable_email],
        widget=forms.EmailInput(attrs={"autocomplete": autocomplete}),
    )


class OrganizationJoinForm(HoneypotMixin, forms.Form):
    name = forms.CharField(
        label=_("Organization name"),
        max_length=200,
        validators=[validate_no_control_characters],
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    # Normalized as browsers read it (a website typed without a scheme is taken as https); its
    # domain is what the contact's address must be at.
    website = WebURLFormField(
        label=_("Website"),
        max_length=200,
        help_text=_("For example https://www.eff.org"),
        widget=forms.URLInput(attrs={"autocomplete": "url"}),
    )
    contact_name = _person_name_field(_("Your name"))
    contact_email = _email_field(
        _("Your email at the organization"),
        help_text=_(
            "An address at the website's domain, such as press@eff.org. We email it a link to "
            "confirm; it becomes your login."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper(submit=Submit("join", _("Register the organization")))


class InviteForm(forms.Form):
    # A colleague's details: the browser must not fill in the inviter's own.
    email = _email_field(_("Email"), autocomplete="off")
    full_name = _person_name_field(_("Name"), required=False, autocomplete="off")

    def __init__(self, *args: Any, action: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper(action=action, submit=Submit("invite", _("Invite")))


class RoleForm(forms.Form):
    """One member's role, as an administrator sets it on the members page (a small form per
    row, so its template lays it out itself)."""

    role = forms.ChoiceField(
        label=_("Role"),
        choices=Membership.Role.choices,
        error_messages={"invalid_choice": _("Choose one of the roles listed.")},
    )


class LoginForm(AuthenticationForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper(submit=Submit("login", _("Log in")))


class PasswordSetForm(SetPasswordForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper(submit=Submit("set", _("Set my password")))


class RejectionForm(forms.Form):
    """The reason staff give when turning an organization down; its contact reads it."""

    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        validators=[validate_no_control_characters],
        widget=forms.Textarea(attrs={"rows": 5, "cols": 60}),
        help_text=_("Emailed to the organization's contact, in these words."),
    )


class PasswordLinkForm(PasswordResetForm):
    """Django's reset form, asking by email for a link to choose a password; the link is sent by
    a task, and also to members who never chose a password (Django's own form skips them)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].validators.append(validate_deliverable_email)
        self.helper = _helper(submit=Submit("send", _("Email me a link")))

    def save(self, *, request: HttpRequest, **kwargs: Any) -> None:  # type: ignore[override]
        services.password_link_request(
            email=self.cleaned_data["email"], language=request.LANGUAGE_CODE
        )
