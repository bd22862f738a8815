"""Spreadsheet import through the whole path, against a raw `executemany` of the same rows.

The demo organization is loaded (the SaaS and industrial templates published, a year of
history). Then a generated deals file — one row per deal with its account, owner, product,
stage, amount and the dates it entered each stage, so each deal carries about five events of
stage history — is imported through `import_upload` and `import_run_now`: reading and
decoding the CSV, mapping, checking every row, creating the accounts it names, writing the
deals, their stage moves and events (appended without live triggers), the import records for
re-import and undo, and the closing insights recompute. Then the same deals and their stage
events are written by a bare `executemany` into the same tables, one transaction per batch of
1000 deals, in the same run (the baseline).

    python bench/importer.py [--scale small|full] [--db sqlite|postgres]

full: 100,000 deals (≈ 500,000 events).  small: 4,000 deals.
Target: import ≥ 0.25 × raw executemany (rows/s).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import arguments, report, setup_database

BATCH = 1000
ACCOUNTS = 3000
# Columns of the file; the stage dates go to the 2nd…5th working stages of the playbook.
HEADERS = [
    "商机编号",
    "商机名称",
    "客户名称",
    "负责人",
    "产品",
    "阶段",
    "金额",
    "创建时间",
    "进入阶段2",
    "进入阶段3",
    "进入阶段4",
    "进入阶段5",
    "关闭时间",
]


def mapping() -> dict[str, Any]:
    targets = [
        "external_ref",
        "name",
        "account",
        "owner",
        "product",
        "stage",
        "amount",
        "created_at",
        "stage_at:@working:2",
        "stage_at:@working:3",
        "stage_at:@working:4",
        "stage_at:@working:5",
        "closed_at",
    ]
    return {
        "kind": "deals",
        "columns": [{"column": c, "target": t} for c, t in zip(HEADERS, targets, strict=True)],
        "key_column": "商机编号",
        "value_maps": {"stage": {"赢单": "@won", "输单": "@lost", "谈判中": "@working:5"}},
        "options": {"date_order": "ymd"},
    }


def make_rows(
    count: int, owners: list[str], products: list[str], now: dt.datetime
) -> list[list[str]]:
    """Deals of the last two years: 40 % won, 25 % lost, the rest open in the 5th stage."""
    rng = random.Random(15)
    rows = []
    for index in range(count):
        created = now - dt.timedelta(days=rng.randint(150, 730), minutes=rng.randint(0, 1440))
        steps = [created + dt.timedelta(days=rng.randint(3, 12) * k) for k in (1, 2, 3, 4)]
        draw = rng.random()
        stage, closed = "谈判中", ""
        if draw < 0.65:
            stage = "赢单" if draw < 0.4 else "输单"
            closed = (steps[-1] + dt.timedelta(days=rng.randint(2, 30))).strftime("%Y-%m-%d %H:%M")
        rows.append(
            [
                f"BENCH-{index:06d}",
                f"设备采购项目 {index}",
                f"客户{rng.randrange(ACCOUNTS):04d}有限公司",
                rng.choice(owners),
                rng.choice(products),
                stage,
                f"{rng.randint(5, 500) * 1000:,}",
                created.strftime("%Y-%m-%d %H:%M"),
                *(step.strftime("%Y/%m/%d %H:%M") for step in steps),
                closed,
            ]
        )
    return rows


def to_csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADERS)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def raw_batches(
    rows: list[list[str]],
    *,
    organization_id: int,
    account_id: int,
    owner_id: int,
    stages: dict[str, str],
    first_id: int,
) -> list[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]]:
    """The rows as plain deal and stage-event parameter rows, in batches of BATCH deals, with
    the deals' primary keys given (so their events can name them), built before any timing."""
    from lodestar.core.imports import parse_datetime, parse_number

    recorded = dt.datetime.now(dt.UTC)
    batches: list[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]] = []
    for start in range(0, len(rows), BATCH):
        deals: list[tuple[Any, ...]] = []
        events: list[tuple[Any, ...]] = []
        for offset, row in enumerate(rows[start : start + BATCH]):
            pk = first_id + start + offset
            created = parse_datetime(row[7], zone="UTC")
            moves = [
                (stages[f"@working:{n}"], parse_datetime(row[7 + n - 1], zone="UTC"))
                for n in (2, 3, 4, 5)
            ]
            status = {"赢单": "won", "输单": "lost"}.get(row[5], "open")
            closed = parse_datetime(row[12], zone="UTC") if row[12] else None
            if closed is not None:
                moves.append((stages["@" + status], closed))
            deals.append(
                (
                    pk,
                    organization_id,
                    row[1],
                    row[1].casefold(),
                    account_id,
                    owner_id,
                    moves[-1][0],
                    moves[-1][1],
                    status,
                    parse_number(row[6]),
                    "CNY",
                    "{}",
                    row[0],
                    created,
                    recorded,
                    closed,
                )
            )
            before = stages["@first"]
            for number, (stage, at) in enumerate(moves):
                payload = json.dumps({"from": before, "to": stage, "direction": "forward"})
                events.append(
                    (
                        organization_id,
                        "stage.changed",
                        "raw",
                        f"{row[0]}-{number}",
                        at,
                        recorded,
                        owner_id,
                        pk,
                        account_id,
                        None,
                        False,
                        payload,
                    )
                )
                before = stage
        batches.append((deals, events))
    return batches


def _moves(organization_id: int) -> int:
    from lodestar.events.models import Event

    return Event.objects.filter(organization_id=organization_id, type="stage.changed").count()


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    count = 100_000 if args.scale == "full" else 4_000
    setup_database(args.db)

    from django.db import connection, transaction

    from lodestar.core.imports import StageInfo, resolve_stage_ref
    from lodestar.core.rules.results import Bilingual
    from lodestar.crm.models import Account, Opportunity, Product
    from lodestar.demo import load_demo_organization
    from lodestar.events.models import Event
    from lodestar.imports.lookups import Lookups
    from lodestar.imports.services import import_run_now, import_set_mapping, import_upload
    from lodestar.org.models import Membership, Role

    started = time.perf_counter()
    load_demo_organization(reps=20, deals=100, months=12, seed=11, slug="bench")
    print(f"setup: demo organization in {time.perf_counter() - started:.1f} s")
    ops = Membership.objects.filter(organization__slug="bench", role=Role.OPS).first()
    if ops is None:
        ops = Membership.objects.get(organization__slug="bench", role=Role.ADMIN)
    user = ops.user
    organization_id = ops.organization_id
    owners = list(
        Membership.objects.filter(organization_id=organization_id, role=Role.REP).values_list(
            "user__username", flat=True
        )
    )
    products = list(
        Product.objects.filter(organization_id=organization_id).values_list("name", flat=True)
    ) or ["产品"]
    rows = make_rows(count, owners, products, dt.datetime.now(dt.UTC))
    data = to_csv(rows)
    history = sum(4 + bool(row[12]) for row in rows)
    print(f"file: {count:,} deals, {history:,} stage moves, {len(data) / 1e6:.1f} MB")

    deals_before = Opportunity.objects.filter(organization_id=organization_id).count()
    moves_before = _moves(organization_id)
    ticks: list[tuple[int, int]] = []
    started, cpu = time.perf_counter(), time.process_time()
    batch = import_upload(user=user, kind="deals", file=data, filename="bench_deals.csv")
    batch = import_set_mapping(user=user, batch=batch, mapping=mapping())
    batch = import_run_now(
        user=user, batch=batch, dry_run=False, progress=lambda d, t: ticks.append((d, t))
    )
    import_seconds, import_cpu = time.perf_counter() - started, time.process_time() - cpu
    written = Opportunity.objects.filter(organization_id=organization_id).count() - deals_before
    if batch.status != "done" or written != count:
        from lodestar.imports.models import ImportProblem

        for problem in ImportProblem.objects.filter(batch=batch, severity="error")[:5]:
            print(problem.row, problem.column, problem.code, problem.message_en, file=sys.stderr)
        raise SystemExit(
            f"the import ended {batch.status} with {written:,} of {count:,} deals: "
            f"{batch.counts} {batch.error}"
        )
    moves = _moves(organization_id) - moves_before

    lookups = Lookups.load(organization_id)
    infos = [
        StageInfo(s.key, Bilingual(s.name_zh, s.name_en), s.terminal)
        for s in lookups.stages.values()
    ]
    stages = {
        ref: resolve_stage_ref(ref, infos) or ""
        for ref in (
            "@first",
            "@working:2",
            "@working:3",
            "@working:4",
            "@working:5",
            "@won",
            "@lost",
        )
    }
    account = Account.objects.filter(organization_id=organization_id).first()
    assert account is not None
    first_id = (Opportunity.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    batches = raw_batches(
        rows,
        organization_id=organization_id,
        account_id=account.pk,
        owner_id=user.pk,
        stages=stages,
        first_id=first_id,
    )
    deal_table, event_table = Opportunity._meta.db_table, Event._meta.db_table
    deal_columns = (
        "id, organization_id, name, search_key, account_id, owner_id, stage_key, "
        "stage_entered_at, status, amount, currency, custom_fields, external_ref, created_at, "
        "updated_at, closed_at"
    )
    event_columns = (
        "organization_id, type, source, external_id, occurred_at, recorded_at, actor_id, "
        "opportunity_id, account_id, contact_id, with_customer, payload"
    )
    insert_deal = f"INSERT INTO {deal_table} ({deal_columns}) VALUES ({', '.join(['%s'] * 16)})"
    insert_event = f"INSERT INTO {event_table} ({event_columns}) VALUES ({', '.join(['%s'] * 12)})"
    started, cpu = time.perf_counter(), time.process_time()
    for deals, events in batches:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(insert_deal, deals)
            cursor.executemany(insert_event, events)
    raw_seconds, raw_cpu = time.perf_counter() - started, time.process_time() - cpu

    import_rate, raw_rate = count / import_seconds, count / raw_seconds
    # The CPU time of this process (with SQLite, the database's work too) moves far less with
    # the machine's other load than the wall time the figure is measured in.
    print(f"{'path':<34}{'deals':>10}{'events':>10}{'seconds':>10}{'CPU s':>8}{'deals/s':>10}")
    for name, events, seconds, cpu_seconds, rate in (
        ("import (whole path)", moves, import_seconds, import_cpu, import_rate),
        ("raw executemany, per 1000 deals", history, raw_seconds, raw_cpu, raw_rate),
    ):
        print(
            f"{name:<34}{count:>10,}{events:>10,}{seconds:>10.1f}{cpu_seconds:>8.1f}{rate:>10,.0f}"
        )
    print(f"batch counts: {batch.counts}; progress reports: {len(ticks)}")
    report(
        bench="importer",
        db=args.db,
        figure=import_rate,
        unit="deal rows/s through import_run_now",
        baseline=raw_rate,
        target=">= 0.25",
    )


if __name__ == "__main__":
    main()
