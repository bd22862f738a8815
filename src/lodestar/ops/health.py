"""Is the running system healthy: the database, the task queue and the worker.

The answers are public (load balancers and monitors ask without signing in), so a failed check
says only *which* part failed and a stable code; the reason behind it (which can name hosts,
users or paths) goes to the log.

The worker proves it is alive by a heartbeat in the shared cache, which every web process sees:
written when a worker thread starts and by a periodic task every minute, which only runs when the
worker's scheduler enqueues it and one of its threads takes it from the queue.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.db import connection

__all__ = [
    "HEARTBEAT_KEY",
    "Check",
    "QueueCheck",
    "SystemHealth",
    "WorkerCheck",
    "database_check",
    "queue_check",
    "system_health",
    "worker_check",
    "worker_heartbeat_record",
]

logger = logging.getLogger(__name__)

HEARTBEAT_KEY = "worker-heartbeat"
UNREACHABLE = "unreachable"
NEVER_SEEN = "never_seen"
STALE = "stale"


@dataclass(frozen=True)
class Check:
    ok: bool
    error: str | None = None


@dataclass(frozen=True)
class QueueCheck(Check):
    pending: int | None = None


@dataclass(frozen=True)
class WorkerCheck(Check):
    last_seen_at: dt.datetime | None = None
    age_seconds: float | None = None
    max_age_seconds: int = 0


@dataclass(frozen=True)
class SystemHealth:
    database: Check
    queue: QueueCheck
    worker: WorkerCheck

    @property
    def failing(self) -> list[str]:
        parts = {"database": self.database, "queue": self.queue, "worker": self.worker}
        return [name for name, check in parts.items() if not check.ok]

    @property
    def ok(self) -> bool:
        return not self.failing

    @property
    def status(self) -> str:
        return "ok" if self.ok else "unhealthy"


def database_check() -> Check:
    """A trivial query on the default database."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        logger.exception("Health check: the database does not answer")
        return Check(ok=False, error=UNREACHABLE)
    return Check(ok=True)


def queue_check() -> QueueCheck:
    """The worker queue's storage answers (the SQLite file, or Redis), with its length."""
    from huey.contrib import djhuey

    try:
        pending = djhuey.HUEY.storage.queue_size()
    except Exception:
        logger.exception("Health check: the task queue does not answer")
        return QueueCheck(ok=False, error=UNREACHABLE)
    return QueueCheck(ok=True, pending=pending)


def worker_heartbeat_record(*, now: dt.datetime) -> None:
    """Note that a worker is alive at `now`. Kept without expiry: an old beat reads as stale,
    which says more than none at all."""
    caches["shared"].set(HEARTBEAT_KEY, now, timeout=None)


def worker_check(*, now: dt.datetime) -> WorkerCheck:
    """How long ago a worker last beat; stale past `settings.WORKER_HEARTBEAT_MAX_AGE`."""
    max_age = settings.WORKER_HEARTBEAT_MAX_AGE
    try:
        last_seen = caches["shared"].get(HEARTBEAT_KEY)
    except Exception:
        logger.exception("Health check: the shared cache holding the worker's heartbeat fails")
        return WorkerCheck(ok=False, error=UNREACHABLE, max_age_seconds=max_age)
    if last_seen is None:
        return WorkerCheck(ok=False, error=NEVER_SEEN, max_age_seconds=max_age)
    age = max(0.0, (now - last_seen).total_seconds())
    return WorkerCheck(
        ok=age <= max_age,
        error=None if age <= max_age else STALE,
        last_seen_at=last_seen,
        age_seconds=round(age, 1),
        max_age_seconds=max_age,
    )


def system_health(*, now: dt.datetime) -> SystemHealth:
    return SystemHealth(
        database=database_check(), queue=queue_check(), worker=worker_check(now=now)
    )
