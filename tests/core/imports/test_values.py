"""Reading the values people type: dates, numbers, yes/no, and loosely compared names."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lodestar.core.imports import (
    ValueInvalid,
    compact_name,
    nearest_names,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_number,
)

MARCH_5 = dt.date(2024, 3, 5)


@pytest.mark.parametrize(
    "text",
    ["2024-03-05", "2024/3/5", "2024.3.5", "2024年3月5日", "2024 年 3 月 5 日", "20240305",
     "5 Mar 2024", "Mar 5, 2024", "March 5th 2024", "2024-03-05 10:30", "2024-03-05T10:30:00",
     "45356", "２０２４－０３－０５"],
)  # fmt: skip
def test_it_reads_the_usual_date_shapes(text: str) -> None:
    assert parse_date(text) == MARCH_5


def test_it_reads_a_slashed_date_day_first_when_told() -> None:
    assert parse_date("05/03/2024", "dmy") == MARCH_5


def test_it_reads_a_slashed_date_month_first_when_told() -> None:
    assert parse_date("03/05/2024", "mdy") == MARCH_5


def test_a_day_above_twelve_decides_the_order_when_none_is_told() -> None:
    assert parse_date("25/03/2024") == dt.date(2024, 3, 25)


@pytest.mark.parametrize("text", ["2024-02-30", "next week", "2024", "13/13/2024", "", "1234567"])
def test_it_refuses_what_is_no_date(text: str) -> None:
    with pytest.raises(ValueInvalid):
        parse_date(text)


def test_a_date_time_takes_the_zone_it_is_given() -> None:
    moment = parse_datetime("2024-03-05 14:30:15", zone="Asia/Shanghai")

    assert moment.utcoffset() == dt.timedelta(hours=8)
    assert (moment.hour, moment.minute, moment.second) == (14, 30, 15)


def test_an_offset_in_the_text_wins_over_the_zone() -> None:
    moment = parse_datetime("2024-03-05T06:30:00Z", zone="Asia/Shanghai")

    assert moment.hour == 14


def test_afternoon_times_in_chinese_are_read() -> None:
    assert parse_datetime("2024/3/5 下午2:30").hour == 14


def test_an_excel_serial_with_a_fraction_is_a_time_of_day() -> None:
    assert parse_datetime("45356.5") == dt.datetime(2024, 3, 5, 12, 0)


@pytest.mark.parametrize(
    ("text", "value"),
    [("1,234.50", "1234.50"), ("¥1,234", "1234"), ("￥1,234", "1234"), ("1.2万", "12000"),
     ("(123)", "-123"), ("-5%", "-0.05"), ("3亿", "300000000"), ("1 234", "1234"),
     ("1.234,5", "1234.5"), ("USD 99", "99"), ("12元", "12"), ("２５", "25"), ("2.5k", "2500")],
)  # fmt: skip
def test_it_reads_formatted_numbers(text: str, value: str) -> None:
    assert parse_number(text) == Decimal(value)


@pytest.mark.parametrize("text", ["abc", "1,23,4", "12..3", "", "--5", "1e400", "5 apples"])
def test_it_refuses_what_is_no_number(text: str) -> None:
    with pytest.raises(ValueInvalid):
        parse_number(text)


@pytest.mark.parametrize("text", ["是", "有", "Y", "yes", "TRUE", "1", "√"])
def test_yes_words_are_true(text: str) -> None:
    assert parse_bool(text) is True


@pytest.mark.parametrize("text", ["否", "无", "N", "no", "False", "0", "×"])
def test_no_words_are_false(text: str) -> None:
    assert parse_bool(text) is False


def test_a_maybe_is_no_yes_no() -> None:
    with pytest.raises(ValueInvalid):
        parse_bool("也许")


def test_a_name_written_without_its_space_finds_the_catalogue_name() -> None:
    catalogue = ["GTX Basic", "GTX Pro", "MG Special", "GTX Plus Pro", "GTK 500"]

    assert nearest_names("GTXPro", catalogue)[0] == "GTX Pro"


def test_nearest_names_ignore_case_punctuation_and_full_width() -> None:
    assert nearest_names("ｇｔｘ－ｐｒｏ", ["MG Special", "GTX Pro"]) == ["GTX Pro"]


def test_nearest_names_offer_nothing_for_an_unrelated_name() -> None:
    assert nearest_names("华为", ["GTX Pro", "MG Special"]) == []


def test_nearest_names_keep_to_the_limit() -> None:
    assert len(nearest_names("GTX", ["GTX Pro", "GTX Basic", "GTX Plus", "GTX Plus Pro"], 2)) == 2


@given(
    st.integers(min_value=-(10**12), max_value=10**12),
    st.integers(min_value=0, max_value=99),
)
def test_a_number_formatted_with_separators_reads_back(whole: int, cents: int) -> None:
    sign = "-" if whole < 0 else ""
    text = f"{sign}{abs(whole):,}.{cents:02d}"

    assert parse_number(text) == Decimal(f"{sign}{abs(whole)}.{cents:02d}")


@given(st.integers(min_value=0, max_value=10**9))
def test_a_number_in_accounting_parentheses_is_negative(value: int) -> None:
    assert parse_number(f"(¥{value:,})") == -value


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(9999, 12, 31)))
def test_every_date_reads_back_from_its_chinese_and_slashed_forms(day: dt.date) -> None:
    assert parse_date(f"{day.year}年{day.month}月{day.day}日") == day
    assert parse_date(f"{day.day:02d}/{day.month:02d}/{day.year}", "dmy") == day
    assert parse_date(f"{day.month}/{day.day}/{day.year}", "mdy") == day


@given(st.text(max_size=30))
def test_compact_names_are_stable(text: str) -> None:
    assert compact_name(compact_name(text)) == compact_name(text)
