"""SLA clocks: wall clock and business hours, examples from the seeds plus properties."""

from __future__ import annotations

import dataclasses
import datetime as dt
import zoneinfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lodestar.core.engine import (
    BusinessCalendar,
    Clock,
    SlaError,
    business_time_between,
    due_at,
    is_open,
    next_opening,
)
from lodestar.core.errors import LodestarError

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
H = dt.timedelta(hours=1)

# 2024-10-01..07 is China's National Day week; Sunday 2024-09-29 and Saturday 2024-10-12 were
# make-up working days (调休).
NATIONAL_DAY = frozenset(dt.date(2024, 10, day) for day in range(1, 8))
NATIONAL_DAY_MAKE_UP = frozenset({dt.date(2024, 9, 29), dt.date(2024, 10, 12)})
SH = BusinessCalendar(time_zone="Asia/Shanghai", holidays=NATIONAL_DAY)
SH_WITH_MAKE_UP = BusinessCalendar(
    time_zone="Asia/Shanghai", holidays=NATIONAL_DAY, make_up_days=NATIONAL_DAY_MAKE_UP
)
BE = BusinessCalendar(time_zone="Europe/Berlin", opens=dt.time(8, 0), closes=dt.time(17, 0))


def sh(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


def be(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=BERLIN)


class TestBusinessClock:
    def test_it_counts_inside_one_day(self) -> None:
        # Seed: demo booked Tuesday 10:00 → case pack due in 2 h.
        assert due_at(sh(2024, 9, 3, 10, 0), 2 * H, SH) == sh(2024, 9, 3, 12, 0)

    def test_it_carries_over_the_night(self) -> None:
        # Tuesday 17:00 + 2 h: one hour today, one hour from Wednesday 09:00.
        assert due_at(sh(2024, 9, 3, 17, 0), 2 * H, SH) == sh(2024, 9, 4, 10, 0)

    def test_it_skips_the_weekend(self) -> None:
        assert due_at(sh(2024, 9, 6, 17, 0), 2 * H, SH) == sh(2024, 9, 9, 10, 0)

    def test_it_starts_counting_at_the_next_opening(self) -> None:
        # Saturday night start → counts from Monday 09:00.
        assert due_at(sh(2024, 9, 7, 22, 0), 2 * H, SH) == sh(2024, 9, 9, 11, 0)
        # Before opening on a weekday.
        assert due_at(sh(2024, 9, 3, 6, 30), 2 * H, SH) == sh(2024, 9, 3, 11, 0)

    def test_it_skips_holidays(self) -> None:
        # Monday 30 Sept 17:00 + 24 working hours: 1 h on the 30th, then the holiday week
        # and the weekend, then 9 h each on Tue 8 and Wed 9, 5 h on Thu 10 → 14:00.
        assert due_at(sh(2024, 9, 30, 17, 0), 24 * H, SH) == sh(2024, 10, 10, 14, 0)

    def test_it_counts_make_up_days_on_a_weekend(self) -> None:
        # Friday 11 Oct 17:00 + 2 h: 1 h on Friday, 1 h on the make-up Saturday 12th.
        assert due_at(sh(2024, 10, 11, 17, 0), 2 * H, SH_WITH_MAKE_UP) == sh(2024, 10, 12, 10, 0)
        assert due_at(sh(2024, 10, 11, 17, 0), 2 * H, SH) == sh(2024, 10, 14, 10, 0)

    def test_it_counts_the_make_up_sunday_before_a_holiday_week(self) -> None:
        # Friday 27 Sept 17:00 + 24 h: 1 h Friday, 9 h on the make-up Sunday 29th, 9 h on
        # Monday 30th, then the holiday week and its weekend, 5 h on Tuesday 8 Oct.
        due = due_at(sh(2024, 9, 27, 17, 0), 24 * H, SH_WITH_MAKE_UP)
        assert due == sh(2024, 10, 8, 14, 0)

    def test_a_holiday_wins_over_a_make_up_day_on_the_same_date(self) -> None:
        cal = BusinessCalendar(
            time_zone="Asia/Shanghai",
            holidays=frozenset({dt.date(2024, 10, 12)}),
            make_up_days=frozenset({dt.date(2024, 10, 12)}),
        )
        assert not cal.is_working_day(dt.date(2024, 10, 12))

    def test_it_is_due_at_closing_time_when_the_count_ends_there(self) -> None:
        assert due_at(sh(2024, 9, 3, 9, 0), 9 * H, SH) == sh(2024, 9, 3, 18, 0)

    def test_it_returns_utc(self) -> None:
        assert due_at(sh(2024, 9, 3, 10, 0), H, SH).tzinfo is dt.UTC

    def test_it_counts_real_hours_across_the_spring_dst_change(self) -> None:
        # Berlin night shift-free calendar; the jump happens at 02:00 on Sunday 31 March 2024,
        # outside the window, so Friday 16:00 + 2 h is Monday 09:00 local.
        assert due_at(be(2024, 3, 29, 16, 0), 2 * H, BE) == be(2024, 4, 1, 9, 0)

    def test_it_counts_real_hours_when_dst_falls_inside_the_window(self) -> None:
        # A 24/7-ish calendar (00:30–23:30 every day): on 31 March the window is 22 h long.
        cal = BusinessCalendar(
            time_zone="Europe/Berlin",
            working_days=frozenset(range(1, 8)),
            opens=dt.time(0, 30),
            closes=dt.time(23, 30),
        )
        start = be(2024, 3, 31, 0, 30)
        assert business_time_between(start, be(2024, 3, 31, 23, 30), cal) == 22 * H
        assert due_at(start, 22 * H, cal) == be(2024, 3, 31, 23, 30)


class TestWallClock:
    def test_it_is_plain_elapsed_time(self) -> None:
        # 24 h across Berlin's spring change lands at 13:00 local, not 12:00.
        due = due_at(be(2024, 3, 30, 12, 0), 24 * H, clock=Clock.WALL)
        assert due == be(2024, 3, 31, 13, 0)

    def test_it_ignores_the_calendar(self) -> None:
        start = sh(2024, 9, 7, 22, 0)  # Saturday night
        assert due_at(start, 2 * H, SH, clock=Clock.WALL) == sh(2024, 9, 8, 0, 0)


class TestBusinessTimeBetween:
    def test_it_measures_a_response_across_a_weekend(self) -> None:
        # Asked Friday 17:00, answered Monday 10:30 → 1 h + 1.5 h.
        elapsed = business_time_between(sh(2024, 9, 6, 17, 0), sh(2024, 9, 9, 10, 30), SH)
        assert elapsed == dt.timedelta(hours=2, minutes=30)

    def test_it_is_zero_outside_hours(self) -> None:
        assert business_time_between(sh(2024, 9, 7, 9), sh(2024, 9, 8, 18), SH) == dt.timedelta()

    def test_it_is_antisymmetric(self) -> None:
        a, b = sh(2024, 9, 3, 10), sh(2024, 9, 4, 10)
        assert business_time_between(b, a, SH) == -business_time_between(a, b, SH)

    def test_it_stops_at_end_even_when_nothing_is_ever_open(self) -> None:
        cal = BusinessCalendar(
            time_zone="UTC",
            working_days=frozenset({1}),
            holidays=frozenset(dt.date(2024, 1, 1) + dt.timedelta(days=7 * n) for n in range(60)),
        )
        start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
        assert business_time_between(start, start + dt.timedelta(days=60), cal) == dt.timedelta()


class TestPublishedYears:
    def test_it_reports_each_question_about_an_unpublished_year(self) -> None:
        asked: list[int] = []
        cal = BusinessCalendar(
            time_zone="Asia/Shanghai",
            published_years=frozenset({2024}),
            on_unpublished_year=asked.append,
        )
        due_at(sh(2024, 12, 31, 17, 0), 2 * H, cal)
        assert set(asked) == {2025}
        asked.clear()
        due_at(sh(2024, 12, 30, 9, 0), 2 * H, cal)
        assert asked == []

    def test_it_reports_nothing_when_it_claims_no_published_years(self) -> None:
        asked: list[int] = []
        cal = BusinessCalendar(time_zone="Asia/Shanghai", on_unpublished_year=asked.append)
        due_at(sh(2031, 1, 2, 17, 0), 2 * H, cal)
        assert asked == []

    def test_the_report_hook_does_not_make_calendars_differ(self) -> None:
        assert BusinessCalendar(time_zone="UTC", on_unpublished_year=print) == BusinessCalendar(
            time_zone="UTC"
        )


class TestHelpers:
    def test_is_open_and_next_opening(self) -> None:
        assert is_open(sh(2024, 9, 3, 9, 0), SH)
        assert not is_open(sh(2024, 9, 3, 18, 0), SH)
        assert next_opening(sh(2024, 9, 3, 18, 0), SH) == sh(2024, 9, 4, 9, 0)
        assert next_opening(sh(2024, 9, 3, 12, 0), SH) == sh(2024, 9, 3, 12, 0)


class TestErrors:
    @pytest.mark.parametrize(
        "kwargs",
        [
            {"time_zone": "Mars/Olympus"},
            {"time_zone": "UTC", "working_days": frozenset()},
            {"time_zone": "UTC", "working_days": frozenset({0, 1})},
            {"time_zone": "UTC", "opens": dt.time(18), "closes": dt.time(9)},
        ],
    )
    def test_it_refuses_bad_calendars(self, kwargs: dict[str, object]) -> None:
        with pytest.raises(SlaError):
            BusinessCalendar(**kwargs)  # type: ignore[arg-type]

    def test_it_refuses_naive_and_negative_input(self) -> None:
        with pytest.raises(SlaError, match="aware"):
            due_at(dt.datetime(2024, 9, 3, 10), H, SH)
        with pytest.raises(SlaError, match="negative"):
            due_at(sh(2024, 9, 3, 10), -H, SH)
        with pytest.raises(SlaError, match="calendar"):
            due_at(sh(2024, 9, 3, 10), H)

    def test_its_errors_are_lodestar_errors(self) -> None:
        assert issubclass(SlaError, LodestarError)

    def test_it_refuses_a_calendar_that_never_opens(self) -> None:
        cal = BusinessCalendar(
            time_zone="UTC",
            working_days=frozenset({1}),
            holidays=frozenset(dt.date(2024, 1, 1) + dt.timedelta(days=7 * n) for n in range(600)),
        )
        with pytest.raises(SlaError, match="no open business hours"):
            due_at(dt.datetime(2024, 1, 1, tzinfo=dt.UTC), H, cal)


# --- properties ---------------------------------------------------------------------------

ZONES = ["Asia/Shanghai", "Europe/Berlin", "America/New_York", "UTC"]


@st.composite
def calendars(draw: st.DrawFn) -> BusinessCalendar:
    zone = draw(st.sampled_from(ZONES))
    days = draw(st.frozensets(st.integers(1, 7), min_size=1))
    opens = draw(st.integers(0, 22 * 60))
    closes = draw(st.integers(opens + 30, 23 * 60 + 59))
    holidays = draw(some_dates(max_size=40))
    make_up_days = draw(some_dates(max_size=10))
    return BusinessCalendar(
        time_zone=zone,
        working_days=days,
        opens=dt.time(opens // 60, opens % 60),
        closes=dt.time(closes // 60, closes % 60),
        holidays=holidays,
        make_up_days=make_up_days,
    )


def some_dates(*, max_size: int) -> st.SearchStrategy[frozenset[dt.date]]:
    return st.frozensets(st.dates(dt.date(2023, 12, 1), dt.date(2025, 3, 1)), max_size=max_size)


starts = st.datetimes(
    min_value=dt.datetime(2024, 1, 1),
    max_value=dt.datetime(2024, 12, 31),
    timezones=st.sampled_from([zoneinfo.ZoneInfo(name) for name in ZONES]),
)
durations = st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(hours=200)).map(
    lambda d: dt.timedelta(seconds=int(d.total_seconds()))
)


@settings(max_examples=300, deadline=None)
@given(start=starts, duration=durations, cal=calendars())
def test_due_is_never_before_start(
    start: dt.datetime, duration: dt.timedelta, cal: BusinessCalendar
) -> None:
    assert due_at(start, duration, cal) >= start
    assert due_at(start, duration, cal, clock=Clock.WALL) >= start


@settings(max_examples=300, deadline=None)
@given(start=starts, a=durations, b=durations, cal=calendars())
def test_business_durations_add_up(
    start: dt.datetime, a: dt.timedelta, b: dt.timedelta, cal: BusinessCalendar
) -> None:
    assert due_at(due_at(start, a, cal), b, cal) == due_at(start, a + b, cal)


@settings(max_examples=300, deadline=None)
@given(start=starts, duration=durations, cal=calendars())
def test_business_time_between_inverts_due_at(
    start: dt.datetime, duration: dt.timedelta, cal: BusinessCalendar
) -> None:
    assert business_time_between(start, due_at(start, duration, cal), cal) == duration


@settings(max_examples=200, deadline=None)
@given(start=starts, duration=durations)
def test_wall_clock_is_plain_addition(start: dt.datetime, duration: dt.timedelta) -> None:
    expected = start.astimezone(dt.UTC) + duration
    assert due_at(start, duration, clock=Clock.WALL) == expected


@settings(max_examples=200, deadline=None)
@given(start=starts, duration=durations.filter(lambda d: d > dt.timedelta(0)), cal=calendars())
def test_a_positive_business_deadline_falls_in_or_at_the_end_of_open_time(
    start: dt.datetime, duration: dt.timedelta, cal: BusinessCalendar
) -> None:
    due = due_at(start, duration, cal)
    just_before = due - dt.timedelta(microseconds=1)
    assert is_open(just_before, cal)


@settings(max_examples=200, deadline=None)
@given(cal=calendars(), day=st.dates(dt.date(2023, 12, 1), dt.date(2025, 3, 1)))
def test_a_working_day_is_a_working_weekday_or_a_make_up_day_and_never_a_holiday(
    cal: BusinessCalendar, day: dt.date
) -> None:
    expected = day not in cal.holidays and (
        day.isoweekday() in cal.working_days or day in cal.make_up_days
    )
    assert cal.is_working_day(day) == expected


@settings(max_examples=200, deadline=None)
@given(start=starts, duration=durations, cal=calendars(), extra=some_dates(max_size=10))
def test_more_make_up_days_never_delay_a_deadline_and_more_holidays_never_advance_it(
    start: dt.datetime, duration: dt.timedelta, cal: BusinessCalendar, extra: frozenset[dt.date]
) -> None:
    due = due_at(start, duration, cal)
    more_make_up = dataclasses.replace(cal, make_up_days=cal.make_up_days | extra)
    more_holidays = dataclasses.replace(cal, holidays=cal.holidays | extra)
    assert due_at(start, duration, more_make_up) <= due
    assert due_at(start, duration, more_holidays) >= due
