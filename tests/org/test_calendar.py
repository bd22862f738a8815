"""The organization's business calendar: its hours, China's public calendar, its own days."""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from collections.abc import Iterator

import holidays
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from lodestar.core.engine import BusinessCalendar, due_at
from lodestar.org import calendar as org_calendar
from lodestar.org.calendar import (
    PUBLIC_HOLIDAYS_COUNTRY,
    organization_calendar,
    public_calendar,
    unpublished_years,
)
from lodestar.org.models import Holiday, User
from tests.conftest import Cast

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
H = dt.timedelta(hours=1)


def days(first: str, last: str) -> set[dt.date]:
    day, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    out = set()
    while day <= end:
        out.add(day)
        day += dt.timedelta(days=1)
    return out


def sh(year: int, month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


# The State Council's arrangements (国务院办公厅关于2025年/2026年部分节假日安排的通知), as
# published: https://www.gov.cn/gongbao/2024/issue_11726/202411/content_6989767.html (2025) and
# https://www.gov.cn/gongbao/2025/issue_12406/202511/content_7048922.html (2026).
PUBLISHED = {
    2025: (
        days("2025-01-01", "2025-01-01")  # 元旦
        | days("2025-01-28", "2025-02-04")  # 春节
        | days("2025-04-04", "2025-04-06")  # 清明节
        | days("2025-05-01", "2025-05-05")  # 劳动节
        | days("2025-05-31", "2025-06-02")  # 端午节
        | days("2025-10-01", "2025-10-08"),  # 国庆节、中秋节
        {
            dt.date(2025, 1, 26),
            dt.date(2025, 2, 8),
            dt.date(2025, 4, 27),
            dt.date(2025, 9, 28),
            dt.date(2025, 10, 11),
        },
    ),
    2026: (
        days("2026-01-01", "2026-01-03")  # 元旦
        | days("2026-02-15", "2026-02-23")  # 春节
        | days("2026-04-04", "2026-04-06")  # 清明节
        | days("2026-05-01", "2026-05-05")  # 劳动节
        | days("2026-06-19", "2026-06-21")  # 端午节
        | days("2026-09-25", "2026-09-27")  # 中秋节
        | days("2026-10-01", "2026-10-07"),  # 国庆节
        {
            dt.date(2026, 1, 4),
            dt.date(2026, 2, 14),
            dt.date(2026, 2, 28),
            dt.date(2026, 5, 9),
            dt.date(2026, 9, 20),
            dt.date(2026, 10, 10),
        },
    ),
}


@pytest.fixture
def calendar(cast: Cast) -> BusinessCalendar:
    return organization_calendar(organization=cast.org)


@pytest.fixture
def warnings_again() -> Iterator[None]:
    """Each year is warned about once per process: forget which years were, around a test."""
    org_calendar._warn_unpublished_year.cache_clear()
    yield
    org_calendar._warn_unpublished_year.cache_clear()


def last_published_year() -> int:
    return max(public_calendar(through_year=timezone.now().year + 1).published_years)


class TestPublishedCalendar:
    @pytest.mark.parametrize("year", sorted(PUBLISHED))
    def test_every_day_of_the_year_is_as_published(
        self, calendar: BusinessCalendar, year: int
    ) -> None:
        days_off, make_up_days = PUBLISHED[year]
        wrong = [
            day
            for day in days(f"{year}-01-01", f"{year}-12-31")
            if calendar.is_working_day(day)
            != (day not in days_off and (day.isoweekday() <= 5 or day in make_up_days))
        ]
        assert wrong == []

    def test_2025_spring_festival_and_national_day(self, calendar: BusinessCalendar) -> None:
        assert calendar.is_working_day(dt.date(2025, 1, 26))  # Sunday, make-up day
        assert calendar.is_working_day(dt.date(2025, 2, 8))  # Saturday, make-up day
        assert not any(calendar.is_working_day(day) for day in days("2025-01-28", "2025-02-04"))
        assert not any(calendar.is_working_day(day) for day in days("2025-10-01", "2025-10-08"))
        assert calendar.is_working_day(dt.date(2025, 9, 28))  # Sunday, make-up day
        assert calendar.is_working_day(dt.date(2025, 10, 11))  # Saturday, make-up day

    def test_the_years_tested_here_are_published(self) -> None:
        assert set(PUBLISHED) <= public_calendar(through_year=2026).published_years

    def test_it_agrees_with_the_package_on_every_published_day(
        self, calendar: BusinessCalendar
    ) -> None:
        published = public_calendar(through_year=2026).published_years
        package = holidays.country_holidays(PUBLIC_HOLIDAYS_COUNTRY, years=published)
        first, last = dt.date(min(published), 1, 1), dt.date(max(published), 12, 31)
        wrong = [
            first + dt.timedelta(days=n)
            for n in range((last - first).days + 1)
            if calendar.is_working_day(first + dt.timedelta(days=n))
            != package.is_working_day(first + dt.timedelta(days=n))
        ]
        assert wrong == []

    def test_no_public_day_is_both_off_and_a_make_up_day(self) -> None:
        public = public_calendar(through_year=2026)
        assert public.days_off.isdisjoint(public.make_up_days)


class TestSlaAcrossSpringFestival:
    def test_a_deadline_skips_the_festival_and_counts_the_make_up_saturday(
        self, calendar: BusinessCalendar
    ) -> None:
        # Friday 13 Feb 2026 17:00 + 4 h: 1 h on Friday, 3 h on the make-up Saturday 14th.
        assert due_at(sh(2026, 2, 13, 17), 4 * H, calendar) == sh(2026, 2, 14, 12)
        # Saturday 14th 17:00 + 2 h: 1 h that day, then 15th–23rd off, 1 h on Tuesday 24th.
        assert due_at(sh(2026, 2, 14, 17), 2 * H, calendar) == sh(2026, 2, 24, 10)

    def test_2025_festival_then_the_make_up_saturday(self, calendar: BusinessCalendar) -> None:
        # Monday 27 Jan 2025 17:00 + 20 h: 1 h, then 28 Jan–4 Feb off, 9 h on Wednesday 5th,
        # 9 h on Thursday 6th, 1 h on Friday 7th.
        assert due_at(sh(2025, 1, 27, 17), 20 * H, calendar) == sh(2025, 2, 7, 10)
        # Friday 7 Feb 17:00 + 2 h ends on the make-up Saturday 8th.
        assert due_at(sh(2025, 2, 7, 17), 2 * H, calendar) == sh(2025, 2, 8, 10)


class TestOwnDays:
    def test_it_carries_the_hours(self, calendar: BusinessCalendar) -> None:
        assert calendar.time_zone == "Asia/Shanghai"
        assert calendar.working_days == frozenset({1, 2, 3, 4, 5})
        assert (calendar.opens, calendar.closes) == (dt.time(9), dt.time(18))

    def test_own_days_off_and_working_days_win_over_the_public_calendar(self, cast: Cast) -> None:
        own = {
            dt.date(2025, 3, 12): False,  # a plain Wednesday off (company anniversary)
            dt.date(2025, 2, 8): False,  # the public make-up Saturday, off here
            dt.date(2025, 10, 8): True,  # the last day of the public holiday, worked here
            dt.date(2025, 3, 15): True,  # a plain Saturday, worked here
        }
        for day, works in own.items():
            Holiday.objects.create(organization=cast.org, date=day, is_working_day=works)
        calendar = organization_calendar(organization=cast.org)
        assert {day: calendar.is_working_day(day) for day in own} == own
        assert not calendar.is_working_day(dt.date(2025, 10, 7))  # the public calendar stays

    def test_it_keeps_the_organizations_working_weekdays(self, cast: Cast) -> None:
        cast.org.working_days = [1, 2, 3, 4, 5, 6]
        cast.org.save()
        calendar = organization_calendar(organization=cast.org)
        assert calendar.is_working_day(dt.date(2025, 3, 15))  # Saturday
        assert not calendar.is_working_day(dt.date(2025, 2, 3))  # Monday in Spring Festival


class TestUnpublishedYears:
    def test_it_warns_once_per_year_asked_about(
        self, calendar: BusinessCalendar, caplog: pytest.LogCaptureFixture, warnings_again: None
    ) -> None:
        year = last_published_year() + 1
        with caplog.at_level(logging.WARNING, logger="lodestar.org.calendar"):
            due_at(sh(year, 3, 2, 17), 24 * H, calendar)
            due_at(sh(year, 3, 9, 17), 24 * H, calendar)
        (record,) = caplog.records
        assert f"no published arrangement for {year}" in record.getMessage()

    def test_it_does_not_warn_about_published_years(
        self, calendar: BusinessCalendar, caplog: pytest.LogCaptureFixture, warnings_again: None
    ) -> None:
        with caplog.at_level(logging.WARNING, logger="lodestar.org.calendar"):
            due_at(sh(2026, 2, 13, 17), 24 * H, calendar)
        assert caplog.records == []

    def test_it_names_the_unpublished_years_of_the_coming_month(self) -> None:
        last = last_published_year()
        assert unpublished_years(today=dt.date(last, 6, 1)) == []
        assert unpublished_years(today=dt.date(last, 12, 1)) == [last + 1]
        assert unpublished_years(today=dt.date(last + 1, 3, 1)) == [last + 1]

    def test_the_organization_admin_page_shows_the_gap(
        self, cast: Cast, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        root = User.objects.create_superuser(username="root", password="pw-for-tests")
        page = reverse("admin:org_organization_change", args=[cast.org.pk])

        def warnings_shown_on(today: dt.date) -> list[str]:
            monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: today)
            client = Client()
            client.force_login(root)
            return [str(message) for message in client.get(page).context["messages"]]

        last = last_published_year()
        (shown,) = warnings_shown_on(dt.date(last, 12, 1))
        assert str(last + 1) in shown
        assert warnings_shown_on(dt.date(last, 6, 1)) == []
