"""What every vendor's copy shares: its progress callback, what it reports, its interface."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from lodestar.backup.errors import BackupError

__all__ = [
    "MIGRATIONS_TABLE",
    "CopiedDatabase",
    "Database",
    "Progress",
    "migrations_of",
    "not_migrated",
]

# progress(done, total) in the vendor's own unit (SQLite pages, PostgreSQL tables).
Progress = Callable[[int, int], None]

# Django's record of applied migrations: a database without it was never migrated.
MIGRATIONS_TABLE = "django_migrations"


@dataclass(frozen=True)
class CopiedDatabase:
    """What a dump holds, read from the same snapshot as the copy itself."""

    tables: dict[str, int]
    migrations: dict[str, list[str]]


# Django's `connection.vendor` of the databases a backup can copy.
VendorName = Literal["sqlite", "postgresql"]


class Database(Protocol):
    @property
    def vendor(self) -> VendorName: ...

    member: str

    def check_tools(self) -> None: ...

    def dump(self, *, into: Path, progress: Progress) -> CopiedDatabase: ...

    def load(self, *, source: Path, progress: Progress) -> None: ...


def migrations_of(rows: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    applied: dict[str, list[str]] = {}
    for app, name in rows:
        applied.setdefault(app, []).append(name)
    return {app: sorted(names) for app, names in sorted(applied.items())}


def not_migrated(where: str) -> BackupError:
    return BackupError(
        f"the database {where} has no Lodestar tables yet, so there is nothing to back up; "
        "run `lodestar migrate` to create it, or check DATABASE_URL"
    )
