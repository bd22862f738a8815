"""Huey tasks: thin wrappers that hand ids to the worker steps in `delivery`.

Tasks take ids, never model instances: the row is the truth, re-read when the task runs.
Huey runs SqliteHuey embedded and RedisHuey when REDIS_URL is set (see settings.HUEY); the
steps are the same either way, and two consumers on one queue are safe because every send
goes through `delivery.claim`.
"""

from __future__ import annotations

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from lodestar.integrations import delivery

__all__ = ["deliver_notification", "sweep_notifications"]


@db_task()
def deliver_notification(notification_id: int) -> str:
    return str(delivery.deliver(notification_id))


@db_periodic_task(crontab(minute="*"))
def sweep_notifications() -> int:
    """Every minute: queue every due or abandoned outbox row (retries, lost enqueues, crashes)."""
    ids = delivery.due_ids(now=timezone.now())
    for notification_id in ids:
        deliver_notification(notification_id)
    return len(ids)
