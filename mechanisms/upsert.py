"""One INSERT that either adds a row or finds the one a unique constraint says it repeats.

The sign forms use it so that a request does the same database work whatever the address:
a new signer, one whose signature waits for confirmation and one already counted each cost one
statement of one shape, with no SELECT or UPDATE after a failed INSERT. A review measured the
old path (INSERT, then SELECT and UPDATE on a conflict) and could tell the three apart by the
response time alone, which told anyone whether an address had signed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import connections, models, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.sql import Query

from mechanisms.model_fields import field_column, model_field

# A value computed in SQL: an expression and its parameters, in order.
Computed = tuple[str, Sequence[Any]]


def _constraint(model: type[models.Model], name: str) -> models.UniqueConstraint:
    for constraint in model._meta.constraints:
        if constraint.name == name and isinstance(constraint, models.UniqueConstraint):
            return constraint
    raise LookupError(f"{model.__name__} has no unique constraint {name!r}")


# (model, constraint, database vendor): the conflict target's predicate and its parameters. The
# same for every row, and compiling the condition through a Query costs a sign POST more than
# the rest of its statement.
_predicates: dict[tuple[type[models.Model], str, str], tuple[str, tuple[Any, ...]]] = {}


def _predicate(
    model: type[models.Model], unique: models.UniqueConstraint, connection: BaseDatabaseWrapper
) -> tuple[str, tuple[Any, ...]]:
    key = (model, unique.name, connection.vendor)
    found = _predicates.get(key)
    if found is None:
        found = ("", ())
        if unique.condition is not None:
            query = Query(model=model, alias_cols=False)
            where = query.build_where(unique.condition)
            compiler = query.get_compiler(connection=connection)
            sql, params = where.as_sql(compiler, connection)
            found = (f" WHERE {sql}", tuple(params))
        _predicates[key] = found
    return found


def upsert_sql(
    *,
    instance: models.Model,
    constraint: str,
    connection: BaseDatabaseWrapper,
    computed: Mapping[str, Computed] | None = None,
    source: str = "",
    returning: Sequence[str] = (),
) -> tuple[str, list[Any]]:
    """The statement of row_insert_or_find, and its parameters, to run alone or as one part of a
    larger statement (a data-modifying WITH: mechanisms.confirmation).

    `computed` gives some fields an SQL expression instead of the instance's value: one that
    reads `source`, a FROM item (the name of an earlier part of the WITH), whose one row the
    values are then selected from. The statement returns the primary key, then the columns of
    the fields named in `returning`.
    """
    model = type(instance)
    meta = model._meta
    unique = _constraint(model, constraint)
    quote = connection.ops.quote_name
    computed = computed or {}

    fields = [field for field in meta.local_concrete_fields if not field.primary_key]
    expressions: list[str] = []
    params: list[Any] = []
    for field in fields:
        if field.name in computed:
            expression, expression_params = computed[field.name]
            expressions.append(expression)
            params += expression_params
        else:
            expressions.append("%s")
            params.append(field.get_db_prep_save(field.pre_save(instance, True), connection))

    def column(name: str) -> str:
        return quote(field_column(field=model_field(model=model, name=name)))

    conflict = ", ".join(column(name) for name in unique.fields)
    predicate, predicate_params = _predicate(model, unique, connection)
    params += predicate_params
    table = quote(meta.db_table)
    returned = ", ".join([quote(field_column(field=meta.pk)), *(column(n) for n in returning)])
    # Any column will do: setting it to itself changes nothing but makes RETURNING see the row.
    kept = column(unique.fields[-1])
    # Only quoted names from the model's own metadata, and the caller's SQL, are interpolated;
    # values are parameters. "WHERE true": SQLite would otherwise read ON CONFLICT as the ON of a
    # join.
    values = (
        f"SELECT {', '.join(expressions)} FROM {source} WHERE true"  # noqa: S608
        if source
        else f"VALUES ({', '.join(expressions)})"
    )
    statement = (
        f"INSERT INTO {table} ({', '.join(quote(field_column(field=f)) for f in fields)}) "
        f"{values} "
        f"ON CONFLICT ({conflict}){predicate} DO UPDATE SET {kept} = {table}.{kept} "
        f"RETURNING {returned}"
    )
    return statement, params


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
    connection = connections[router.db_for_write(type(instance))]
    statement, params = upsert_sql(instance=instance, constraint=constraint, connection=connection)
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        (found,) = cursor.fetchone()
    return int(found)
