"""Plain types shared by the scoring modules: ids, bilingual messages, periods, statistics."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from lodestar.core.scoring.errors import InvalidScoringInput, InvalidWeights, NaiveDatetime
from lodestar.core.spans import say_span

__all__ = [
    "DurationStats",
    "Exemption",
    "Message",
    "Rate",
    "RowId",
    "Window",
    "clamp_score",
    "duration_stats",
    "exempted_time",
    "format_span",
    "normalise_weights",
    "percentile",
    "require_aware",
    "shown_score",
]

RowId = int | str
"""The id of a row behind a figure (deal, task, account, rep …) as the Django layer gives it."""


@dataclass(frozen=True, slots=True)
class Message:
    """One human sentence in Chinese (first) and English."""

    zh: str
    en: str


def require_aware(value: datetime, what: str = "datetime") -> datetime:
    """Return ``value``; raise :class:`NaiveDatetime` if it has no time zone."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise NaiveDatetime(f"{what} must be time-zone aware, got {value.isoformat()}")
    return value


@dataclass(frozen=True, slots=True)
class Window:
    """A half-open time window ``[start, end)``."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        require_aware(self.start, "window start")
        require_aware(self.end, "window end")
        if self.end < self.start:
            raise InvalidScoringInput("a window cannot end before it starts")

    @classmethod
    def ending(cls, end: datetime, length: timedelta) -> Window:
        return cls(end - length, end)

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


@dataclass(frozen=True, slots=True)
class Exemption:
    """A declared exemption of one deal ("客户临时失联"): ``[start, end)``, open-ended if no end."""

    start: datetime
    end: datetime | None = None
    reason: str = ""

    def __post_init__(self) -> None:
        require_aware(self.start, "exemption start")
        if self.end is not None:
            require_aware(self.end, "exemption end")
            if self.end < self.start:
                raise InvalidScoringInput("an exemption cannot end before it starts")

    def active_at(self, moment: datetime) -> bool:
        return self.start <= moment and (self.end is None or moment < self.end)

    def overlap(self, start: datetime, end: datetime) -> timedelta:
        """How much of ``[start, end)`` this exemption covers."""
        lo = max(start, self.start)
        hi = end if self.end is None else min(end, self.end)
        return max(hi - lo, timedelta(0))


def exempted_time(exemptions: Iterable[Exemption], start: datetime, end: datetime) -> timedelta:
    """Total time of ``[start, end)`` covered by the exemptions (overlapping ones counted once)."""
    spans = sorted(
        (max(start, e.start), end if e.end is None else min(end, e.end)) for e in exemptions
    )
    total = timedelta(0)
    cursor = start
    for lo, hi in spans:
        lo = max(lo, cursor)
        if hi > lo:
            total += hi - lo
            cursor = hi
    return total


def normalise_weights(weights: Sequence[float]) -> tuple[float, ...]:
    """Scale non-negative weights to add up to 1; raise :class:`InvalidWeights` otherwise."""
    if any(not math.isfinite(w) or w < 0 for w in weights):
        raise InvalidWeights(f"weights must be finite and non-negative, got {list(weights)}")
    total = math.fsum(weights)
    if total <= 0:
        raise InvalidWeights("at least one weight must be above zero")
    return tuple(w / total for w in weights)


def clamp_score(value: float) -> float:
    """Clamp to ``[0, 100]`` and round away float noise (``69.99999999`` must read as 70)."""
    return round(min(100.0, max(0.0, value)), 9)


def shown_score(value: float) -> int:
    """A score as people see it: a whole number, halves rounded up (69.86 → 70, 66.5 → 67).

    Every place that shows a score (pages, alerts, notifications) shows this number, and the
    health threshold is compared with it, so a score shown as 70 is never called below 70.
    """
    return int(Decimal(repr(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True, slots=True)
class Rate:
    """A yardstick ratio with the rows behind it: ``value = numerator / denominator``.

    ``value`` is ``None`` when nothing was due (no denominator), never a made-up 0 or 100 %.
    ``hits`` are the rows counted in the numerator, ``misses`` the rest of the denominator.
    """

    numerator: float
    denominator: float
    hits: tuple[RowId, ...] = ()
    misses: tuple[RowId, ...] = ()

    @property
    def value(self) -> float | None:
        if self.denominator <= 0:
            return None
        return self.numerator / self.denominator

    @property
    def percent(self) -> float | None:
        value = self.value
        return None if value is None else round(value * 100.0, 9)


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0–100) by linear interpolation between ranks (numpy's default)."""
    if not sorted_values:
        raise InvalidScoringInput("a percentile of no values is undefined")
    if not 0 <= q <= 100:
        raise InvalidScoringInput(f"percentile must be within 0–100, got {q}")
    position = (len(sorted_values) - 1) * q / 100.0
    low = math.floor(position)
    high = min(low + 1, len(sorted_values) - 1)
    fraction = position - low
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * fraction


@dataclass(frozen=True, slots=True)
class DurationStats:
    """Count, median, mean and 90th percentile of durations, with the rows measured."""

    count: int
    median: timedelta | None
    mean: timedelta | None
    p90: timedelta | None
    rows: tuple[RowId, ...] = ()


def duration_stats(items: Iterable[tuple[RowId, timedelta]]) -> DurationStats:
    """Statistics of ``(row id, duration)`` pairs; empty input gives ``count=0`` and ``None``s."""
    pairs = list(items)
    if any(d < timedelta(0) for _, d in pairs):
        raise InvalidScoringInput("durations cannot be negative")
    if not pairs:
        return DurationStats(0, None, None, None)
    seconds = sorted(d.total_seconds() for _, d in pairs)
    return DurationStats(
        count=len(pairs),
        median=timedelta(seconds=percentile(seconds, 50)),
        mean=timedelta(seconds=math.fsum(seconds) / len(seconds)),
        p90=timedelta(seconds=percentile(seconds, 90)),
        rows=tuple(row for row, _ in pairs),
    )


def format_span(span: timedelta, *, spaced: bool = True) -> Message:
    """A duration as people say it, in the one format of ``lodestar.core.spans``: its two
    largest units ("3 天 4 小时", "7 个月 28 天").

    ``spaced`` puts spaces between numbers and units in Chinese ("80 小时" vs "36小时").
    """
    zh, en = say_span(span, spaced=spaced)
    return Message(zh, en)
