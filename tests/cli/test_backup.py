"""`lodestar backup` and `lodestar restore`: a round trip gives back every row and every file,
and each refusal names the problem and changes nothing.

The tests commit for real (`transactional_db`): a backup reads the database through its own
connection (SQLite's backup API, pg_dump), which sees only committed rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
import sqlite3
import struct
import subprocess
import tarfile
import zoneinfo
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from typer.testing import CliRunner, Result

from lodestar.automation.models import Task
from lodestar.backup import BackupError, backup_create, backup_restore
from lodestar.backup.sqlite import SqliteDatabase
from lodestar.cli.main import app
from lodestar.crm.models import Attachment, AttachmentKind, Contact, Opportunity
from lodestar.events.models import Event
from lodestar.org.models import Organization, Role
from tests.factories import (
    ApiTokenFactory,
    ContactFactory,
    OpportunityFactory,
    OrganizationFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.usefixtures("transactional_db")

runner = CliRunner()
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
POSTGRES_ONLY = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="pg_dump backs up PostgreSQL only"
)


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = root
    return root


@pytest.fixture
def organization(media: Path) -> Organization:
    """An organization with people, accounts, deals, events, tasks and attachment files (their
    bytes under MEDIA_ROOT), an API token, and an uploaded file outside the attachments."""
    org = OrganizationFactory(name="华东工业设备", slug="east")
    team = TeamFactory(organization=org, name="绍兴组")
    manager = UserFactory(organization=org, role=Role.MANAGER, team=team, username="manager")
    reps = [UserFactory(organization=org, team=team, username=f"rep{i}") for i in range(3)]
    ApiTokenFactory(user=manager, name="erp")
    start = dt.datetime(2026, 3, 1, 9, 0, tzinfo=SHANGHAI)
    for number in range(12):
        rep = reps[number % 3]
        deal = OpportunityFactory(
            owner=rep, amount=Decimal(f"{number + 1}12345.67"), custom_fields={"n": number}
        )
        contact = ContactFactory(account=deal.account, name=f"王工{number}")
        for hour in range(6):
            Event.objects.create(
                organization=org,
                type="call.logged" if hour % 2 else "visit.logged",
                source="web",
                external_id=f"{number}-{hour}",
                occurred_at=start + dt.timedelta(days=number, hours=hour),
                recorded_at=start + dt.timedelta(days=number, hours=hour, minutes=5),
                actor=rep,
                opportunity=deal,
                account=deal.account,
                contact=contact,
                with_customer=bool(hour % 2),
                payload={"summary": f"第{hour}次沟通", "minutes": hour * 7.5},
            )
        Task.objects.create(
            organization=org,
            opportunity=deal,
            assignee=rep,
            title=f"回访 {deal.name}",
            created_at=start,
            due_at=start + dt.timedelta(days=number + 2),
        )
        content = f"会议纪要 {number}: 技术交流,报价 {deal.amount} 元".encode()
        sha = hashlib.sha256(content).hexdigest()
        Attachment.objects.create(
            organization=org,
            opportunity=deal,
            kind=AttachmentKind.MEETING_MINUTES,
            file=default_storage.save(
                f"org-{org.pk}/attachments/{sha[:2]}/{sha}", ContentFile(content)
            ),
            original_name=f"纪要{number}.txt",
            content_type="text/plain",
            size=len(content),
            sha256=sha,
            extracted_text=content.decode(),
            text_length=len(content.decode()),
            uploaded_by=rep,
            uploaded_at=start + dt.timedelta(days=number),
        )
    extra = media / "导入" / "客户名单.csv"
    extra.parent.mkdir()
    extra.write_bytes("名称,城市\n华东机电,绍兴\n".encode())
    return org


def every_row() -> dict[str, list[tuple[Any, ...]]]:
    """Every table Django knows (and the migration records), row by row in key order."""
    models = [*apps.get_models(include_auto_created=True), MigrationRecorder.Migration]
    return {
        model._meta.label: list(model._base_manager.order_by("pk").values_list())
        for model in models
    }


def every_file(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def backup(*arguments: object) -> Result:
    return runner.invoke(app, ["backup", *map(str, arguments)])


def restore(*arguments: object) -> Result:
    return runner.invoke(app, ["restore", *map(str, arguments)])


def rewritten(
    archive: Path,
    *,
    change: Callable[[str, bytes], bytes | None],
    into: Path,
) -> Path:
    """A copy of `archive` with each member's bytes passed through `change` (None drops it)."""
    with tarfile.open(archive) as source, tarfile.open(into, "w", format=tarfile.PAX_FORMAT) as tar:
        for member in source.getmembers():
            stream = source.extractfile(member)
            assert stream is not None
            data = change(member.name, stream.read())
            if data is None:
                continue
            info = tarfile.TarInfo(member.name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return into


def with_manifest(archive: Path, into: Path, **fields: object) -> Path:
    def change(name: str, data: bytes) -> bytes:
        if name != "manifest.json":
            return data
        return json.dumps({**json.loads(data), **fields}).encode()

    return rewritten(archive, change=change, into=into)


@pytest.mark.parametrize("command", ["backup", "restore"])
def test_it_explains_the_commands_with_help(command: str) -> None:
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output


def test_it_restores_every_row_and_every_file_after_the_data_changed(
    organization: Organization, media: Path, tmp_path: Path
) -> None:
    rows, files = every_row(), every_file(media)
    assert sum(map(len, rows.values())) > 250
    assert len(files) > 10
    archive = tmp_path / "before.tar"

    written = backup(archive)
    assert written.exit_code == 0, written.output
    assert "backup written to" in written.output

    Opportunity.objects.update(name="改过的商机")
    Contact.objects.filter(organization=organization).delete()
    OrganizationFactory(slug="after")
    first, second = sorted(path for path in media.rglob("*") if path.is_file())[:2]
    first.unlink()
    second.write_bytes(b"changed")
    (media / "new.txt").write_bytes(b"uploaded after the backup")

    restored = restore(archive, "--force")

    assert restored.exit_code == 0, restored.output
    assert every_row() == rows
    assert every_file(media) == files


def test_it_continues_the_restored_id_sequences(organization: Organization, tmp_path: Path) -> None:
    backup(tmp_path / "before.tar")
    OrganizationFactory.create_batch(3)

    assert restore(tmp_path / "before.tar", "--force").exit_code == 0

    highest = Organization.objects.order_by("-pk").values_list("pk", flat=True)[0]
    assert OrganizationFactory(slug="later").pk > highest


def test_it_writes_a_manifest_listing_the_database_and_every_file(
    organization: Organization, media: Path, tmp_path: Path
) -> None:
    backup(tmp_path / "b.tar")

    with tarfile.open(tmp_path / "b.tar") as tar:
        stream = tar.extractfile("manifest.json")
        assert stream is not None
        manifest = json.loads(stream.read())
    assert manifest["database_vendor"] == connection.vendor
    assert manifest["tables"]["org_organization"] == 1
    assert "0001_initial" in manifest["migrations"]["crm"]
    assert {item["path"] for item in manifest["files"]} == set(every_file(media))
    assert "导入/客户名单.csv" in {item["path"] for item in manifest["files"]}


def test_it_writes_the_default_archive_under_var_backups(
    organization: Organization, settings: Any, tmp_path: Path
) -> None:
    settings.VAR_DIR = tmp_path / "var"

    result = backup()

    assert result.exit_code == 0, result.output
    [archive] = (tmp_path / "var" / "backups").glob("lodestar-*.tar")
    assert str(archive) in result.output.replace("\n", "")


def test_it_refuses_to_overwrite_an_archive_without_force(
    organization: Organization, tmp_path: Path
) -> None:
    existing = tmp_path / "b.tar"
    existing.write_bytes(b"an older backup")

    result = backup(existing)

    assert result.exit_code == 2
    assert "already exists" in result.output
    assert "--force" in result.output
    assert existing.read_bytes() == b"an older backup"


def test_it_overwrites_an_archive_with_force(organization: Organization, tmp_path: Path) -> None:
    existing = tmp_path / "b.tar"
    existing.write_bytes(b"an older backup")

    assert backup(existing, "--force").exit_code == 0
    assert tarfile.is_tarfile(existing)


def test_it_refuses_to_write_the_archive_inside_the_uploaded_files(
    organization: Organization, media: Path
) -> None:
    result = backup(media / "b.tar")

    assert result.exit_code == 2
    assert "inside MEDIA_ROOT" in result.output
    assert not (media / "b.tar").exists()


def test_it_leaves_no_archive_when_a_file_vanishes_during_the_backup(
    organization: Organization, media: Path, tmp_path: Path
) -> None:
    last = sorted(path for path in media.rglob("*") if path.is_file())[-1]

    def remove_a_file(phase: str, done: int, total: int) -> None:
        if phase == "files" and last.exists():
            last.unlink()

    with pytest.raises(BackupError, match="could not be written"):
        backup_create(path=tmp_path / "b.tar", progress=remove_a_file)

    assert sorted(path.name for path in tmp_path.iterdir()) == ["media"]


@POSTGRES_ONLY
def test_it_refuses_a_postgresql_backup_without_pg_dump(
    organization: Organization, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))

    result = backup(tmp_path / "b.tar")

    assert result.exit_code == 2
    assert "pg_dump was not found" in result.output
    assert "postgresql-client" in result.output
    assert list(tmp_path.glob("*.tar")) == []
    assert list(tmp_path.glob(".lodestar-backup-*")) == []


@POSTGRES_ONLY
def test_it_backs_up_postgresql_from_one_snapshot_while_rows_are_written(
    organization: Organization, tmp_path: Path
) -> None:
    before = Organization.objects.count()
    written: list[int] = []

    def write_meanwhile(phase: str, done: int, total: int) -> None:
        if phase == "database" and not written:
            written.append(OrganizationFactory().pk)  # committed while pg_dump runs

    backup_create(path=tmp_path / "b.tar", progress=write_meanwhile)

    assert written
    Organization.objects.filter(pk__in=written).delete()
    OrganizationFactory(slug="wiped")
    assert restore(tmp_path / "b.tar", "--force").exit_code == 0
    assert Organization.objects.count() == before
    assert not Organization.objects.filter(pk__in=written).exists()


def test_it_copies_one_sqlite_snapshot_while_another_connection_writes(tmp_path: Path) -> None:
    path = tmp_path / "live.sqlite3"
    live = sqlite3.connect(path, isolation_level=None)
    live.execute("PRAGMA journal_mode = WAL")
    live.execute("CREATE TABLE django_migrations (id INTEGER PRIMARY KEY, app TEXT, name TEXT)")
    live.execute("INSERT INTO django_migrations (app, name) VALUES ('crm', '0001_initial')")
    live.execute("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT)")
    live.execute("BEGIN")
    live.executemany("INSERT INTO note (body) VALUES (?)", [("x" * 500,)] * 20_000)
    live.execute("COMMIT")
    writer = sqlite3.connect(path, isolation_level=None, timeout=0)  # a blocked write fails
    steps: list[int] = []

    def write_between_steps(done: int, total: int) -> None:
        steps.append(done)
        if len(steps) <= 3:  # a copy that restarted on a write would finish with these rows
            writer.execute("INSERT INTO note (body) VALUES ('written during the copy')")

    copied = SqliteDatabase(name=str(path)).dump(
        into=tmp_path / "copy.sqlite3", progress=write_between_steps
    )

    assert len(steps) >= 3
    assert copied.tables["note"] == 20_000
    copy = sqlite3.connect(tmp_path / "copy.sqlite3")
    assert copy.execute("SELECT count(*) FROM note").fetchone() == (20_000,)
    assert live.execute("SELECT count(*) FROM note").fetchone() == (20_003,)


def test_it_migrates_an_archive_older_than_the_code(
    organization: Organization, tmp_path: Path
) -> None:
    call_command("migrate", "automation", "0003", verbosity=0)
    backup(tmp_path / "older.tar")
    call_command("migrate", verbosity=0)

    result = restore(tmp_path / "older.tar", "--force")

    assert result.exit_code == 0, result.output
    assert "migrated" in result.output
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    applied = set(MigrationRecorder(connection).applied_migrations())
    assert known <= applied


class TestRefusals:
    """Each refusal exits with status 2, says what and how to fix it, and changes nothing."""

    @pytest.fixture
    def archive(self, organization: Organization, tmp_path: Path) -> Path:
        result = backup(tmp_path / "good.tar")
        assert result.exit_code == 0, result.output
        return tmp_path / "good.tar"

    @pytest.fixture
    def unchanged(self, media: Path) -> Callable[[], None]:
        """After the archive is made: change the data, and return a check that it stays so."""
        OrganizationFactory(slug="after")
        (media / "new.txt").write_bytes(b"uploaded after the backup")
        rows, files = every_row(), every_file(media)

        def check() -> None:
            assert every_row() == rows
            assert every_file(media) == files
            assert list(media.parent.glob(".lodestar-restore-*")) == []

        return check

    def refused(self, *arguments: object) -> str:
        result = restore(*arguments)
        assert result.exit_code == 2, result.output
        return " ".join(result.output.split())

    @pytest.mark.parametrize("which", ["database", "file"])
    def test_it_refuses_a_member_that_does_not_match_its_checksum(
        self, archive: Path, unchanged: Callable[[], None], tmp_path: Path, which: str
    ) -> None:
        def flip_a_byte(name: str, data: bytes) -> bytes:
            hit = name.startswith("database.") if which == "database" else name.endswith(".csv")
            return data[:-1] + bytes([data[-1] ^ 1]) if hit else data

        damaged = rewritten(archive, change=flip_a_byte, into=tmp_path / "damaged.tar")

        message = self.refused(damaged, "--force")

        assert "is damaged" in message
        assert "does not match its SHA-256" in message
        assert "use another copy" in message
        unchanged()

    def test_it_refuses_an_archive_without_a_manifest(
        self, archive: Path, unchanged: Callable[[], None], tmp_path: Path
    ) -> None:
        def drop_manifest(name: str, data: bytes) -> bytes | None:
            return None if name == "manifest.json" else data

        cut = rewritten(archive, change=drop_manifest, into=tmp_path / "cut.tar")

        message = self.refused(cut, "--force")

        assert "has no manifest.json" in message
        unchanged()

    def test_it_refuses_a_file_that_is_not_an_archive(
        self, unchanged: Callable[[], None], tmp_path: Path
    ) -> None:
        garbage = tmp_path / "garbage.tar"
        garbage.write_bytes(b"\x00not a tar file" * 100)

        message = self.refused(garbage, "--force")

        assert "cannot be opened as a backup archive" in message
        unchanged()

    def test_it_refuses_an_archive_in_a_newer_format(
        self, archive: Path, unchanged: Callable[[], None], tmp_path: Path
    ) -> None:
        newer = with_manifest(archive, tmp_path / "newer.tar", format_version=2)

        message = self.refused(newer, "--force")

        assert "backup format 2" in message
        assert "Upgrade Lodestar" in message
        unchanged()

    def test_it_refuses_an_archive_of_another_database_vendor(
        self, archive: Path, unchanged: Callable[[], None], tmp_path: Path
    ) -> None:
        other = "postgresql" if connection.vendor == "sqlite" else "sqlite"
        foreign = with_manifest(archive, tmp_path / "other.tar", database_vendor=other)

        message = self.refused(foreign, "--force")

        assert f"holds a {other} database and DATABASE_URL points at {connection.vendor}" in (
            message
        )
        unchanged()

    def test_it_refuses_an_archive_whose_migrations_this_code_does_not_know(
        self, archive: Path, unchanged: Callable[[], None], tmp_path: Path
    ) -> None:
        with tarfile.open(archive) as tar:
            stream = tar.extractfile("manifest.json")
            assert stream is not None
            migrations = json.loads(stream.read())["migrations"]
        migrations["crm"].append("9999_from_the_future")
        newer = with_manifest(archive, tmp_path / "newer.tar", migrations=migrations)

        message = self.refused(newer, "--force")

        assert "crm.9999_from_the_future" in message
        assert "upgrade Lodestar" in message
        unchanged()

    def test_it_refuses_to_replace_data_without_force(
        self, archive: Path, unchanged: Callable[[], None]
    ) -> None:
        message = self.refused(archive)

        assert "the database has data" in message
        assert "files" in message
        assert "--force" in message
        unchanged()

    def test_it_changes_nothing_when_the_database_copy_fails_midway(
        self, archive: Path, unchanged: Callable[[], None], tmp_path: Path
    ) -> None:
        """A database member cut in half but listed with its own checksum: SQLite finds the
        damage before copying, pg_restore stops midway and its transaction is rolled back."""
        with tarfile.open(archive) as tar:
            stream = tar.extractfile("manifest.json")
            assert stream is not None
            manifest = json.loads(stream.read())
        member = manifest["database"]["path"]
        with tarfile.open(archive) as tar:
            stream = tar.extractfile(member)
            assert stream is not None
            whole = stream.read()
        half = whole[: len(whole) // 2]
        manifest["database"] = {
            "path": member,
            "size": len(half),
            "sha256": hashlib.sha256(half).hexdigest(),
        }

        def cut(name: str, data: bytes) -> bytes:
            if name == member:
                return half
            return json.dumps(manifest).encode() if name == "manifest.json" else data

        message = self.refused(rewritten(archive, change=cut, into=tmp_path / "cut.tar"), "--force")

        assert "nothing was changed" in message or "rolled back" in message
        unchanged()

    @POSTGRES_ONLY
    def test_it_refuses_a_postgresql_restore_without_pg_restore(
        self,
        archive: Path,
        unchanged: Callable[[], None],
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setenv("PATH", str(tmp_path / "empty"))

        message = self.refused(archive, "--force")

        assert "pg_restore was not found" in message
        unchanged()

    @POSTGRES_ONLY
    def test_it_rolls_back_a_postgresql_restore_that_fails_midway(
        self, archive: Path, unchanged: Callable[[], None], tmp_path: Path
    ) -> None:
        """The events' data block is garbled (checksums recomputed): pg_restore has already
        sent the tables before it when it stops, and the transaction must take them back."""
        with tarfile.open(archive) as tar:
            stream = tar.extractfile("database.pgdump")
            assert stream is not None
            dump = bytearray(stream.read())
            stream = tar.extractfile("manifest.json")
            assert stream is not None
            manifest = json.loads(stream.read())
        (tmp_path / "whole.pgdump").write_bytes(dump)
        listing = subprocess.run(
            ["pg_restore", "--list", str(tmp_path / "whole.pgdump")],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        dump_id = int(re.search(r"^(\d+);.* TABLE DATA public events_event ", listing, re.M)[1])
        # A custom-format data block: 0x01, its dump id, then chunks of (length, zlib bytes).
        start = dump.index(b"\x01\x00" + struct.pack("<i", dump_id))
        length = struct.unpack("<i", dump[start + 7 : start + 11])[0]
        for offset in range(start + 11 + length // 2, start + 11 + length // 2 + 16):
            dump[offset] ^= 0xFF
        manifest["database"]["sha256"] = hashlib.sha256(dump).hexdigest()

        def garble(name: str, data: bytes) -> bytes:
            if name == "database.pgdump":
                return bytes(dump)
            return json.dumps(manifest).encode() if name == "manifest.json" else data

        garbled = rewritten(archive, change=garble, into=tmp_path / "garbled.tar")

        message = self.refused(garbled, "--force")

        assert "pg_restore could not read the dump" in message
        unchanged()


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite copy runs in this thread")
def test_it_puts_everything_back_when_the_restore_is_interrupted(
    organization: Organization, media: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(SqliteDatabase, "STEP_PAGES", 8)  # many steps: stopped in the middle
    backup(tmp_path / "b.tar")
    OrganizationFactory(slug="after")
    (media / "new.txt").write_bytes(b"uploaded after the backup")
    rows, files = every_row(), every_file(media)

    def interrupt(phase: str, done: int, total: int) -> None:
        if phase == "database":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        backup_restore(path=tmp_path / "b.tar", force=True, progress=interrupt)

    assert every_row() == rows
    assert every_file(media) == files
