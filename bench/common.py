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
import tempfile
from pathlib import Path
from typing import Any

BENCH_DATABASE = "lodestar_bench"
POSTGRES_SERVER = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")


def arguments(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--scale", choices=["small", "full"], default="small")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    return parser.parse_args()


def _fresh_postgres() -> str:
    import psycopg

    with psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{BENCH_DATABASE}"')
    return f"{POSTGRES_SERVER}/{BENCH_DATABASE}"


def setup_database(kind: str) -> Path:
    """Point Django at a new, empty database of `kind`, migrate it, and return the work folder."""
    folder = Path(tempfile.mkdtemp(prefix="lodestar-bench-"))
    os.environ["LODESTAR_VAR_DIR"] = str(folder)
    os.environ["DJANGO_SETTINGS_MODULE"] = "lodestar.settings"
    os.environ["HUEY_IMMEDIATE"] = "false"
    if kind == "postgres":
        os.environ["DATABASE_URL"] = _fresh_postgres()
    else:
        os.environ.pop("DATABASE_URL", None)
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
