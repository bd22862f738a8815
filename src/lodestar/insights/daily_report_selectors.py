"""Reading daily reports, scoped by who asks.

- a **rep** reads their own reports;
- a **manager** reads their own and those of the members of the teams they manage;
- **ops** and **admins** read every report of the organization;
- nobody reads across organizations (`NotFound`, as if it did not exist).

`team_day` is the manager's day at a glance: everyone a report is expected from (the active
reps in scope, narrowed to a team), with their report or what is missing; `rep_history` one
person's days. A report's status is `on_time` or `late` (by its first send against the due
time), and a day without one is `pending` before its due time and `missing` after it on a working
day, `off` on a day off (no report is due).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

from lodestar.crm.models import DailyReport
from lodestar.errors import NotFound
from lodestar.insights.daily_reports import (
    ACTIVITY_KINDS,
    activity_counts_by_day,
    day_activity_counts,
)
from lodestar.org.calendar import organization_calendar
from lodestar.org.models import Membership, Organization, Role, Team, User
from lodestar.org.selectors import Actor, actor_of, membership_of

__all__ = [
    "HISTORY_DAYS",
    "DailyReportFilters",
    "DayRow",
    "HistoryRow",
    "OwnDay",
    "RepHistory",
    "TeamDay",
    "access_daily_report",
    "daily_report_list",
    "day_status",
    "own_day",
    "rep_history",
    "team_day",
    "visible_teams",
]

HISTORY_DAYS = 30

ON_TIME, LATE, PENDING, MISSING, OFF = "on_time", "late", "pending", "missing", "off"


def _actor(user: User) -> Actor:
    actor = actor_of(user=user)
    if actor is None:
        raise NotFound
    return actor


def _scope_q(actor: Actor, author: str = "author") -> Q:
    """The reports (or, with `author="user"`, the memberships) this actor may read."""
    in_org = Q(organization_id=actor.organization_id)
    if actor.sees_whole_organization:
        return in_org
    own = Q(**{f"{author}_id": actor.user_id})
    if actor.is_manager and actor.managed_team_ids:
        team = "team_id__in" if author == "user" else f"{author}__membership__team_id__in"
        return in_org & (own | Q(**{team: actor.managed_team_ids}))
    return in_org & own


def _organization(user: User) -> Organization:
    membership = membership_of(user=user)
    if membership is None:
        raise NotFound
    return membership.organization


@dataclass(frozen=True)
class DailyReportFilters:
    author_id: int | None = None
    team_id: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None


def daily_report_list(
    *, user: User, filters: DailyReportFilters | None = None
) -> QuerySet[DailyReport]:
    """The reports `user` may read, newest day first."""
    filters = filters or DailyReportFilters()
    actor = actor_of(user=user)
    if actor is None:
        return DailyReport.objects.none()
    reports = DailyReport.objects.filter(_scope_q(actor))
    if filters.author_id is not None:
        reports = reports.filter(author_id=filters.author_id)
    if filters.team_id is not None:
        reports = reports.filter(author__membership__team_id=filters.team_id)
    if filters.date_from is not None:
        reports = reports.filter(date__gte=filters.date_from)
    if filters.date_to is not None:
        reports = reports.filter(date__lte=filters.date_to)
    return reports.select_related("author", "author__membership__team").order_by(
        "-date", "author__username", "pk"
    )


def access_daily_report(*, user: User, report_id: int) -> DailyReport:
    found = daily_report_list(user=user).filter(pk=report_id).first()
    if found is None:
        raise NotFound
    return found


def day_status(
    *,
    organization: Organization,
    day: dt.date,
    report: DailyReport | None,
    now: dt.datetime,
    working: bool,
) -> str:
    due = organization.daily_report_due(day)
    if report is not None:
        return LATE if report.submitted_at > due else ON_TIME
    if not working:
        return OFF
    return PENDING if now <= due else MISSING


def _snapshot_counts(report: DailyReport | None) -> dict[str, int] | None:
    """The counts the report stored when sent; None for none (no report, or one sent without a
    snapshot: imported, or older than snapshots), whose counts are read from the log instead."""
    stored = report.activity.get("counts") if report and isinstance(report.activity, dict) else None
    if not isinstance(stored, dict):
        return None
    return {kind: int(stored.get(kind, 0) or 0) for kind in ACTIVITY_KINDS}


# --- one person's day ----------------------------------------------------------------------------


@dataclass(frozen=True)
class OwnDay:
    date: dt.date
    due: dt.datetime
    report: DailyReport | None
    status: str
    is_open: bool  # the report may still be sent or changed without being late
    working: bool


def own_day(*, user: User, day: dt.date, now: dt.datetime) -> OwnDay:
    """`user`'s own report of `day` and where it stands."""
    organization = _organization(user)
    report = DailyReport.objects.filter(
        organization_id=organization.pk, author_id=user.pk, date=day
    ).first()
    working = organization_calendar(organization=organization).is_working_day(day)
    due = organization.daily_report_due(day)
    status = day_status(organization=organization, day=day, report=report, now=now, working=working)
    return OwnDay(day, due, report, status, now <= due, working)


# --- the manager's day at a glance ---------------------------------------------------------------


@dataclass(frozen=True)
class DayRow:
    person: User
    team: Team | None
    status: str
    report: DailyReport | None
    counts: dict[str, int]

    @property
    def activity_total(self) -> int:
        return sum(self.counts.values())


@dataclass
class TeamDay:
    date: dt.date
    due: dt.datetime
    working: bool
    team: Team | None
    teams: list[Team]
    rows: list[DayRow] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for row in self.rows if row.status == status)

    @property
    def submitted(self) -> int:
        return self.count(ON_TIME) + self.count(LATE)

    @property
    def expected(self) -> int:
        return sum(1 for row in self.rows if row.status != OFF)


def visible_teams(*, user: User) -> list[Team]:
    """The teams whose reports `user` reads as a whole: a manager's own, everyone's for ops
    and admins, none for a rep."""
    actor = _actor(user)
    teams = Team.objects.filter(organization_id=actor.organization_id).order_by("name", "pk")
    if actor.sees_whole_organization:
        return list(teams)
    if actor.is_manager:
        return list(teams.filter(pk__in=actor.managed_team_ids))
    return []


def team_day(*, user: User, day: dt.date, team_id: int | None, now: dt.datetime) -> TeamDay:
    """Everyone a report of `day` is expected from (the active reps `user` may read, of
    `team_id` when given), with their report, its status and the day's activity counts: the
    snapshot of a sent report, the live log for those who have not sent one."""
    actor = _actor(user)
    organization = _organization(user)
    teams = visible_teams(user=user)
    team = None
    if team_id is not None:
        team = next((t for t in teams if t.pk == team_id), None)
        if team is None:
            raise NotFound
    reports = {
        report.author_id: report
        for report in daily_report_list(
            user=user,
            filters=DailyReportFilters(date_from=day, date_to=day, team_id=team_id),
        )
    }
    members = Membership.objects.filter(_scope_q(actor, author="user")).filter(
        Q(role=Role.REP, user__is_active=True) | Q(user_id__in=list(reports))
    )
    if team_id is not None:
        members = members.filter(team_id=team_id)
    members = members.select_related("user", "team").order_by("team__name", "user__username")
    working = organization_calendar(organization=organization).is_working_day(day)
    people = list(members)
    live = day_activity_counts(
        organization=organization,
        user_ids=[m.user_id for m in people if _snapshot_counts(reports.get(m.user_id)) is None],
        day=day,
    )
    result = TeamDay(
        date=day,
        due=organization.daily_report_due(day),
        working=working,
        team=team,
        teams=teams,
    )
    for member in people:
        report = reports.get(member.user_id)
        status = day_status(
            organization=organization, day=day, report=report, now=now, working=working
        )
        counts = _snapshot_counts(report) or live[member.user_id]
        result.rows.append(DayRow(member.user, member.team, status, report, counts))
    # Missing first (what the manager acts on), then late, then the rest.
    order = {MISSING: 0, LATE: 1, PENDING: 2, ON_TIME: 3, OFF: 4}
    result.rows.sort(key=lambda row: order[row.status])
    return result


# --- one person's history ------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryRow:
    date: dt.date
    working: bool
    status: str
    report: DailyReport | None
    counts: dict[str, int]


@dataclass
class RepHistory:
    person: User
    date_from: dt.date
    date_to: dt.date
    rows: list[HistoryRow]

    def count(self, status: str) -> int:
        return sum(1 for row in self.rows if row.status == status)


def rep_history(
    *, user: User, rep_id: int, date_to: dt.date, now: dt.datetime, days: int = HISTORY_DAYS
) -> RepHistory:
    """Each day of the `days` up to `date_to` of the person `rep_id`, newest first: the rep,
    their manager, ops and admins; anyone else gets `NotFound`."""
    actor = _actor(user)
    organization = _organization(user)
    member = (
        Membership.objects.filter(_scope_q(actor, author="user"), user_id=rep_id)
        .select_related("user")
        .first()
    )
    if member is None:
        raise NotFound
    date_from = date_to - dt.timedelta(days=days - 1)
    reports = {
        report.date: report
        for report in DailyReport.objects.filter(
            organization_id=organization.pk,
            author_id=rep_id,
            date__gte=date_from,
            date__lte=date_to,
        )
    }
    calendar = organization_calendar(organization=organization)
    logged = activity_counts_by_day(
        organization=organization, user_id=rep_id, date_from=date_from, date_to=date_to
    )
    rows = []
    day = date_to
    while day >= date_from:
        report = reports.get(day)
        working = calendar.is_working_day(day)
        status = day_status(
            organization=organization, day=day, report=report, now=now, working=working
        )
        counts = _snapshot_counts(report) or logged.get(day) or dict.fromkeys(ACTIVITY_KINDS, 0)
        rows.append(HistoryRow(day, working, status, report, counts))
        day -= dt.timedelta(days=1)
    return RepHistory(member.user, date_from, date_to, rows)
