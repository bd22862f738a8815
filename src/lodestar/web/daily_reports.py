"""The daily report pages (日报).

- `/daily-report/?date=`: the rep's own report of a day (today by default), a short phone
  form started from the day's logged work; sent, changed until it is due, sent late after.
- `/daily-report/card/`: the Today page's card (loaded into it): today's report sent or not.
- `/daily-reports/?date=&team=`: the manager's day at a glance (ops and admins: the whole
  organization): who sent theirs, on time or late, activity counts, plans and blockers, the
  missing first; the day before and after; this month's on-time rate of the same people.
- `/daily-reports/reps/<id>/`: one person's last 30 days.
- `/daily-reports/settings/`: administrators set the due time and the reminder.

Each view parses, calls one service (`lodestar.insights.daily_reports`) or selector
(`lodestar.insights.daily_report_selectors`) and renders; a refusal re-renders the form with
the service's words (422, or 409 once the report is closed).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from lodestar.errors import ApplicationError
from lodestar.insights import daily_report_selectors as selectors
from lodestar.insights import daily_reports as services
from lodestar.insights.metrics import MetricFilters, metric_report
from lodestar.org.models import Organization, Role
from lodestar.org.requests import AuthenticatedHttpRequest
from lodestar.web.access import member_of, member_view
from lodestar.web.caching import note_write

__all__ = [
    "daily_report",
    "daily_report_card",
    "daily_report_settings",
    "daily_reports_rep",
    "daily_reports_team",
]

KIND_LABELS = {
    services.CALLS: gettext_lazy("Calls"),
    services.MEETINGS: gettext_lazy("Meetings and visits"),
    services.CONTACTS: gettext_lazy("Other customer contacts"),
    services.UPLOADS: gettext_lazy("Files uploaded"),
    services.TASKS_DONE: gettext_lazy("Tasks done"),
    services.STAGE_MOVES: gettext_lazy("Stage moves"),
}
STATUS_LABELS = {
    "on_time": gettext_lazy("Sent on time"),
    "late": gettext_lazy("Sent late"),
    "pending": gettext_lazy("Not due yet"),
    "missing": gettext_lazy("Not sent"),
    "off": gettext_lazy("Day off"),
}
LEADS = (Role.MANAGER, Role.OPS, Role.ADMIN)


def _today(organization: Organization) -> dt.date:
    return timezone.now().astimezone(organization.tz).date()


def _day(value: str | None, today: dt.date) -> dt.date:
    """The date a page is asked for (YYYY-MM-DD), never after today; today when unreadable."""
    try:
        day = dt.date.fromisoformat(value or "")
    except ValueError:
        return today
    return min(day, today)


def _counts(counts: dict[str, int]) -> list[dict[str, Any]]:
    return [
        {"kind": kind, "label": KIND_LABELS[kind], "n": counts.get(kind, 0)}
        for kind in services.ACTIVITY_KINDS
    ]


def _counts_line(counts: dict[str, int]) -> str:
    shown = [f"{KIND_LABELS[kind]} {n}" for kind in services.ACTIVITY_KINDS if (n := counts[kind])]
    return " · ".join(shown) if shown else _("No logged activity")


def due_words(minutes: int) -> str:
    """The organization's due time as people say it: "20:00 the same day"."""
    clock, next_day = services.due_parts(minutes)
    if next_day:
        return _("%(time)s the next day") % {"time": f"{clock:%H:%M}"}
    return _("%(time)s the same day") % {"time": f"{clock:%H:%M}"}


def _local(moment: dt.datetime, organization: Organization) -> str:
    return f"{moment.astimezone(organization.tz):%Y-%m-%d %H:%M}"


# --- the rep's own report ------------------------------------------------------------------------


class DailyReportForm(forms.Form):
    """Only parses: lengths and the date's range are the service's to judge."""

    date = forms.DateField(label=gettext_lazy("Date"))
    body = forms.CharField(label=gettext_lazy("What I did"), required=False, strip=False)
    plans = forms.CharField(label=gettext_lazy("Plans"), required=False, strip=False)
    blockers = forms.CharField(label=gettext_lazy("Blockers"), required=False, strip=False)


def _own_context(
    request: AuthenticatedHttpRequest, organization: Organization, day: dt.date
) -> dict[str, Any]:
    now = timezone.now()
    user = request.user
    own = selectors.own_day(user=user, day=day, now=now)
    activity = services.day_activity(organization=organization, user=user, day=day, now=now)
    report = own.report
    today = _today(organization)
    items = [
        {
            "kind": KIND_LABELS[item.kind],
            "at": item.at.astimezone(organization.tz),
            "words": services.item_words(item.as_json()),
        }
        for item in activity.items
    ]
    return {
        "day": day,
        "own": own,
        "report": report,
        "status_label": STATUS_LABELS[own.status],
        "due_at": _local(own.due, organization),
        "submitted_at": _local(report.submitted_at, organization) if report else "",
        "updated_at": (
            _local(report.updated_at, organization) if report and report.updated_at else ""
        ),
        "can_edit": report is None or own.is_open,
        "counts": _counts(activity.counts),
        "items": items,
        "body": report.body if report else services.prefill_body(activity),
        "plans": report.plans if report else "",
        "blockers": report.blockers if report else "",
        "previous": day - dt.timedelta(days=1),
        "next": day + dt.timedelta(days=1) if day < today else None,
        "is_today": day == today,
        "body_max": services.BODY_MAX,
        "note_max": services.NOTE_MAX,
    }


@require_http_methods(["GET", "HEAD", "POST"])
@member_view
def daily_report(request: AuthenticatedHttpRequest) -> HttpResponse:
    organization = member_of(request).organization
    today = _today(organization)
    if request.method != "POST":
        day = _day(request.GET.get("date"), today)
        return render(request, "web/daily_report.html", _own_context(request, organization, day))
    form = DailyReportForm(request.POST)
    if not form.is_valid():
        day = _day(request.POST.get("date"), today)
        context = _own_context(request, organization, day)
        context["error"] = {
            "message": _("Some fields are not valid."),
            "details": [_("Give the report's date as YYYY-MM-DD.")],
        }
        return render(request, "web/daily_report.html", context, status=422)
    data = form.cleaned_data
    try:
        result = services.daily_report_submit(
            user=request.user,
            day=data["date"],
            body=data["body"],
            plans=data["plans"],
            blockers=data["blockers"],
            now=timezone.now(),
        )
    except ApplicationError as exc:
        context = _own_context(request, organization, min(data["date"], today))
        context.update(
            error={"message": str(exc.message), "details": [str(d.message) for d in exc.details]},
            body=data["body"],
            plans=data["plans"],
            blockers=data["blockers"],
            field_errors={d.field: str(d.message) for d in exc.details},
        )
        return render(request, "web/daily_report.html", context, status=exc.status)
    note_write(request)
    if not result.created:
        messages.success(request, _("Daily report updated."))
    elif result.late:
        messages.warning(request, _("Daily report sent, after its due time: it counts as late."))
    else:
        messages.success(request, _("Daily report sent on time."))
    return redirect(f"{reverse('web:daily-report')}?date={data['date'].isoformat()}")


@require_GET
@member_view
def daily_report_card(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Today's report on the Today page: sent (when, on time or late) or when it is due."""
    organization = member_of(request).organization
    now = timezone.now()
    own = selectors.own_day(user=request.user, day=_today(organization), now=now)
    return render(
        request,
        "web/daily_report_card.html",
        {
            "own": own,
            "status_label": STATUS_LABELS[own.status],
            "due_at": _moment_of_day(own.due, own.date, organization),
            "submitted_at": (
                f"{own.report.submitted_at.astimezone(organization.tz):%H:%M}" if own.report else ""
            ),
        },
    )


# --- the manager's views -------------------------------------------------------------------------


def _moment_of_day(moment: dt.datetime, day: dt.date, organization: Organization) -> str:
    """A moment about the report of `day`: the time alone on that day, the date too if not."""
    local = moment.astimezone(organization.tz)
    return f"{local:%H:%M}" if local.date() == day else f"{local:%Y-%m-%d %H:%M}"


def _sent_at(report: Any, organization: Organization) -> str:
    return _moment_of_day(report.submitted_at, report.date, organization)


def _rows(day: selectors.TeamDay, organization: Organization) -> list[dict[str, Any]]:
    return [
        {
            "row": row,
            "status_label": STATUS_LABELS[row.status],
            "counts_line": _counts_line(row.counts),
            "submitted_at": _sent_at(row.report, organization) if row.report else "",
        }
        for row in day.rows
    ]


def _team_id(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and 0 < int(value) < 2**31 else None


@require_GET
@member_view
def daily_reports_team(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The day at a glance; reps are sent to their own report."""
    membership = member_of(request)
    if membership.role not in LEADS:
        return redirect("web:daily-report")
    organization = membership.organization
    today = _today(organization)
    day = _day(request.GET.get("date"), today)
    team_id = _team_id(request.GET.get("team"))
    now = timezone.now()
    team_day = selectors.team_day(user=request.user, day=day, team_id=team_id, now=now)
    month = metric_report(
        user=request.user,
        name="daily_report_on_time",
        filters=MetricFilters(team_id=team_id, date_from=day.replace(day=1), date_to=day),
        now=now,
    )
    return render(
        request,
        "web/daily_report_team.html",
        {
            "page": team_day,
            "rows": _rows(team_day, organization),
            "day": day,
            "due_at": _local(team_day.due, organization),
            "due_rule": due_words(organization.daily_report_due_minutes),
            "previous": day - dt.timedelta(days=1),
            "next": day + dt.timedelta(days=1) if day < today else None,
            "today": today,
            "team_id": team_id,
            "on_time": team_day.count("on_time"),
            "late": team_day.count("late"),
            "missing": team_day.count("missing"),
            "pending": team_day.count("pending"),
            "month_rate": None if month.figure is None else f"{round(month.figure * 100)}%",
            "month_from": month.date_from,
            "is_admin": membership.role == Role.ADMIN,
        },
    )


@require_GET
@member_view
def daily_reports_rep(request: AuthenticatedHttpRequest, rep_id: int) -> HttpResponse:
    """One person's last 30 days (`to` moves the window back), newest first."""
    organization = member_of(request).organization
    today = _today(organization)
    date_to = _day(request.GET.get("to"), today)
    history = selectors.rep_history(
        user=request.user, rep_id=rep_id, date_to=date_to, now=timezone.now()
    )
    rows = [
        {
            "row": row,
            "status_label": STATUS_LABELS[row.status],
            "counts_line": _counts_line(row.counts),
            "submitted_at": _sent_at(row.report, organization) if row.report else "",
        }
        for row in history.rows
    ]
    later = date_to + dt.timedelta(days=selectors.HISTORY_DAYS)
    return render(
        request,
        "web/daily_report_history.html",
        {
            "history": history,
            "rows": rows,
            "earlier": history.date_from - dt.timedelta(days=1),
            "later": min(later, today) if date_to < today else None,
            "is_self": rep_id == request.user.pk,
            "sent": history.count("on_time") + history.count("late"),
            "late": history.count("late"),
            "missing": history.count("missing"),
        },
    )


# --- the administrators' settings ----------------------------------------------------------------


class SettingsForm(forms.Form):
    due_time = forms.TimeField(label=gettext_lazy("Due time"))
    due_day = forms.ChoiceField(
        label=gettext_lazy("Due on"),
        choices=(
            ("same", gettext_lazy("The same day")),
            ("next", gettext_lazy("The next day")),
        ),
    )
    reminder_minutes = forms.IntegerField(
        label=gettext_lazy("Remind reps this many minutes before (0: no reminder)"),
        min_value=0,
        max_value=32767,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@member_view
def daily_report_settings(request: AuthenticatedHttpRequest) -> HttpResponse:
    membership = member_of(request)
    if membership.role != Role.ADMIN:
        raise DjangoPermissionDenied
    organization = membership.organization
    clock, next_day = services.due_parts(organization.daily_report_due_minutes)
    context: dict[str, Any] = {
        "due_time": f"{clock:%H:%M}",
        "due_day": "next" if next_day else "same",
        "reminder_minutes": organization.daily_report_reminder_minutes,
        "due_rule": due_words(organization.daily_report_due_minutes),
    }
    if request.method != "POST":
        return render(request, "web/daily_report_settings.html", context)
    form = SettingsForm(request.POST)
    context.update(
        due_time=request.POST.get("due_time", ""),
        due_day=request.POST.get("due_day", ""),
        reminder_minutes=request.POST.get("reminder_minutes", ""),
    )
    if not form.is_valid():
        details = [
            f"{form.fields[name].label}: {' '.join(str(e) for e in errors)}"
            for name, errors in form.errors.items()
        ]
        context["error"] = {"message": _("Some fields are not valid."), "details": details}
        return render(request, "web/daily_report_settings.html", context, status=422)
    data = form.cleaned_data
    try:
        services.daily_report_settings_update(
            user=request.user,
            due_minutes=services.due_minutes_of(data["due_time"], data["due_day"] == "next"),
            reminder_minutes=data["reminder_minutes"],
        )
    except ApplicationError as exc:
        context["error"] = {
            "message": str(exc.message),
            "details": [str(d.message) for d in exc.details],
        }
        return render(request, "web/daily_report_settings.html", context, status=exc.status)
    note_write(request)
    messages.success(request, _("Daily report due time saved."))
    return redirect("web:daily-report-settings")
