"""The page's title says first when a form came back with errors: it is what a screen reader
announces on arrival (WCAG 2.4.2 and 3.3.1), before the summary of the errors."""

from __future__ import annotations

from django import template
from django.forms import BaseForm, BaseFormSet

register = template.Library()


@register.simple_tag(takes_context=True)
def form_has_errors(context: template.Context) -> bool:
    """Whether any form or formset the view rendered was sent and refused, whatever the view
    named it."""
    # Only forms the view already checked (`_errors` is set then): reading `.errors` would run
    # a validation the view chose not to run (a rate-limited form), while the page renders.
    for value in context.flatten().values():
        if isinstance(value, BaseForm) and value.is_bound and value._errors:
            return True
        if (
            isinstance(value, BaseFormSet)
            and value._errors is not None
            and value.total_error_count()
        ):
            return True
    return False
