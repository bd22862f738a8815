"""Rep health: today's snapshot per rep, and an alert to the manager while it is low.

Each rep is scored by their team's health policy (`lodestar.core.scoring.rep_health`: stage
dwell against targets, tasks done on time, customer interactions per deal-week). Today's
`HealthSnapshot` per rep is written (the day's latest computation wins, which keeps the
trend); one alert `rep:<id>:health` goes to the manager of the rep's team while the score is
under the threshold, and resolves when it recovers.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Q

from lodestar.changes import changed
from lodestar.core.scoring import HealthScore, Message, OpenDeal, TaskRecord, rep_health
from lodestar.insights.alerts import LIVE_STATUSES, WantedAlert, alerts_sync, live_alert_rows
from lodestar.insights.facts import DealFacts, deal_facts, rep_teams, task_records, team_managers
from lodestar.insights.models import Alert, HealthSnapshot
from lodestar.insights.policy import Policies
from lodestar.insights.summary import RecomputeSummary
from lodestar.org.models import User

__all__ = [
    "HEALTH_KIND",
    "health_alert_key",
    "health_history_record",
    "health_of",
    "health_sync",
    "rep_health_now",
]

HEALTH_KIND = "health"


def health_alert_key(rep_id: int) -> str:
    return f"rep:{rep_id}:health"


def health_of(
    policies: Policies,
    facts: dict[int, DealFacts],
    tasks: dict[int, list[TaskRecord]],
    rep_ids: Iterable[int],
    now: dt.datetime,
) -> dict[int, HealthScore]:
    """Each rep scored by their team's health policy; each deal's target by its team's."""
    by_rep: defaultdict[int, list[OpenDeal]] = defaultdict(list)
    for item in facts.values():
        by_rep[item.owner_id].append(item.open_deal(policies.of(item.team_id)))
    reps = list(rep_ids)
    team_of = rep_teams(policies.organization_id, reps)
    return {
        rep_id: rep_health(
            deals=by_rep.get(rep_id, []),
            tasks=tasks.get(rep_id, []),
            now=now,
            config=policies.of(team_of.get(rep_id)).health,
        )
        for rep_id in reps
    }


def rep_health_now(
    *, policies: Policies, rep_ids: set[int], now: dt.datetime
) -> dict[int, HealthScore]:
    """The health of these reps at `now`, computed from the data (nothing is written)."""
    windows = policies.health_windows()
    facts = deal_facts(
        policy=policies.default, deal_q=Q(owner_id__in=rep_ids), now=now, windows=windows
    )
    tasks = task_records(
        organization_id=policies.organization_id, rep_ids=rep_ids, now=now, window=max(windows)
    )
    return health_of(policies, facts, tasks, rep_ids, now)


def _snapshot_rows(
    policy: Policies, scores: dict[int, HealthScore], today: dt.date, now: dt.datetime
) -> list[HealthSnapshot]:
    rows = []
    for rep_id, health in scores.items():
        dwell, tasks, inter = health.dwell, health.tasks, health.interactions
        rows.append(
            HealthSnapshot(
                organization_id=policy.organization_id,
                rep_id=rep_id,
                date=today,
                computed_at=now,
                score=health.score,
                threshold=health.threshold,
                dwell_score=dwell.score,
                task_score=tasks.score,
                interaction_score=inter.score,
                figures={
                    "deals_scored": len(dwell.deals),
                    "mean_deviation": dwell.mean_deviation,
                    "deals_exempted": list(dwell.exempted),
                    "deals_without_target": len(dwell.without_target),
                    "tasks_due": int(tasks.rate.denominator),
                    "tasks_on_time": int(tasks.rate.numerator),
                    "tasks_late": len(tasks.late),
                    "tasks_missed": len(tasks.missed),
                    "interactions": inter.interactions,
                    "deal_weeks": round(inter.deal_weeks, 6),
                    "interaction_target": inter.target_per_deal_week,
                },
                weights=health.weights,
            )
        )
    return rows


# What a health snapshot shows (its other columns say how and when it was computed).
_SHOWN_HEALTH = ("score", "threshold", "dwell_score", "task_score", "interaction_score")


def health_sync(
    policy: Policies,
    scores: dict[int, HealthScore],
    now: dt.datetime,
    summary: RecomputeSummary,
) -> None:
    today = now.astimezone(policy.organization.tz).date()
    rows = _snapshot_rows(policy, scores, today, now)
    shown = _SHOWN_HEALTH
    before = {
        row[0]: row[1:]
        for row in HealthSnapshot.objects.filter(
            organization_id=policy.organization_id,
            rep_id__among=sorted(scores),
            date=today,
        ).values_list("rep_id", *shown)
    }
    HealthSnapshot.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["organization", "rep", "date"],
        update_fields=[
            "computed_at",
            "score",
            "threshold",
            "dwell_score",
            "task_score",
            "interaction_score",
            "figures",
            "weights",
        ],
        batch_size=500,
    )
    # Pages show the figures, not when they were computed: only reps whose figures moved.
    changed(
        tables=[HealthSnapshot],
        reps=[
            row.rep_id
            for row in rows
            if before.get(row.rep_id) != tuple(getattr(row, name) for name in shown)
        ],
    )
    summary.reps += len(scores)
    org_id = policy.organization_id
    team_of = rep_teams(org_id, scores)
    managers = team_managers(org_id)
    names = dict(User.objects.filter(pk__in=list(scores)).values_list("pk", "display_name")) or {}
    wanted: dict[tuple[str, int], WantedAlert] = {}
    keep_live: set[str] = set()  # no data: neither raised nor resolved
    for rep_id, health in scores.items():
        key = health_alert_key(rep_id)
        team_id = team_of.get(rep_id)
        manager = managers.get(team_id) if team_id is not None else None
        if health.score is None:
            keep_live.add(key)
            continue
        if health.needs_attention and manager is not None and manager != rep_id:
            name = names.get(rep_id) or str(rep_id)
            wanted[(key, manager)] = WantedAlert(
                HEALTH_KIND,
                None,
                rep_id,
                text=Message(f"{name} 的{health.message.zh}", f"{name}: {health.message.en}"),
            )
    live = [
        row
        for row in live_alert_rows(
            Alert.objects.filter(
                organization_id=org_id,
                kind=HEALTH_KIND,
                status__in=LIVE_STATUSES,
                dedupe_key__in=[health_alert_key(rep_id) for rep_id in scores],
            )
        )
        if row[1] not in keep_live
    ]
    alerts_sync(
        organization=policy.organization, wanted=wanted, live=live, now=now, summary=summary
    )


def health_history_record(*, policies: Policies, rep_ids: set[int], now: dt.datetime) -> int:
    """Compute the reps' health at `now` and keep it as their snapshot of that day, alerts left
    alone: the history of daily snapshots behind the trend, written after a bulk load of past
    data (the demo's last weeks). The day must have no snapshot yet. Returns how many."""
    scores = rep_health_now(policies=policies, rep_ids=rep_ids, now=now)
    day = now.astimezone(policies.organization.tz).date()
    HealthSnapshot.objects.bulk_create(_snapshot_rows(policies, scores, day, now), batch_size=500)
    return len(scores)
