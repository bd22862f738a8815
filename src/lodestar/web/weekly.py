"""The weekly manager report's pages: the list of past reports per team, one report (on a
phone, at a desk, printed), its PDF, "generate now", and the organization's schedule.

Managers read their teams' reports, ops and admins every team's; reps are refused (403).
Each view makes one call to `lodestar.insights.weekly_reports` (or renders a stored report);
a refusal of the service is shown above the form that caused it, and nothing is written then.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from lodestar.errors import ValidationFailed
from lodestar.insights import weekly_pdf
from lodestar.insights.weekly_reports import (
    access_weekly_report,
    weekly_report_list,
    weekly_report_teams,
    weekly_reports_generate,
    weekly_schedule,
    weekly_schedule_update,
)
from lodestar.insights.weekly_view import report_view
from lodestar.org.requests import AuthenticatedHttpRequest
from lodestar.org.selectors import actor_of
from lodestar.web.access import member_view

__all__ = [
    "weekly_generate",
    "weekly_report",
    "weekly_report_pdf_view",
    "weekly_reports",
    "weekly_schedule_view",
]

REPORTS_PER_PAGE = 30


def _weekdays() -> list[tuple[int, str]]:
    """ISO weekdays (1 = Monday) with their names in the reader's language."""
    return [(number + 1, str(name)) for number, name in WEEKDAYS.items()]


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _schedule_context(request: AuthenticatedHttpRequest) -> dict[str, Any]:
    schedule = weekly_schedule(user=request.user)
    names = dict(_weekdays())
    next_due = schedule.next_due(timezone.now()).astimezone(schedule.organization.tz)
    offset = next_due.strftime("%z")  # "+0800"; shown as "+08:00", which reads in any language
    return {
        "schedule": schedule,
        "schedule_day": names.get(schedule.weekday, ""),
        "next_due": next_due,
        "zone_offset": f"{offset[:3]}:{offset[3:]}",
    }


@require_GET
@member_view
def weekly_reports(request: AuthenticatedHttpRequest) -> HttpResponse:
    teams = list(weekly_report_teams(user=request.user))  # 403 for reps
    team_id = _int(request.GET.get("team"))
    if team_id is not None and team_id not in {team.pk for team in teams}:
        team_id = None
    reports = Paginator(weekly_report_list(user=request.user, team_id=team_id), REPORTS_PER_PAGE)
    page = reports.get_page(request.GET.get("page"))
    actor = actor_of(user=request.user)
    return render(
        request,
        "web/weekly_reports.html",
        {
            "teams": teams,
            "team_id": team_id,
            "page": page,
            "is_admin": actor is not None and actor.is_admin,
            **_schedule_context(request),
        },
    )


@require_POST
@member_view
def weekly_generate(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Make the reports now (one team or all the user's teams, this week or the one asked)."""
    try:
        made = weekly_reports_generate(
            user=request.user,
            team_id=_int(request.POST.get("team")),
            week=(request.POST.get("week") or "").strip() or None,
            replace=request.POST.get("replace") == "1",
        )
    except ValidationFailed as exc:
        problems = [str(d.message) for d in exc.details] or [str(exc.message)]
        for problem in problems:
            messages.error(request, problem)
        return redirect("web:weekly-reports")
    new = sum(1 for m in made if m.created)
    again = sum(1 for m in made if m.replaced)
    kept = len(made) - new - again
    if new:
        messages.success(request, gettext("%(n)d weekly report made and sent.") % {"n": new})
    if again:
        messages.success(request, gettext("%(n)d weekly report made again.") % {"n": again})
    if kept:
        messages.info(
            request,
            gettext(
                "%(n)d report of that week was there already; tick “Make it again” to replace it."
            )
            % {"n": kept},
        )
    if len(made) == 1:
        return redirect("web:weekly-report", report_id=made[0].report.pk)
    return redirect("web:weekly-reports")


@require_GET
@member_view
def weekly_report(request: AuthenticatedHttpRequest, report_id: int) -> HttpResponse:
    report = access_weekly_report(user=request.user, report_id=report_id)
    return render(
        request,
        "web/weekly_report.html",
        {
            "view": report_view(report),
            "cjk_missing": not weekly_pdf.cjk_font_available(),
            "list_url": reverse("web:weekly-reports") + f"?team={report.team_id}",
        },
    )


@require_GET
@member_view
def weekly_report_pdf_view(request: AuthenticatedHttpRequest, report_id: int) -> HttpResponse:
    report = access_weekly_report(user=request.user, report_id=report_id)
    response = HttpResponse(weekly_pdf.weekly_report_pdf(report), content_type="application/pdf")
    filename = weekly_pdf.weekly_report_filename(report)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_http_methods(["GET", "POST"])
@member_view
def weekly_schedule_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    """When the reports are made: everyone who reads them sees it, administrators change it."""
    errors: list[str] = []
    if request.method == "POST":
        weekday, hour = _int(request.POST.get("weekday")), _int(request.POST.get("hour"))
        if weekday is None:
            errors.append(gettext("Choose the weekday the reports are sent on."))
        if hour is None:
            errors.append(gettext("Choose the hour the reports are sent at."))
        if not errors:
            try:
                weekly_schedule_update(
                    user=request.user,
                    weekday=weekday or 0,
                    hour=hour if hour is not None else -1,
                    enabled=request.POST.get("enabled") == "1",
                )
            except ValidationFailed as exc:
                errors = [str(d.message) for d in exc.details] or [str(exc.message)]
            else:
                messages.success(request, gettext("The weekly report schedule is saved."))
                return redirect("web:weekly-schedule")
    actor = actor_of(user=request.user)
    context = _schedule_context(request)
    return render(
        request,
        "web/weekly_schedule.html",
        {
            **context,
            "weekdays": _weekdays(),
            "hours": list(range(24)),
            "is_admin": actor is not None and actor.is_admin,
            "errors": errors,
        },
        status=422 if errors else 200,
    )
