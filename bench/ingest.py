"""Event ingestion through the whole path, against a raw `executemany` of the same rows.

The demo organization is loaded as `make run` loads it — the SaaS and industrial templates
published (organization-wide and per team), twelve months of history, and the insights engine
run once over it (risk alerts, health, scorecards), as the hourly sweep keeps it in operation.
Then events are posted in batches of 1000 through `events_ingest` — validation,
de-duplication, reference checks, the append, the activity summary, trigger tasks and their
notifications, risk checks and alerts — each batch its own transaction, as each delivery is.
Then the same rows are written by a bare `executemany` into the same table, in the same run,
twice: one transaction per batch of 1000 (the baseline: every delivery commits), and all
200,000 in one transaction (printed for comparison).

    python bench/ingest.py [--scale small|full] [--db sqlite|postgres]

full: 200 reps / 50,000 deals, 200,000 events.  small: 20 reps / 2,000 deals, 20,000 events.
Target: ingestion ≥ 0.25 × raw executemany.
"""

from __future__ import annotations

import datetime as dt
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import arguments, report, setup_database

BATCH = 1000
# Types that matter to the engine (triggers fire on the first two) mixed with everyday traffic.
MIX = (
    ("demo.booked", 0.05),
    ("demo.held", 0.05),
    ("proposal.sent", 0.05),
    ("call", 0.35),
    ("email.sent", 0.2),
    ("chat.message", 0.2),
    ("meeting.held", 0.1),
)


def make_items(deal_ids: list[int], count: int, now: dt.datetime) -> list[dict[str, Any]]:
    rng = random.Random(4)
    types = [kind for kind, _ in MIX]
    weights = [weight for _, weight in MIX]
    items = []
    for index in range(count):
        kind = rng.choices(types, weights)[0]
        payload: dict[str, Any] = {}
        if kind == "chat.message":
            payload = {"text": "王总,您要的PLC选型表已更新", "platform": "wecom"}
        items.append(
            {
                "type": kind,
                "source": "bench",
                "external_id": f"bench-{index}",
                "occurred_at": (now - dt.timedelta(minutes=rng.randint(0, 60 * 24 * 30))),
                "opportunity_id": rng.choice(deal_ids),
                "payload": payload,
            }
        )
    return items


def raw_batches(
    items: list[dict[str, Any]], organization_id: int, actor_id: int, source: str
) -> list[list[tuple]]:
    """The items as plain parameter rows, in batches of BATCH (built before any timing)."""
    import json

    now = dt.datetime.now(dt.UTC)
    rows = [
        (
            organization_id,
            item["type"],
            source,
            item["external_id"],
            item["occurred_at"],
            now,
            actor_id,
            item["opportunity_id"],
            None,
            None,
            True,
            json.dumps(item["payload"], ensure_ascii=False),
        )
        for item in items
    ]
    return [rows[start : start + BATCH] for start in range(0, len(rows), BATCH)]


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    reps, deals, count = (200, 50_000, 200_000) if args.scale == "full" else (20, 2_000, 20_000)
    setup_database(args.db)

    from django.db import connection, transaction

    from lodestar.crm.models import Opportunity
    from lodestar.demo import load_demo_organization
    from lodestar.events.models import Event
    from lodestar.events.services import events_ingest
    from lodestar.org.models import Membership, Role

    started = time.perf_counter()
    summary = load_demo_organization(
        reps=reps, deals=deals, months=12, seed=11, slug="bench", events_per_deal=2
    )
    print(f"setup: {summary.deals:,} deals in {time.perf_counter() - started:.1f} s")
    admin = Membership.objects.get(organization__slug="bench", role=Role.ADMIN).user
    organization_id = admin.membership.organization_id
    deal_ids = list(
        Opportunity.objects.filter(organization_id=organization_id).values_list("pk", flat=True)
    )
    items = make_items(deal_ids, count, dt.datetime.now(dt.UTC))

    accepted = 0
    started = time.perf_counter()
    for start in range(0, count, BATCH):
        report_ = events_ingest(user=admin, items=items[start : start + BATCH])
        accepted += report_.count("accepted")
    ingest_seconds = time.perf_counter() - started
    if accepted != count:
        raise SystemExit(f"only {accepted:,} of {count:,} events were accepted")

    table = Event._meta.db_table
    columns = (
        "organization_id, type, source, external_id, occurred_at, recorded_at, actor_id, "
        "opportunity_id, account_id, contact_id, with_customer, payload"
    )
    marks = ", ".join(["%s"] * 12)
    insert = f"INSERT INTO {table} ({columns}) VALUES ({marks})"
    per_batch = raw_batches(items, organization_id, admin.pk, "raw")
    at_once = raw_batches(items, organization_id, admin.pk, "raw-once")
    started = time.perf_counter()
    for batch in per_batch:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(insert, batch)
    raw_seconds = time.perf_counter() - started
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for batch in at_once:
            cursor.executemany(insert, batch)
    once_seconds = time.perf_counter() - started

    ingest_rate, raw_rate = count / ingest_seconds, count / raw_seconds
    once_rate = count / once_seconds
    from lodestar.automation.models import Task

    tasks = Task.objects.filter(organization_id=organization_id, trigger_key__gt="").count()
    print(f"{'path':<30}{'events':>10}{'seconds':>10}{'events/s':>12}")
    for name, seconds, rate in (
        ("events_ingest (whole path)", ingest_seconds, ingest_rate),
        ("raw executemany, per batch", raw_seconds, raw_rate),
        ("raw executemany, one commit", once_seconds, once_rate),
    ):
        print(f"{name:<30}{count:>10,}{seconds:>10.1f}{rate:>12,.0f}")
    print(f"trigger tasks in the organization: {tasks:,}")
    print(f"ratio against the single-transaction insert: {ingest_rate / once_rate:.3f}")
    report(
        bench="ingest",
        db=args.db,
        figure=ingest_rate,
        unit="events/s through events_ingest",
        baseline=raw_rate,
        target=">= 0.25",
    )


if __name__ == "__main__":
    main()
