"""What `/api/v1/health` answers."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Field, Schema

__all__ = ["CheckOut", "HealthOut", "QueueCheckOut", "WorkerCheckOut"]

Part = Literal["database", "queue", "worker"]


class CheckOut(Schema):
    ok: bool
    error: Literal["unreachable"] | None = Field(
        description="Why the part failed; the details are in the server's log."
    )


class QueueCheckOut(CheckOut):
    pending: int | None = Field(description="Tasks waiting in the worker queue.")


class WorkerCheckOut(Schema):
    ok: bool
    error: Literal["unreachable", "never_seen", "stale"] | None = Field(
        description=(
            "`never_seen`: no worker has ever beat; `stale`: the last beat is older than "
            "`max_age_seconds`; `unreachable`: the shared cache holding it fails."
        )
    )
    last_seen_at: dt.datetime | None = Field(description="A worker's last heartbeat.")
    age_seconds: float | None
    max_age_seconds: int


class HealthOut(Schema):
    status: Literal["ok", "unhealthy"]
    failing: list[Part] = Field(description="The parts that failed; empty when healthy.")
    database: CheckOut
    queue: QueueCheckOut
    worker: WorkerCheckOut
