"""SQLite: copied out and back through its online backup API."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Final

from lodestar.backup.errors import BackupError
from lodestar.backup.vendor import (
    MIGRATIONS_TABLE,
    CopiedDatabase,
    Progress,
    migrations_of,
    not_migrated,
)

__all__ = ["SqliteDatabase"]


class SqliteDatabase:
    """SQLite through its online backup API.

    The copy runs in steps of `STEP_PAGES` pages inside one read transaction of its own. In WAL
    mode (which settings turn on) that transaction reads one snapshot while the server keeps
    writing, and blocks none of its writes; without it, a write between two steps would make
    SQLite start the copy again from the first page, and a busy server would never let it end.
    """

    vendor: Final = "sqlite"
    member = "database.sqlite3"
    STEP_PAGES = 1024  # 4 MB at the default page size
    BUSY_TIMEOUT_MS = 10_000

    def __init__(self, *, name: str) -> None:
        # Django opens SQLite with uri=True: NAME is a path or a file: URI (the test database).
        self.name = name

    def check_tools(self) -> None:
        """Python's sqlite3 module is all this needs."""

    def _connect(self, target: str | Path, *, uri: bool) -> sqlite3.Connection:
        opened = sqlite3.connect(target, uri=uri, isolation_level=None)
        opened.execute(f"PRAGMA busy_timeout = {self.BUSY_TIMEOUT_MS}")
        return opened

    def dump(self, *, into: Path, progress: Progress) -> CopiedDatabase:
        if not self.name.startswith("file:") and not Path(self.name).is_file():
            raise not_migrated(f"file {self.name} does not exist and")
        source = self._connect(self.name, uri=True)
        try:
            source.execute("BEGIN")
            source.execute("SELECT count(*) FROM sqlite_master").fetchone()  # takes the snapshot
            copy = self._connect(into, uri=False)
            try:
                source.backup(
                    copy,
                    pages=self.STEP_PAGES,
                    progress=lambda _status, remaining, total: progress(total - remaining, total),
                )
                # The copy inherits WAL mode; a rollback journal keeps it one self-contained file.
                copy.execute("PRAGMA journal_mode = DELETE")
                return self._describe(copy)
            finally:
                copy.close()
        except sqlite3.Error as exc:
            raise BackupError(
                f"the database {self.name} could not be copied to {into} ({exc}); check the "
                "free space there and run the backup again"
            ) from exc
        finally:
            source.close()

    def _describe(self, copy: sqlite3.Connection) -> CopiedDatabase:
        names = [
            row[0]
            for row in copy.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
            )
        ]
        if MIGRATIONS_TABLE not in names:
            raise not_migrated(self.name)
        tables = {
            # Names read from the database's own catalogue, quoted.
            name: copy.execute(f"SELECT count(*) FROM {_quote(name)}").fetchone()[0]  # noqa: S608
            for name in names
        }
        migrations = migrations_of(copy.execute("SELECT app, name FROM django_migrations"))
        return CopiedDatabase(tables=tables, migrations=migrations)

    def load(self, *, source: Path, progress: Progress) -> None:
        """Copy `source` over the configured database with the backup API.

        The destination's write transaction spans every step and commits at the last one, so
        readers see the old database or the new one and an interrupted copy changes nothing.
        Renaming a file into place instead would leave the old write-ahead log beside the new
        file (SQLite would replay it into the wrong database) and let any process still holding
        the old file write into a deleted one.
        """
        if not self.name.startswith("file:"):
            Path(self.name).parent.mkdir(parents=True, exist_ok=True)
        copy = self._connect(source, uri=False)
        try:
            # The checksum proves the file is the one the backup wrote, not that the database it
            # copied was sound; SQLite copies pages without reading them, so look before copying.
            try:
                verdict = [row[0] for row in copy.execute("PRAGMA quick_check").fetchmany(3)]
            except sqlite3.DatabaseError as exc:
                verdict = [str(exc)]
            if verdict != ["ok"]:
                raise BackupError(
                    f"the archive's database is damaged ({'; '.join(map(str, verdict))}); "
                    "nothing was changed. Use another backup"
                )
            target = self._connect(self.name, uri=True)
            try:
                # Not told after the last step: that step has committed, and a progress
                # callback that raised then would be taken for a copy that did not happen.
                copy.backup(
                    target,
                    pages=self.STEP_PAGES,
                    progress=lambda _status, remaining, total: (
                        progress(total - remaining, total) if remaining else None
                    ),
                )
                # Fold the restored pages back into the database file now, not on a later write.
                target.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
            except sqlite3.Error as exc:
                raise BackupError(
                    f"the database {self.name} could not be replaced ({exc}); it was left as it "
                    "was. Stop the server and the worker (they may hold it) and restore again"
                ) from exc
            finally:
                target.close()
        finally:
            copy.close()


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
