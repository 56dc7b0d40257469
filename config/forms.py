from __future__ import annotations

from typing import Any, TypedDict

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row, Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from mechanisms.validators import validate_no_control_characters
from petitions.models import Petition, Topic

SEARCH_MAX_LENGTH = 100


class CatalogFilters(TypedDict, total=False):
    """The catalog selectors' keyword arguments (petition_catalog, letter_catalog)."""

    words: str
    topic: Topic | None
    status: str


class CatalogForm(forms.Form):
    """The catalog's filters, from the query string: every value is checked, so a made-up topic
    or an absurd search gets a message instead of an error page."""

    q = forms.CharField(
        label=_("Search"),
        max_length=SEARCH_MAX_LENGTH,
        required=False,
        validators=[validate_no_control_characters],
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    topic = forms.ChoiceField(label=_("Topic"), required=False)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[
            ("", _("Open and closed")),
            (Petition.Status.OPEN, _("Open")),
            (Petition.Status.CLOSED, _("Closed")),
        ],
    )

    def __init__(self, *args: Any, topics: list[Topic], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._topics = {topic.slug: topic for topic in topics}
        topic_field = self.fields["topic"]
        assert isinstance(topic_field, forms.ChoiceField)
        topic_field.choices = [("", _("All topics"))] + [
            (topic.slug, topic.name) for topic in topics
        ]
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.disable_csrf = True
        self.helper.attrs = {"novalidate": "", "role": "search"}
        self.helper.layout = Layout(
            Row(
                Column("q", css_class="col-md-5"),
                Column("topic", css_class="col-md-3"),
                Column("status", css_class="col-md-2"),
                Column(
                    Submit("", _("Show"), css_class="w-100"),
                    css_class="col-md-2 d-flex align-items-end mb-3",
                ),
            )
        )

    def filters(self) -> CatalogFilters:
        """The selector's arguments, from valid data."""
        return {
            "words": self.cleaned_data["q"],
            "topic": self._topics.get(self.cleaned_data["topic"]),
            "status": self.cleaned_data["status"],
        }
