"""Weekly manager reports over REST: the list and one report with its stored figures, its PDF,
"generate now", and the organization's schedule.

Managers read their teams' reports, ops and admins every team's, reps none (403); a report
outside the caller's teams is 404. Administrators change the schedule. Each view makes one
call to `lodestar.insights.weekly_reports`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from django.http import HttpResponse
from django.utils import timezone, translation
from ninja import Field, Query, Router, Schema, Status
from pydantic import StrictBool, StrictInt

from lodestar.fields import Id, Text
from lodestar.insights.models import WeeklyReport
from lodestar.insights.weekly_pdf import weekly_report_filename, weekly_report_pdf
from lodestar.insights.weekly_reports import (
    Schedule,
    access_weekly_report,
    weekly_report_list,
    weekly_reports_generate,
    weekly_schedule,
    weekly_schedule_update,
)
from lodestar.org.requests import AuthenticatedHttpRequest
from lodestar.rest.errors import ERROR_RESPONSES, WRITE_ERRORS
from lodestar.rest.pagination import Page, PageQuery, page_of
from lodestar.rest.schemas import StrictIn

__all__ = ["router"]

router = Router(tags=["weekly reports"])

WeekText = Annotated[Text, Field(max_length=8, description="An ISO week: `2026-W48`.")]


class WeeklyReportSummary(Schema):
    id: int
    team_id: int
    team_name: str
    week: str = Field(description="The ISO week the report belongs to, e.g. `2026-W48`.")
    period_start: dt.datetime = Field(description="In the organization's time zone.")
    period_end: dt.datetime = Field(description="The figures stand as of this moment.")
    generated_at: dt.datetime
    trigger: str = Field(description="`schedule` or `manual` (generated on request).")
    team_health: float | None = Field(description="The mean of the reps' health scores.")
    weighted_pipeline: Decimal = Field(
        description="Open deals' amounts × their stage's forecast weight (not a forecast)."
    )
    currency: str
    url: str = Field(description="The report's page.")
    pdf_url: str

    @staticmethod
    def resolve_team_name(obj: WeeklyReport) -> str:
        return obj.team.name

    @staticmethod
    def resolve_period_start(obj: WeeklyReport) -> dt.datetime:
        return obj.period_start.astimezone(obj.organization.tz)

    @staticmethod
    def resolve_period_end(obj: WeeklyReport) -> dt.datetime:
        return obj.period_end.astimezone(obj.organization.tz)

    @staticmethod
    def resolve_generated_at(obj: WeeklyReport) -> dt.datetime:
        return obj.generated_at.astimezone(obj.organization.tz)

    @staticmethod
    def resolve_url(obj: WeeklyReport) -> str:
        return f"/reports/weekly/{obj.pk}/"

    @staticmethod
    def resolve_pdf_url(obj: WeeklyReport) -> str:
        return f"/api/v1/reports/weekly/{obj.pk}/pdf"


class WeeklyReportOut(WeeklyReportSummary):
    figures: dict[str, Any] = Field(
        description="The stored figures: `health` (team mean, previous, per-rep rows with "
        "their parts and reasons, trend), `stuck`, `silent`, `risks`, `penetration`, "
        "`pipeline` (weighted, previous, by stage), `coaching`. Texts are given as "
        '`{"zh": …, "en": …}`; amounts as decimal strings.'
    )


class WeeklyReportPage(Page[WeeklyReportSummary]):
    pass


class WeeklyReportQuery(PageQuery):
    team_id: Id | None = Field(None, description="One of the caller's teams.")


class GenerateIn(StrictIn):
    team_id: Id | None = Field(None, description="One team; all the caller's teams when left out.")
    week: WeekText | None = Field(None, description="Default: this week.")
    replace: StrictBool = Field(
        False, description="Make the week's report again when it exists (nothing is re-sent)."
    )


class GeneratedOut(Schema):
    created: int = Field(description="New reports, sent to their managers.")
    replaced: int
    kept: int = Field(description="Reports of that week that were there already.")
    items: list[WeeklyReportSummary]


class ScheduleOut(Schema):
    weekday: int = Field(description="1 = Monday … 7 = Sunday.")
    hour: int = Field(description="0–23, in the organization's time zone.")
    enabled: bool = Field(description="Whether the worker makes and sends the reports.")
    time_zone: str
    next_due: dt.datetime | None = Field(description="The next scheduled moment.")


# Checked by the service (its refusals name the field in the caller's language); the schema
# documents the range.
Weekday = Annotated[StrictInt, Field(json_schema_extra={"minimum": 1, "maximum": 7})]
Hour = Annotated[StrictInt, Field(json_schema_extra={"minimum": 0, "maximum": 23})]


class ScheduleIn(StrictIn):
    weekday: Weekday = Field(description="1 = Monday … 7 = Sunday.")
    hour: Hour = Field(description="0–23, in the organization's time zone.")
    enabled: StrictBool = True


def _schedule(schedule: Schedule) -> ScheduleOut:
    return ScheduleOut(
        weekday=schedule.weekday,
        hour=schedule.hour,
        enabled=schedule.enabled,
        time_zone=schedule.time_zone,
        next_due=schedule.next_due(timezone.now()).astimezone(schedule.organization.tz)
        if schedule.enabled
        else None,
    )


@router.get("/reports/weekly/schedule", response={200: ScheduleOut, **ERROR_RESPONSES})
def get_schedule(request: AuthenticatedHttpRequest) -> ScheduleOut:
    """When the organization's weekly reports are made (default Monday 08:00, local time)."""
    return _schedule(weekly_schedule(user=request.user))


@router.put("/reports/weekly/schedule", response={200: ScheduleOut, **WRITE_ERRORS})
def put_schedule(request: AuthenticatedHttpRequest, payload: ScheduleIn) -> ScheduleOut:
    """Change the schedule (administrators; 403 for others); audited."""
    return _schedule(
        weekly_schedule_update(
            user=request.user, weekday=payload.weekday, hour=payload.hour, enabled=payload.enabled
        )
    )


@router.get("/reports/weekly", response={200: WeeklyReportPage, **ERROR_RESPONSES})
def list_reports(
    request: AuthenticatedHttpRequest, filters: Query[WeeklyReportQuery]
) -> dict[str, Any]:
    """The caller's teams' reports, newest week first."""
    found = weekly_report_list(user=request.user, team_id=filters.team_id).select_related(
        "organization"
    )
    return page_of(found, filters)


@router.post("/reports/weekly", response={200: GeneratedOut, 201: GeneratedOut, **WRITE_ERRORS})
def generate(request: AuthenticatedHttpRequest, payload: GenerateIn) -> Status[Any]:
    """Generate now: 201 when a report was made (or made again), 200 when the week's reports
    were all there already (they are returned as they are)."""
    made = weekly_reports_generate(
        user=request.user, team_id=payload.team_id, week=payload.week, replace=payload.replace
    )
    created = sum(1 for m in made if m.created)
    replaced = sum(1 for m in made if m.replaced)
    body = {
        "created": created,
        "replaced": replaced,
        "kept": len(made) - created - replaced,
        "items": [m.report for m in made],
    }
    return Status(201 if created or replaced else 200, body)


@router.get("/reports/weekly/{report_id}", response={200: WeeklyReportOut, **ERROR_RESPONSES})
def get_report(request: AuthenticatedHttpRequest, report_id: Id) -> WeeklyReport:
    """One report with its stored figures (they never change after it was made)."""
    return access_weekly_report(user=request.user, report_id=report_id)


@router.get(
    "/reports/weekly/{report_id}/pdf",
    response=ERROR_RESPONSES,
    openapi_extra={
        "responses": {
            "200": {
                "description": "The report as a PDF, in the request's language.",
                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def get_report_pdf(request: AuthenticatedHttpRequest, report_id: Id) -> HttpResponse:
    report = access_weekly_report(user=request.user, report_id=report_id)
    response = HttpResponse(
        weekly_report_pdf(report, language=translation.get_language()),
        content_type="application/pdf",
    )
    response["Content-Disposition"] = f'attachment; filename="{weekly_report_filename(report)}"'
    response["Cache-Control"] = "private, no-store"
    return response
