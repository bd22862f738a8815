"""The engine's clocks and schedules: pure functions over plain data, time passed in."""

from __future__ import annotations

from lodestar.core.engine.sla import (
    BusinessCalendar,
    Clock,
    SlaError,
    business_time_between,
    due_at,
    is_open,
    next_opening,
)

__all__ = [
    "BusinessCalendar",
    "Clock",
    "SlaError",
    "business_time_between",
    "due_at",
    "is_open",
    "next_opening",
]
