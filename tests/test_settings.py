"""Settings come from the environment; production defaults pass Django's deploy checks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def run_check(tmp_path: Path, **overrides: str) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SECURE_", "SESSION_", "CSRF_", "DJANGO_"))
    }
    environment.update(
        {"LODESTAR_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "lodestar.settings"}
    )
    environment.update(overrides)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "lodestar.cli",
            "manage",
            "check",
            "--deploy",
            "--fail-level",
            "WARNING",
        ],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )


def test_it_passes_the_deploy_check_with_debug_off(tmp_path: Path) -> None:
    result = run_check(tmp_path, DEBUG="false")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_it_generates_and_keeps_a_secret_key_in_the_var_folder(tmp_path: Path) -> None:
    run_check(tmp_path, DEBUG="false")
    first = (tmp_path / "secret_key").read_text()
    run_check(tmp_path, DEBUG="false")
    assert len(first) >= 50
    assert (tmp_path / "secret_key").read_text() == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_it_reads_the_time_zone_and_language_from_the_environment(tmp_path: Path) -> None:
    code = "from django.conf import settings; print(settings.TIME_ZONE, settings.LANGUAGE_CODE)"
    environment = {
        **os.environ,
        "LODESTAR_VAR_DIR": str(tmp_path),
        "TIME_ZONE": "Europe/Berlin",
        "LANGUAGE_CODE": "en",
        "DJANGO_SETTINGS_MODULE": "lodestar.settings",
    }
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.split() == ["Europe/Berlin", "en"]


def test_it_defaults_to_shanghai_time_and_simplified_chinese(settings) -> None:
    assert settings.TIME_ZONE == "Asia/Shanghai"
    assert settings.LANGUAGE_CODE == "zh-hans"


def test_sqlite_connections_use_the_write_ahead_log_and_checkpoint_every_10000_pages(
    db: None,
) -> None:
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("the PRAGMAs are SQLite's own")
    with connection.cursor() as cursor:
        pragmas = {
            name: cursor.execute(f"PRAGMA {name}").fetchone()[0]
            for name in ("journal_mode", "synchronous", "wal_autocheckpoint")
        }
    # The in-memory test database reports "memory" as its journal; a file database gets WAL.
    assert pragmas["journal_mode"] in ("wal", "memory")
    assert (pragmas["synchronous"], pragmas["wal_autocheckpoint"]) == (1, 10000)


def test_sqlite_connections_read_through_a_memory_map_and_a_32_mb_page_cache(
    tmp_path: Path,
) -> None:
    import sqlite3

    from django.conf import settings

    options = settings.DATABASES["default"].get("OPTIONS", {})
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
        pytest.skip("the PRAGMAs are SQLite's own")
    with sqlite3.connect(tmp_path / "file.sqlite3") as connection:
        connection.executescript(options["init_command"])
        mmap = connection.execute("PRAGMA mmap_size").fetchone()[0]
        cache = connection.execute("PRAGMA cache_size").fetchone()[0]
    assert mmap >= 1 << 30
    assert cache == -32768
