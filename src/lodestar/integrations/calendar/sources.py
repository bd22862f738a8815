"""What goes into a user's calendar feed: pluggable event sources.

A source is a function ``(user, now) -> iterable of CalendarEvent`` that returns only the
user's own items. Each app that has something to schedule registers its source with
`register_source` when it is ready (open tasks: `lodestar.automation.calendar`), without
touching the feed view.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

from lodestar.integrations.calendar.ics import CalendarEvent
from lodestar.org.models import User

__all__ = ["EventSource", "events_for", "register_source"]

EventSource = Callable[[User, dt.datetime], Iterable[CalendarEvent]]

_SOURCES: list[EventSource] = []


def register_source(source: EventSource) -> EventSource:
    """Add an event source (usable as a decorator); registering twice is a no-op."""
    if source not in _SOURCES:
        _SOURCES.append(source)
    return source


def events_for(user: User, now: dt.datetime) -> list[CalendarEvent]:
    events: list[CalendarEvent] = []
    for source in _SOURCES:
        events.extend(source(user, now))
    return events
