"""Small database helpers the apps share."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import IntegrityError, connection, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.sql.compiler import SQLCompiler

__all__ = ["Among", "bulk_insert_new", "insert_statements"]


@models.Field.register_lookup
class Among(models.Lookup):
    """`field__among=values`: `field IN values` for a long list of ints or strings, sent as one
    parameter — an array on PostgreSQL (`= ANY(%s)`), a JSON list on SQLite (`IN (SELECT value
    FROM json_each(%s))`).

    A batch of events names a thousand deals; with `__in` each id is a parameter that Django
    prepares, the driver binds and the database parses, a dozen times per batch.
    """

    lookup_name = "among"
    prepare_rhs = False

    def get_prep_lookup(self) -> list[int | str]:
        values = list(self.rhs)
        for value in values:
            if isinstance(value, bool) or not isinstance(value, int | str):
                raise TypeError(
                    f"__among takes ints or strings, not {type(value).__name__} ({value!r})"
                )
        return values

    def as_sql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper
    ) -> tuple[str, tuple[Any, ...]]:
        if not self.rhs:
            raise EmptyResultSet
        lhs, lhs_params = self.process_lhs(compiler, connection)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s)", (*lhs_params, self.rhs)
        values = json.dumps(self.rhs)
        return f"{lhs} IN (SELECT value FROM json_each(%s))", (*lhs_params, values)  # noqa: S608


# Relations keep lookups of their own (`deal__in`, `deal_id__in`); they get this one too.
models.ForeignObject.register_lookup(Among)


def bulk_insert_new(rows: Sequence[models.Model], *, batch_size: int = 500) -> bool:
    """Insert `rows` (all of one model) and say whether every one of them went in.

    The usual case — nobody wrote the same unique key meanwhile — is one INSERT per batch whose
    RETURNING sets each row's primary key, so the caller need not read the rows back. When a
    concurrent writer got some keys first, the insert is retried skipping those (`ON CONFLICT
    DO NOTHING`) and False is returned: the primary keys are then unknown, and the caller reads
    back what it needs.
    """
    if not rows:
        return True
    manager = type(rows[0])._default_manager
    try:
        with transaction.atomic():
            manager.bulk_create(rows, batch_size=batch_size)
        return True
    except IntegrityError:
        for row in rows:  # keys of batches that went in before the conflict were rolled back
            row.pk = None
            row._state.adding = True
        manager.bulk_create(rows, ignore_conflicts=True, batch_size=batch_size)
        return False


def insert_statements(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Sequence[Sequence[object]],
    *,
    tail: str = "",
    rows_per_statement: int = 500,
) -> list[tuple[str, list[Any]]]:
    """`INSERT INTO <model's table> (columns) … <tail>` statements writing `rows` (values
    already adapted for the database), for `cursor.execute` (as parameters, hence `Any`).

    PostgreSQL gets one statement whatever the number of rows: each column as an array,
    unnested (`SELECT * FROM unnest(%s::bigint[], …)`), which it plans once and runs in a
    fraction of the time a thousand-row VALUES list takes it. Other databases (SQLite) get
    multi-row VALUES lists of `rows_per_statement` rows. `tail` follows either form (`ON
    CONFLICT …`, `RETURNING …`).
    """
    if not rows:
        return []
    ops = connection.ops
    table = ops.quote_name(model._meta.db_table)
    names = ", ".join(ops.quote_name(column) for column in columns)
    head = f"INSERT INTO {table} ({names})"  # names from the model, never from input
    if connection.vendor == "postgresql":
        arrays = ", ".join(
            f"%s::{model._meta.get_field(column).db_type(connection)}[]" for column in columns
        )
        columns_of_rows = [list(values) for values in zip(*rows, strict=True)]
        return [(f"{head} SELECT * FROM unnest({arrays}) {tail}", columns_of_rows)]  # noqa: S608
    row_marks = f"({', '.join(['%s'] * len(columns))})"
    statements = []
    for start in range(0, len(rows), rows_per_statement):
        chunk = rows[start : start + rows_per_statement]
        statements.append(
            (
                f"{head} VALUES {', '.join([row_marks] * len(chunk))} {tail}",
                [value for row in chunk for value in row],
            )
        )
    return statements
