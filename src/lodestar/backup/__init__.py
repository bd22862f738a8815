"""Backups: the database and the uploaded files in one archive, written online, restored whole.

Call after `django.setup()`:

    from lodestar.backup import BackupError, backup_create, backup_restore

    summary = backup_create(path=None, force=False, progress=callback)   # var/backups/…tar
    print(summary.line())
    backup_restore(path=Path("x.tar"), force=False, progress=callback)

`backup_create` copies the configured database (SQLite: the online backup API in steps over one
snapshot; PostgreSQL: pg_dump in the custom format, from an exported snapshot) and every file
under MEDIA_ROOT into a tar file with a manifest (see `lodestar.backup.archive`).
`backup_restore` refuses a damaged archive, a newer format, another database vendor, migrations
this code does not know, or a target that holds data (unless `force`), then replaces the
database in one transaction and MEDIA_ROOT by a folder swap, and migrates an older archive.
`progress(phase, done, total)` is called as each phase advances. Every refusal or failure raises
`BackupError` and leaves the database, the files and the archive path as they were.
"""

from lodestar.backup.errors import BackupError
from lodestar.backup.operations import (
    BackupSummary,
    ProgressCallback,
    RestoreSummary,
    backup_create,
    backup_restore,
    default_backup_path,
)

__all__ = [
    "BackupError",
    "BackupSummary",
    "ProgressCallback",
    "RestoreSummary",
    "backup_create",
    "backup_restore",
    "default_backup_path",
]
