"""Reading many rows fast: `values_list` results without Django's per-value converters.

The recompute reads tens of thousands of rows per run. On SQLite every datetime arrives as text
and Django turns it into an aware datetime through three function calls and a regular-expression
fallback (several microseconds a value — at 50,000 deals, most of a second). `rows_of` runs the
same compiled SQL on the cursor and converts only what needs it, with `datetime.fromisoformat`
(SQLite keeps UTC, as Django writes it). On PostgreSQL Django loads every `timestamptz` through
its own Python subclass of the driver's loader (to pin the connection's time zone), about 5 µs
a value; `rows_of` lets the driver's compiled loader read them instead (the session runs in
UTC, so the instants and their zone are the same).

Only plain columns are converted here (datetimes, booleans, numbers, text); a query selecting
anything else (JSON, dates, decimals) falls back to Django's own iteration.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
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


def _compiled_timestamps(cursor: Any) -> None:
    """Let a psycopg cursor load `timestamptz` with the driver's own (compiled) loader."""
    import psycopg
    from psycopg.pq import Format

    oid = psycopg.postgres.types["timestamptz"].oid
    cursor.adapters.register_loader(oid, psycopg.adapters.get_loader(oid, Format.TEXT))


_Converters = list[tuple[int, Callable[[Any], Any]]]


def _converters(selected: Sequence[tuple[Any, Any, Any]]) -> _Converters | None:
    """What each selected column needs to become the value Django gives (by column index);
    None when a column is of a type only Django's own conversion knows."""
    convert: _Converters = []
    for index, (expression, _sql, _alias) in enumerate(selected):
        field = expression.output_field
        if isinstance(field, DateTimeField):
            convert.append((index, _aware))
        elif isinstance(field, BooleanField):
            convert.append((index, _bool))
        elif not isinstance(field, _PLAIN):
            return None
    return convert


def rows_of(queryset: QuerySet[Any, Any]) -> list[tuple[Any, ...]]:
    """The rows of a `values_list(...)` queryset (not `flat`) as tuples, as Django gives them."""
    connection = connections[queryset.db]
    vendor = connection.vendor
    if vendor not in ("sqlite", "postgresql") or queryset._iterable_class is not ValuesListIterable:
        return list(queryset)
    compiler = queryset.query.get_compiler(queryset.db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return []
    width = compiler.col_count
    convert = _converters(compiler.select[:width])
    if convert is None:
        return list(queryset)
    if vendor == "postgresql":
        convert = []  # the driver returns typed values
    with connection.cursor() as cursor:
        if vendor == "postgresql":
            _compiled_timestamps(cursor.cursor)
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    if len(compiler.select) > width:  # ordering columns added for DISTINCT
        fetched = [row[:width] for row in fetched]
    if not convert or not fetched:
        return [tuple(row) for row in fetched]
    # Column by column: one pass of a single converter over a column costs less than a
    # lookup of the converter for every value of every row.
    columns = list(zip(*fetched, strict=True))
    for index, func in convert:
        columns[index] = tuple(map(func, columns[index]))
    return list(zip(*columns, strict=True))
