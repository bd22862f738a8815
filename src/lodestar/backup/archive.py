"""The backup archive: a tar file holding the database, the uploaded files and a manifest.

    database.sqlite3 | database.pgdump    the database (a SQLite copy, or pg_dump's custom format)
    media/<path>                           every file under MEDIA_ROOT, at its path below it
    manifest.json                          what is inside, with a size and SHA-256 for each member

The manifest is written last because it holds the checksums of everything before it. A restore
reads it first, and checks every member against it before anything is changed.
"""

from __future__ import annotations

import hashlib
import json
import tarfile
import time
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import IO, Final, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator

from lodestar.backup.errors import BackupError

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "MANIFEST_NAME",
    "MEDIA_PREFIX",
    "ArchivedFile",
    "Manifest",
    "add_member",
    "extract_member",
    "read_manifest",
    "write_manifest",
]

FORMAT: Final = "lodestar-backup"
# Raise it when a restore of the new layout needs code an older Lodestar lacks; older archives
# must stay readable.
FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
MEDIA_PREFIX = "media/"
_CHUNK = 1024 * 1024

Advance = Callable[[int], None]


class ArchivedFile(BaseModel):
    """One member: where it is, how long it is and what its bytes hash to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str
    size: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")

    @field_validator("path")
    @classmethod
    def _inside(cls, value: str) -> str:
        # Members are written to paths built from these names: nothing may point outside.
        parts = PurePosixPath(value).parts
        if not parts or value.startswith("/") or "\\" in value or {"", ".", ".."} & set(parts):
            raise ValueError(f"'{value}' is not a plain relative path")
        return value


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["lodestar-backup"]
    format_version: int
    lodestar_version: str
    created_at: AwareDatetime
    database_vendor: Literal["sqlite", "postgresql"]
    database: ArchivedFile
    # Rows per table in the copied database, as the backup read them.
    tables: dict[str, int]
    # Applied migrations per app label: decides whether a restore must migrate afterwards.
    migrations: dict[str, list[str]]
    # Paths relative to MEDIA_ROOT; each is stored as MEDIA_PREFIX + path.
    files: list[ArchivedFile]


class _Hashing:
    """A reader that hashes and counts what passes through it (tarfile copies from it)."""

    def __init__(self, stream: IO[bytes], advance: Advance) -> None:
        self.stream = stream
        self.advance = advance
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.digest.update(data)
        self.advance(len(data))
        return data


def add_member(
    tar: tarfile.TarFile, *, member: str, source: Path, size: int, advance: Advance
) -> str:
    """Store `size` bytes of `source` as `member`; returns their SHA-256 (hex).

    The size is taken beforehand (a tar header precedes the data); a file that shrinks meanwhile
    makes tarfile raise instead of storing a short member.
    """
    info = tarfile.TarInfo(member)
    info.size = size
    info.mtime = int(time.time())
    info.mode = 0o600
    with source.open("rb") as stream:
        reader = _Hashing(stream, advance)
        tar.addfile(info, fileobj=reader)
    return reader.digest.hexdigest()


def write_manifest(tar: tarfile.TarFile, manifest: Manifest) -> None:
    data = json.dumps(manifest.model_dump(mode="json"), ensure_ascii=False, indent=1).encode()
    info = tarfile.TarInfo(MANIFEST_NAME)
    info.size = len(data)
    info.mtime = int(time.time())
    info.mode = 0o600
    tar.addfile(info, fileobj=_Bytes(data))


class _Bytes:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.offset = 0

    def read(self, size: int = -1) -> bytes:
        end = len(self.data) if size < 0 else self.offset + size
        chunk = self.data[self.offset : end]
        self.offset += len(chunk)
        return chunk


def read_manifest(tar: tarfile.TarFile, *, archive: Path) -> Manifest:
    """The archive's manifest, or a refusal saying why it cannot be read.

    The format and its version are checked before the rest: a newer format may have a
    different shape, and "upgrade Lodestar" is then the useful answer, not a field error.
    """
    try:
        member = tar.getmember(MANIFEST_NAME)
        stream = tar.extractfile(member)
        raw = json.loads(stream.read()) if stream is not None else None
    except KeyError:
        raise BackupError(
            f"{archive} has no {MANIFEST_NAME}, so it is not a Lodestar backup or it was cut "
            "short while being written or copied; use another copy of the backup"
        ) from None
    except (tarfile.TarError, OSError, EOFError, ValueError) as exc:
        raise BackupError(
            f"the {MANIFEST_NAME} in {archive} cannot be read ({exc}); the archive is damaged — "
            "use another copy of the backup"
        ) from exc
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise BackupError(
            f"{archive} is not a Lodestar backup: its {MANIFEST_NAME} does not say "
            f'"format": "{FORMAT}"'
        )
    version = raw.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise BackupError(
            f"the {MANIFEST_NAME} in {archive} has no valid format_version; the archive is "
            "damaged — use another copy of the backup"
        )
    if version > FORMAT_VERSION:
        raise BackupError(
            f"{archive} was written in backup format {version} by Lodestar "
            f"{raw.get('lodestar_version', '?')}; this Lodestar reads formats up to "
            f"{FORMAT_VERSION}. Upgrade Lodestar to that version or newer, then restore again"
        )
    try:
        return Manifest.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
            for error in exc.errors()
        )
        raise BackupError(
            f"the {MANIFEST_NAME} in {archive} is damaged ({problems}); use another copy of "
            "the backup"
        ) from None


def extract_member(
    tar: tarfile.TarFile,
    *,
    member: str,
    expected: ArchivedFile,
    into: Path,
    archive: Path,
    advance: Advance,
) -> None:
    """Write `member` to `into`, refusing unless its size and SHA-256 are `expected`'s."""

    def damaged(why: str) -> BackupError:
        return BackupError(
            f"{archive} is damaged: {member} {why}. The archive was changed or cut short "
            "after it was written; nothing was restored — use another copy of the backup"
        )

    try:
        info = tar.getmember(member)
    except KeyError:
        raise damaged("is listed in the manifest but missing") from None
    stream = tar.extractfile(info) if info.isfile() else None
    if stream is None:
        raise damaged("is not a regular file")
    digest = hashlib.sha256()
    size = 0
    into.parent.mkdir(parents=True, exist_ok=True)
    try:
        with into.open("wb") as target:
            while chunk := stream.read(_CHUNK):
                digest.update(chunk)
                target.write(chunk)
                size += len(chunk)
                advance(len(chunk))
    except (tarfile.TarError, EOFError) as exc:
        raise damaged(f"cannot be read ({exc})") from exc
    except OSError as exc:
        raise BackupError(
            f"{member} could not be unpacked to {into} ({exc}); nothing was restored. Make room "
            "beside MEDIA_ROOT (a restore needs space for the whole archive there) and try again"
        ) from exc
    if size != expected.size:
        raise damaged(f"has {size:,} bytes where the manifest says {expected.size:,}")
    if digest.hexdigest() != expected.sha256:
        raise damaged("does not match its SHA-256 checksum in the manifest")
