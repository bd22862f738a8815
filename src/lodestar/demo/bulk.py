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

__all__ = ["BulkSink", "UnsupportedDatabase", "bulk_load_session"]

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_HMS: list[str] = []


class UnsupportedDatabase(Exception):
    """The fast path knows SQLite and PostgreSQL only."""


def _hms_table() -> list[str]:
    # Built once: the time-of-day part of every second, so formatting a timestamp is two lookups.
    if not _HMS:
        _HMS.extend(f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86_400))
    return _HMS


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
            columns = ", ".join(quote(model._meta.get_field(name).column) for name in fields)
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


@contextmanager
def deferred_indexes(
    connection: BaseDatabaseWrapper, models_: Sequence[type[models.Model]]
) -> Iterator[None]:
    """Drop the tables' secondary indexes now and build them again at the end.

    One sort per index at the end beats millions of random B-tree inserts once an index no
    longer fits in memory. Unique constraints stay, so duplicates are still refused. Must run
    inside the load's transaction: if the load fails, the drop is rolled back with it. Other
    writers wait while it runs (SQLite serialises writers anyway; on PostgreSQL the tables are
    locked), so use it for bulk loads, not on a live system.
    """
    saved: list[str] = []
    with connection.cursor() as cursor:
        for model in models_:
            table = model._meta.db_table
            if connection.vendor == "sqlite":
                cursor.execute(
                    "SELECT name, sql FROM sqlite_master "
                    "WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL",
                    [table],
                )
            else:
                cursor.execute(
                    "SELECT indexname, indexdef FROM pg_indexes "
                    "WHERE schemaname = current_schema() AND tablename = %s AND indexname NOT IN "
                    "(SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
                    [table, table],
                )
            for name, definition in cursor.fetchall():
                cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
                saved.append(definition)
    yield
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA threads = 4")
        else:
            cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for definition in saved:
            cursor.execute(definition)


def row_estimate(connection: BaseDatabaseWrapper, model: type[models.Model]) -> int:
    """Roughly how many rows the table holds (its highest id), without a full count."""
    with connection.cursor() as cursor:
        table = connection.ops.quote_name(model._meta.db_table)
        cursor.execute(f"SELECT MAX(id) FROM {table}")  # noqa: S608 - table name from the model
        return int(cursor.fetchone()[0] or 0)
