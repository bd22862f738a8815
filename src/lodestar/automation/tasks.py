"""Huey periodic tasks of the automation app."""

from __future__ import annotations

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from lodestar.automation.sweeps import sweep_tasks

__all__ = ["sweep_task_slas"]


@db_periodic_task(crontab(minute="*/5"))
def sweep_task_slas() -> str:
    """Every five minutes: reminders, overdue alerts and escalations of open tasks."""
    return str(sweep_tasks(now=timezone.now()))
