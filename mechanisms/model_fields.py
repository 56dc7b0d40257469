"""A model's own fields by name, typed as the table columns they are.

`Model._meta.get_field()` also finds the far side of a relation (which has no column, length or
verbose name), and `column` and `max_length` are None on fields without them, so the stubs type
all three as unions. The callers here name fields of the model's own table, where a miss is a
programming error: it raises at once rather than going on with None.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models


def model_field(*, model: type[models.Model], name: str) -> models.Field[Any, Any]:
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field):
        raise FieldDoesNotExist(f"{model.__name__}.{name} is the far side of a relation")
    return field


def field_column(*, field: models.Field[Any, Any] | None) -> str:
    if field is None or field.column is None:
        raise FieldDoesNotExist(f"{field!r} has no column")
    return field.column


def field_max_length(*, model: type[models.Model], name: str) -> int:
    max_length = model_field(model=model, name=name).max_length
    if max_length is None:
        raise FieldDoesNotExist(f"{model.__name__}.{name} has no max_length")
    return max_length
