"""The one error a backup or a restore raises on purpose."""

from __future__ import annotations

__all__ = ["BackupError"]


class BackupError(Exception):
    """A backup or restore was refused or failed; the message says what, why and how to fix it.

    Whatever raised it has left the database, the uploaded files and the archive path as they
    were before the command started.
    """
