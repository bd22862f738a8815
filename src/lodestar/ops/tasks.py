"""The worker's heartbeat (see `lodestar.ops.health`)."""

from __future__ import annotations

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import on_startup, periodic_task

from lodestar.ops.health import worker_heartbeat_record

__all__ = ["worker_heartbeat", "worker_heartbeat_at_start"]


@periodic_task(crontab(minute="*"))
def worker_heartbeat() -> None:
    """Every minute, through the queue: the scheduler and a worker thread are both working."""
    worker_heartbeat_record(now=timezone.now())


@on_startup()
def worker_heartbeat_at_start() -> None:
    """A worker that has just started is seen at once, not at the next whole minute."""
    worker_heartbeat_record(now=timezone.now())
