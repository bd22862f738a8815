"""`lodestar backup` and `lodestar restore`: thin fronts on `lodestar.backup`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lodestar.cli.common import console, fail, progress_bar, setup_django


def backup(
    path: Annotated[
        Path | None,
        typer.Argument(
            help="Archive to write (.tar); default var/backups/lodestar-<UTC time>.tar.",
            dir_okay=False,
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite PATH if it exists.")] = False,
) -> None:
    """Back up the database and the uploaded files into one archive, while the server runs."""
    setup_django()
    from lodestar.backup import BackupError, backup_create

    try:
        with progress_bar() as progress:
            summary = backup_create(path=path, force=force, progress=progress)
    except BackupError as exc:
        fail(str(exc))
    console.print(summary.line(), markup=False, highlight=False)


def restore(
    path: Annotated[Path, typer.Argument(help="Archive written by `lodestar backup`.")],
    force: Annotated[
        bool, typer.Option("--force", help="Replace a database and files that hold data.")
    ] = False,
) -> None:
    """Replace the database and the uploaded files with an archive's (stop the server first)."""
    setup_django()
    from lodestar.backup import BackupError, backup_restore

    try:
        with progress_bar() as progress:
            summary = backup_restore(path=path, force=force, progress=progress)
    except BackupError as exc:
        fail(str(exc))
    console.print(summary.line(), markup=False, highlight=False)
