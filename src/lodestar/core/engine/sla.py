"""SLA clocks: when a task falls due, and how much business time passed between two instants.

Two clocks:

- **wall clock** — elapsed real time, 24/7. ``24h`` is 24 hours of physical time, so across a
  daylight-saving change the local clock time of the due moment shifts by an hour.
- **business hours** — only the organization's open time counts: working weekdays, between the
  workday's start and end, holidays excluded and make-up days (调休, a weekend worked in exchange
  for a longer holiday) included, all in the organization's time zone. A start outside open time
  begins counting at the next opening. ``24h`` is 24 *open* hours (≈ 2⅔ nine-hour days).

All arithmetic is done on UTC instants, so durations are physical durations even on days when a
DST change falls inside the open window. Results are aware datetimes in UTC; callers convert for
display. Pure functions: the calendar and the start time are passed in.
"""

from __future__ import annotations

import datetime as dt
import enum
import zoneinfo
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from lodestar.core.errors import LodestarError

__all__ = [
    "BusinessCalendar",
    "Clock",
    "SlaError",
    "business_time_between",
    "due_at",
    "is_open",
    "next_opening",
]

_UTC = dt.UTC
# A calendar whose open days are all holidays for ten years is a configuration error, not an
# instruction to loop forever.
_SEARCH_LIMIT_DAYS = 3660


class SlaError(LodestarError):
    """A calendar or SLA input that cannot be used (unknown zone, empty week, naive time …)."""


class Clock(enum.StrEnum):
    WALL = "wall"
    BUSINESS = "business"


def _check_aware(value: dt.datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise SlaError(f"{name} must be a time-zone aware datetime, got {value!r}")


@dataclass(frozen=True, slots=True)
class BusinessCalendar:
    """When an organization is open.

    ``working_days`` are ISO weekdays (1 = Monday … 7 = Sunday); ``opens``/``closes`` are local
    wall-clock times on those days (``opens < closes``: night shifts spanning midnight are not
    supported); ``holidays`` are local dates on which nothing counts; ``make_up_days`` are local
    dates worked although their weekday is not a working day. A date in both is a holiday.

    ``published_years`` are the years for which the holidays and make-up days come from a
    published arrangement (None: the calendar claims none, so no year is missing). A working-day
    question about any other year is reported to ``on_unpublished_year`` (with the year), so the
    caller can warn that the answer may miss days off and make-up days not yet known.
    """

    time_zone: str
    working_days: frozenset[int] = frozenset({1, 2, 3, 4, 5})
    opens: dt.time = dt.time(9, 0)
    closes: dt.time = dt.time(18, 0)
    holidays: frozenset[dt.date] = frozenset()
    make_up_days: frozenset[dt.date] = frozenset()
    published_years: frozenset[int] | None = None
    on_unpublished_year: Callable[[int], None] | None = field(
        default=None, repr=False, compare=False
    )
    _zone: zoneinfo.ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            zone = zoneinfo.ZoneInfo(self.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise SlaError(f"unknown time zone {self.time_zone!r}") from exc
        object.__setattr__(self, "_zone", zone)
        object.__setattr__(self, "working_days", frozenset(self.working_days))
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(self, "make_up_days", frozenset(self.make_up_days))
        if self.published_years is not None:
            object.__setattr__(self, "published_years", frozenset(self.published_years))
        if not self.working_days:
            raise SlaError("a business calendar needs at least one working day")
        if not self.working_days <= {1, 2, 3, 4, 5, 6, 7}:
            raise SlaError(f"working days are ISO weekdays 1..7, got {sorted(self.working_days)}")
        if self.opens.tzinfo is not None or self.closes.tzinfo is not None:
            raise SlaError("opening hours are local wall-clock times without a time zone")
        if not self.opens < self.closes:
            raise SlaError(f"the workday must open before it closes ({self.opens}–{self.closes})")

    @classmethod
    def build(
        cls,
        *,
        time_zone: str,
        working_days: Iterable[int],
        opens: dt.time,
        closes: dt.time,
        holidays: Iterable[dt.date] = (),
        make_up_days: Iterable[dt.date] = (),
        published_years: Iterable[int] | None = None,
        on_unpublished_year: Callable[[int], None] | None = None,
    ) -> BusinessCalendar:
        """Convenience constructor taking any iterables (e.g. an Organization's JSON list)."""
        return cls(
            time_zone=time_zone,
            working_days=frozenset(int(day) for day in working_days),
            opens=opens,
            closes=closes,
            holidays=frozenset(holidays),
            make_up_days=frozenset(make_up_days),
            published_years=None if published_years is None else frozenset(published_years),
            on_unpublished_year=on_unpublished_year,
        )

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return self._zone

    def is_working_day(self, day: dt.date) -> bool:
        if (
            self.on_unpublished_year is not None
            and self.published_years is not None
            and day.year not in self.published_years
        ):
            self.on_unpublished_year(day.year)
        if day in self.holidays:
            return False
        return day.isoweekday() in self.working_days or day in self.make_up_days

    def window(self, day: dt.date) -> tuple[dt.datetime, dt.datetime] | None:
        """The open interval ``[opens, closes)`` of local ``day`` as UTC instants, or None.

        A local time skipped by a DST change resolves the way ``zoneinfo`` does (fold=0), and
        the window's length is then its real length, which keeps every duration physical.
        """
        if not self.is_working_day(day):
            return None
        start = dt.datetime.combine(day, self.opens, tzinfo=self._zone).astimezone(_UTC)
        end = dt.datetime.combine(day, self.closes, tzinfo=self._zone).astimezone(_UTC)
        if end <= start:  # only possible if a DST jump swallows the whole window
            return None
        return start, end

    def windows_from(
        self, moment: dt.datetime, until: dt.datetime | None = None
    ) -> Iterator[tuple[dt.datetime, dt.datetime]]:
        """Open windows that end after ``moment``, in order, clipped to start no earlier.

        Without ``until`` the sequence is endless; with it, it stops after ``until``'s local day.
        """
        _check_aware(moment, "moment")
        moment = moment.astimezone(_UTC)
        day = moment.astimezone(self._zone).date()
        last_day = until.astimezone(self._zone).date() if until is not None else None
        empty_days = 0
        while last_day is None or day <= last_day:
            span = self.window(day)
            day += dt.timedelta(days=1)
            if span is None:
                empty_days += 1
                if last_day is None and empty_days > _SEARCH_LIMIT_DAYS:
                    raise SlaError("no open business hours within ten years of the start")
                continue
            empty_days = 0
            start, end = span
            if end <= moment:
                continue
            yield max(start, moment), end


def is_open(moment: dt.datetime, calendar: BusinessCalendar) -> bool:
    """Whether ``moment`` lies inside open business hours."""
    _check_aware(moment, "moment")
    local_day = moment.astimezone(calendar.zone).date()
    span = calendar.window(local_day)
    return span is not None and span[0] <= moment < span[1]


def next_opening(moment: dt.datetime, calendar: BusinessCalendar) -> dt.datetime:
    """``moment`` itself if open, else the start of the next open window (UTC)."""
    start, _end = next(calendar.windows_from(moment))
    return start


def due_at(
    start: dt.datetime,
    duration: dt.timedelta,
    calendar: BusinessCalendar | None = None,
    *,
    clock: Clock = Clock.BUSINESS,
) -> dt.datetime:
    """When an SLA of ``duration`` started at ``start`` falls due, in UTC.

    On the business clock only open time counts; ``calendar`` is required. A zero duration is
    due at ``start`` itself (nothing to count), which keeps ``due_at`` additive:
    ``due_at(due_at(s, a), b) == due_at(s, a + b)``. A deadline reached exactly at closing time
    is due at closing time, not at the next opening.
    """
    _check_aware(start, "start")
    if duration < dt.timedelta(0):
        raise SlaError(f"an SLA duration cannot be negative, got {duration}")
    start = start.astimezone(_UTC)
    if clock is Clock.WALL or duration == dt.timedelta(0):
        return start + duration
    if calendar is None:
        raise SlaError("the business-hours clock needs a business calendar")
    remaining = duration
    for window_start, window_end in calendar.windows_from(start):
        available = window_end - window_start
        if remaining <= available:
            return window_start + remaining
        remaining -= available
    raise AssertionError("windows_from is infinite")  # pragma: no cover


def business_time_between(
    start: dt.datetime, end: dt.datetime, calendar: BusinessCalendar
) -> dt.timedelta:
    """Open business time in ``[start, end)``: response times, on-time margins.

    Antisymmetric: swapping the arguments negates the result, so a completion before the due
    time gives a negative "lateness" without special cases.
    """
    _check_aware(start, "start")
    _check_aware(end, "end")
    if end < start:
        return -business_time_between(end, start, calendar)
    start, end = start.astimezone(_UTC), end.astimezone(_UTC)
    total = dt.timedelta(0)
    for window_start, window_end in calendar.windows_from(start, until=end):
        if window_start >= end:
            break
        total += min(window_end, end) - window_start
    return total
