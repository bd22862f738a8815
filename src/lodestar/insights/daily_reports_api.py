"""Daily reports (日报) over REST: send and change your own, read what your role may read, the
prefill of a day, the manager's day at a glance, and the organization's due time.

`POST /daily-reports` is "my report of this date": the first send creates it (201), a later
send of the same date changes it (200) until it is due, and after that it is refused with 409
`daily_report_closed`. Repeating a send is therefore harmless. The activity snapshot is taken
by the server at each send. Times are answered in the organization's zone.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

from lodestar.crm.models import DailyReport
from lodestar.errors import NotFound
from lodestar.fields import Id, SupportedDate, Text
from lodestar.insights import daily_report_selectors as selectors
from lodestar.insights import daily_reports
from lodestar.org.models import Organization
from lodestar.org.requests import AuthenticatedHttpRequest
from lodestar.org.selectors import membership_of, organization_zone
from lodestar.rest.errors import ERROR_RESPONSES, WRITE_ERRORS
from lodestar.rest.pagination import PageQuery, page_of
from lodestar.rest.schemas import StrictIn, StrictQuery, TeamRef, UserRef

__all__ = ["router"]

router = Router(tags=["daily reports"])

ReportStatus = Literal["on_time", "late", "pending", "missing", "off"]
Body = Annotated[Text, Field(max_length=daily_reports.BODY_MAX)]
Note = Annotated[Text, Field(max_length=daily_reports.NOTE_MAX)]


class ActivityItemOut(Schema):
    kind: str = Field(description="calls, meetings, contacts, uploads, tasks_done, stage_moves.")
    at: dt.datetime
    deal_id: int | None
    deal: str = Field(description="The deal's name (or the account's); empty when neither.")
    text: dict[str, str] = Field(description='What happened, as {"zh": …, "en": …}.')


class ActivityOut(Schema):
    counts: dict[str, int] = Field(
        description="Per kind: calls, meetings (and visits), contacts (other customer "
        "contacts), uploads, tasks_done, stage_moves."
    )
    items: list[ActivityItemOut] = Field(description="The lines behind the counts, by time.")
    as_of: dt.datetime | None


def _activity(snapshot: Any) -> dict[str, Any]:
    stored = snapshot if isinstance(snapshot, dict) else {}
    counts = stored.get("counts", {})
    return {
        "counts": {kind: int(counts.get(kind, 0) or 0) for kind in daily_reports.ACTIVITY_KINDS},
        "items": stored.get("items", []),
        "as_of": stored.get("as_of"),
    }


class DailyReportOut(Schema):
    id: int
    date: dt.date
    author: UserRef
    team: TeamRef | None
    body: str = Field(description="What was done.")
    plans: str
    blockers: str
    activity: ActivityOut = Field(description="The day's logged work when it was last sent.")
    submitted_at: dt.datetime = Field(description="First sent; the on-time yardstick reads it.")
    updated_at: dt.datetime | None = Field(description="Last changed; null if never.")
    due_at: dt.datetime
    late: bool = Field(description="First sent after it was due.")
    editable: bool = Field(description="Its author may still change it (not yet due).")

    @staticmethod
    def resolve_team(obj: DailyReport) -> Any:
        membership = getattr(obj.author, "membership", None)
        return membership.team if membership is not None else None

    @staticmethod
    def resolve_activity(obj: DailyReport) -> dict[str, Any]:
        return _activity(obj.activity)

    @staticmethod
    def resolve_submitted_at(obj: DailyReport) -> dt.datetime:
        return obj.submitted_at.astimezone(obj.organization.tz)

    @staticmethod
    def resolve_updated_at(obj: DailyReport) -> dt.datetime | None:
        return obj.updated_at.astimezone(obj.organization.tz) if obj.updated_at else None

    @staticmethod
    def resolve_due_at(obj: DailyReport) -> dt.datetime:
        return obj.organization.daily_report_due(obj.date)

    @staticmethod
    def resolve_late(obj: DailyReport) -> bool:
        return daily_reports.is_late(obj, obj.organization)

    @staticmethod
    def resolve_editable(obj: DailyReport) -> bool:
        return timezone.now() <= obj.organization.daily_report_due(obj.date)


class DailyReportPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[DailyReportOut]


class DailyReportQuery(PageQuery):
    rep: Id | None = Field(None, description="Author's user id.")
    team: Id | None = Field(None, description="The author's team.")
    from_: SupportedDate | None = Field(None, alias="from", description="First local date.")
    to: SupportedDate | None = Field(None, description="Last local date (included).")


@router.get("/daily-reports", response={200: DailyReportPage, **ERROR_RESPONSES})
def list_daily_reports(
    request: AuthenticatedHttpRequest, filters: Query[DailyReportQuery]
) -> dict[str, Any]:
    """Daily reports you may read, newest day first: a rep their own, a manager also those of
    the teams they manage, ops and admins the organization's."""
    found = selectors.daily_report_list(
        user=request.user,
        filters=selectors.DailyReportFilters(
            author_id=filters.rep,
            team_id=filters.team,
            date_from=filters.from_,
            date_to=filters.to,
        ),
    ).select_related("organization")
    return page_of(found, filters)


class DailyReportIn(StrictIn):
    date: SupportedDate | None = Field(
        None, description="The local date the report is about; today when left out."
    )
    body: Body = Field(description="What was done; start from the prefill's `body`.")
    plans: Note = ""
    blockers: Note = ""


def _organization(request: AuthenticatedHttpRequest) -> Organization:
    membership = membership_of(user=request.user)
    if membership is None:
        raise NotFound
    return membership.organization


def _today(request: AuthenticatedHttpRequest) -> dt.date:
    return timezone.now().astimezone(organization_zone(user=request.user)).date()


@router.post("/daily-reports", response={200: DailyReportOut, 201: DailyReportOut, **WRITE_ERRORS})
def send_daily_report(request: AuthenticatedHttpRequest, payload: DailyReportIn) -> Status[Any]:
    """Send your own report of a date (today when left out): 201 when it is new, 200 when it
    changes the one already sent (one report per person and day). Refused with 409
    `daily_report_closed` once that day's report is due; a first send after the due time is
    accepted and marked late. Dates more than 31 days back or ahead of today are refused."""
    result = daily_reports.daily_report_submit(
        user=request.user,
        day=payload.date or _today(request),
        body=payload.body,
        plans=payload.plans,
        blockers=payload.blockers,
        now=timezone.now(),
    )
    report = selectors.access_daily_report(user=request.user, report_id=result.report.pk)
    return Status(201 if result.created else 200, report)


class PrefillQuery(StrictQuery):
    date: SupportedDate | None = Field(None, description="Local date; today when left out.")


class PrefillOut(Schema):
    date: dt.date
    due_at: dt.datetime
    status: ReportStatus = Field(
        description="on_time / late (sent), pending (not sent, not yet due), missing (not sent, "
        "due passed, working day), off (not sent, a day off)."
    )
    working_day: bool
    activity: ActivityOut = Field(description="Your logged work of the day, as of now.")
    body: str = Field(description="The activity as text in your language: the form's start.")
    report: DailyReportOut | None = Field(description="What you already sent for the day.")


@router.get("/daily-reports/prefill", response={200: PrefillOut, **ERROR_RESPONSES})
def prefill_daily_report(
    request: AuthenticatedHttpRequest, query: Query[PrefillQuery]
) -> dict[str, Any]:
    """What your report of a date starts from: the day's calls, meetings and visits, other
    customer contacts, uploads, tasks done and stage moves from the log, as counts, lines and
    text; and the report you already sent, if any."""
    user = request.user
    now = timezone.now()
    day = query.date or _today(request)
    own = selectors.own_day(user=user, day=day, now=now)
    activity = daily_reports.day_activity(
        organization=_organization(request), user=user, day=day, now=now
    )
    report = (
        selectors.access_daily_report(user=user, report_id=own.report.pk)
        if own.report is not None
        else None
    )
    return {
        "date": day,
        "due_at": own.due,
        "status": own.status,
        "working_day": own.working,
        "activity": _activity(activity.snapshot()),
        "body": daily_reports.prefill_body(activity),
        "report": report,
    }


class DayQuery(StrictQuery):
    date: SupportedDate | None = Field(None, description="Local date; today when left out.")
    team: Id | None = Field(None, description="One of the teams you read; all when left out.")


class DayRowOut(Schema):
    person: UserRef
    team: TeamRef | None
    status: ReportStatus
    report_id: int | None
    submitted_at: dt.datetime | None
    counts: dict[str, int] = Field(
        description="From the report when sent; from the log as of now when not."
    )
    plans: str
    blockers: str


class DayOut(Schema):
    date: dt.date
    due_at: dt.datetime
    working_day: bool
    team: TeamRef | None
    expected: int = Field(description="People a report is due from (not on a day off).")
    submitted: int
    on_time: int
    late: int
    missing: int
    pending: int
    rows: list[DayRowOut] = Field(description="Missing first, then late, then the rest.")


@router.get("/daily-reports/day", response={200: DayOut, **ERROR_RESPONSES})
def daily_reports_day(request: AuthenticatedHttpRequest, query: Query[DayQuery]) -> dict[str, Any]:
    """A day at a glance: everyone a report is expected from (the active reps you may read, of
    one team when asked), whether and when they sent it, their activity counts, plans and
    blockers. A rep sees their own row."""
    now = timezone.now()
    day = selectors.team_day(
        user=request.user, day=query.date or _today(request), team_id=query.team, now=now
    )
    tz = day.due.tzinfo
    rows = [
        {
            "person": row.person,
            "team": row.team,
            "status": row.status,
            "report_id": row.report.pk if row.report else None,
            "submitted_at": row.report.submitted_at.astimezone(tz) if row.report else None,
            "counts": row.counts,
            "plans": row.report.plans if row.report else "",
            "blockers": row.report.blockers if row.report else "",
        }
        for row in day.rows
    ]
    return {
        "date": day.date,
        "due_at": day.due,
        "working_day": day.working,
        "team": day.team,
        "expected": day.expected,
        "submitted": day.submitted,
        "on_time": day.count("on_time"),
        "late": day.count("late"),
        "missing": day.count("missing"),
        "pending": day.count("pending"),
        "rows": rows,
    }


# --- the organization's due time -----------------------------------------------------------------


class SettingsOut(Schema):
    due_time: str = Field(description="HH:MM, local time.")
    due_next_day: bool = Field(description="Due on the day after the report's day.")
    due_minutes: int = Field(description="The same as minutes after the report's day starts.")
    reminder_minutes: int = Field(description="Reps are reminded this long before; 0: never.")


def _settings_of(due_minutes: int, reminder_minutes: int) -> dict[str, Any]:
    clock, next_day = daily_reports.due_parts(due_minutes)
    return {
        "due_time": f"{clock:%H:%M}",
        "due_next_day": next_day,
        "due_minutes": due_minutes,
        "reminder_minutes": reminder_minutes,
    }


@router.get("/daily-reports/settings", response={200: SettingsOut, **ERROR_RESPONSES})
def get_daily_report_settings(request: AuthenticatedHttpRequest) -> dict[str, Any]:
    """When your organization's daily reports are due, and the reminder before."""
    organization = _organization(request)
    return _settings_of(
        organization.daily_report_due_minutes, organization.daily_report_reminder_minutes
    )


class SettingsIn(StrictIn):
    due_time: dt.time = Field(description="HH:MM, local time.")
    due_next_day: bool = Field(
        False, description="Due on the day after (e.g. 00:00 or 09:00 the next morning)."
    )
    reminder_minutes: int = Field(60, ge=0, description="0: no reminder.")


@router.put("/daily-reports/settings", response={200: SettingsOut, **WRITE_ERRORS})
def put_daily_report_settings(
    request: AuthenticatedHttpRequest, payload: SettingsIn
) -> dict[str, Any]:
    """Administrators: when reports are due (12:00 on the day to 12:00 the next day) and how
    long before reps who have not sent theirs are reminded. The on-time yardstick follows the
    new due time at once, for past days too. Audited."""
    organization = daily_reports.daily_report_settings_update(
        user=request.user,
        due_minutes=daily_reports.due_minutes_of(payload.due_time, payload.due_next_day),
        reminder_minutes=payload.reminder_minutes,
    )
    return _settings_of(
        organization.daily_report_due_minutes, organization.daily_report_reminder_minutes
    )


@router.get("/daily-reports/{report_id}", response={200: DailyReportOut, **ERROR_RESPONSES})
def get_daily_report(request: AuthenticatedHttpRequest, report_id: Id) -> DailyReport:
    return selectors.access_daily_report(user=request.user, report_id=report_id)
