"""What the benchmarks share: a fresh database of the chosen kind, Django set up on it, the
command line, and the closing JSON line.

A benchmark never touches the developer's `./var` data or the test database: SQLite runs in a
temporary folder, PostgreSQL in a database named `lodestar_bench` that is dropped and created
anew for each run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH_DATABASE = "lodestar_bench"
POSTGRES_SERVER = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")


def arguments(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--scale", choices=["small", "full"], default="small")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    return parser.parse_args()


def fresh_database(
    kind: str, workdir: Path, *, name: str = BENCH_DATABASE, keep: bool = False
) -> tuple[str, Callable[[], None]]:
    """Create an empty database of `kind`, point DATABASE_URL at it, and return its URL and a
    function that drops it again (unless `keep`). SQLite lives in `workdir`."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lodestar.settings")
    os.environ["HUEY_IMMEDIATE"] = "false"
    if kind == "sqlite":
        url = f"sqlite:///{workdir / 'bench.sqlite3'}"
        os.environ["DATABASE_URL"] = url
        return url, lambda: None
    import psycopg

    with psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    url = f"{POSTGRES_SERVER}/{name}"
    os.environ["DATABASE_URL"] = url

    def drop() -> None:
        if keep:
            print(f"kept database {url}", file=sys.stderr)
            return
        from django.db import connections

        connections.close_all()
        with psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return url, drop


def setup_database(kind: str) -> Path:
    """Point Django at a new, empty database of `kind`, migrate it, and return the work folder."""
    folder = Path(tempfile.mkdtemp(prefix="lodestar-bench-"))
    os.environ["LODESTAR_VAR_DIR"] = str(folder)
    fresh_database(kind, folder)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)
    return folder


def report(*, bench: str, db: str, figure: float, unit: str, baseline: float, target: str) -> None:
    line: dict[str, Any] = {
        "bench": bench,
        "db": db,
        "figure": round(figure, 3),
        "unit": unit,
        "baseline": round(baseline, 3),
        "ratio": round(figure / baseline, 3) if baseline else 0.0,
        "target": target,
    }
    print(json.dumps(line, ensure_ascii=False))
