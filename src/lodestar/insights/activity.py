"""The per-deal activity summary (`DealActivity`): kept by ingestion, rebuilt from the log.

- `activity_on_events` — an ingestion step (`lodestar.events.processing`, first of all): one
  grouped upsert per batch raises each touched deal's latest times (`CASE … > …`, so a late
  event older than what is known changes nothing but the counts) and adds to its counts.
- `deal_activity_rebuild` — the same rows recounted from the event log with one
  `INSERT … SELECT … GROUP BY` (the demo loader after a bulk load, `insights_recompute(…,
  rebuild=True)`; the migration that introduced the table holds its own copy of the recount).

Both are plain SQL that SQLite (3.24+) and PostgreSQL read alike (`ON CONFLICT … DO UPDATE`
with `excluded`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import connection

from lodestar.changes import changed
from lodestar.db import insert_statements
from lodestar.events.models import Event
from lodestar.events.records import RecordedEvent
from lodestar.insights.models import DealActivity

__all__ = ["activity_on_events", "deal_activity_rebuild"]

_COLUMNS = (
    "opportunity_id",
    "organization_id",
    "last_event_at",
    "last_customer_at",
    "events",
    "customer_events",
)


def _later(table: str, column: str) -> str:
    """The later of the stored and the proposed time (NULL is "never")."""
    current = f"{table}.{column}"
    return (
        f"CASE WHEN {current} IS NULL OR excluded.{column} > {current} "
        f"THEN excluded.{column} ELSE {current} END"
    )


def activity_on_events(*, events: Sequence[RecordedEvent], now: dt.datetime) -> None:
    """Fold newly recorded events into their deals' activity rows (same transaction)."""
    totals: dict[int, list[Any]] = {}
    for event in events:
        if event.opportunity_id is None:
            continue
        row = totals.get(event.opportunity_id)
        if row is None:
            row = totals[event.opportunity_id] = [event.organization_id, None, None, 0, 0]
        at = event.occurred_at
        if row[1] is None or at > row[1]:
            row[1] = at
        row[3] += 1
        if event.with_customer:
            if row[2] is None or at > row[2]:
                row[2] = at
            row[4] += 1
    if not totals:
        return
    adapt = connection.ops.adapt_datetimefield_value
    table = connection.ops.quote_name(DealActivity._meta.db_table)
    rows = [
        (deal_id, org_id, adapt(last), adapt(last_customer) if last_customer else None, n, nc)
        for deal_id, (org_id, last, last_customer, n, nc) in sorted(totals.items())
    ]
    with connection.cursor() as cursor:
        for sql, params in insert_statements(
            DealActivity,
            _COLUMNS,
            rows,
            tail=f"ON CONFLICT (opportunity_id) DO UPDATE SET "
            f"last_event_at = {_later(table, 'last_event_at')}, "
            f"last_customer_at = {_later(table, 'last_customer_at')}, "
            f"events = {table}.events + excluded.events, "
            f"customer_events = {table}.customer_events + excluded.customer_events",
        ):
            cursor.execute(sql, params)
    changed(tables=[DealActivity], deals=totals)


def deal_activity_rebuild(*, organization_id: int | None = None) -> None:
    """Recount the activity rows of one organization (or all) from the event log."""
    table = connection.ops.quote_name(DealActivity._meta.db_table)
    events = connection.ops.quote_name(Event._meta.db_table)
    where, params = "opportunity_id IS NOT NULL", []
    if organization_id is not None:
        where += " AND organization_id = %s"
        params.append(organization_id)
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table}"  # noqa: S608 - table names from the models
            + (" WHERE organization_id = %s" if organization_id is not None else ""),
            params,
        )
        cursor.execute(
            f"INSERT INTO {table} (opportunity_id, organization_id, last_event_at, "  # noqa: S608
            f"last_customer_at, events, customer_events) "
            f"SELECT opportunity_id, MIN(organization_id), MAX(occurred_at), "
            f"MAX(CASE WHEN with_customer THEN occurred_at END), COUNT(*), "
            f"SUM(CASE WHEN with_customer THEN 1 ELSE 0 END) "
            f"FROM {events} WHERE {where} GROUP BY opportunity_id",
            params,
        )
