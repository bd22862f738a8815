"""Reading many rows fast: `values_list` results without Django's per-value converters.

The recompute reads tens of thousands of rows per run. On SQLite every datetime arrives as text
and Django turns it into an aware datetime through three function calls and a regular-expression
fallback (several microseconds a value — at 50,000 deals, most of a second). `rows_of` runs the
same compiled SQL on the cursor and converts only what needs it, with `datetime.fromisoformat`
(SQLite keeps UTC, as Django writes it). PostgreSQL's driver already returns typed values, so
there the query runs as usual.

Only plain columns are converted here (datetimes, booleans, numbers, text); a query selecting
anything else (JSON, dates, decimals) falls back to Django's own iteration.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import (
    AutoField,
    BigAutoField,
    BigIntegerField,
    BooleanField,
    CharField,
    DateTimeField,
    FloatField,
    ForeignKey,
    Func,
    IntegerField,
    PositiveIntegerField,
    QuerySet,
    SmallIntegerField,
    TextField,
)
from django.db.models.query import ValuesListIterable

__all__ = ["Stored", "rows_of"]

_PLAIN = (
    AutoField,
    BigAutoField,
    BigIntegerField,
    CharField,
    FloatField,
    ForeignKey,
    IntegerField,
    PositiveIntegerField,
    SmallIntegerField,
    TextField,
)


def _aware(value: str | dt.datetime | None) -> dt.datetime | None:
    """An expression (`Stored`, an aggregate, a subquery) arrives as the stored UTC text; a
    plain column already parsed, naive (Django registers a converter for its declared type)."""
    if value is None:
        return None
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value + "+00:00")
    return dt.datetime.combine(value, value.time(), dt.UTC)


class Stored(Func):
    """A datetime column as stored: on SQLite its text, which `rows_of` parses several times
    faster than the driver's converter and Django's make-aware step; elsewhere the column."""

    template = "%(expressions)s"
    output_field = DateTimeField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # An expression has no declared type, so the driver hands over the text untouched.
        return super().as_sql(compiler, connection, template="+%(expressions)s", **extra)


def _bool(value: int | None) -> bool | None:
    return None if value is None else bool(value)


def rows_of(queryset: QuerySet[Any, Any]) -> list[tuple[Any, ...]]:
    """The rows of a `values_list(...)` queryset (not `flat`) as tuples, as Django gives them."""
    connection = connections[queryset.db]
    if connection.vendor != "sqlite" or queryset._iterable_class is not ValuesListIterable:
        return list(queryset)
    compiler = queryset.query.get_compiler(queryset.db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return []
    convert: list[tuple[int, Callable[[Any], Any]]] = []
    width = compiler.col_count
    for index, (expression, _sql, _alias) in enumerate(compiler.select[:width]):
        field = expression.output_field
        if isinstance(field, DateTimeField):
            convert.append((index, _aware))
        elif isinstance(field, BooleanField):
            convert.append((index, _bool))
        elif not isinstance(field, _PLAIN):
            return list(queryset)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    if len(compiler.select) > width:  # ordering columns added for DISTINCT
        fetched = [row[:width] for row in fetched]
    if not convert:
        return [tuple(row) for row in fetched]
    out = []
    for row in fetched:
        values = list(row)
        for index, func in convert:
            values[index] = func(values[index])
        out.append(tuple(values))
    return out
