"""PostgreSQL: copied out with pg_dump and back with pg_restore and psql."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, Final

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.postgresql.client import DatabaseClient as PostgresClient

from lodestar.backup.errors import BackupError
from lodestar.backup.vendor import (
    MIGRATIONS_TABLE,
    CopiedDatabase,
    Progress,
    migrations_of,
    not_migrated,
)

__all__ = ["PostgresDatabase"]


class PostgresDatabase:
    """PostgreSQL through pg_dump and pg_restore (custom format).

    The dump runs in a snapshot this class exports from a REPEATABLE READ transaction, so the
    row counts and migrations it reports are read from exactly the data pg_dump writes. pg_dump
    takes only ACCESS SHARE locks: the server keeps reading and writing; only schema changes
    (a migration) wait for it.
    """

    vendor: Final = "postgresql"
    member = "database.pgdump"
    _DUMPING = re.compile(r"dumping contents of table ")
    _RESTORING = re.compile(r"processing data for table ")
    _PROBLEM = re.compile(r"\b(error|fatal|detail|hint):", re.IGNORECASE)
    # A server that still holds a table would otherwise make the restore wait without end.
    LOCK_TIMEOUT = "60s"

    def __init__(self, *, wrapper: BaseDatabaseWrapper) -> None:
        self.wrapper = wrapper

    def _database_name(self) -> str:
        return str(self.wrapper.settings_dict["NAME"])

    def _environment(self) -> dict[str, str]:
        """libpq's variables for the configured database (the password never on a command
        line, where other users of the machine could read it)."""
        settings = self.wrapper.settings_dict
        _args, extra = PostgresClient.settings_to_cmd_args_env(settings, [])
        environment = {**os.environ, **(extra or {})}
        for variable, key in (
            ("PGHOST", "HOST"),
            ("PGPORT", "PORT"),
            ("PGUSER", "USER"),
            ("PGDATABASE", "NAME"),
        ):
            if settings.get(key):
                environment[variable] = str(settings[key])
        return environment

    def _tool(self, name: str) -> str:
        found = shutil.which(name)
        if found is None:
            raise BackupError(
                f"{name} was not found on PATH, and PostgreSQL backups need it; install the "
                "PostgreSQL client tools of the server's major version or newer (Debian: "
                "`apt install postgresql-client`) and run the command again"
            )
        return found

    def check_tools(self) -> None:
        self._tool("pg_restore")
        self._tool("psql")

    def dump(self, *, into: Path, progress: Progress) -> CopiedDatabase:
        import psycopg

        pg_dump = self._tool("pg_dump")
        snapshot = self.wrapper.get_new_connection(self.wrapper.get_connection_params())
        try:
            snapshot.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            snapshot.read_only = True
            with snapshot.cursor() as cursor:
                cursor.execute("SELECT pg_export_snapshot()")
                snapshot_id = cursor.fetchone()[0]
                copied = self._describe(cursor)
            command = [
                pg_dump,
                "--format=custom",
                "--verbose",
                f"--snapshot={snapshot_id}",
                f"--file={into}",
            ]
            total = len(copied.tables)
            done = 0

            def dumping(line: str) -> None:
                nonlocal done
                if self._DUMPING.search(line):
                    done = min(done + 1, total)
                    progress(done, total)

            progress(0, total)
            problems, code = _run_reading_errors(
                command, env=self._environment(), on_line=dumping, problem=self._PROBLEM
            )
            if code != 0:
                raise BackupError(
                    f"pg_dump failed (exit status {code}): {problems or 'no message'}. Check "
                    "that the client tools are the server's major version or newer and that the "
                    "DATABASE_URL user may read every table; nothing was written"
                )
            return copied
        finally:
            snapshot.close()

    def _describe(self, cursor: Any) -> CopiedDatabase:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1"
        )
        names = [row[0] for row in cursor.fetchall()]
        if MIGRATIONS_TABLE not in names:
            raise not_migrated(self._database_name())
        tables = {}
        for name in names:
            quoted = self.wrapper.ops.quote_name(name)  # from the catalogue
            cursor.execute(f"SELECT count(*) FROM {quoted}")  # noqa: S608
            tables[name] = cursor.fetchone()[0]
        cursor.execute("SELECT app, name FROM django_migrations")
        return CopiedDatabase(tables=tables, migrations=migrations_of(cursor.fetchall()))

    def load(self, *, source: Path, progress: Progress) -> None:
        """Replace every table of the current schema with the dump's, in one transaction.

        pg_restore writes the dump as SQL (`--clean --if-exists`, no owners or grants so it
        restores under any user) and psql runs it after dropping the tables that exist now:
        tables a newer schema added are not in the dump, so `--clean` alone would leave them
        and the migrations run afterwards would fail on them. The transaction is committed by
        this method only after pg_restore has written the whole dump; if pg_restore, psql or
        this process stops early, psql disconnects inside it and PostgreSQL rolls it back.
        """
        pg_restore = self._tool("pg_restore")
        psql = self._tool("psql")
        total = self._table_data_entries(pg_restore, source)
        with self.wrapper.cursor() as cursor:
            cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            existing = [row[0] for row in cursor.fetchall()]
        # Django's own connection must hold nothing the drop would wait for.
        self.wrapper.close()
        drop = (
            f"DROP TABLE IF EXISTS {', '.join(self.wrapper.ops.quote_name(n) for n in existing)} "
            "CASCADE;\n"
            if existing
            else ""
        )
        environment = self._environment()
        environment["PGOPTIONS"] = (
            f"{environment.get('PGOPTIONS', '')} -c client_min_messages=warning "
            f"-c lock_timeout={self.LOCK_TIMEOUT}"
        ).strip()
        with tempfile.TemporaryFile() as psql_errors:
            runner = subprocess.Popen(  # noqa: S603 — fixed arguments, a path we chose
                [psql, "--no-psqlrc", "--quiet", "--set=ON_ERROR_STOP=1", "--file=-"],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=psql_errors,
                env=environment,
            )
            committed = False
            try:
                committed = self._feed(
                    runner, pg_restore, source, drop, environment, progress, total
                )
            finally:
                if runner.poll() is None and not committed:
                    runner.kill()
                runner.wait()
            psql_errors.seek(0)
            psql_problems = psql_errors.read().decode(errors="replace").strip()
        if runner.returncode != 0:
            raise BackupError(
                f"PostgreSQL refused the restore (psql exit status {runner.returncode}): "
                f"{psql_problems or 'no message'}. The transaction was rolled back and the "
                "database is as it was; stop the server and the worker if a table was locked, "
                "then restore again"
            )

    def _feed(
        self,
        runner: subprocess.Popen[bytes],
        pg_restore: str,
        source: Path,
        drop: str,
        environment: dict[str, str],
        progress: Progress,
        total: int,
    ) -> bool:
        """Send BEGIN, the drop, pg_restore's script and — only if all of it went — COMMIT."""
        assert runner.stdin is not None
        command = [
            pg_restore,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--verbose",
            "--file=-",
            str(source),
        ]
        writer = subprocess.Popen(  # noqa: S603 — fixed arguments, a path we chose
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment
        )
        assert writer.stdout is not None
        assert writer.stderr is not None
        done = 0
        problems: list[str] = []

        def watch(stream: IO[bytes]) -> None:
            nonlocal done
            for raw in stream:
                line = raw.decode(errors="replace").rstrip()
                if self._RESTORING.search(line):
                    done = min(done + 1, total)
                    progress(done, total)
                elif self._PROBLEM.search(line):
                    problems.append(line)

        watcher = threading.Thread(target=watch, args=(writer.stderr,), daemon=True)
        watcher.start()
        try:
            runner.stdin.write(b"BEGIN;\n" + drop.encode())
            while chunk := writer.stdout.read(1024 * 1024):
                runner.stdin.write(chunk)
            writer.wait()
        except BrokenPipeError:
            return False  # psql stopped at an error; its message says which
        finally:
            if writer.poll() is None:
                writer.kill()
                writer.wait()
            watcher.join()
        if writer.returncode != 0:
            raise BackupError(
                f"pg_restore could not read the dump (exit status {writer.returncode}): "
                f"{'; '.join(problems) or 'no message'}. Nothing was changed; use another copy "
                "of the backup"
            )
        runner.stdin.write(b"COMMIT;\n")
        runner.stdin.close()
        return True

    def _table_data_entries(self, pg_restore: str, source: Path) -> int:
        listed = subprocess.run(  # noqa: S603 — fixed arguments, a path we chose
            [pg_restore, "--list", str(source)],
            capture_output=True,
            text=True,
            env=self._environment(),
            check=False,
        )
        if listed.returncode != 0:
            raise BackupError(
                f"pg_restore cannot read the dump ({listed.stderr.strip() or 'no message'}); "
                "nothing was changed. Check that the client tools are as new as those that wrote "
                "the backup"
            )
        return sum(" TABLE DATA " in line for line in listed.stdout.splitlines())


def _run_reading_errors(
    command: list[str],
    *,
    env: dict[str, str],
    on_line: Callable[[str], None],
    problem: re.Pattern[str],
) -> tuple[str, int]:
    """Run `command`, handing each line it writes on stderr to `on_line`; return the lines that
    report a problem and the exit status."""
    process = subprocess.Popen(  # noqa: S603 — fixed arguments, a path we chose
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env
    )
    assert process.stderr is not None
    problems = []
    try:
        for raw in process.stderr:
            line = raw.decode(errors="replace").rstrip()
            on_line(line)
            if problem.search(line):
                problems.append(line)
    except BaseException:
        process.kill()
        process.wait()
        raise
    return "; ".join(problems), process.wait()
