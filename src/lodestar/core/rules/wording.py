"""Small wording helpers shared by the explanations (kept in one place so they read alike)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta, tzinfo

from lodestar.core.rules.results import Bilingual
from lodestar.core.spans import say_span

__all__ = ["join_names", "say_duration", "say_time"]


def say_duration(value: timedelta) -> Bilingual:
    """``3 天`` / ``3 days``: the one duration format of ``lodestar.core.spans``."""
    zh, en = say_span(value)
    return Bilingual(zh, en)


def say_time(value: datetime, zone: tzinfo) -> str:
    """A timestamp as shown in explanations, in `zone` (the reader's organization's)."""
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def join_names(names: Iterable[Bilingual]) -> Bilingual:
    items = list(names)
    return Bilingual("、".join(n.zh for n in items), ", ".join(n.en for n in items))
