"""Huey tasks of the insights app: scores after ingestion, and the sweeps of what time changes.

Silence (72 h), staleness (47 days) and dwell overruns appear without any event arriving, and
communication scores become final once their upload window has passed; the hourly sweep runs
the full recompute for every organization, which also writes today's health snapshots (the
day's last computation is the one kept for the trend). Tasks falling due or overdue are swept
every five minutes (`insights.task_alerts`).
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from lodestar.insights.daily_reports import daily_report_reminders
from lodestar.insights.refresh import insights_recompute, insights_refresh
from lodestar.insights.task_alerts import sweep_tasks
from lodestar.insights.weekly_reports import weekly_reports_due

__all__ = [
    "make_weekly_reports",
    "refresh_scores",
    "remind_daily_reports",
    "sweep_insights",
    "sweep_task_slas",
]


@db_task()
def refresh_scores(organization_id: int, deal_ids: list[int], at: str) -> int:
    """After ingestion commits: score the deals' communications and their owners' health as of
    the ingestion time (the events are in the log by now)."""
    summary = insights_refresh(
        organization_id=organization_id,
        deal_ids=deal_ids,
        now=dt.datetime.fromisoformat(at),
        risks=False,
    )
    return summary.communications_scored


@db_periodic_task(crontab(minute="7"))
def sweep_insights() -> int:
    """Hourly, at :07 (off the top of the hour, when the notification sweep is busiest)."""
    return insights_recompute().alerts_raised


@db_periodic_task(crontab(minute="*/5"))
def sweep_task_slas() -> str:
    """Every five minutes: reminders, overdue alerts and escalations of open tasks."""
    return str(sweep_tasks(now=timezone.now()))


@db_periodic_task(crontab(minute="*/5"))
def remind_daily_reports() -> int:
    """Every five minutes: reps who have not sent a daily report falling due within their
    organization's reminder lead are reminded (once per rep and day)."""
    return daily_report_reminders(now=timezone.now())


@db_periodic_task(crontab(minute="*/10"))
def make_weekly_reports() -> int:
    """Every ten minutes: each team's weekly report once its organization's moment has come
    (once per team and week: `weekly_reports.weekly_report_make`)."""
    return weekly_reports_due(now=timezone.now())
