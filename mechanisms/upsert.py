"""One INSERT that either adds a row or finds the one a unique constraint says it repeats.

The sign forms use it so that a request does the same database work whatever the address:
a new signer, one whose signature waits for confirmation and one already counted each cost one
statement of one shape, with no SELECT or UPDATE after a failed INSERT. A review measured the
old path (INSERT, then SELECT and UPDATE on a conflict) and could tell the three apart by the
response time alone, which told anyone whether an address had signed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connections, models, router
from django.db.models.sql import Query

from mechanisms.model_fields import field_column, model_field


def _constraint(model: type[models.Model], name: str) -> models.UniqueConstraint:
    for constraint in model._meta.constraints:
        if constraint.name == name and isinstance(constraint, models.UniqueConstraint):
            return constraint
    raise LookupError(f"{model.__name__} has no unique constraint {name!r}")


def row_insert_or_find(*, instance: models.Model, constraint: str) -> int:
    """INSERT `instance`, or, when the unique constraint named `constraint` already holds a row
    with its values, find that row instead, in one statement that returns its primary key.

    On a conflict the existing row is locked and left as it was (an `ON CONFLICT ... DO UPDATE`
    that sets one column to itself, so that RETURNING yields the existing row; PostgreSQL and
    SQLite both speak it). The constraint's condition becomes the conflict target's predicate,
    which is how PostgreSQL matches a partial unique index.

    Whether the row is new is deliberately not returned: callers that must act only on a row
    they created say so in SQL (see petitions.services), so that both cases run alike.
    """
    model = type(instance)
    meta = model._meta
    unique = _constraint(model, constraint)
    using = router.db_for_write(model)
    connection = connections[using]
    quote = connection.ops.quote_name

    fields = [field for field in meta.local_concrete_fields if not field.primary_key]
    values = [
        field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields
    ]
    conflict = ", ".join(
        quote(field_column(field=model_field(model=model, name=name))) for name in unique.fields
    )
    predicate = ""
    predicate_params: Sequence[Any] = ()
    if unique.condition is not None:
        query = Query(model=model, alias_cols=False)
        where = query.build_where(unique.condition)
        sql, predicate_params = where.as_sql(query.get_compiler(connection=connection), connection)
        predicate = f" WHERE {sql}"
    table = quote(meta.db_table)
    pk = quote(field_column(field=meta.pk))
    # Any column will do: setting it to itself changes nothing but makes RETURNING see the row.
    kept = quote(field_column(field=model_field(model=model, name=unique.fields[-1])))
    # Only quoted names from the model's own metadata are interpolated; values are parameters.
    statement = (
        f"INSERT INTO {table} ({', '.join(quote(field_column(field=f)) for f in fields)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(fields))}) "
        f"ON CONFLICT ({conflict}){predicate} DO UPDATE SET {kept} = {table}.{kept} "
        f"RETURNING {pk}"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [*values, *predicate_params])
        (found,) = cursor.fetchone()
    return int(found)
