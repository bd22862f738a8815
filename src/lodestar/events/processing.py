"""What happens after events are appended, in the same transaction (ARCHITECTURE: main road).

Each step takes the newly recorded events and the time of recording. Steps run in order: the
deals' activity summary first, gate evidence next, then triggers (which may close tasks the same
events satisfy), then risk checks. Steps are listed here, explicitly, rather than wired through
signals, so the order is visible.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lodestar.org.models import User

__all__ = ["RecordedEvent", "process_recorded_events"]


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """What the processing steps read of an appended event.

    Ingestion appends a thousand rows at a time with one statement and hands the steps these
    light records rather than building a model instance per row.
    """

    pk: int
    organization_id: int
    type: str
    occurred_at: dt.datetime
    opportunity_id: int | None
    # The deal's team when the event was recorded: it picks the playbook the event meets.
    team_id: int | None
    with_customer: bool
    actor: User | None


Step = Callable[..., None]


def _steps() -> tuple[Step, ...]:
    # Imported lazily: the apps that own the steps import the events app themselves.
    from lodestar.automation.triggers import run_triggers
    from lodestar.insights.activity import activity_on_events
    from lodestar.insights.steps import insights_on_events

    # The activity summary first: the risk checks at the end read it.
    return (activity_on_events, run_triggers, insights_on_events)


def process_recorded_events(*, events: Sequence[RecordedEvent], now: dt.datetime) -> None:
    if not events:
        return
    for step in _steps():
        step(events=events, now=now)
