"""Read models of the manager dashboard, composed from the insights app's selectors.

The dashboard page itself is light (health table, alert inbox, stuck and silent deals); the
yardstick tiles, the funnel and the trend chart are fragments the page loads next, each one
selector call, so the page is on screen before the heavier figures are computed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from lodestar.core.scoring import shown_score
from lodestar.crm.models import Opportunity
from lodestar.crm.selectors import opportunity_scope
from lodestar.i18n import localized, speaks_chinese
from lodestar.insights import models as im
from lodestar.insights.metrics import MetricFilters, metric_report
from lodestar.insights.policy import health_threshold
from lodestar.insights.selectors import (
    alert_list,
    reps_in_scope,
    stuck_deal_list,
    team_health,
)
from lodestar.org.models import User
from lodestar.org.selectors import Actor, actor_of
from lodestar.playbooks.selectors import published_playbook
from lodestar.web.alert_groups import AlertGroupsPage, alert_groups_page

__all__ = [
    "TILES",
    "DashboardFilters",
    "DashboardPage",
    "dashboard_page",
    "funnel_rows",
    "health_trend",
    "tiles",
]

RANKED_SHOWN = 10

# The four yardstick tiles, in order: metric name and its label.
TILES = (
    ("action_penetration", _("Action penetration")),
    ("record_completeness", _("Record completeness")),
    ("stage_accuracy", _("Stage accuracy")),
    ("task_on_time", _("Tasks on time")),
)
DRILLDOWNS = {
    **dict(TILES),
    "stage_conversion": _("Stage conversion"),
    "stage_dwell": _("Stage dwell"),
    "daily_report_on_time": _("Daily reports on time"),
    "cross_department_response": _("Cross-department response"),
    "win_rate": _("Win rate"),
    "cycle_time": _("Cycle time"),
}


@dataclass(frozen=True)
class DashboardFilters:
    team_id: int | None = None
    rep_id: int | None = None
    weeks: int = 12

    def metric_filters(self, now: dt.datetime) -> MetricFilters:
        today = timezone.localtime(now).date()
        return MetricFilters(
            team_id=self.team_id,
            rep_id=self.rep_id,
            date_from=today - dt.timedelta(weeks=self.weeks),
            date_to=today,
        )


@dataclass
class DashboardPage:
    health: list[im.HealthSnapshot]
    threshold: float
    alerts: AlertGroupsPage  # grouped by rep and kind (`lodestar.web.alert_groups`)
    silent: list[tuple[Opportunity, float]]  # (deal, hours silent)


def _message(zh: str, en: str) -> str:
    return zh if speaks_chinese() or not en else en


def _threshold_in_force(actor: Actor | None, team_id: int | None) -> float:
    """The health score below which the team's manager is alerted, from its playbook."""
    return health_threshold(organization_id=actor.organization_id if actor else -1, team_id=team_id)


def dashboard_page(
    *, user: User, filters: DashboardFilters, now: dt.datetime, alerts_page: int = 1
) -> DashboardPage:
    actor = actor_of(user=user)
    reps = reps_in_scope(actor=actor)
    if filters.team_id is not None:
        reps = reps.filter(team_id=filters.team_id)
    if filters.rep_id is not None:
        reps = reps.filter(user_id=filters.rep_id)
    rep_ids = set(reps.values_list("user_id", flat=True))
    health = [s for s in team_health(user=user) if s.rep_id in rep_ids]
    # The limit the snapshots were scored against; without one, the playbook's in force.
    threshold = health[0].threshold if health else _threshold_in_force(actor, filters.team_id)

    live = alert_list(user=user, status="live")
    alerts = alert_groups_page(user=user, rep_ids=rep_ids, page=alerts_page, now=now)

    silent_alerts = list(
        live.filter(kind="risk.silence", opportunity__owner_id__in=rep_ids)
        .select_related("opportunity__account", "opportunity__owner")
        .order_by("raised_at")[:RANKED_SHOWN]
    )
    # A silence alert counts from the last customer interaction (or the opening): ingestion
    # rewrites its `since` when an event moves that moment, so the page needs no event of its own.
    silent = [
        (
            alert.opportunity,
            (now - (alert.since or alert.opportunity.created_at)).total_seconds() / 3600,
        )
        for alert in silent_alerts
        if alert.opportunity is not None
    ]
    silent.sort(key=lambda item: -item[1])

    return DashboardPage(health=health, threshold=threshold, alerts=alerts, silent=silent)


# --- fragments -----------------------------------------------------------------------------------


@dataclass
class Tile:
    name: str
    label: str
    figure: float | None
    numerator: float | None
    denominator: float | None


# The yardsticks cover weeks of history; a figure a few minutes old is as good as a fresh one,
# and stage accuracy evaluates hundreds of gates. Each user's tiles and funnel are kept this long.
TILES_TTL = 300


def _cache_key(part: str, user: User, mf: MetricFilters) -> str:
    scope = (user.pk, user.membership.organization_id, mf.team_id, mf.rep_id)
    return f"web:{part}:" + ":".join(map(str, (*scope, mf.date_from, mf.date_to)))


def tiles(*, user: User, filters: DashboardFilters, now: dt.datetime) -> list[Tile]:
    mf = filters.metric_filters(now)
    key = _cache_key("tiles", user, mf)
    figures = cache.get(key)
    if figures is None:
        figures = []
        for name, _label in TILES:
            report = metric_report(user=user, name=name, filters=mf, now=now)
            figures.append((report.figure, report.numerator, report.denominator))
        cache.set(key, figures, TILES_TTL)
    return [
        Tile(name, str(label), *figure)
        for (name, label), figure in zip(TILES, figures, strict=True)
    ]


@dataclass
class FunnelRow:
    key: str
    name: str
    conversion: float | None
    median_hours: float | None
    target_hours: float | None
    count: int


def funnel_rows(*, user: User, filters: DashboardFilters, now: dt.datetime) -> list[FunnelRow]:
    """Per stage: the share that went on to the next stage, and the median dwell."""
    mf = filters.metric_filters(now)
    key = _cache_key("funnel", user, mf)
    cached = cache.get(key)
    if cached is None:
        cached = tuple(
            metric_report(user=user, name=name, filters=mf, now=now).rows
            for name in ("stage_conversion", "stage_dwell")
        )
        cache.set(key, cached, TILES_TTL)
    conversion_rows, dwell_rows = cached
    actor = actor_of(user=user)
    playbook = (
        published_playbook(organization_id=actor.organization_id, team_id=filters.team_id)
        if actor
        else None
    )
    by_from = {row["from_stage"]: row for row in conversion_rows}
    by_stage = {row["id"]: row for row in dwell_rows}
    rows = []
    for stage in playbook.playbook.stages if playbook else ():
        if stage.terminal is not None:
            continue
        step = by_from.get(stage.key, {})
        stay = by_stage.get(stage.key, {})
        rows.append(
            FunnelRow(
                key=stage.key,
                name=localized(stage.name),
                conversion=step.get("rate"),
                median_hours=stay.get("median_hours"),
                target_hours=stay.get("target_hours"),
                count=len(step.get("reached", [])) + len(step.get("stopped", [])),
            )
        )
    return rows


@dataclass
class TrendSeries:
    label: str
    points: list[float | None]


@dataclass
class Trend:
    weeks: list[dt.date]
    series: list[TrendSeries]
    threshold: float

    def chart_data(self) -> dict[str, Any]:
        return {
            # Each week by its Monday, in the reader's words ("12月1日", "December 1").
            "labels": [date_format(week, "MONTH_DAY_FORMAT") for week in self.weeks],
            "series": [{"label": s.label, "points": s.points} for s in self.series],
            "threshold": self.threshold,
        }


def _week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def health_trend(
    *, user: User, filters: DashboardFilters, now: dt.datetime, weeks: int = 12
) -> Trend:
    """Each rep's health over the last `weeks` weeks (the week's last snapshot), oldest first.

    Reads the daily snapshots the insights worker keeps; a week without one stays empty.
    """
    actor = actor_of(user=user)
    reps = reps_in_scope(actor=actor)
    if filters.team_id is not None:
        reps = reps.filter(team_id=filters.team_id)
    if filters.rep_id is not None:
        reps = reps.filter(user_id=filters.rep_id)
    members = list(reps)
    today = timezone.localtime(now).date()
    first = _week_start(today) - dt.timedelta(weeks=weeks - 1)
    week_list = [first + dt.timedelta(weeks=i) for i in range(weeks)]
    latest: dict[tuple[int, dt.date], tuple[dt.date, float | None]] = {}
    threshold = None  # the last snapshot's limit, else the playbook's in force
    for rep_id, day, score, limit in (
        im.HealthSnapshot.objects.filter(
            organization_id=actor.organization_id if actor else -1,
            rep_id__in=[m.user_id for m in members],
            date__gte=first,
        )
        .order_by("date")
        .values_list("rep_id", "date", "score", "threshold")
    ):
        latest[(rep_id, _week_start(day))] = (day, score)
        threshold = limit
    series = [
        TrendSeries(
            label=str(m.user),
            points=[
                shown_score(latest[(m.user_id, w)][1])  # type: ignore[arg-type]
                if (m.user_id, w) in latest and latest[(m.user_id, w)][1] is not None
                else None
                for w in week_list
            ],
        )
        for m in members
    ]
    if threshold is None:
        threshold = _threshold_in_force(actor, filters.team_id)
    return Trend(weeks=week_list, series=series, threshold=threshold)


# --- stuck deals -------------------------------------------------------------------------------

# Each stuck reason is a gate evaluation: the ranked list is kept a minute per user and filter,
# by time only, so a busy stream of events does not make every visit evaluate the gates again.
STUCK_TTL = 60


def stuck_ranked(
    *,
    user: User,
    filters: DashboardFilters,
    now: dt.datetime,
    owner_id: int | None = None,
    limit: int = RANKED_SHOWN,
) -> list[tuple[Opportunity, str, float]]:
    """Open deals past their stage's target dwell, most overrun first, with their reasons
    (`stuck_deal_list`), kept `STUCK_TTL` seconds."""
    actor = actor_of(user=user)
    if actor is None:
        return []
    key = _cache_key(f"stuck:{owner_id}:{limit}", user, filters.metric_filters(now))
    cached = cache.get(key)
    if cached is None:
        stuck = stuck_deal_list(
            user=user,
            now=now,
            team_id=filters.team_id,
            owner_id=owner_id if owner_id is not None else filters.rep_id,
            limit=limit,
        )
        cached = [(d.pk, r.message.zh, r.message.en, r.ratio) for d, r in stuck]
        cache.set(key, cached, STUCK_TTL)
    deals = (
        opportunity_scope(actor=actor)
        .select_related("account", "owner")
        .in_bulk([row[0] for row in cached])
    )
    return [
        (deals[deal_id], _message(zh, en), ratio)
        for deal_id, zh, en, ratio in cached
        if deal_id in deals
    ]
