"""Set-based reads that feed the scoring core: a handful of grouped queries per call.

Every loader takes a *deal filter* (a `Q` over `Opportunity`), so the same code serves the
full recompute (all open deals of the organization, no id lists) and the incremental refresh
(the deals an event batch touched, or the open deals of a few reps). The figures come out of
SQL aggregates (`MAX`, `COUNT … GROUP BY`); only the rows the core needs one by one (stage
regressions, exemptions, interactions inside the health window) are fetched as rows.

What counts as what:

- a **customer interaction** is an event with `with_customer` set (and, when the playbook lists
  `risks.silence.interaction_events`, of one of those types) — never an internal edit;
- the **last action** of a deal is its latest event of any kind, stage change or completed
  task (the stale rule's "无任何新动作"); trigger-made tasks are the system's doing and do not
  count, nor does `updated_at`, which system writes touch too.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any, cast

from django.db.models import Count, F, Max, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Greatest

from lodestar.automation.models import Task, TaskStatus
from lodestar.core.scoring import (
    DealRiskInput,
    Exemption,
    OpenDeal,
    StageMove,
    TaskRecord,
)
from lodestar.crm.models import Direction, Opportunity, OpportunityStatus, StageTransition
from lodestar.events.models import Event
from lodestar.insights import models as m
from lodestar.insights.policy import InsightsPolicy
from lodestar.insights.rows import Stored, rows_of
from lodestar.org.models import Membership, Role, Team

__all__ = [
    "DealFacts",
    "deal_facts",
    "exemptions_of",
    "related_q",
    "rep_teams",
    "reps_of",
    "task_records",
    "team_managers",
]


@dataclass
class DealFacts:
    deal_id: int
    name: str
    owner_id: int
    team_id: int | None
    stage: str
    stage_entered_at: dt.datetime
    opened_at: dt.datetime
    last_customer_at: dt.datetime | None = None
    last_action_at: dt.datetime | None = None
    backward: list[StageMove] = field(default_factory=list)
    exemptions: tuple[Exemption, ...] = ()
    # Customer interactions counted per health window start (see `deal_facts`); their times
    # only for the deals whose exemptions reach into a window.
    interaction_counts: dict[dt.datetime, int] = field(default_factory=dict)
    interactions: list[dt.datetime] = field(default_factory=list)

    def risk_input(self, policy: InsightsPolicy) -> DealRiskInput:
        return DealRiskInput(
            deal_id=self.deal_id,
            opened_at=self.opened_at,
            stage=self.stage,
            stage_entered_at=self.stage_entered_at,
            target_dwell=policy.stage_targets.get(self.stage),
            stage_moves=tuple(self.backward),
            last_customer_interaction_at=self.last_customer_at,
            last_action_at=self.last_action_at,
            exemptions=self.exemptions,
            stage_name=policy.stage_names.get(self.stage),
        )

    def open_deal(self, policy: InsightsPolicy) -> OpenDeal:
        return OpenDeal(
            deal_id=self.deal_id,
            opened_at=self.opened_at,
            stage=self.stage,
            stage_entered_at=self.stage_entered_at,
            target_dwell=policy.stage_targets.get(self.stage),
            customer_interactions=tuple(self.interactions),
            exemptions=self.exemptions,
            interaction_counts=tuple(self.interaction_counts.items()),
        )


def related_q(deal_q: Q, prefix: str = "opportunity") -> Q:
    """`deal_q` rewritten for a table that points at the deal through `prefix`."""
    children: list[Q | tuple[str, object]] = []
    for child in deal_q.children:
        if isinstance(child, Q):
            children.append(related_q(child, prefix))
        else:
            lookup, value = cast(tuple[str, object], child)
            children.append(
                (
                    f"{prefix}_id__{lookup[4:]}"
                    if lookup in ("pk__in", "pk__among")
                    else f"{prefix}__{lookup}",
                    value,
                )
            )
    rewritten = Q(*children, _connector=deal_q.connector, _negated=deal_q.negated)
    return rewritten


def _later(a: dt.datetime | None, b: dt.datetime | None) -> dt.datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


def exemptions_of(
    *, organization_id: int, deal_q: Q, since: dt.datetime | None = None
) -> dict[int, tuple[Exemption, ...]]:
    """Exemptions of the deals matched by `deal_q`, as core values (ending after `since`)."""
    rows = m.Exemption.objects.filter(related_q(deal_q), organization_id=organization_id)
    if since is not None:
        rows = rows.filter(ends_at__gt=since)
    found: defaultdict[int, list[Exemption]] = defaultdict(list)
    for deal_id, start, end, reason in rows_of(
        rows.annotate(start=Stored("starts_at"), end=Stored("ends_at"))
        .order_by("starts_at")
        .values_list("opportunity_id", "start", "end", "reason")
    ):
        found[deal_id].append(Exemption(start, end, reason))
    return {deal_id: tuple(items) for deal_id, items in found.items()}


def _latest(rows: QuerySet[Any], column: str) -> Subquery:
    """The latest `column` of one deal's rows: one index seek per deal, not a scan of them all."""
    return Subquery(
        rows.filter(opportunity_id=OuterRef("pk")).order_by(F(column).desc()).values(column)[:1]
    )


_BY_ID = 5000


def deal_facts(
    *,
    policy: InsightsPolicy,
    deal_q: Q,
    now: dt.datetime,
    windows: Collection[dt.timedelta] = (),
) -> dict[int, DealFacts]:
    """Facts of the open deals matched by `deal_q`, as of `now` (4–6 queries).

    One query reads the open deals with what their activity summary (`DealActivity`) says and
    their latest stage move and completed task at `now` — each an index seek per deal, so the
    cost follows the open deals, not the years of moves and tasks behind them. The summary
    answers for the latest event and customer interaction unless the playbook narrows what
    counts as an interaction (`risks.silence.interaction_events`) or the deal has events
    after `now` (the summary cannot say what was latest *then*): those deals scan the log.

    With `windows` (the health windows of the organization's playbooks), each deal's
    customer interactions inside `[max(now - window, opened), now)` are counted in SQL, one
    figure per window; only deals whose exemptions reach into a window get their
    interactions' times (the health score leaves the exempted ones out).
    """
    org_id = policy.organization_id
    open_q = deal_q & Q(status=OpportunityStatus.OPEN)
    summary = not policy.interaction_types
    facts, later = _open_deals(org_id, open_q, now, summary=summary)
    if not facts:
        return facts
    # The rows behind the deals found: named by id when they are few (an incremental refresh
    # — a join on the deals' status made PostgreSQL scan every deal), joined otherwise (the
    # full sweep over all open deals).
    found_q = Q(pk__among=sorted(facts)) if len(facts) <= _BY_ID else open_q
    through = related_q(found_q)
    customer = Q(with_customer=True)
    if policy.interaction_types:
        customer &= Q(type__in=sorted(policy.interaction_types))
    scan: Q | None = through if not summary else Q(opportunity_id__among=later) if later else None
    if scan is not None:
        _scan_log(facts, Event.objects.filter(scan, organization_id=org_id), customer, now)
    for deal_id, at, from_stage, to_stage in rows_of(
        StageTransition.objects.filter(
            through, organization_id=org_id, occurred_at__lte=now, direction=Direction.BACKWARD
        )
        .annotate(at=Stored("occurred_at"))
        .order_by("occurred_at", "id")
        .values_list("opportunity_id", "at", "from_stage", "to_stage")
    ):
        # The direction recorded when the move was made is the truth (a later playbook may
        # order its stages differently); the positions only need to say "backward".
        facts[deal_id].backward.append(StageMove(at, from_stage, to_stage, 1, 0))
    for deal_id, exemptions in exemptions_of(organization_id=org_id, deal_q=found_q).items():
        if deal_id in facts:
            facts[deal_id].exemptions = exemptions
    if windows:
        # Scoped through the deal, not the event's own organization column: the count then
        # reads the index of customer interactions alone, never the log's rows.
        interactions = Event.objects.filter(through, customer, opportunity__organization_id=org_id)
        _interactions(facts, interactions, now, sorted({now - w for w in windows}))
    return facts


def _open_deals(
    org_id: int, open_q: Q, now: dt.datetime, *, summary: bool
) -> tuple[dict[int, DealFacts], list[int]]:
    """The open deals' facts as one query reads them, and the deals whose activity summary
    cannot answer for `now` (events after it: their log is scanned)."""
    moves = StageTransition.objects.filter(organization_id=org_id, occurred_at__lte=now)
    done = Task.objects.filter(
        organization_id=org_id, completed_at__isnull=False, completed_at__lte=now
    )
    facts: dict[int, DealFacts] = {}
    later: list[int] = []
    for row in rows_of(
        Opportunity.objects.filter(open_q, organization_id=org_id)
        .annotate(
            entered=Stored("stage_entered_at"),
            opened=Stored("created_at"),
            activity_last=Stored("activity__last_event_at"),
            activity_customer=Stored("activity__last_customer_at"),
            last_move=_latest(moves, "occurred_at"),
            last_done=_latest(done, "completed_at"),
        )
        .order_by()
        .values_list(
            "pk",
            "name",
            "owner_id",
            "team_id",
            "stage_key",
            "entered",
            "opened",
            "activity_last",
            "activity_customer",
            "last_move",
            "last_done",
        )
    ):
        item = facts[row[0]] = DealFacts(*row[:7])
        last_any, last_customer, last_move, last_done = row[7:]
        if summary and last_any is not None and last_any > now:
            later.append(item.deal_id)
        elif summary:
            item.last_action_at, item.last_customer_at = last_any, last_customer
        item.last_action_at = _later(_later(item.last_action_at, last_move), last_done)
    return facts, later


def _scan_log(
    facts: dict[int, DealFacts], events: QuerySet[Event], customer: Q, now: dt.datetime
) -> None:
    """The latest event and customer interaction of the deals, read from the log."""
    for deal_id, last_any, last_customer in rows_of(
        events.filter(occurred_at__lte=now)
        .order_by()
        .values("opportunity_id")
        .annotate(last_any=Max("occurred_at"), last_customer=Max("occurred_at", filter=customer))
        .values_list("opportunity_id", "last_any", "last_customer")
    ):
        scanned = facts.get(deal_id)
        if scanned is not None:
            scanned.last_action_at = _later(scanned.last_action_at, last_any)
            scanned.last_customer_at = last_customer


def _interactions(
    facts: dict[int, DealFacts],
    events: QuerySet[Event],
    now: dt.datetime,
    starts: list[dt.datetime],
) -> None:
    """Each deal's customer interactions since each window start (one grouped count from the
    partial index of customer interactions), and the times of those whose exemptions reach
    into the longest window."""
    recent = events.filter(occurred_at__gte=starts[0], occurred_at__lt=now).order_by()
    since_opened = [Greatest(Value(start), F("opportunity__created_at")) for start in starts]
    for row in (
        recent.values("opportunity_id")
        .annotate(
            **{
                f"since_{i}": Count("opportunity_id", filter=Q(occurred_at__gte=since))
                for i, since in enumerate(since_opened)
            }
        )
        .values_list("opportunity_id", *(f"since_{i}" for i in range(len(starts))))
    ):
        item = facts.get(row[0])
        if item is not None:
            item.interaction_counts = dict(zip(starts, row[1:], strict=True))
    for item in facts.values():
        if not item.interaction_counts:
            item.interaction_counts = dict.fromkeys(starts, 0)
    overlapping = [
        deal_id
        for deal_id, item in facts.items()
        if any(e.overlap(starts[0], now) for e in item.exemptions)
    ]
    if overlapping:
        for deal_id, at in rows_of(
            recent.filter(opportunity_id__among=overlapping)
            .annotate(at=Stored("occurred_at"))
            .values_list("opportunity_id", "at")
        ):
            facts[deal_id].interactions.append(at)


def task_records(
    *, organization_id: int, rep_ids: set[int] | None, now: dt.datetime, window: dt.timedelta
) -> dict[int, list[TaskRecord]]:
    """Per assignee, the tasks due inside `[now - window, now)` (cancelled ones left out)."""
    tasks = Task.objects.filter(
        organization_id=organization_id, due_at__gte=now - window, due_at__lt=now
    ).exclude(status=TaskStatus.CANCELLED)
    if rep_ids is not None:
        tasks = tasks.filter(assignee_id__in=rep_ids)
    rows = rows_of(
        tasks.annotate(due=Stored("due_at"), done=Stored("completed_at"))
        .order_by()
        .values_list("pk", "assignee_id", "opportunity_id", "due", "done")
    )
    deal_ids = {row[2] for row in rows if row[2] is not None}
    exemptions = (
        exemptions_of(
            organization_id=organization_id,
            deal_q=Q(pk__among=sorted(deal_ids)),
            since=now - window,
        )
        if deal_ids
        else {}
    )
    found: defaultdict[int, list[TaskRecord]] = defaultdict(list)
    for task_id, assignee_id, deal_id, due, completed in rows:
        found[assignee_id].append(
            TaskRecord(
                task_id=task_id,
                due_at=due,
                completed_at=completed if completed is not None and completed <= now else None,
                deal_id=deal_id,
                exemptions=exemptions.get(deal_id, ()) if deal_id is not None else (),
            )
        )
    return found


def reps_of(organization_id: int) -> set[int]:
    """The organization's sales reps."""
    return set(
        Membership.objects.filter(organization_id=organization_id, role=Role.REP).values_list(
            "user_id", flat=True
        )
    )


def rep_teams(organization_id: int, rep_ids: Iterable[int]) -> dict[int, int | None]:
    """Each rep's team (None when they have none)."""
    return dict(
        Membership.objects.filter(
            organization_id=organization_id, user_id__in=list(rep_ids)
        ).values_list("user_id", "team_id")
    )


def team_managers(organization_id: int) -> dict[int, int]:
    """The manager of each team that has one."""
    return {
        team_id: manager_id
        for team_id, manager_id in Team.objects.filter(
            organization_id=organization_id, manager__isnull=False
        ).values_list("pk", "manager_id")
    }
