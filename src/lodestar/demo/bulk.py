"""The fast write path: rows as plain tuples, straight into the table.

Millions of events cannot go through model instances. The generator builds plain tuples whose
timestamps are already in the text form the database stores, and this module hands them to the
driver in one call per batch: `executemany` on SQLite, `COPY … FROM STDIN` on PostgreSQL.
Only what the generator needs is supported: ints, strings (JSON included, already serialised),
booleans and None.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper

__all__ = ["BulkSink", "UnsupportedDatabase", "bulk_load_session", "column_of"]

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_HMS: list[str] = []


class UnsupportedDatabase(Exception):
    """The fast path knows SQLite and PostgreSQL only."""


def _hms_table() -> list[str]:
    # Built once: the time-of-day part of every second, so formatting a timestamp is two lookups.
    if not _HMS:
        _HMS.extend(f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86_400))
    return _HMS


def column_of(model: type[models.Model], name: str) -> str:
    """The table column of the model's concrete field `name`."""
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field) or field.column is None:
        raise ValueError(f"{model.__name__}.{name} has no column of its own.")
    return field.column


class BulkSink:
    """Writes plain row tuples to model tables on the connection's database."""

    def __init__(self, connection: BaseDatabaseWrapper) -> None:
        if connection.vendor not in ("sqlite", "postgresql"):
            raise UnsupportedDatabase(
                f"The demo generator writes to SQLite or PostgreSQL, not {connection.vendor}."
            )
        self.connection = connection
        self.vendor = connection.vendor
        # Django keeps SQLite datetimes as naive UTC text; PostgreSQL parses an explicit offset.
        self._suffix = "" if self.vendor == "sqlite" else "+00"
        self._hms = _hms_table()
        self._days: dict[int, str] = {}
        self._statements: dict[tuple[str, tuple[str, ...]], str] = {}

    def ts(self, epoch_seconds: int) -> str:
        """A UTC timestamp (whole seconds since the epoch) in the stored text form."""
        day, second = divmod(epoch_seconds, 86_400)
        prefix = self._days.get(day)
        if prefix is None:
            prefix = f"{(_EPOCH + dt.timedelta(days=day)).date().isoformat()} "
            self._days[day] = prefix
        return prefix + self._hms[second] + self._suffix

    def insert(
        self, model: type[models.Model], fields: Sequence[str], rows: Sequence[tuple[Any, ...]]
    ) -> None:
        """Append rows (values in the order of `fields`, foreign keys as ids) to the model table."""
        if not rows:
            return
        sql = self._statement(model, tuple(fields))
        self.connection.ensure_connection()
        raw = self.connection.connection
        if self.vendor == "sqlite":
            raw.executemany(sql, rows)
            return
        with raw.cursor() as cursor, cursor.copy(sql) as copy:
            write_row = copy.write_row
            for row in rows:
                write_row(row)

    def _statement(self, model: type[models.Model], fields: tuple[str, ...]) -> str:
        key = (model._meta.db_table, fields)
        sql = self._statements.get(key)
        if sql is None:
            quote = self.connection.ops.quote_name
            columns = ", ".join(quote(column_of(model, name)) for name in fields)
            table = quote(model._meta.db_table)
            if self.vendor == "sqlite":
                marks = ", ".join("?" * len(fields))
                sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608
            else:
                sql = f"COPY {table} ({columns}) FROM STDIN"
            self._statements[key] = sql
        return sql


@contextmanager
def bulk_load_session(connection: BaseDatabaseWrapper) -> Iterator[None]:
    """Database settings for one large load, restored afterwards.

    SQLite: no fsync during the load and a large page cache (the load is one transaction, so a
    crash loses the whole load, never half of it); foreign-key and CHECK constraints are not
    re-verified row by row, because the generator writes ids it has just read back and JSON it
    has just serialised (the JSON_VALID check alone halves the insert rate). Only outside a
    transaction: inside one (as in tests) SQLite refuses these settings, so nothing changes.
    PostgreSQL: the commit does not wait for the WAL flush, applied per
    transaction by `tune_transaction`.
    """
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        yield
        return
    settings = ("synchronous", "cache_size", "foreign_keys", "ignore_check_constraints")
    with connection.cursor() as cursor:
        saved = {}
        for name in settings:
            cursor.execute(f"PRAGMA {name}")
            saved[name] = int(cursor.fetchone()[0])
        cursor.execute("PRAGMA foreign_keys = OFF")
        cursor.execute("PRAGMA ignore_check_constraints = ON")
        cursor.execute("PRAGMA synchronous = OFF")
        cursor.execute("PRAGMA cache_size = -262144")  # 256 MiB
        cursor.execute("PRAGMA temp_store = MEMORY")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for name, value in saved.items():
                cursor.execute(f"PRAGMA {name} = {value}")


def tune_transaction(connection: BaseDatabaseWrapper) -> None:
    """Per-transaction settings for a bulk load (inside the atomic block)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def scattered_indexes(model: type[models.Model]) -> list[models.Index]:
    """The model's indexes that a deal-by-deal load would update at random places.

    An index keyed by time but not by deal (all events by type and time, say) takes each new
    row somewhere in a year of history; once it outgrows the page cache, every insert is a
    cache miss. Indexes that start with the deal, and foreign-key indexes, grow in a few hot
    spots and stay cheap.
    """
    scattered = []
    for index in model._meta.indexes:
        if index.condition is not None or index.opclasses or index.expressions:
            continue
        if any(name.startswith("-") for name in index.fields):
            continue
        fields = [model._meta.get_field(name) for name in index.fields]
        timed = any(isinstance(f, models.DateTimeField) for f in fields)
        by_deal = any(f.name == "opportunity" for f in fields)
        if timed and not by_deal:
            scattered.append(index)
    return scattered


@contextmanager
def deferred_indexes(
    connection: BaseDatabaseWrapper, indexes: Sequence[tuple[type[models.Model], models.Index]]
) -> Iterator[None]:
    """Drop these indexes now and build each again, with one sort, at the end.

    Must run inside the load's transaction: if the load fails, the drop is rolled back with it.
    Other writers wait while it runs (SQLite serialises writers anyway; on PostgreSQL the tables
    are locked), so use it for bulk loads, not on a live system.
    """
    quote = connection.ops.quote_name

    def create(model: type[models.Model], index: models.Index) -> str:
        columns = ", ".join(quote(column_of(model, name)) for name in index.fields)
        return f"CREATE INDEX {quote(index.name)} ON {quote(model._meta.db_table)} ({columns})"

    with connection.cursor() as cursor:
        for _model, index in indexes:
            cursor.execute(f"DROP INDEX {quote(index.name)}")
    yield
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and indexes:
            # Deferred foreign-key checks must run before an index can be built in this
            # transaction ("pending trigger events").
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for model, index in indexes:
            cursor.execute(create(model, index))


def row_estimate(connection: BaseDatabaseWrapper, model: type[models.Model]) -> int:
    """Roughly how many rows the table holds (its highest id), without a full count."""
    with connection.cursor() as cursor:
        table = connection.ops.quote_name(model._meta.db_table)
        cursor.execute(f"SELECT MAX(id) FROM {table}")  # noqa: S608 - table name from the model
        return int(cursor.fetchone()[0] or 0)
