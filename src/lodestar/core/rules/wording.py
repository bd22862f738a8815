"""Small wording helpers shared by the explanations (kept in one place so they read alike)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta, tzinfo

from lodestar.core.rules.results import Bilingual

__all__ = ["join_names", "say_duration", "say_time"]


def say_duration(value: timedelta) -> Bilingual:
    """``72 小时`` / ``72h``; whole days when the duration is a whole number of days ≥ 4."""
    minutes = int(value.total_seconds() // 60)
    if minutes % (24 * 60) == 0 and minutes >= 4 * 24 * 60:
        days = minutes // (24 * 60)
        return Bilingual(f"{days} 天", f"{days} days")
    if minutes % 60 == 0:
        hours = minutes // 60
        return Bilingual(f"{hours} 小时", f"{hours}h")
    return Bilingual(f"{minutes} 分钟", f"{minutes} min")


def say_time(value: datetime, zone: tzinfo) -> str:
    """A timestamp as shown in explanations, in `zone` (the reader's organization's)."""
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def join_names(names: Iterable[Bilingual]) -> Bilingual:
    items = list(names)
    return Bilingual("、".join(n.zh for n in items), ", ".join(n.en for n in items))
