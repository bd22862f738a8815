"""Reads of health, risks, stuck reasons, alerts and exemptions, scoped to who asks.

Who sees what (the `lodestar.org.selectors` rule, applied to people and deals):

- a rep's **health** — the rep, the manager of the rep's team, ops and admins; anyone else gets
  404 (a rep's score is not a teammate's business);
- a deal's **risks and stuck reason** — whoever may read the deal (`access_opportunity`);
- **alerts** — only their recipient;
- **exemptions** — those of the deals the user may read (a manager: every exemption of the
  teams they manage).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    Case,
    Count,
    F,
    FloatField,
    Func,
    Max,
    Q,
    QuerySet,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lodestar.automation.models import Task, TaskStatus
from lodestar.core.events import CATALOGUE
from lodestar.core.playbook.model import EventCriterion, Playbook
from lodestar.core.scoring import (
    ExpectedEvent,
    HealthScore,
    Message,
    PendingTask,
    RiskFinding,
    StuckInput,
    StuckReason,
    UnmetCriterion,
    deal_risks,
    stuck_reason,
)
from lodestar.crm.models import Opportunity, OpportunityStatus
from lodestar.crm.selectors import access_opportunity, opportunity_scope
from lodestar.errors import NotFound
from lodestar.gates.services import opportunity_gate
from lodestar.insights import models as m
from lodestar.insights.facts import deal_facts, exemptions_of
from lodestar.insights.health import rep_health_now
from lodestar.insights.policy import InsightsPolicy, Policies, insights_policy
from lodestar.insights.task_titles import task_titles
from lodestar.org.models import AuditEntry, Membership, Organization, Role, User
from lodestar.org.selectors import Actor, actor_of

__all__ = [
    "AlertGroup",
    "CoachingNote",
    "DealRiskReport",
    "HealthAction",
    "OwnHealth",
    "RepHealthReport",
    "TrendPoint",
    "access_rep",
    "alert_group_cards",
    "alert_group_list",
    "alert_groups",
    "alert_list",
    "alerts_about",
    "alerts_about_reps",
    "coaching_note_list",
    "communication_score_list",
    "deal_risk_report",
    "deal_stuck_reason",
    "exemption_list",
    "own_health",
    "rep_health_report",
    "rep_own_health",
    "reps_in_scope",
    "stuck_deal_list",
    "team_health",
    "team_stuck_deals",
]

TREND_WEEKS = 12


# --- people in scope -----------------------------------------------------------------------------


def reps_in_scope(*, actor: Actor | None) -> QuerySet[Membership]:
    """The sales reps whose figures this actor may read (memberships, with user and team)."""
    if actor is None:
        return Membership.objects.none()
    reps = Membership.objects.filter(organization_id=actor.organization_id, role=Role.REP)
    if actor.sees_whole_organization:
        pass
    elif actor.is_manager:
        reps = reps.filter(team_id__in=actor.managed_team_ids)
    else:
        reps = reps.filter(user_id=actor.user_id)
    return reps.select_related("user", "team")


def access_rep(*, user: User, rep_id: int) -> Membership:
    """A rep whose health the user may read: themselves, their manager, ops, admin; else 404."""
    membership = reps_in_scope(actor=actor_of(user=user)).filter(user_id=rep_id).first()
    if membership is None:
        raise NotFound(_("No sales rep %(id)s among the people you can see.") % {"id": rep_id})
    return membership


# --- health --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrendPoint:
    """The health of one week: the last snapshot taken in it (None when none was)."""

    week_start: dt.date
    date: dt.date | None
    score: float | None


@dataclass(frozen=True)
class RepHealthReport:
    rep: User
    team_name: str | None
    computed_at: dt.datetime
    health: HealthScore
    trend: tuple[TrendPoint, ...]
    snapshots: tuple[m.HealthSnapshot, ...]


def _week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def rep_health_report(
    *, user: User, rep_id: int, now: dt.datetime | None = None
) -> RepHealthReport:
    """The rep's health now (computed live, the same function the snapshots use) and the
    12-week trend from the daily snapshots, oldest week first."""
    membership = access_rep(user=user, rep_id=rep_id)
    now = now or timezone.now()
    policies = Policies(membership.organization)
    health = rep_health_now(policies=policies, rep_ids={rep_id}, now=now)[rep_id]
    policy = policies.default
    today = now.astimezone(policy.organization.tz).date()
    first_week = _week_start(today) - dt.timedelta(weeks=TREND_WEEKS - 1)
    snapshots = tuple(
        m.HealthSnapshot.objects.filter(
            organization_id=membership.organization_id, rep_id=rep_id, date__gte=first_week
        ).order_by("date")
    )
    return RepHealthReport(
        rep=membership.user,
        team_name=membership.team.name if membership.team else None,
        computed_at=now,
        health=health,
        trend=_weekly_trend(snapshots, first_week),
        snapshots=snapshots,
    )


def _weekly_trend(
    snapshots: Iterable[m.HealthSnapshot], first_week: dt.date
) -> tuple[TrendPoint, ...]:
    """The last snapshot of each of the TREND_WEEKS weeks from `first_week` (snapshots in date
    order), a week without one left empty."""
    last_of_week: dict[dt.date, m.HealthSnapshot] = {}
    for snapshot in snapshots:
        last_of_week[_week_start(snapshot.date)] = snapshot
    trend = []
    for index in range(TREND_WEEKS):
        week = first_week + dt.timedelta(weeks=index)
        found = last_of_week.get(week)
        trend.append(
            TrendPoint(week, found.date if found else None, found.score if found else None)
        )
    return tuple(trend)


@dataclass(frozen=True)
class HealthAction:
    """Something the rep can act on now that raises one part of their health: `count` tasks
    overdue or due today (the on-time part), deals without a customer interaction for
    `hours` (the interaction part) or past their stage's target time (the dwell part)."""

    kind: str  # "overdue", "due_today", "silent" or "past_target"
    part: str  # the key of the part it raises (`HealthScore.parts`)
    count: int
    hours: int = 0


@dataclass(frozen=True)
class OwnHealth:
    """A rep's health as they see it on their day: the latest snapshot (the very figures their
    manager's dashboard shows), its 12-week trend and what would raise it most, first."""

    snapshot: m.HealthSnapshot
    trend: tuple[TrendPoint, ...]
    actions: tuple[HealthAction, ...]


OWN_HEALTH_ACTIONS = 3


def own_health(*, user: User, now: dt.datetime) -> OwnHealth | None:
    """The health of the rep `user` (None for anyone who is not a rep, or before the first
    snapshot). Actions are ranked by how much their part could gain (its weight times what it
    lacks of 100), then by count; those with nothing to do are left out."""
    membership = reps_in_scope(actor=actor_of(user=user)).filter(user_id=user.pk).first()
    if membership is None:
        return None
    return _own_health(membership, now)


def rep_own_health(*, user: User, rep_id: int, now: dt.datetime) -> OwnHealth | None:
    """A rep's health as they see it (`own_health`), read by someone who may see it: the rep,
    their manager, ops, admins (`access_rep`; anyone else gets 404). None before the first
    snapshot."""
    return _own_health(access_rep(user=user, rep_id=rep_id), now)


def _own_health(membership: Membership, now: dt.datetime) -> OwnHealth | None:
    user_id = membership.user_id
    policy = Policies(membership.organization).of(membership.team_id)
    today = now.astimezone(policy.organization.tz).date()
    first_week = _week_start(today) - dt.timedelta(weeks=TREND_WEEKS - 1)
    snapshots = list(
        m.HealthSnapshot.objects.filter(
            organization_id=membership.organization_id, rep_id=user_id, date__gte=first_week
        ).order_by("date")
    )
    if not snapshots:
        return None
    latest = snapshots[-1]
    parts = {
        "dwell_deviation": latest.dwell_score,
        "task_on_time": latest.task_score,
        "interaction_frequency": latest.interaction_score,
    }
    weights = latest.weights or {}

    def room(action: HealthAction) -> float:
        score = parts.get(action.part)
        return float(weights.get(action.part, 0.0)) * (100.0 - (score if score is not None else 0))

    actions = sorted(
        (a for a in _health_actions(membership, policy, now) if a.count),
        key=lambda a: (-room(a), -a.count),
    )
    return OwnHealth(
        snapshot=latest,
        trend=_weekly_trend(snapshots, first_week),
        actions=tuple(actions[:OWN_HEALTH_ACTIONS]),
    )


def _health_actions(
    membership: Membership, policy: InsightsPolicy, now: dt.datetime
) -> list[HealthAction]:
    rep_id = membership.user_id
    tz = policy.organization.tz
    end_of_day = dt.datetime.combine(
        now.astimezone(tz).date() + dt.timedelta(days=1), dt.time(), tzinfo=tz
    )
    tasks = Task.objects.filter(
        organization_id=membership.organization_id, assignee_id=rep_id, status=TaskStatus.OPEN
    )
    deals = Opportunity.objects.filter(
        organization_id=membership.organization_id, owner_id=rep_id, status=OpportunityStatus.OPEN
    )
    silence = policy.risks.silence.after
    silent = deals.filter(
        Q(activity__last_customer_at__lt=now - silence) | Q(activity__last_customer_at__isnull=True)
    )
    past_target = Q()
    for stage, target in policy.stage_targets.items():
        past_target |= Q(stage_key=stage, stage_entered_at__lt=now - target)
    return [
        HealthAction("overdue", "task_on_time", tasks.filter(due_at__lt=now).count()),
        HealthAction(
            "due_today",
            "task_on_time",
            tasks.filter(due_at__gte=now, due_at__lt=end_of_day).count(),
        ),
        HealthAction(
            "silent",
            "interaction_frequency",
            silent.count(),
            hours=round(silence.total_seconds() / 3600),
        ),
        HealthAction(
            "past_target",
            "dwell_deviation",
            deals.filter(past_target).count() if policy.stage_targets else 0,
        ),
    ]


def team_health(*, user: User, date: dt.date | None = None) -> list[m.HealthSnapshot]:
    """The latest snapshot (on or before `date`) of every rep the user may see, lowest first —
    the manager dashboard's "who needs coaching now"."""
    actor = actor_of(user=user)
    rep_ids = list(reps_in_scope(actor=actor).values_list("user_id", flat=True))
    if not rep_ids or actor is None:
        return []
    snapshots = m.HealthSnapshot.objects.filter(
        organization_id=actor.organization_id, rep_id__in=rep_ids
    )
    if date is not None:
        snapshots = snapshots.filter(date__lte=date)
    latest: dict[int, m.HealthSnapshot] = {}
    for snapshot in snapshots.select_related("rep").order_by("rep_id", "-date"):
        latest.setdefault(snapshot.rep_id, snapshot)
    return sorted(latest.values(), key=lambda s: (s.score is None, s.score or 0.0, s.rep_id))


# --- deal risks and stuck reasons ----------------------------------------------------------------


def _department(name: str) -> Message | None:
    return Message(name, name) if name else None


def _next_stage(playbook: Playbook, stage_key: str) -> Message | None:
    """The name of the stage a forward move leads to (a lost end stage is not a way forward)."""
    following = playbook.stages[playbook.stage_index[stage_key] + 1 :]
    stage = next((s for s in following if s.terminal != "lost"), None)
    return None if stage is None else Message(stage.name.zh, stage.name.en or stage.name.zh)


def _stuck_input(policy: InsightsPolicy, deal: Opportunity, now: dt.datetime) -> StuckInput:
    """Unmet gate criteria (unmet "event happened" criteria become expected events), whether the
    gate is met and where to, open tasks.

    An exemption's re-check task is left out: the exemption made it, so it is no reason why
    the deal is stuck (the exemption itself leads the reason while it lasts).
    """
    unmet: list[UnmetCriterion] = []
    expected: list[ExpectedEvent] = []
    gate_met = False
    next_stage = None
    tasks = list(
        Task.objects.filter(opportunity=deal, status=TaskStatus.OPEN)
        .exclude(trigger_key__startswith=m.RECHECK_TRIGGER_PREFIX)
        .order_by("due_at", "pk")
    )
    if policy.playbook is not None and deal.stage_key in policy.stage_positions:
        stage = policy.playbook.stage(deal.stage_key)
        kinds = {c.id: c for c in stage.exit if c.id}
        event_names = {
            t.key: Message(t.name.zh, t.name.en or t.name.zh) for t in policy.playbook.event_types
        }
        # The department of an open task is who the deal waits on for that stage.
        waiting_on = next((t.department for t in tasks if t.department), "")
        gate = opportunity_gate(opportunity=deal, now=now)
        gate_met = gate.passed
        next_stage = _next_stage(policy.playbook, deal.stage_key)
        for result in gate.unmet:
            criterion = kinds.get(result.id)
            if isinstance(criterion, EventCriterion):
                key = criterion.event.type
                name = event_names.get(key)
                if name is None and key in CATALOGUE:
                    spec = CATALOGUE.get(key)
                    name = Message(spec.name_zh, spec.name_en)
                expected.append(
                    ExpectedEvent(name or Message(key, key), _department(waiting_on), key)
                )
            else:
                unmet.append(
                    UnmetCriterion(
                        Message(result.explanation.zh, result.explanation.en),
                        criterion_id=result.id,
                    )
                )
    exemptions = exemptions_of(organization_id=deal.organization_id, deal_q=Q(pk=deal.pk)).get(
        deal.pk, ()
    )
    for task in tasks:
        task.opportunity = deal  # the titles read the deal's team and name
    titles = task_titles(tasks)  # in both languages: the reason is worded for its reader
    return StuckInput(
        deal_id=deal.pk,
        stage_label=policy.stage_label(deal.stage_key),
        stage_entered_at=deal.stage_entered_at,
        target_dwell=policy.stage_targets.get(deal.stage_key),
        unmet_criteria=tuple(unmet),
        open_tasks=tuple(
            PendingTask(t.pk, titles[t.pk], t.due_at, _department(t.department)) for t in tasks
        ),
        expected_events=tuple(expected),
        exemptions=exemptions,
        gate_met=gate_met,
        next_stage=next_stage,
    )


def _reason(policy: InsightsPolicy, deal: Opportunity, now: dt.datetime) -> StuckReason | None:
    if deal.status != OpportunityStatus.OPEN:
        return None
    target = policy.stage_targets.get(deal.stage_key)
    if target is None or now - deal.stage_entered_at <= target:
        return None  # cheap exit: exemptions only shorten dwell, so it cannot be past target
    return stuck_reason(_stuck_input(policy, deal, now), now=now)


def deal_stuck_reason(
    *, user: User, opportunity_id: int, now: dt.datetime | None = None
) -> StuckReason | None:
    """Why the deal is stuck (zh + en), or None while it is within its stage's target dwell."""
    deal = access_opportunity(user=user, opportunity_id=opportunity_id)
    now = now or timezone.now()
    return _reason(insights_policy(organization=deal.organization, team_id=deal.team_id), deal, now)


@dataclass(frozen=True)
class DealRiskReport:
    opportunity: Opportunity
    computed_at: dt.datetime
    findings: tuple[RiskFinding, ...]
    stuck: StuckReason | None
    exemption: m.Exemption | None
    alerts: tuple[m.Alert, ...]


def deal_risk_report(
    *, user: User, opportunity_id: int, now: dt.datetime | None = None
) -> DealRiskReport:
    """The deal's risk findings now (exempted ones flagged), its stuck reason, its current
    exemption and the live alerts about it."""
    deal = access_opportunity(user=user, opportunity_id=opportunity_id)
    now = now or timezone.now()
    policy = insights_policy(organization=deal.organization, team_id=deal.team_id)
    facts = deal_facts(policy=policy, deal_q=Q(pk=deal.pk), now=now).get(deal.pk)
    findings = (
        tuple(deal_risks(facts.risk_input(policy), now=now, config=policy.risks)) if facts else ()
    )
    exemption = (
        m.Exemption.objects.filter(opportunity=deal, starts_at__lte=now, ends_at__gt=now)
        .order_by("-starts_at")
        .first()
    )
    alerts = tuple(
        m.Alert.objects.filter(
            opportunity=deal,
            status__in=(m.AlertStatus.OPEN, m.AlertStatus.ACKNOWLEDGED),
            recipient=user,
        ).select_related("opportunity")
    )
    return DealRiskReport(deal, now, findings, _reason(policy, deal, now), exemption, alerts)


# Most overrun deals looked at for a stuck reason (one gate evaluation each) until enough have one.
STUCK_CANDIDATES = 60


def stuck_deal_list(
    *,
    user: User,
    now: dt.datetime,
    team_id: int | None = None,
    owner_id: int | None = None,
    limit: int = 10,
) -> list[tuple[Opportunity, StuckReason]]:
    """Open deals in the user's scope past their stage's target dwell, most overrun first, each
    with its reason (the manager dashboard's "stuck deals"), optionally of one team or owner.

    The database ranks every open deal past its stage's target by dwell / target (each team's
    and stage's own target, one query); reasons are computed for the top rows only (one gate
    evaluation each), until `limit` have one.
    """
    actor = actor_of(user=user)
    if actor is None:
        return []
    policies = Policies(Organization.objects.get(pk=actor.organization_id))
    deals = opportunity_scope(actor=actor).filter(status=OpportunityStatus.OPEN)
    if team_id is not None:
        deals = deals.filter(team_id=team_id)
    if owner_id is not None:
        deals = deals.filter(owner_id=owner_id)
    return _stuck_among(deals, policies, now, limit)


def team_stuck_deals(
    *, organization: Organization, team_id: int, now: dt.datetime, limit: int = 10
) -> list[tuple[Opportunity, StuckReason]]:
    """`stuck_deal_list` for one team, read by no one in particular: the weekly report's
    stuck deals (its callers decide who reads the report)."""
    deals = Opportunity.objects.filter(
        organization_id=organization.pk, team_id=team_id, status=OpportunityStatus.OPEN
    )
    return _stuck_among(deals, Policies(organization), now, limit)


def _stuck_among(
    deals: QuerySet[Opportunity], policies: Policies, now: dt.datetime, limit: int
) -> list[tuple[Opportunity, StuckReason]]:
    out = []
    for deal in _most_overrun(deals, policies, now):
        reason = _reason(policies.of(deal.team_id), deal, now)
        if reason is not None:
            out.append((deal, reason))
        if len(out) >= limit:
            break
    return out


class _EpochSeconds(Func):
    """A timestamp as seconds since 1970, so the database can divide a dwell by its target."""

    output_field = FloatField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        template = "((julianday(%(expressions)s) - 2440587.5) * 86400.0)"
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        template = "EXTRACT(EPOCH FROM %(expressions)s)"
        return self.as_sql(compiler, connection, template=template, **extra)


def _most_overrun(
    deals: QuerySet[Opportunity], policies: Policies, now: dt.datetime
) -> list[Opportunity]:
    """The `STUCK_CANDIDATES` deals most past their stage's target dwell, most overrun first."""
    team_ids = list(deals.order_by().values_list("team_id", flat=True).distinct())
    past = Q(pk__in=[])
    targets = []
    for team_id in team_ids:
        for stage, target in policies.of(team_id).stage_targets.items():
            same = Q(team_id=team_id, stage_key=stage)
            past |= same & Q(stage_entered_at__lt=now - target)
            targets.append(When(same, then=Value(target.total_seconds())))
    if not targets:
        return []
    overrun = (Value(now.timestamp()) - _EpochSeconds(F("stage_entered_at"))) / Case(
        *targets, output_field=FloatField()
    )
    return list(
        deals.filter(past).annotate(overrun=overrun).order_by("-overrun", "pk")[:STUCK_CANDIDATES]
    )


# --- alerts, exemptions, scores ------------------------------------------------------------------


def alert_list(*, user: User, status: str | None = None) -> QuerySet[m.Alert]:
    """The user's own alerts, newest first; `status` "live" means open or acknowledged."""
    actor = actor_of(user=user)
    if actor is None:
        return m.Alert.objects.none()
    alerts = m.Alert.objects.filter(organization_id=actor.organization_id, recipient=user)
    if status == "live":
        alerts = alerts.filter(status__in=(m.AlertStatus.OPEN, m.AlertStatus.ACKNOWLEDGED))
    elif status:
        alerts = alerts.filter(status=status)
    return alerts.select_related("opportunity", "subject_user")


def exemption_list(
    *, user: User, active_at: dt.datetime | None = None, opportunity_id: int | None = None
) -> QuerySet[m.Exemption]:
    """Exemptions of the deals the user may read, newest first."""
    actor = actor_of(user=user)
    found = m.Exemption.objects.filter(opportunity__in=opportunity_scope(actor=actor))
    if active_at is not None:
        found = found.filter(starts_at__lte=active_at, ends_at__gt=active_at)
    if opportunity_id is not None:
        found = found.filter(opportunity_id=opportunity_id)
    return found.select_related("opportunity", "declared_by")


def communication_score_list(*, user: User, rep_id: int) -> QuerySet[m.CommunicationScore]:
    """A rep's communication scores (same scope as their health), newest first."""
    membership = access_rep(user=user, rep_id=rep_id)
    return m.CommunicationScore.objects.filter(
        organization_id=membership.organization_id, rep_id=rep_id
    ).select_related("event", "opportunity")


# --- alerts grouped by rep and kind --------------------------------------------------------------


@dataclass(frozen=True)
class AlertGroup:
    """The user's live alerts about one rep (`rep_id`; None: about nobody) of one kind."""

    rep_id: int | None
    rep_name: str  # empty when about nobody
    kind: str
    total: int
    open: int  # not acknowledged yet
    latest: dt.datetime


def _about(rep_ids: Iterable[int | None]) -> Q:
    """Alerts about one of `rep_ids` (None among them: about nobody). The rep an alert is
    about is its subject, else its deal's owner."""
    wanted = list(rep_ids)
    ids = [rep_id for rep_id in wanted if rep_id is not None]
    about = Q(subject_user_id__in=ids) | Q(subject_user__isnull=True, opportunity__owner_id__in=ids)
    if None not in wanted:
        return about
    return about | Q(subject_user__isnull=True, opportunity__isnull=True)


def alerts_about(alerts: QuerySet[m.Alert], *, rep_id: int | None) -> QuerySet[m.Alert]:
    """Those of `alerts` about the rep `rep_id` (None: about nobody)."""
    return alerts.filter(_about([rep_id]))


def _of_reps(alerts: QuerySet[m.Alert], rep_ids: Iterable[int] | None) -> QuerySet[m.Alert]:
    """Those about one of `rep_ids` or about nobody (None: every alert)."""
    if rep_ids is None:
        return alerts
    return alerts.filter(_about([*rep_ids, None]))


def alerts_about_reps(alerts: QuerySet[m.Alert], *, rep_ids: Iterable[int]) -> QuerySet[m.Alert]:
    """Those of `alerts` the dashboard shows for `rep_ids`: about one of them, or about nobody."""
    return _of_reps(alerts, rep_ids)


def alert_groups(*, user: User, rep_ids: Iterable[int] | None = None) -> list[AlertGroup]:
    """The user's live alerts grouped by the rep they are about and their kind, with counts:
    groups with unacknowledged alerts first, health before the rest, then the largest, then
    the most recent. `rep_ids` keeps the groups of those reps (and those about nobody)."""
    rows = list(
        _of_reps(alert_list(user=user, status="live"), rep_ids)
        .annotate(about_rep=Coalesce("subject_user_id", "opportunity__owner_id"))
        .order_by()
        .values("about_rep", "kind")
        .annotate(
            total=Count("pk"),
            open=Count("pk", filter=Q(status=m.AlertStatus.OPEN)),
            latest=Max("raised_at"),
        )
    )
    names = {
        rep.pk: str(rep)
        for rep in User.objects.filter(pk__in={row["about_rep"] for row in rows} - {None})
    }
    groups = [
        AlertGroup(
            row["about_rep"],
            names.get(row["about_rep"], ""),
            row["kind"],
            row["total"],
            row["open"],
            row["latest"],
        )
        for row in rows
    ]
    groups.sort(key=lambda g: (g.latest.timestamp(),), reverse=True)
    groups.sort(key=lambda g: (g.open == 0, g.kind != "health", -g.total))
    return groups


# The order of a group's alerts: unacknowledged first, newest first.
_GROUP_ORDER = ("status", "-raised_at", "-pk")


def alert_group_list(*, user: User, rep_id: int | None, kind: str) -> QuerySet[m.Alert]:
    """The user's live alerts of one group (`alert_groups`), unacknowledged first, newest
    first, with their deal and its owner."""
    alerts = alerts_about(alert_list(user=user, status="live"), rep_id=rep_id).filter(kind=kind)
    return alerts.select_related("opportunity__owner").order_by(*_GROUP_ORDER)


def alert_group_cards(
    *, user: User, groups: Sequence[tuple[int | None, str]], first: int
) -> dict[tuple[int | None, str], list[m.Alert]]:
    """The `first` alerts of each group (rep id, kind), as `alert_group_list` lists them, in one
    query for all the groups (a page of groups asked one query each)."""
    if not groups:
        return {}
    wanted = Q(pk__in=[])
    for rep_id, kind in groups:
        wanted |= _about([rep_id]) & Q(kind=kind)
    about = Coalesce("subject_user_id", "opportunity__owner_id")
    place = Window(
        RowNumber(),
        partition_by=[about, F("kind")],
        order_by=[F("status").asc(), F("raised_at").desc(), F("pk").desc()],
    )
    alerts = (
        alert_list(user=user, status="live")
        .filter(wanted)
        .annotate(about_rep=about, place=place)
        .filter(place__lte=first)
        .select_related("opportunity__owner")
        .order_by("place")
    )
    cards: dict[tuple[int | None, str], list[m.Alert]] = {group: [] for group in groups}
    for alert in alerts:
        cards[(alert.about_rep, alert.kind)].append(alert)
    return cards


# --- coaching ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CoachingNote:
    """A coaching session a manager planned for a rep (`coaching_task_create`): the task and
    who planned it."""

    task: Task
    planned_by: User | None


def coaching_note_list(*, user: User, rep_id: int) -> list[CoachingNote]:
    """The coaching sessions planned for a rep, newest first; the same people as the rep's
    health may read them (`access_rep`). They are known by the audit line each one leaves, so
    a session stays in the rep's list when its task was handed to someone else."""
    membership = access_rep(user=user, rep_id=rep_id)
    planned = {
        int(entry.object_id): entry.actor
        for entry in AuditEntry.objects.filter(
            organization_id=membership.organization_id,
            action="task.coaching_planned",
            object_type="task",
            data__rep_id=rep_id,
        ).select_related("actor")
    }
    tasks = (
        Task.objects.filter(organization_id=membership.organization_id, pk__in=list(planned))
        .select_related("assignee")
        .order_by("-created_at", "-pk")
    )
    return [CoachingNote(task, planned.get(task.pk)) for task in tasks]
