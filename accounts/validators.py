"""Validators for what people type into our forms."""

from __future__ import annotations

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def validate_no_control_characters(value: str) -> None:
    """Refuse control and formatting characters (NUL, escapes, bidi overrides) in names.

    They hide or reorder text in admin lists, CSV exports and emails to officials.
    """
    if any(unicodedata.category(char) in {"Cc", "Cf", "Co", "Cs"} for char in value):
        raise ValidationError(
            _("Please remove the invisible or control characters from this field."),
            code="control_characters",
        )
