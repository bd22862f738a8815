"""What happens after events are appended, in the same transaction (ARCHITECTURE: main road).

The steps belong to the apps that consume events; they are named, in order, by the setting
`LODESTAR_EVENT_STEPS` (dotted paths, loaded once like `MIDDLEWARE`), whose comment says why the
order is what it is. This app imports none of them, so a new consumer registers its step there
without the log knowing about it. Each step takes the newly recorded events and the time of
recording.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from typing import Any, Protocol

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from lodestar.events.records import RecordedEvent

__all__ = ["EventStep", "event_steps", "process_recorded_events"]


class EventStep(Protocol):
    def __call__(self, *, events: Sequence[RecordedEvent], now: dt.datetime) -> None: ...


@functools.cache
def event_steps() -> tuple[EventStep, ...]:
    """The steps of `LODESTAR_EVENT_STEPS`, imported on first use and kept for the process."""
    return tuple(import_string(path) for path in settings.LODESTAR_EVENT_STEPS)


@receiver(setting_changed)
def _forget_steps(*, setting: str, **kwargs: Any) -> None:
    # Tests register steps with override_settings; the next batch then loads them.
    if setting == "LODESTAR_EVENT_STEPS":
        event_steps.cache_clear()


def process_recorded_events(*, events: Sequence[RecordedEvent], now: dt.datetime) -> None:
    if not events:
        return
    for step in event_steps():
        step(events=events, now=now)
