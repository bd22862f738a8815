"""Huey tasks of the insights app: the hourly sweep of what only time changes.

Silence (72 h), staleness (47 days) and dwell overruns appear without any event arriving, and
communication scores become final once their upload window has passed; the sweep runs the full
recompute for every organization, which also writes today's health snapshots (the day's last
computation is the one kept for the trend).
"""

from __future__ import annotations

import datetime as dt

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from lodestar.insights.computation import insights_recompute, insights_refresh

__all__ = ["recompute_organization", "refresh_scores", "sweep_insights"]


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


@db_task()
def recompute_organization(organization_id: int) -> int:
    """One organization's full recompute, queued (e.g. after a playbook is published)."""
    return insights_recompute(organization_id=organization_id).alerts_raised


@db_periodic_task(crontab(minute="7"))
def sweep_insights() -> int:
    """Hourly, at :07 (off the top of the hour, when the notification sweep is busiest)."""
    return insights_recompute().alerts_raised
