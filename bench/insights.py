"""Insights full recompute against DuckDB computing the two core figures over the same rows.

Builds a demo organization with the demo generator (full: 200 reps, 50,000 deals, about
5,000,000 events; small: 20 reps, 2,000 deals, 100,000 events) in a fresh database, publishes
each team's industry playbook (绍兴 teams: industrial equipment, 杭州 teams: B2B SaaS), then:

1. times `insights_recompute` — risks and alerts, health snapshots and manager alerts,
   communication scores — first on the fresh data (every alert is new: raised, notified), then,
   after refreshing the planner statistics as the demo loader does, again (steady state: the
   hourly sweep);
2. times the two core figures in our database (SQL aggregates, as `insights.facts` runs them):
   per open deal the days since its last customer interaction, per rep the customer
   interactions in each of the last 12 weeks;
3. exports the same rows to CSV, loads them into DuckDB (in memory) and times the same two
   figures there — the baseline — and checks both give the same numbers.

    python bench/insights.py [--scale small|full] [--db sqlite|postgres] [--keep]

PostgreSQL: `DATABASE_URL` of the server (default postgres://postgres@127.0.0.1:5432/postgres);
a database `bench_insights_<pid>` is created and dropped (kept with `--keep`). SQLite: a file in
a temporary folder. Needs `duckdb` (the `bench` extra). Target: full recompute ≤ 3 × DuckDB.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import fresh_database

SCALES = {
    "small": {"reps": 20, "deals": 2_000, "events_per_deal": 50, "months": 6},
    "full": {"reps": 200, "deals": 50_000, "events_per_deal": 100, "months": 12},
}
NOW = dt.datetime(2026, 3, 16, 18, 30, tzinfo=dt.UTC)
WEEKS = 12


def _progress(phase: str, done: int, total: int) -> None:
    if done == total or done % max(1, total // 5) == 0:
        print(f"  {phase}: {done:,}/{total:,}", file=sys.stderr, flush=True)


def _sql_figures(org_id: int) -> tuple[dict[int, float], dict[int, list[int]]]:
    """The two figures from our database, set-wise (what `insights.facts` runs)."""
    from django.db.models import Count, Max, Q

    from lodestar.crm.models import Opportunity, OpportunityStatus
    from lodestar.events.models import Event

    opened = dict(
        Opportunity.objects.filter(organization_id=org_id, status=OpportunityStatus.OPEN)
        .order_by()
        .values_list("pk", "created_at")
    )
    last = dict(
        Event.objects.filter(
            organization_id=org_id,
            opportunity__status=OpportunityStatus.OPEN,
            with_customer=True,
            occurred_at__lte=NOW,
        )
        .order_by()
        .values("opportunity_id")
        .annotate(last=Max("occurred_at"))
        .values_list("opportunity_id", "last")
    )
    days = {
        deal: round((NOW - (last.get(deal) or created)).total_seconds() / 86400, 6)
        for deal, created in opened.items()
    }
    start = NOW - dt.timedelta(weeks=WEEKS)
    weekly: dict[int, list[int]] = {}
    buckets = [start + dt.timedelta(weeks=i) for i in range(WEEKS + 1)]
    aggregates = {
        f"w{i}": Count("pk", filter=Q(occurred_at__gte=buckets[i], occurred_at__lt=buckets[i + 1]))
        for i in range(WEEKS)
    }
    for row in (
        Event.objects.filter(
            organization_id=org_id,
            with_customer=True,
            occurred_at__gte=start,
            occurred_at__lt=NOW,
            opportunity__isnull=False,
        )
        .order_by()
        .values("opportunity__owner_id")
        .annotate(**aggregates)
    ):
        weekly[row["opportunity__owner_id"]] = [row[f"w{i}"] for i in range(WEEKS)]
    return days, weekly


def _export(org_id: int, workdir: Path) -> tuple[Path, Path, float]:
    """Deals and events as CSV (epoch seconds), read straight from the database."""
    from django.db import connection

    from lodestar.crm.models import Opportunity
    from lodestar.events.models import Event

    started = time.perf_counter()
    deals_csv, events_csv = workdir / "deals.csv", workdir / "events.csv"
    ev, op = Event._meta.db_table, Opportunity._meta.db_table
    if connection.vendor == "postgresql":
        queries = {
            deals_csv: f"SELECT id, owner_id, status, EXTRACT(EPOCH FROM created_at)::bigint "
            f"FROM {op} WHERE organization_id = {org_id}",
            events_csv: f"SELECT opportunity_id, EXTRACT(EPOCH FROM occurred_at)::bigint, "
            f"CASE WHEN with_customer THEN 1 ELSE 0 END FROM {ev} "
            f"WHERE organization_id = {org_id} AND opportunity_id IS NOT NULL",
        }
        connection.ensure_connection()
        raw = connection.connection
        for path, query in queries.items():
            copy_sql = f"COPY ({query}) TO STDOUT WITH (FORMAT csv)"
            with raw.cursor() as cursor, path.open("wb") as out, cursor.copy(copy_sql) as copy:
                for chunk in copy:
                    out.write(chunk)
    else:
        queries = {
            deals_csv: f"SELECT id, owner_id, status, CAST(strftime('%s', created_at) AS INTEGER) "
            f"FROM {op} WHERE organization_id = {org_id}",
            events_csv: f"SELECT opportunity_id, CAST(strftime('%s', occurred_at) AS INTEGER), "
            f"CASE WHEN with_customer THEN 1 ELSE 0 END FROM {ev} "
            f"WHERE organization_id = {org_id} AND opportunity_id IS NOT NULL",
        }
        with connection.cursor() as cursor:
            for path, query in queries.items():
                cursor.execute(query)
                with path.open("w", newline="") as out:
                    writer = csv.writer(out)
                    while rows := cursor.fetchmany(100_000):
                        writer.writerows(rows)
    return deals_csv, events_csv, time.perf_counter() - started


def _duckdb(
    deals_csv: Path, events_csv: Path
) -> tuple[dict[int, float], dict[int, list[int]], float, float]:
    import duckdb

    con = duckdb.connect()
    started = time.perf_counter()
    con.execute(
        "CREATE TABLE deals AS SELECT * FROM read_csv(?, header=false, auto_detect=false, "
        "columns={'id': 'BIGINT', 'owner': 'BIGINT', 'status': 'VARCHAR', 'created': 'BIGINT'})",
        [str(deals_csv)],
    )
    con.execute(
        "CREATE TABLE events AS SELECT * FROM read_csv(?, header=false, auto_detect=false, "
        "columns={'deal': 'BIGINT', 't': 'BIGINT', 'cust': 'INTEGER'})",
        [str(events_csv)],
    )
    loaded = time.perf_counter() - started
    now = NOW.timestamp()
    start = now - WEEKS * 7 * 86400
    started = time.perf_counter()
    days_rows = con.execute(
        """
        SELECT d.id, (? - coalesce(max(e.t), d.created)) / 86400.0
        FROM deals d LEFT JOIN events e ON e.deal = d.id AND e.cust = 1 AND e.t <= ?
        WHERE d.status = 'open'
        GROUP BY d.id, d.created
        """,
        [now, now],
    ).fetchall()
    weekly_rows = con.execute(
        """
        SELECT d.owner, CAST(floor((e.t - ?) / 604800) AS INTEGER) AS w, count(*)
        FROM events e JOIN deals d ON d.id = e.deal
        WHERE e.cust = 1 AND e.t >= ? AND e.t < ?
        GROUP BY d.owner, w
        """,
        [start, start, now],
    ).fetchall()
    seconds = time.perf_counter() - started
    days = {int(deal): round(value, 6) for deal, value in days_rows}
    weekly: dict[int, list[int]] = {}
    for owner, week, count in weekly_rows:
        weekly.setdefault(int(owner), [0] * WEEKS)[int(week)] = int(count)
    return days, weekly, loaded, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    args = parser.parse_args()
    scale = SCALES[args.scale]
    with tempfile.TemporaryDirectory(prefix="bench-insights-") as tmp:
        workdir = Path(tmp)
        _url, cleanup = fresh_database(
            args.db, workdir, name=f"bench_insights_{os.getpid()}", keep=args.keep
        )
        try:
            run(args, scale, workdir)
        finally:
            cleanup()


def run(args: argparse.Namespace, scale: dict[str, int], workdir: Path) -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.MEDIA_ROOT = workdir / "media"
    call_command("migrate", verbosity=0)
    from lodestar.demo import generate
    from lodestar.demo.generator import refresh_statistics
    from lodestar.insights.refresh import insights_recompute

    started = time.perf_counter()
    summary = generate(seed=7, now=NOW, slug="bench", progress=_progress, **scale)
    generated = time.perf_counter() - started
    org_id = summary.organization_id
    events = summary.counts.get("events", 0)
    print(
        f"data: {scale['reps']} reps, {scale['deals']:,} deals, {events:,} events "
        f"({generated:.1f} s to generate, {args.db})",
        file=sys.stderr,
    )

    started = time.perf_counter()
    first = insights_recompute(organization_id=org_id, now=NOW)
    cold = time.perf_counter() - started
    # What the demo loader does after its first run (and autovacuum in operation): fresh
    # planner statistics for the tens of thousands of alerts and scores it just wrote.
    refresh_statistics()
    marks: list[tuple[str, float]] = []
    started = time.perf_counter()
    insights_recompute(
        organization_id=org_id,
        now=NOW + dt.timedelta(hours=1),
        progress=lambda phase, done, total: marks.append((phase, time.perf_counter())),
    )
    steady = time.perf_counter() - started
    phases = ", ".join(
        f"{name} {end - begin:.3f} s"
        for name, (_, begin), (_, end) in zip(
            ("deal facts + risks", "health", "scorecard"), marks, marks[1:], strict=False
        )
    )

    started = time.perf_counter()
    sql_days, sql_weekly = _sql_figures(org_id)
    sql_seconds = time.perf_counter() - started

    deals_csv, events_csv, exported = _export(org_id, workdir)
    duck_days, duck_weekly, duck_load, duck_seconds = _duckdb(deals_csv, events_csv)
    if duck_days != sql_days or {k: v for k, v in duck_weekly.items() if any(v)} != {
        k: v for k, v in sql_weekly.items() if any(v)
    }:
        raise SystemExit("DuckDB and the database disagree on the two figures")

    rows = [
        ("full recompute, first run (all alerts new)", cold),
        ("full recompute, steady state (hourly sweep)", steady),
        ("two core figures, SQL in our database", sql_seconds),
        ("export to CSV (not timed in the baseline)", exported),
        ("DuckDB: load CSV", duck_load),
        ("DuckDB: two core figures (baseline)", duck_seconds),
    ]
    print(f"{'step':<48}{'seconds':>10}{'× DuckDB':>10}")
    for name, seconds in rows:
        print(f"{name:<48}{seconds:>10.3f}{seconds / duck_seconds:>10.1f}")
    print(f"steady state by phase: {phases}")
    print(
        f"open deals {len(sql_days):,}; reps with interactions {len(sql_weekly):,}; "
        f"findings {first.findings:,}; alerts raised {first.alerts_raised:,}; "
        f"communications scored {first.communications_scored:,}; "
        f"handbooks pushed {first.handbooks_pushed:,}"
    )
    print(
        json.dumps(
            {
                "bench": "insights",
                "db": args.db,
                "figure": round(steady, 3),
                "unit": "s per full recompute (steady state)",
                "baseline": round(duck_seconds, 3),
                "ratio": round(steady / duck_seconds, 2),
                "target": "<= 3",
            }
        )
    )


if __name__ == "__main__":
    main()
