"""Durations as sales ops write them: ``36h``, ``7d``, ``2w``, ``1d12h``, ``90m``."""

from __future__ import annotations

import re
from datetime import timedelta

__all__ = ["DURATION_PATTERN", "format_duration", "parse_duration"]

DURATION_PATTERN = r"^\s*(\d+\s*[wdhm]\s*)+$"
_PART = re.compile(r"(\d+)\s*([wdhm])")
_WHOLE = re.compile(DURATION_PATTERN)
_UNIT_MINUTES = {"w": 7 * 24 * 60, "d": 24 * 60, "h": 60, "m": 1}


def parse_duration(text: str) -> timedelta:
    """Parse ``"36h"``-style text; raises ``ValueError`` with a message fit for a user."""
    if not _WHOLE.match(text):
        raise ValueError(f"'{text}' is not a duration; write a number and a unit: 90m, 36h, 7d, 2w")
    minutes = sum(int(n) * _UNIT_MINUTES[unit] for n, unit in _PART.findall(text))
    return timedelta(minutes=minutes)


def format_duration(value: timedelta) -> str:
    """The shortest ``parse_duration`` text for ``value`` (whole minutes)."""
    minutes = int(value.total_seconds() // 60)
    if minutes == 0:
        return "0m"
    # Hours read better than days up to three days (the seeds say "24 h", "72 h").
    if minutes % 60 == 0 and (minutes < 4 * 24 * 60 or minutes % (24 * 60)):
        return f"{minutes // 60}h"
    parts: list[str] = []
    for unit in ("d", "h", "m"):
        size = _UNIT_MINUTES[unit]
        count, minutes = divmod(minutes, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)
