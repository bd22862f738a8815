"""The seeds' yardsticks (验证维度), each a figure with the rows behind it, scoped by role.

`metric_report(user=…, name=…, filters=…)` answers one of `METRICS` over the people the user
may see (a rep: themselves; a manager: their teams and themselves; ops and admins: everyone),
narrowed by `team` / `rep`, over the local dates `[date_from, date_to]` (default: this month
so far). The maths is `lodestar.core.scoring.yardsticks`; this module only gathers rows.

Definitions that are ours (the seeds name the yardstick, not its rows):

- *record completeness* — an account is complete when it has an industry, a region, an owner,
  at least one contact and at least one decision-maker contact;
- *daily-report on-time* — a report is due on every working day of the organization's business
  calendar (`lodestar.org.calendar`: working weekdays and make-up days, minus public and own
  holidays) by the organization's due time (`Organization.daily_report_due`: by default the end
  of that day, local time), judged by when it was first sent (later edits do not count);
- *cross-department response* — tasks that wait on a department (`Task.department`), from
  creation to completion;
- *stage accuracy* — open deals whose current evidence satisfies the exit gate of every stage
  before their current one (at most `ACCURACY_LIMIT` deals are evaluated per request);
- *action penetration* — the playbook's `required_actions`, each set counted once over the
  requested period, on the accounts the people own.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lodestar.automation.models import Task, TaskStatus
from lodestar.core.scoring import (
    AccountActivity,
    ClosedDeal,
    DealGateEvidence,
    DealProgress,
    DueItem,
    HandOff,
    Rate,
    RecordValues,
    StageStay,
    action_key,
    action_penetration,
    cycle_time,
    on_time_rate,
    record_completeness,
    required_action_sets_from,
    response_times,
    stage_accuracy,
    stage_conversion,
    stage_dwell,
    win_rate,
)
from lodestar.crm.models import (
    Account,
    Attachment,
    DailyReport,
    Opportunity,
    OpportunityStatus,
    StageTransition,
)
from lodestar.errors import NotFound, ValidationFailed
from lodestar.events.models import Event
from lodestar.gates.context import deal_context
from lodestar.insights.policy import InsightsPolicy, insights_policy
from lodestar.org.calendar import organization_calendar
from lodestar.org.models import Membership, Organization, User
from lodestar.org.selectors import Actor, actor_of
from lodestar.playbooks.selectors import published_playbook

__all__ = [
    "ACCURACY_LIMIT",
    "MAX_PERIOD_DAYS",
    "METRICS",
    "MetricFilters",
    "MetricReport",
    "metric_report",
    "team_metric_report",
]

ACCURACY_LIMIT = 500
# A period is at most five years: the daily-report yardstick has a row per rep and working day.
MAX_PERIOD_DAYS = 5 * 366


@dataclass(frozen=True)
class MetricFilters:
    team_id: int | None = None
    rep_id: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None


@dataclass
class MetricReport:
    name: str
    figure: float | None
    unit: str
    date_from: dt.date
    date_to: dt.date
    numerator: float | None = None
    denominator: float | None = None
    by_rep: dict[int, float | None] = field(default_factory=dict)
    by_team: dict[int, float | None] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""
    # The figures behind `note`, for the pages to word in the reader's language.
    details: dict[str, float | None] = field(default_factory=dict)


@dataclass(frozen=True)
class _Scope:
    actor: Actor | None  # None: a team's figures read by no one in particular (its report)
    organization: Organization
    people: frozenset[int]
    team_of: dict[int, int | None]
    start: dt.datetime
    end: dt.datetime  # exclusive, and never after now
    date_from: dt.date
    date_to: dt.date
    now: dt.datetime


def _scope(user: User, filters: MetricFilters, now: dt.datetime) -> _Scope:
    actor = actor_of(user=user)
    if actor is None:
        raise NotFound()
    organization = Organization.objects.get(pk=actor.organization_id)
    members = Membership.objects.filter(organization_id=actor.organization_id)
    if actor.is_manager:
        members = members.filter(Q(team_id__in=actor.managed_team_ids) | Q(user_id=actor.user_id))
    elif not actor.sees_whole_organization:
        members = members.filter(user_id=actor.user_id)
    if filters.team_id is not None:
        members = members.filter(team_id=filters.team_id)
        if not members.exists():
            raise NotFound(
                _("No team %(id)s among the teams you can see.") % {"id": filters.team_id}
            )
    if filters.rep_id is not None:
        members = members.filter(user_id=filters.rep_id)
        if not members.exists():
            raise NotFound(
                _("No person %(id)s among the people you can see.") % {"id": filters.rep_id}
            )
    return _period_scope(actor, organization, members, filters, now)


def _period_scope(
    actor: Actor | None,
    organization: Organization,
    members: Any,
    filters: MetricFilters,
    now: dt.datetime,
) -> _Scope:
    team_of: dict[int, int | None] = dict(members.values_list("user_id", "team_id"))
    tz = organization.tz
    today = now.astimezone(tz).date()
    date_from = filters.date_from or today.replace(day=1)
    date_to = filters.date_to or today
    if date_to < date_from:
        raise ValidationFailed.on("from", _("The period starts after it ends."))
    if (date_to - date_from).days >= MAX_PERIOD_DAYS:
        raise ValidationFailed.on(
            "to", _("A period spans at most %(days)d days; narrow it.") % {"days": MAX_PERIOD_DAYS}
        )
    start = dt.datetime.combine(date_from, dt.time(), tzinfo=tz)
    end = min(dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time(), tzinfo=tz), now)
    return _Scope(
        actor, organization, frozenset(team_of), team_of, start, end, date_from, date_to, now
    )


def _percent_of(share: float | None) -> float | None:
    return None if share is None else round(100 * share, 3)


def _rate_report(
    name: str, scope: _Scope, grouped: Any, rows: list[dict[str, Any]]
) -> MetricReport:
    overall: Rate = grouped.overall
    return MetricReport(
        name=name,
        figure=overall.percent,
        unit="percent",
        date_from=scope.date_from,
        date_to=scope.date_to,
        numerator=overall.numerator,
        denominator=overall.denominator,
        by_rep={k: v.percent for k, v in grouped.by_owner.items()},
        by_team={k: v.percent for k, v in grouped.by_team.items()},
        rows=rows,
    )


def _task_on_time(scope: _Scope, policy: InsightsPolicy) -> MetricReport:
    tasks = list(
        Task.objects.filter(
            organization_id=scope.organization.pk,
            assignee_id__in=scope.people,
            due_at__gte=scope.start,
            due_at__lt=scope.end,
        )
        .exclude(status=TaskStatus.CANCELLED)
        .values_list("pk", "assignee_id", "opportunity_id", "title", "due_at", "completed_at")
    )
    items = [
        DueItem(pk, due, done, assignee, scope.team_of.get(assignee))
        for pk, assignee, _deal, _title, due, done in tasks
    ]
    rows = [
        {
            "id": pk,
            "kind": "task",
            "title": title,
            "rep": assignee,
            "opportunity": deal,
            "due_at": due.isoformat(),
            "completed_at": done.isoformat() if done else None,
            "hit": done is not None and done <= due,
        }
        for pk, assignee, deal, title, due, done in tasks
    ]
    return _rate_report("task_on_time", scope, on_time_rate(items, now=scope.end), rows)


def _working_days(scope: _Scope) -> list[dt.date]:
    calendar = organization_calendar(organization=scope.organization)
    days, day = [], scope.date_from
    while day <= scope.date_to:
        if calendar.is_working_day(day):
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def _daily_report_on_time(scope: _Scope, policy: InsightsPolicy) -> MetricReport:
    reports = {
        (author, day): (pk, at)
        for pk, author, day, at in DailyReport.objects.filter(
            organization_id=scope.organization.pk,
            author_id__in=scope.people,
            date__gte=scope.date_from,
            date__lte=scope.date_to,
        ).values_list("pk", "author_id", "date", "submitted_at")
    }
    reps = set(
        Membership.objects.filter(user_id__in=scope.people, role="rep").values_list(
            "user_id", flat=True
        )
    )
    items, rows = [], []
    for day in _working_days(scope):
        due = scope.organization.daily_report_due(day)
        for rep in sorted(reps):
            pk, at = reports.get((rep, day), (None, None))
            row_id = f"{rep}:{day.isoformat()}"
            items.append(DueItem(row_id, due, at, rep, scope.team_of.get(rep)))
            rows.append(
                {
                    "id": row_id,
                    "kind": "daily_report",
                    "report": pk,
                    "rep": rep,
                    "date": day.isoformat(),
                    "due_at": due.isoformat(),
                    "submitted_at": at.isoformat() if at else None,
                    "hit": at is not None and at <= due,
                }
            )
    return _rate_report("daily_report_on_time", scope, on_time_rate(items, now=scope.now), rows)


def _hours(span: dt.timedelta | None) -> float | None:
    return None if span is None else round(span.total_seconds() / 3600, 3)


def _days(span: dt.timedelta | None) -> float | None:
    return None if span is None else round(span.total_seconds() / 86400, 3)


def _cross_department_response(scope: _Scope, policy: InsightsPolicy) -> MetricReport:
    tasks = list(
        Task.objects.filter(
            organization_id=scope.organization.pk,
            assignee_id__in=scope.people,
            created_at__gte=scope.start,
            created_at__lt=scope.end,
        )
        .exclude(department="")
        .exclude(status=TaskStatus.CANCELLED)
        .values_list("pk", "department", "title", "created_at", "completed_at", "opportunity_id")
    )
    handoffs = [
        HandOff(pk, "sales", dept, created, done) for pk, dept, _t, created, done, _d in tasks
    ]
    result = response_times(handoffs, now=scope.now)
    rows = [
        {
            "id": pk,
            "kind": "task",
            "department": dept,
            "title": title,
            "opportunity": deal,
            "requested_at": created.isoformat(),
            "responded_at": done.isoformat() if done else None,
            "hours": _hours((done - created) if done else None),
            "waiting_hours": _hours(result.unanswered.get(pk)),
        }
        for pk, dept, title, created, done, deal in tasks
    ]
    median = result.overall.median
    return MetricReport(
        name="cross_department_response",
        figure=None if median is None else round(median.total_seconds() / 86400, 3),
        unit="days (median)",
        date_from=scope.date_from,
        date_to=scope.date_to,
        numerator=result.overall.count,
        denominator=len(handoffs),
        rows=rows,
        details={
            "mean_days": None
            if result.overall.mean is None
            else result.overall.mean.total_seconds() / 86400,
            "p90_days": None
            if result.overall.p90 is None
            else result.overall.p90.total_seconds() / 86400,
            "unanswered": len(result.unanswered),
        },
        note="mean {} days, p90 {} days, {} unanswered".format(
            None
            if result.overall.mean is None
            else round(result.overall.mean.total_seconds() / 86400, 3),
            None
            if result.overall.p90 is None
            else round(result.overall.p90.total_seconds() / 86400, 3),
            len(result.unanswered),
        ),
    )


def _accounts(scope: _Scope) -> Any:
    return Account.objects.filter(organization_id=scope.organization.pk, owner_id__in=scope.people)


def _record_completeness(scope: _Scope, policy: InsightsPolicy) -> MetricReport:
    accounts = list(
        _accounts(scope)
        .annotate(
            n_contacts=Count("contacts", distinct=True),
            n_deciders=Count("contacts", filter=Q(contacts__is_decision_maker=True), distinct=True),
        )
        .values_list("pk", "name", "industry", "region", "owner_id", "n_contacts", "n_deciders")
    )
    records = [
        RecordValues(
            pk,
            {
                "industry": industry,
                "region": region,
                "owner": owner,
                "contacts": [1] * n_contacts,
                "decision_maker": [1] * n_deciders,
            },
        )
        for pk, _name, industry, region, owner, n_contacts, n_deciders in accounts
    ]
    report = record_completeness(
        records, ["industry", "region", "owner", "contacts", "decision_maker"]
    )
    owner_of = {pk: owner for pk, _n, _i, _r, owner, _c, _d in accounts}
    name_of = {pk: name for pk, name, *_ in accounts}
    by_rep: defaultdict[int, list[bool]] = defaultdict(list)
    rows = []
    for record in report.records:
        owner = owner_of[record.record_id]
        by_rep[owner].append(not record.missing)
        rows.append(
            {
                "id": record.record_id,
                "kind": "account",
                "name": name_of[record.record_id],
                "rep": owner,
                "missing": list(record.missing),
                "hit": not record.missing,
            }
        )
    rate = report.complete_records
    return MetricReport(
        name="record_completeness",
        figure=rate.percent,
        unit="percent",
        date_from=scope.date_from,
        date_to=scope.date_to,
        numerator=rate.numerator,
        denominator=rate.denominator,
        by_rep={k: round(100 * sum(v) / len(v), 9) for k, v in by_rep.items()},
        rows=rows,
        note=f"fields filled {report.fields_filled.percent}%",
        details={"fields_filled": report.fields_filled.percent},
    )


def _deals(scope: _Scope) -> Any:
    return Opportunity.objects.filter(
        organization_id=scope.organization.pk, owner_id__in=scope.people
    )


def _stage_accuracy(scope: _Scope, policy: InsightsPolicy) -> MetricReport:
    compiled = published_playbook(organization_id=scope.organization.pk)
    deals = list(
        _deals(scope)
        .filter(status=OpportunityStatus.OPEN)
        .select_related("account")
        .order_by("pk")[: ACCURACY_LIMIT + 1]
    )
    truncated = len(deals) > ACCURACY_LIMIT
    deals = deals[:ACCURACY_LIMIT]
    evidence = []
    if compiled is not None:
        order = compiled.playbook.stages
        for deal in deals:
            position = compiled.stage_order.get(deal.stage_key)
            if position is None:
                continue
            ctx = deal_context(opportunity=deal, now=scope.now, playbook=compiled.playbook)
            gates = {
                stage.key: compiled.evaluate_gate(ctx, stage.key).passed
                for stage in order[:position]
                if stage.terminal is None
            }
            evidence.append(DealGateEvidence(deal.pk, gates))
    result = stage_accuracy(evidence)
    owner_of = {d.pk: d.owner_id for d in deals}
    rows = [
        {
            "id": item.deal_id,
            "kind": "opportunity",
            "rep": owner_of[item.deal_id],
            "failing_gates": list(result.failing_gates.get(item.deal_id, ())),
            "hit": item.deal_id not in result.failing_gates,
        }
        for item in evidence
    ]
    by_rep: defaultdict[int, list[bool]] = defaultdict(list)
    for row in rows:
        by_rep[row["rep"]].append(row["hit"])
    return MetricReport(
        name="stage_accuracy",
        figure=result.rate.percent,
        unit="percent",
        date_from=scope.date_from,
        date_to=scope.date_to,
        numerator=result.rate.numerator,
        denominator=result.rate.denominator,
        by_rep={k: round(100 * sum(v) / len(v), 9) for k, v in by_rep.items()},
        rows=rows,
        note=f"first {ACCURACY_LIMIT} open deals only" if truncated else "",
        details={"limit": ACCURACY_LIMIT} if truncated else {},
    )


def _closed(scope: _Scope) -> list[ClosedDeal]:
    return [
        ClosedDeal(pk, created, closed, status == OpportunityStatus.WON, owner, team)
        for pk, created, closed, status, owner, team in _deals(scope)
        .filter(
            status__in=(OpportunityStatus.WON, OpportunityStatus.LOST),
            closed_at__gte=scope.start,
            closed_at__lt=scope.end,
        )
        .values_list("pk", "created_at", "closed_at", "status", "owner_id", "team_id")
    ]


def _closed_rows(deals: list[ClosedDeal]) -> list[dict[str, Any]]:
    return [
        {
            "id": d.deal_id,
            "kind": "opportunity",
            "rep": d.rep_id,
            "won": d.won,
            "opened_at": d.opened_at.isoformat(),
            "closed_at": d.closed_at.isoformat(),
            "days": round((d.closed_at - d.opened_at).total_seconds() / 86400, 3),
            "hit": d.won,
        }
        for d in deals
    ]


def _win_rate(scope: _Scope, policy: InsightsPolicy) -> MetricReport:
    deals = _closed(scope)
    return _rate_report("win_rate", scope, win_rate(deals), _closed_rows(deals))


def _cycle_time(scope: _Scope, policy: InsightsPolicy) -> MetricReport:
    deals = _closed(scope)
    stats = cycle_time(deals)
    return MetricReport(
        name="cycle_time",
        figure=None if stats.median is None else round(stats.median.total_seconds() / 86400, 3),
        unit="days (median, won deals)",
        date_from=scope.date_from,
        date_to=scope.date_to,
        numerator=stats.count,
        denominator=len(deals),
        rows=[row for row in _closed_rows(deals) if row["won"]],
    )


def _stays(scope: _Scope) -> tuple[list[StageStay], dict[int, int]]:
    """Stage stays of the people's deals that overlap the period, and each deal's owner."""
    deals = {
        pk: (owner, created, stage)
        for pk, owner, created, stage in _deals(scope)
        .filter(created_at__lt=scope.end)
        .exclude(closed_at__lt=scope.start)
        .values_list("pk", "owner_id", "created_at", "stage_key")
    }
    moves: defaultdict[int, list[tuple[dt.datetime, str, str]]] = defaultdict(list)
    for deal_id, at, src, dst in (
        StageTransition.objects.filter(
            organization_id=scope.organization.pk, opportunity__in=_deals(scope)
        )
        .filter(opportunity_id__in=list(deals))
        .order_by("occurred_at", "pk")
        .values_list("opportunity_id", "occurred_at", "from_stage", "to_stage")
    ):
        moves[deal_id].append((at, src, dst))
    stays = []
    for deal_id, (_owner, created, stage) in deals.items():
        entered, current = created, (moves[deal_id][0][1] if moves[deal_id] else stage)
        for at, _src, dst in moves[deal_id]:
            stays.append(StageStay(deal_id, current, entered, at))
            entered, current = at, dst
        stays.append(StageStay(deal_id, current, entered, None))
    return stays, {pk: v[0] for pk, v in deals.items()}


def _stage_dwell(scope: _Scope, policy: InsightsPolicy) -> MetricReport:
    stays, _owners = _stays(scope)
    finished = [s for s in stays if s.left_at is not None and scope.start <= s.left_at < scope.end]
    stats = stage_dwell(finished, now=scope.end)
    order = policy.stage_positions
    rows = [
        {
            "id": stage,
            "kind": "stage",
            "count": item.count,
            "median_hours": None
            if item.median is None
            else round(item.median.total_seconds() / 3600, 3),
            "mean_hours": None if item.mean is None else round(item.mean.total_seconds() / 3600, 3),
            "p90_hours": None if item.p90 is None else round(item.p90.total_seconds() / 3600, 3),
            "target_hours": (
                round(policy.stage_targets[stage].total_seconds() / 3600, 3)
                if stage in policy.stage_targets
                else None
            ),
            "deals": list(item.rows),
        }
        for stage, item in sorted(stats.items(), key=lambda kv: (order.get(kv[0], 999), kv[0]))
    ]
    total = sum(s.left_at.timestamp() - s.entered_at.timestamp() for s in finished if s.left_at)
    return MetricReport(
        name="stage_dwell",
        figure=round(total / len(finished) / 3600, 3) if finished else None,
        unit="hours (mean over finished stays)",
        date_from=scope.date_from,
        date_to=scope.date_to,
        numerator=len(finished),
        denominator=len(finished),
        rows=rows,
    )


def _stage_conversion(scope: _Scope, policy: InsightsPolicy) -> MetricReport:
    if policy.playbook is None:
        keys: list[str] = []
    else:
        keys = [s.key for s in policy.playbook.stages if s.terminal != "lost"]
    position = {key: i for i, key in enumerate(keys)}
    deals = dict(
        _deals(scope)
        .filter(created_at__gte=scope.start, created_at__lt=scope.end)
        .values_list("pk", "stage_key")
    )
    furthest = {pk: position.get(stage, -1) for pk, stage in deals.items()}
    for deal_id, src, dst in StageTransition.objects.filter(
        organization_id=scope.organization.pk, opportunity_id__in=list(deals)
    ).values_list("opportunity_id", "from_stage", "to_stage"):
        furthest[deal_id] = max(furthest[deal_id], position.get(src, -1), position.get(dst, -1))
    progress = [DealProgress(pk, pos) for pk, pos in furthest.items() if pos >= 0]
    steps = stage_conversion(progress, keys)
    rows = [
        {
            "id": f"{step.from_stage}>{step.to_stage}",
            "kind": "stage_step",
            "from_stage": step.from_stage,
            "to_stage": step.to_stage,
            "rate": step.rate.percent,
            "reached": list(step.rate.hits),
            "stopped": list(step.rate.misses),
        }
        for step in steps
    ]
    # The headline: deals that reached the last stage (won) among those that entered the first.
    won = sum(1 for p in progress if keys and p.furthest_position >= len(keys) - 1)
    return MetricReport(
        name="stage_conversion",
        figure=round(100 * won / len(progress), 9) if progress else None,
        unit="percent (first stage to won)",
        date_from=scope.date_from,
        date_to=scope.date_to,
        numerator=won,
        denominator=len(progress),
        rows=rows,
    )


def _action_penetration(scope: _Scope, policy: InsightsPolicy) -> MetricReport:
    sets = required_action_sets_from(policy.playbook.required_actions) if policy.playbook else ()
    accounts = list(_accounts(scope).values_list("pk", "name", "tier", "owner_id"))
    ids = [a[0] for a in accounts]
    done: defaultdict[int, dict[str, int]] = defaultdict(dict)
    event_types = {a.key[6:] for s in sets for a in s.actions if a.key.startswith("event:")}
    kinds = {a.key[11:] for s in sets for a in s.actions if a.key.startswith("attachment:")}
    if event_types:
        for account_id, kind, n in (
            Event.objects.filter(
                organization_id=scope.organization.pk,
                type__in=sorted(event_types),
                occurred_at__gte=scope.start,
                occurred_at__lt=scope.end,
            )
            .annotate(acct=Coalesce("account_id", "opportunity__account_id"))
            .filter(acct__in=ids)
            .order_by()
            .values("acct", "type")
            .annotate(n=Count("pk"))
            .values_list("acct", "type", "n")
        ):
            done[account_id][action_key(event=kind)] = n
    if kinds:
        for account_id, kind, n in (
            Attachment.objects.filter(
                organization_id=scope.organization.pk,
                kind__in=sorted(kinds),
                uploaded_at__gte=scope.start,
                uploaded_at__lt=scope.end,
            )
            .annotate(acct=Coalesce("account_id", "opportunity__account_id"))
            .filter(acct__in=ids)
            .order_by()
            .values("acct", "kind")
            .annotate(n=Count("pk"))
            .values_list("acct", "kind", "n")
        ):
            done[account_id][action_key(attachment=kind)] = n
    activity = [
        AccountActivity(pk, tier, owner, scope.team_of.get(owner), done.get(pk, {}))
        for pk, _name, tier, owner in accounts
    ]
    report = action_penetration(activity, sets)
    rows = [
        {
            "id": f"{r.account_id}:{r.set_id}:{r.action_key}",
            "kind": "required_action",
            "account": r.account_id,
            "rep": r.rep_id,
            "set": r.set_id,
            "action": r.action_key,
            "due": r.due,
            "done": r.done,
            "hit": r.done >= r.due,
        }
        for r in report.rows
    ]
    return MetricReport(
        name="action_penetration",
        figure=report.overall.percent,
        unit="percent",
        date_from=scope.date_from,
        date_to=scope.date_to,
        numerator=report.overall.numerator,
        denominator=report.overall.denominator,
        # The accounts' owners and teams are ids: the core's row ids are ints here.
        by_rep={int(k): v.percent for k, v in report.by_rep.items()},
        by_team={int(k): v.percent for k, v in report.by_team.items()},
        rows=rows,
        note=f"rep average {_percent_of(report.rep_average)}",
        details={"rep_average": _percent_of(report.rep_average)},
    )


METRICS = {
    "action_penetration": _action_penetration,
    "record_completeness": _record_completeness,
    "stage_accuracy": _stage_accuracy,
    "daily_report_on_time": _daily_report_on_time,
    "cross_department_response": _cross_department_response,
    "task_on_time": _task_on_time,
    "stage_conversion": _stage_conversion,
    "stage_dwell": _stage_dwell,
    "cycle_time": _cycle_time,
    "win_rate": _win_rate,
}


def metric_report(
    *, user: User, name: str, filters: MetricFilters | None = None, now: dt.datetime | None = None
) -> MetricReport:
    """One yardstick over the people the user may see; unknown names are not found."""
    compute = METRICS.get(name)
    if compute is None:
        raise NotFound(
            _("No metric “%(name)s”; known: %(known)s.")
            % {"name": name, "known": ", ".join(sorted(METRICS))}
        )
    now = now or timezone.now()
    scope = _scope(user, filters or MetricFilters(), now)
    # A team filter reads that team's playbook (stages, required actions); else the org's.
    policy = insights_policy(
        organization=scope.organization, team_id=filters.team_id if filters else None
    )
    return compute(scope, policy)


def team_metric_report(
    *, organization: Organization, team_id: int, name: str, filters: MetricFilters, now: dt.datetime
) -> MetricReport:
    """One yardstick over the members of one team, read by no one in particular (the weekly
    report's callers decide who reads it); `filters` give the period."""
    compute = METRICS[name]
    members = Membership.objects.filter(organization_id=organization.pk, team_id=team_id)
    scope = _period_scope(None, organization, members, filters, now)
    return compute(scope, insights_policy(organization=organization, team_id=team_id))
