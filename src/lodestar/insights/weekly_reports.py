"""Weekly manager reports: who reads them, when they are made, and the one way they are made.

- **Who reads**: a manager the reports of the teams they manage; ops and admins every team's;
  reps none (403). A report outside the reader's teams is not found (404).
- **When**: each organization's schedule (`WeeklyReportSchedule`; without one, Monday 08:00 in
  the organization's time zone). The worker's sweep (`weekly_reports_due`) makes the week's
  report of every team once its moment has come; "generate now" (page, API, CLI) makes it
  earlier or again.
- **Exactly once per team and week**: the unique constraint `(organization, team, week)`.
  Whoever inserts first wins; a second worker (or a re-run) finds the row and does nothing, and
  the notifications are written in the winner's transaction only (their cause is the report).
- **Snapshots**: a report stores its figures when made; reading it never recomputes them.
  Making a week's report again (`replace`) rewrites that week's figures only, and sends
  nothing again (the notifications' cause is the report, already told).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lodestar.core.reports import InvalidSchedule, InvalidWeek, IsoWeek, report_period, week_due
from lodestar.core.reports import due_at as due_moment
from lodestar.core.scoring import shown_score
from lodestar.errors import NotFound, PermissionDenied, ValidationFailed
from lodestar.insights.models import ReportTrigger, WeeklyReport, WeeklyReportSchedule
from lodestar.insights.weekly import weekly_figures
from lodestar.integrations.services import notify
from lodestar.messages import Msg
from lodestar.org.models import Organization, Team, User
from lodestar.org.selectors import Actor, actor_of
from lodestar.org.services import audit_record

__all__ = [
    "DEFAULT_HOUR",
    "DEFAULT_WEEKDAY",
    "Made",
    "Schedule",
    "access_weekly_report",
    "schedule_of",
    "weekly_report_list",
    "weekly_report_make",
    "weekly_report_teams",
    "weekly_reports_due",
    "weekly_reports_generate",
    "weekly_schedule",
    "weekly_schedule_update",
]

logger = logging.getLogger(__name__)

DEFAULT_WEEKDAY = 1  # Monday
DEFAULT_HOUR = 8

Progress = Callable[[str, int, int], None]


# --- the schedule --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Schedule:
    """When an organization's reports are made: `weekday` (1 = Monday) at `hour`, local time."""

    organization: Organization
    weekday: int
    hour: int
    enabled: bool
    updated_at: dt.datetime | None = None
    updated_by: User | None = None

    @property
    def time_zone(self) -> str:
        return self.organization.time_zone

    def due(self, week: IsoWeek) -> dt.datetime:
        return due_moment(week, weekday=self.weekday, hour=self.hour, tz=self.organization.tz)

    def next_due(self, now: dt.datetime) -> dt.datetime:
        week = IsoWeek.of(now.astimezone(self.organization.tz).date())
        moment = self.due(week)
        return moment if moment > now else self.due(week.shifted(1))


def schedule_of(*, organization: Organization) -> Schedule:
    row = (
        WeeklyReportSchedule.objects.filter(organization=organization)
        .select_related("updated_by")
        .first()
    )
    if row is None:
        return Schedule(organization, DEFAULT_WEEKDAY, DEFAULT_HOUR, True)
    return Schedule(
        organization, row.weekday, row.hour, row.enabled, row.updated_at, row.updated_by
    )


def _reader(user: User) -> Actor:
    """The actor of someone who may read weekly reports: managers, ops and admins."""
    actor = actor_of(user=user)
    if actor is None or not (actor.is_manager or actor.sees_whole_organization):
        raise PermissionDenied(_("Weekly reports are for managers, sales ops and administrators."))
    return actor


def weekly_schedule(*, user: User) -> Schedule:
    """The schedule of the user's organization (for those who read reports)."""
    actor = _reader(user)
    return schedule_of(organization=Organization.objects.get(pk=actor.organization_id))


def weekly_schedule_update(
    *, user: User, weekday: int, hour: int, enabled: bool, now: dt.datetime | None = None
) -> Schedule:
    """Change when the organization's reports are made (administrators only); audited."""
    actor = actor_of(user=user)
    if actor is None or not actor.is_admin:
        raise PermissionDenied(_("Only administrators change when weekly reports are sent."))
    if not 1 <= weekday <= 7:
        raise ValidationFailed.on(
            "weekday",
            _("Choose a weekday from 1 (Monday) to 7 (Sunday); got %(v)s.") % {"v": weekday},
        )
    if not 0 <= hour <= 23:
        raise ValidationFailed.on(
            "hour", _("Choose an hour from 0 to 23 (local time); got %(v)s.") % {"v": hour}
        )
    now = now or timezone.now()
    organization = Organization.objects.get(pk=actor.organization_id)
    with transaction.atomic():
        WeeklyReportSchedule.objects.update_or_create(
            organization=organization,
            defaults={
                "weekday": weekday,
                "hour": hour,
                "enabled": enabled,
                "updated_at": now,
                "updated_by": user,
            },
        )
        audit_record(
            organization_id=organization.pk,
            actor=user,
            action="weekly_report.schedule",
            object_type="organization",
            object_id=organization.pk,
            data={"weekday": weekday, "hour": hour, "enabled": enabled},
            at=now,
        )
    return schedule_of(organization=organization)


# --- reading -------------------------------------------------------------------------------------


def weekly_report_teams(*, user: User) -> QuerySet[Team]:
    """The teams whose reports the user reads (a manager's own teams; every team for ops and
    admins), by name; a rep is refused."""
    actor = _reader(user)
    teams = Team.objects.filter(organization_id=actor.organization_id)
    if not actor.sees_whole_organization:
        teams = teams.filter(pk__in=actor.managed_team_ids)
    return teams.select_related("manager").order_by("name", "pk")


def weekly_report_list(*, user: User, team_id: int | None = None) -> QuerySet[WeeklyReport]:
    """The reports the user reads, newest week first; `team_id` narrows to one of their teams
    (another team is not found)."""
    teams = weekly_report_teams(user=user)
    if team_id is not None:
        teams = teams.filter(pk=team_id)
        if not teams.exists():
            raise NotFound(_("No team %(id)s among the teams you can see.") % {"id": team_id})
    return (
        WeeklyReport.objects.filter(team__in=teams)
        .select_related("team", "generated_by")
        .order_by("-week", "team__name", "pk")
    )


def access_weekly_report(*, user: User, report_id: int) -> WeeklyReport:
    """One report the user reads; another team's (or organization's) is not found."""
    found = weekly_report_list(user=user).select_related("organization").filter(pk=report_id)
    report = found.first()
    if report is None:
        raise NotFound(
            _("No weekly report %(id)s among the reports you can see.") % {"id": report_id}
        )
    return report


# --- making --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Made:
    """A report and what making it did: `created` a new one, `replaced` the week's figures, or
    neither (the week's report was there already)."""

    report: WeeklyReport
    created: bool
    replaced: bool = False


def _previous_figures(
    organization: Organization, team: Team, week: IsoWeek
) -> dict[str, Any] | None:
    before = (
        WeeklyReport.objects.filter(
            organization=organization, team=team, week=str(week.shifted(-1))
        )
        .values_list("figures", flat=True)
        .first()
    )
    return before if isinstance(before, dict) else None


def weekly_report_make(
    *,
    organization: Organization,
    team: Team,
    week: IsoWeek,
    now: dt.datetime,
    trigger: str = ReportTrigger.SCHEDULE,
    actor: User | None = None,
    replace: bool = False,
) -> Made:
    """Make `team`'s report of `week` as of `now` (see the module's doc), unless it exists and
    `replace` is not asked; a new report is sent to the team's manager on commit."""
    existing = WeeklyReport.objects.filter(organization=organization, team=team, week=str(week))
    if not replace and (found := existing.first()) is not None:
        return Made(found, created=False)
    schedule = schedule_of(organization=organization)
    try:
        start, end = report_period(
            week, weekday=schedule.weekday, hour=schedule.hour, tz=organization.tz, now=now
        )
    except InvalidWeek as exc:
        raise ValidationFailed.on(
            "week",
            _("%(week)s has not begun yet; a report covers a week that has begun.")
            % {"week": str(week)},
        ) from exc
    figures = weekly_figures(
        organization=organization,
        team=team,
        start=start,
        end=end,
        previous=_previous_figures(organization, team, week),
    )
    values = {
        "period_start": start,
        "period_end": end,
        "generated_at": now,
        "generated_by": actor,
        "trigger": trigger,
        "team_health": figures["health"]["team"],
        "weighted_pipeline": Decimal(figures["pipeline"]["weighted"]),
        "currency": figures["pipeline"]["currency"],
        "figures": figures,
    }
    if replace and (found := existing.first()) is not None:
        existing.filter(pk=found.pk).update(**values)
        found.refresh_from_db()
        _audit_made(found, actor, now, "weekly_report.regenerate")
        return Made(found, created=False, replaced=True)
    try:
        with transaction.atomic():
            report = WeeklyReport.objects.create(
                organization=organization, team=team, week=str(week), **values
            )
            _audit_made(report, actor, now, "weekly_report.generate")
            _send(report, now)
    except IntegrityError:
        # Another worker (or a click at the same moment) made it first: theirs stands.
        return Made(existing.get(), created=False)
    return Made(report, created=True)


def _audit_made(report: WeeklyReport, actor: User | None, now: dt.datetime, action: str) -> None:
    if actor is None:
        return  # the schedule's reports are in the list; only people's requests are audited
    audit_record(
        organization_id=report.organization_id,
        actor=actor,
        action=action,
        object_type="weekly_report",
        object_id=report.pk,
        data={"team_id": report.team_id, "week": report.week},
        at=now,
    )


def _shown(value: float | None) -> str:
    return "–" if value is None else str(shown_score(value))


_SYMBOLS = {"CNY": "¥", "USD": "$", "EUR": "€", "HKD": "HK$", "JPY": "¥", "GBP": "£"}


def _money(value: str | None, currency: str) -> str:
    """An amount as the pages show it (`¥45,000`): grouped by thousands in both languages."""
    if value is None:
        return "–"
    amount = f"{Decimal(value):,.0f}"
    symbol = _SYMBOLS.get(currency)
    return f"{symbol}{amount}" if symbol else f"{amount} {currency}"


def _send(report: WeeklyReport, now: dt.datetime) -> None:
    """Tell the team's manager (in-app, e-mail, robots as configured); a team without a
    manager: its group channels. The link leads to the report's page."""
    figures = report.figures
    health, pipeline = figures["health"], figures["pipeline"]
    team = report.team
    notify(
        organization=report.organization,
        recipient=team.manager,
        team=team,
        link=reverse("web:weekly-report", kwargs={"report_id": report.pk}),
        cause_key=f"weekly-report:{report.pk}",
        message=Msg(
            "report.weekly",
            {
                "team": team.name,
                "week": report.week,
                "health": _shown(health["team"]),
                "health_before": _shown(health["previous"]),
                "below": len(health["below"]),
                "threshold": f"{figures['threshold']:g}",
                "stuck": len(figures["stuck"]),
                "silent": figures["risks"].get("silence", 0),
                "pipeline": _money(pipeline["weighted"], pipeline["currency"]),
                "pipeline_before": _money(pipeline["previous"], pipeline["currency"]),
            },
        ),
        now=now,
    )


def _week_of(text: str | None, organization: Organization, now: dt.datetime) -> IsoWeek:
    if not text:
        return IsoWeek.of(now.astimezone(organization.tz).date())
    try:
        return IsoWeek.parse(text)
    except InvalidWeek as exc:
        raise ValidationFailed.on(
            "week",
            _("“%(text)s” is not a week; write it as YYYY-Www, e.g. 2026-W48.") % {"text": text},
        ) from exc


def weekly_reports_generate(
    *,
    user: User,
    team_id: int | None = None,
    week: str | None = None,
    replace: bool = False,
    now: dt.datetime | None = None,
    progress: Progress | None = None,
) -> list[Made]:
    """ "Generate now": the reports of `week` (default this week) of one team or of every team
    the user reads; existing ones are kept unless `replace`."""
    actor = _reader(user)
    now = now or timezone.now()
    organization = Organization.objects.get(pk=actor.organization_id)
    teams = weekly_report_teams(user=user)
    if team_id is not None:
        teams = teams.filter(pk=team_id)
        if not teams.exists():
            raise ValidationFailed.on(
                "team_id", _("No team %(id)s among the teams you can see.") % {"id": team_id}
            )
    iso_week = _week_of(week, organization, now)
    found = list(teams)
    if not found:
        raise ValidationFailed.on("team_id", _("There is no team to report on yet."))
    made = []
    for index, team in enumerate(found):
        made.append(
            weekly_report_make(
                organization=organization,
                team=team,
                week=iso_week,
                now=now,
                trigger=ReportTrigger.MANUAL,
                actor=user,
                replace=replace,
            )
        )
        if progress is not None:
            progress("weekly reports", index + 1, len(found))
    return made


def weekly_reports_due(*, now: dt.datetime, organization_ids: set[int] | None = None) -> int:
    """The worker's sweep: each organization whose report moment of this week has come makes
    the week's report of every team still without one. Returns how many were made."""
    schedules = {row.organization_id: row for row in WeeklyReportSchedule.objects.all().order_by()}
    organizations = Organization.objects.order_by("pk")
    if organization_ids is not None:
        organizations = organizations.filter(pk__in=organization_ids)
    made = 0
    for organization in organizations:
        row = schedules.get(organization.pk)
        if row is not None and not row.enabled:
            continue
        weekday = row.weekday if row else DEFAULT_WEEKDAY
        hour = row.hour if row else DEFAULT_HOUR
        try:
            week = week_due(now, weekday=weekday, hour=hour, tz=organization.tz)
        except InvalidSchedule:  # pragma: no cover - the table's check constraint forbids it
            logger.exception("organization %s: invalid weekly report schedule", organization.pk)
            continue
        if week is None:
            continue
        done = set(
            WeeklyReport.objects.filter(organization=organization, week=str(week)).values_list(
                "team_id", flat=True
            )
        )
        for team in (
            Team.objects.filter(organization=organization)
            .exclude(pk__in=done)
            .select_related("manager")
        ):
            try:
                if weekly_report_make(
                    organization=organization, team=team, week=week, now=now
                ).created:
                    made += 1
            except Exception:
                # One team's failure must not keep the other teams' reports back; the next
                # sweep tries it again (its report is still missing).
                logger.exception("weekly report of team %s (%s) failed", team.pk, week)
    return made
