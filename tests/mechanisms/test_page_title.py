"""The title of a page whose form came back with errors says so first, whatever the view named
its form; and a campaign's text says its language when it is not the page's."""

from __future__ import annotations

from django import forms
from django.template import Context, Template
from django.utils import translation

from petitions.models import Petition
from petitions.templatetags.campaign_text import lang_of_filter, with_lang_of_filter

TITLE = Template(
    "{% load i18n page_title %}{% form_has_errors as errors %}"
    "{% if errors %}{% translate 'Error:' %} {% endif %}Sign"
)


class _Form(forms.Form):
    name = forms.CharField()


FormSet = forms.formset_factory(_Form)


def _checked(form: forms.Form | forms.BaseFormSet) -> forms.Form | forms.BaseFormSet:
    """A form as a view renders it after refusing it."""
    form.is_valid()
    return form


def test_a_refused_form_under_any_name_makes_the_title_say_error() -> None:
    assert TITLE.render(Context({"sign_form": _checked(_Form(data={}))})) == "Error: Sign"
    with translation.override("it"):
        assert TITLE.render(Context({"form": _checked(_Form(data={}))})) == "Errore: Sign"
    formset = FormSet(data={"form-TOTAL_FORMS": "1", "form-INITIAL_FORMS": "0"})
    formset.forms[0].empty_permitted = False
    assert TITLE.render(Context({"rows": _checked(formset)})) == "Error: Sign"


def test_the_title_does_not_validate_a_form_the_view_left_unchecked() -> None:
    """A rate-limited form is rendered without being validated: the title must not validate it
    (a validation may cost a query), and says nothing of errors no one looked for."""
    form = _Form(data={})
    assert TITLE.render(Context({"form": form})) == "Sign"
    assert form._errors is None


def test_a_form_not_sent_or_accepted_leaves_the_title_alone() -> None:
    assert TITLE.render(Context({"form": _Form()})) == "Sign"
    assert TITLE.render(Context({"form": _Form(data={"name": "Maria"})})) == "Sign"


def test_a_text_in_the_fallback_language_says_its_language() -> None:
    petition = Petition(title_en="", title_it="Fermate le telecamere", demand_en="End it.")
    with translation.override("en"):
        assert lang_of_filter(petition, "title") == ' lang="it"'
        assert lang_of_filter(petition, "demand") == ""
        assert lang_of_filter(petition, "slug") == ""  # not a translated field
        assert (
            with_lang_of_filter(petition, "title") == '<span lang="it">Fermate le telecamere</span>'
        )
        assert with_lang_of_filter(petition, "demand") == "End it."
    with translation.override("it"):
        assert lang_of_filter(petition, "title") == ""
        assert lang_of_filter(petition, "demand") == ' lang="en"'
