"""The configured database, as the vendor class that copies it out and back.

`dump` writes a consistent copy while the server keeps reading and writing, and returns what it
copied (rows per table, applied migrations). `load` replaces the whole database with a copy in
one transaction: a failure leaves the database as it was.
"""

from __future__ import annotations

from django.db import connection

from lodestar.backup.errors import BackupError
from lodestar.backup.postgres import PostgresDatabase
from lodestar.backup.sqlite import SqliteDatabase
from lodestar.backup.vendor import Database

__all__ = ["configured"]


def configured() -> Database:
    """The configured database (the connection's actual one: under pytest, the test database)."""
    if connection.vendor == "sqlite":
        return SqliteDatabase(name=str(connection.settings_dict["NAME"]))
    if connection.vendor == "postgresql":
        return PostgresDatabase(wrapper=connection)
    raise BackupError(
        f"backups support SQLite and PostgreSQL, and DATABASE_URL points at "
        f"{connection.vendor}; use that database's own backup tools"
    )
