"""How long something lasted, in words: the one duration format of every page, alert and reason.

A duration reads in its two largest units, counted down (floored) from the largest that fits:

    under a minute   不到 1 分钟          under a minute
    45 min           45 分钟              45 minutes
    3 h 5 min        3 小时 5 分钟        3 hours 5 minutes
    3 d 4 h          3 天 4 小时          3 days 4 hours
    238 d            7 个月 28 天         7 months 28 days
    400 d            1 年 1 个月          1 year 1 month

A month counts 30 days and a year 365 days. Each unit stays below the next one up (minutes < 60,
hours < 24, days < 30, months < 12 after a year); a leading month count reaches 12 only in the
last five days before a year (360–364 days read "12 个月 …"). The second unit is left out when it
is zero ("8 个月", not "8 个月 0 天"). Floored, never rounded up: what is shown is at most the
duration, and a longer duration never reads shorter.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal, NamedTuple

__all__ = ["UNITS", "SpanText", "Unit", "say_span", "span_parts"]

Unit = Literal["year", "month", "day", "hour", "minute"]

# Each unit's length in minutes, largest first.
UNITS: tuple[tuple[Unit, int], ...] = (
    ("year", 365 * 24 * 60),
    ("month", 30 * 24 * 60),
    ("day", 24 * 60),
    ("hour", 60),
    ("minute", 1),
)
_MONTHS_IN_YEAR = 11  # at most, after a year (a 365-day year holds 12 months and 5 days)

_ZH = {"year": "年", "month": "个月", "day": "天", "hour": "小时", "minute": "分钟"}
_EN = {
    "year": ("year", "years"),
    "month": ("month", "months"),
    "day": ("day", "days"),
    "hour": ("hour", "hours"),
    "minute": ("minute", "minutes"),
}


class SpanText(NamedTuple):
    """A duration in Chinese and English."""

    zh: str
    en: str


def span_parts(value: timedelta) -> tuple[tuple[Unit, int], ...]:
    """The (unit, count) pairs shown for ``value``: one or two, largest first; none under a
    minute. A negative duration counts as zero."""
    minutes = max(int(value.total_seconds() // 60), 0)
    for index, (unit, size) in enumerate(UNITS):
        if minutes < size:
            continue
        count, rest = divmod(minutes, size)
        if index + 1 == len(UNITS):
            return ((unit, count),)
        smaller, smaller_size = UNITS[index + 1]
        second = rest // smaller_size
        if unit == "year":
            second = min(second, _MONTHS_IN_YEAR)
        parts: tuple[tuple[Unit, int], ...] = ((unit, count),)
        if second:
            parts += ((smaller, second),)
        return parts
    return ()


def say_span(value: timedelta, *, spaced: bool = True) -> SpanText:
    """``value`` in words: ``3 天 4 小时`` / ``3 days 4 hours`` (see the module's table).

    ``spaced=False`` writes the Chinese without spaces, for sentences that run on
    ("在阶段4停留3天4小时").
    """
    parts = span_parts(value)
    gap = " " if spaced else ""
    if not parts:
        return SpanText(f"不到{gap}1{gap}分钟", "under a minute")
    zh = gap.join(f"{count}{gap}{_ZH[unit]}" for unit, count in parts)
    en = " ".join(f"{count} {_EN[unit][0 if count == 1 else 1]}" for unit, count in parts)
    return SpanText(zh, en)
