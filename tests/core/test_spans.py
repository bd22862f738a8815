"""The one duration format: two largest units, floored, each unit within its natural bound."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lodestar.core.spans import UNITS, say_span, span_parts

SIZE = dict(UNITS)
ORDER = [unit for unit, _ in UNITS]
# Below the next unit up: a non-leading unit never reaches these.
BOUND = {"month": 12, "day": 30, "hour": 24, "minute": 60}
# Ten years, to the second.
spans = st.integers(min_value=0, max_value=10 * 365 * 86400).map(lambda s: timedelta(seconds=s))


def shown_minutes(value: timedelta) -> int:
    return sum(count * SIZE[unit] for unit, count in span_parts(value))


@given(spans)
def test_it_shows_at_most_two_adjacent_units_largest_first(value: timedelta) -> None:
    parts = span_parts(value)
    assert len(parts) <= 2
    if len(parts) == 2:
        assert ORDER.index(parts[1][0]) == ORDER.index(parts[0][0]) + 1
    assert all(count > 0 for _, count in parts)


@given(spans)
def test_it_keeps_every_unit_within_its_natural_bound(value: timedelta) -> None:
    parts = span_parts(value)
    for position, (unit, count) in enumerate(parts):
        if unit == "year":
            continue
        # A leading month count reaches 12 in the five days a 365-day year holds past 360.
        limit = BOUND[unit] + (1 if unit == "month" and position == 0 else 0)
        assert count < limit, (value, parts)


@given(spans)
def test_it_never_shows_more_than_the_duration_nor_less_than_its_leading_unit(
    value: timedelta,
) -> None:
    minutes = int(value.total_seconds() // 60)
    shown = shown_minutes(value)
    assert shown <= minutes
    if shown:
        leading = SIZE[span_parts(value)[0][0]]
        assert minutes - shown < leading


@given(spans, spans)
def test_it_is_monotonic(a: timedelta, b: timedelta) -> None:
    low, high = sorted((a, b))
    assert shown_minutes(low) <= shown_minutes(high)


@given(spans)
def test_it_never_reads_hours_in_the_thousands(value: timedelta) -> None:
    text = say_span(value)
    for unit, count in span_parts(value):
        if unit != "year":
            assert count < 100
    assert "1000" not in text.zh
    assert text.en


@pytest.mark.parametrize(
    ("value", "zh", "en"),
    [
        (timedelta(seconds=59), "不到 1 分钟", "under a minute"),
        (timedelta(minutes=45), "45 分钟", "45 minutes"),
        (timedelta(hours=1, minutes=1), "1 小时 1 分钟", "1 hour 1 minute"),
        (timedelta(hours=72), "3 天", "3 days"),
        (timedelta(days=3, hours=4, minutes=59), "3 天 4 小时", "3 days 4 hours"),
        (timedelta(hours=5976), "8 个月 9 天", "8 months 9 days"),
        (timedelta(days=238), "7 个月 28 天", "7 months 28 days"),
        (timedelta(days=240), "8 个月", "8 months"),
        (timedelta(days=362), "12 个月 2 天", "12 months 2 days"),
        (timedelta(days=400), "1 年 1 个月", "1 year 1 month"),
        (timedelta(days=365 + 364), "1 年 11 个月", "1 year 11 months"),
        (timedelta(hours=-5), "不到 1 分钟", "under a minute"),
    ],
)
def test_it_reads(value: timedelta, zh: str, en: str) -> None:
    assert say_span(value) == (zh, en)


def test_it_runs_on_without_spaces_in_chinese() -> None:
    assert say_span(timedelta(days=3, hours=4), spaced=False).zh == "3天4小时"
    assert say_span(timedelta(0), spaced=False).zh == "不到1分钟"
