"""`backup_create` and `backup_restore`: the database and the uploaded files, in one archive."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from lodestar import __version__
from lodestar.backup import databases
from lodestar.backup.archive import (
    FORMAT,
    FORMAT_VERSION,
    MANIFEST_NAME,
    MEDIA_PREFIX,
    ArchivedFile,
    Manifest,
    add_member,
    extract_member,
    read_manifest,
    write_manifest,
)
from lodestar.backup.errors import BackupError
from lodestar.backup.vendor import Database

__all__ = [
    "BackupSummary",
    "ProgressCallback",
    "RestoreSummary",
    "backup_create",
    "backup_restore",
    "default_backup_path",
]

# progress(phase, done, total), as the command line's progress bar takes it.
ProgressCallback = Callable[[str, int, int], None]


def _silent(_phase: str, _done: int, _total: int) -> None:
    """No progress bar."""


def _size(count: int) -> str:
    value = float(count)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    tables: int
    rows: int
    files: int
    file_bytes: int
    archive_bytes: int
    seconds: float

    def line(self) -> str:
        return (
            f"backup written to {self.path}: {self.tables} tables, {self.rows:,} rows, "
            f"{self.files:,} files ({_size(self.file_bytes)}); archive {_size(self.archive_bytes)} "
            f"in {self.seconds:.1f} s"
        )


@dataclass(frozen=True)
class RestoreSummary:
    path: Path
    created_at: dt.datetime
    lodestar_version: str
    tables: int
    rows: int
    files: int
    file_bytes: int
    migrated: bool
    seconds: float

    def line(self) -> str:
        migrated = "; migrated to this version's schema" if self.migrated else ""
        return (
            f"restored {self.path} (made {self.created_at:%Y-%m-%d %H:%M} UTC by Lodestar "
            f"{self.lodestar_version}): {self.tables} tables, {self.rows:,} rows, "
            f"{self.files:,} files ({_size(self.file_bytes)}){migrated}; {self.seconds:.1f} s"
        )


def default_backup_path(*, now: dt.datetime) -> Path:
    """var/backups/lodestar-YYYYmmdd-HHMMSS.tar, the time in UTC."""
    stamp = now.astimezone(dt.UTC).strftime("%Y%m%d-%H%M%S")
    return Path(settings.VAR_DIR) / "backups" / f"lodestar-{stamp}.tar"


def _media_root() -> Path:
    return Path(settings.MEDIA_ROOT).resolve()


def _media_files(root: Path) -> list[tuple[str, Path, int]]:
    """(path below root, full path, size) of every regular file under root, sorted."""
    found = []
    for folder, subfolders, names in os.walk(root):
        subfolders.sort()
        for name in sorted(names):
            full = Path(folder, name)
            if full.is_file() and not full.is_symlink():
                found.append((full.relative_to(root).as_posix(), full, full.stat().st_size))
    return found


def backup_create(
    *,
    path: Path | None = None,
    force: bool = False,
    progress: ProgressCallback = _silent,
    now: dt.datetime | None = None,
) -> BackupSummary:
    """Write the configured database and every file under MEDIA_ROOT into one archive.

    Online: the server and the worker keep running and writing. The database is copied from one
    snapshot first, the files afterwards: attachments are written before the row naming them
    commits and never change, so every file the copied rows name is there (files uploaded
    meanwhile come along unnamed, which is harmless). The archive is written under a temporary
    name beside `path` and renamed into place when complete: a failure leaves nothing.
    """
    started = time.monotonic()
    now = now or dt.datetime.now(tz=dt.UTC)
    target = (path or default_backup_path(now=now)).absolute()
    root = _media_root()
    if target.exists() and not force:
        raise BackupError(
            f"{target} already exists; choose another path, or pass --force to overwrite it"
        )
    if target.is_dir():
        raise BackupError(f"{target} is a folder; give the path of the archive file to write")
    if target.resolve().is_relative_to(root):
        raise BackupError(
            f"{target} is inside MEDIA_ROOT ({root}), so the backup would contain itself; "
            "write it somewhere else"
        )
    database = databases.configured()
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".lodestar-backup-") as work:
        dump = Path(work) / database.member
        copied = database.dump(
            into=dump, progress=lambda done, total: progress("database", done, total)
        )
        files = _media_files(root) if root.is_dir() else []
        file_bytes = sum(size for _, _, size in files)
        partial = Path(work) / "archive.tar"
        written = 0

        def advance(count: int) -> None:
            nonlocal written
            written += count
            progress("files", written, file_bytes)

        try:
            with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as tar:
                dump_size = dump.stat().st_size
                dumped = ArchivedFile(
                    path=database.member,
                    size=dump_size,
                    sha256=add_member(
                        tar, member=database.member, source=dump, size=dump_size, advance=_ignore
                    ),
                )
                archived = []
                progress("files", 0, file_bytes)
                for relative, full, size in files:
                    digest = add_member(
                        tar, member=MEDIA_PREFIX + relative, source=full, size=size, advance=advance
                    )
                    archived.append(ArchivedFile(path=relative, size=size, sha256=digest))
                write_manifest(
                    tar,
                    Manifest(
                        format=FORMAT,
                        format_version=FORMAT_VERSION,
                        lodestar_version=__version__,
                        created_at=now,
                        database_vendor=database.vendor,
                        database=dumped,
                        tables=copied.tables,
                        migrations=copied.migrations,
                        files=archived,
                    ),
                )
        except OSError as exc:
            raise BackupError(
                f"the archive could not be written ({exc}); nothing was left at {target}. Check "
                "the free space there (and that no uploaded file was removed meanwhile), then "
                "run the backup again"
            ) from exc
        partial.chmod(0o600)  # it holds password hashes and integration secrets
        os.replace(partial, target)
    return BackupSummary(
        path=target,
        tables=len(copied.tables),
        rows=sum(copied.tables.values()),
        files=len(archived),
        file_bytes=file_bytes,
        archive_bytes=target.stat().st_size,
        seconds=time.monotonic() - started,
    )


def _ignore(_count: int) -> None:
    """The database member's bytes were already shown as the database phase."""


def _check_migrations(manifest: Manifest, *, archive: Path) -> bool:
    """Whether the restored database must be migrated; refuse an archive from newer code."""
    from django.db.migrations.loader import MigrationLoader

    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    applied = {(app, name) for app, names in manifest.migrations.items() for name in names}
    unknown = sorted(applied - known)
    if unknown:
        names = ", ".join(f"{app}.{name}" for app, name in unknown[:5])
        raise BackupError(
            f"{archive} was made by Lodestar {manifest.lodestar_version}, whose database has "
            f"migrations this version does not know ({names}); upgrade Lodestar to "
            f"{manifest.lodestar_version} or newer, then restore again"
        )
    return bool(known - applied)


def _has_data() -> list[str]:
    """The Lodestar tables of the configured database that hold rows."""
    from django.apps import apps
    from django.db import connection

    existing = set(connection.introspection.table_names())
    return sorted(
        model._meta.db_table
        for model in apps.get_models(include_auto_created=True)
        if model._meta.app_config.name.startswith("lodestar.")
        and model._meta.db_table in existing
        and model._base_manager.exists()
    )


def _check_archive_members(tar: tarfile.TarFile, manifest: Manifest, *, archive: Path) -> None:
    listed = {manifest.database.path, MANIFEST_NAME}
    listed.update(MEDIA_PREFIX + item.path for item in manifest.files)
    extra = sorted(set(tar.getnames()) - listed)
    if extra:
        raise BackupError(
            f"{archive} holds {len(extra)} member(s) its manifest does not list (first: "
            f"{extra[0]}); it was changed after it was written — use another copy of the backup"
        )


def backup_restore(
    *, path: Path, force: bool = False, progress: ProgressCallback = _silent
) -> RestoreSummary:
    """Replace the configured database and MEDIA_ROOT with the archive's, then migrate if the
    archive is older than the code.

    Every check comes first (readable manifest, format, vendor, migrations, an empty target or
    `force`), then every member is unpacked into a staging folder and checked against its
    size and SHA-256. Only then is anything replaced: the database in one transaction, and the
    files by renaming the staged folder into place (the old one is moved aside first, and moved
    back if the database could not be replaced). Stop the server and the worker first.
    """
    started = time.monotonic()
    archive = path.absolute()
    if not archive.is_file():
        raise BackupError(f"{archive} does not exist or is not a file; give the archive's path")
    database = databases.configured()
    root = _media_root()
    try:
        tar = tarfile.open(archive, "r:")  # noqa: SIM115 — closed by the `with` below
    except (tarfile.TarError, OSError) as exc:
        raise BackupError(
            f"{archive} cannot be opened as a backup archive ({exc}); it is not a Lodestar "
            "backup or it is damaged — use another copy of the backup"
        ) from exc
    with tar:
        manifest = read_manifest(tar, archive=archive)
        if manifest.database_vendor != database.vendor:
            raise BackupError(
                f"{archive} holds a {manifest.database_vendor} database and DATABASE_URL "
                f"points at {database.vendor}; backups restore into the same kind of database "
                f"only. Point DATABASE_URL at a {manifest.database_vendor} database, or move the "
                "data with `lodestar manage dumpdata` / `loaddata`"
            )
        if manifest.database.path != database.member:
            raise BackupError(
                f"the manifest in {archive} names its database {manifest.database.path}, not "
                f"{database.member}; the archive is damaged — use another copy of the backup"
            )
        needs_migrations = _check_migrations(manifest, archive=archive)
        _check_archive_members(tar, manifest, archive=archive)
        if not force:
            filled = _has_data()
            present = _media_files(root) if root.is_dir() else []
            if filled or present:
                what = []
                if filled:
                    what.append(f"the database has data ({', '.join(filled[:3])} …)")
                if present:
                    what.append(f"MEDIA_ROOT {root} holds {len(present):,} files")
                raise BackupError(
                    f"{' and '.join(what)}; a restore replaces all of it with the archive's. "
                    "Pass --force to replace it (make a backup of it first), or point "
                    "DATABASE_URL and MEDIA_ROOT at empty ones"
                )
        database.check_tools()
        root.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=root.parent, prefix=".lodestar-restore-") as work:
            staging = Path(work)
            _unpack(tar, manifest, archive=archive, staging=staging, progress=progress)
            _replace(database, root=root, staging=staging, progress=progress)
    _after_restore(migrate=needs_migrations)
    return RestoreSummary(
        path=archive,
        created_at=manifest.created_at.astimezone(dt.UTC),
        lodestar_version=manifest.lodestar_version,
        tables=len(manifest.tables),
        rows=sum(manifest.tables.values()),
        files=len(manifest.files),
        file_bytes=sum(item.size for item in manifest.files),
        migrated=needs_migrations,
        seconds=time.monotonic() - started,
    )


def _unpack(
    tar: tarfile.TarFile,
    manifest: Manifest,
    *,
    archive: Path,
    staging: Path,
    progress: ProgressCallback,
) -> None:
    """Write the database to staging/<member> and the files under staging/media, each checked."""
    total = manifest.database.size + sum(item.size for item in manifest.files)
    checked = 0

    def advance(count: int) -> None:
        nonlocal checked
        checked += count
        progress("checking archive", checked, total)

    progress("checking archive", 0, total)
    extract_member(
        tar,
        member=manifest.database.path,
        expected=manifest.database,
        into=staging / manifest.database.path,
        archive=archive,
        advance=advance,
    )
    media = staging / "media"
    media.mkdir()
    for item in manifest.files:
        extract_member(
            tar,
            member=MEDIA_PREFIX + item.path,
            expected=item,
            into=media / item.path,
            archive=archive,
            advance=advance,
        )


def _replace(database: Database, *, root: Path, staging: Path, progress: ProgressCallback) -> None:
    aside = staging / "previous-media"
    if root.exists():
        try:
            root.rename(aside)
        except OSError as exc:
            raise BackupError(
                f"MEDIA_ROOT {root} could not be moved aside ({exc}); nothing was changed. A "
                "restore swaps the whole folder, so it cannot be a mount point: mount its parent"
            ) from exc
    try:
        database.load(
            source=staging / database.member,
            progress=lambda done, total: progress("database", done, total),
        )
    except BaseException:
        if aside.exists():
            aside.rename(root)
        raise
    try:
        (staging / "media").rename(root)
    except OSError as exc:
        if aside.exists():
            aside.rename(root)
        raise BackupError(
            f"the database was restored, but the files could not be moved into MEDIA_ROOT "
            f"{root} ({exc}); the previous files were put back. Fix the folder's permissions "
            "and restore again with --force"
        ) from exc
    shutil.rmtree(aside, ignore_errors=True)


def _after_restore(*, migrate: bool) -> None:
    """Forget what this process knew about the old database, bring the schema up to date and
    make every process drop the pages it kept from the old data."""
    from django.contrib.contenttypes.models import ContentType
    from django.core.management import call_command
    from django.db import connections

    from lodestar.web.caching import data_changed

    connections.close_all()
    ContentType.objects.clear_cache()
    if migrate:
        call_command("migrate", interactive=False, verbosity=0)
    data_changed()
