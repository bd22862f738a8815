"""The daily report pages through the test client: the rep's form, the Today card, the
manager's day, a rep's history and the administrators' due time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from lodestar.crm.models import DailyReport
from tests.conftest import Cast
from tests.factories import DailyReportFactory, EventFactory, OpportunityFactory

ClientAs = Callable[[Any], Client]
PAST_MONDAY = dt.date(2026, 3, 2)


def today(cast: Cast) -> dt.date:
    return timezone.now().astimezone(cast.org.tz).date()


def test_the_form_starts_from_the_days_logged_work(cast: Cast, client_as: ClientAs) -> None:
    deal = OpportunityFactory(owner=cast.owner, name="华东机床-伺服电机")
    at = dt.datetime.combine(today(cast), dt.time(10), tzinfo=cast.org.tz)
    EventFactory(opportunity=deal, type="call", occurred_at=at, payload={"summary": "确认预算"})
    page = client_as(cast.owner).get(reverse("web:daily-report")).content.decode()
    assert "Calls (1): 华东机床-伺服电机 (确认预算)</textarea>" in page
    assert "Send the report" in page


def test_sending_the_form_stores_the_report_and_says_so(cast: Cast, client_as: ClientAs) -> None:
    client = client_as(cast.owner)
    response = client.post(
        reverse("web:daily-report"),
        {"date": today(cast).isoformat(), "body": "拜访两家客户", "plans": "报价", "blockers": ""},
        follow=True,
    )
    assert response.status_code == 200
    assert "Daily report sent on time." in response.content.decode()
    assert DailyReport.objects.get(author=cast.owner).plans == "报价"
    assert "Update the report" in response.content.decode()


def test_an_empty_report_is_refused_with_the_fields_words(cast: Cast, client_as: ClientAs) -> None:
    response = client_as(cast.owner).post(
        reverse("web:daily-report"), {"date": today(cast).isoformat(), "body": " "}
    )
    assert response.status_code == 422
    assert "Say what you did that day" in response.content.decode()
    assert not DailyReport.objects.exists()


def test_a_report_past_its_due_time_is_shown_as_sent_without_the_form(
    cast: Cast, client_as: ClientAs
) -> None:
    DailyReportFactory(author=cast.owner, date=PAST_MONDAY, body="原稿")
    page = client_as(cast.owner).get(reverse("web:daily-report"), {"date": "2026-03-02"})
    text = page.content.decode()
    assert "原稿" in text
    assert 'id="daily-report-form"' not in text


def test_the_today_card_says_whether_todays_report_is_sent(cast: Cast, client_as: ClientAs) -> None:
    client = client_as(cast.owner)
    assert "Write today's report" in client.get(reverse("web:daily-report-card")).content.decode()
    DailyReportFactory(author=cast.owner, date=today(cast), submitted_at=timezone.now())
    assert "Sent at" in client.get(reverse("web:daily-report-card")).content.decode()


def test_the_manager_sees_the_day_with_the_missing_highlighted(
    cast: Cast, client_as: ClientAs
) -> None:
    DailyReportFactory(
        author=cast.owner,
        date=PAST_MONDAY,
        blockers="缺样机",
        submitted_at=dt.datetime.combine(PAST_MONDAY, dt.time(18), tzinfo=cast.org.tz),
    )
    page = client_as(cast.manager).get(reverse("web:daily-reports"), {"date": "2026-03-02"})
    text = page.content.decode()
    assert "1 of 2 sent" in text
    assert '<li class="missing">' in text
    assert "缺样机" in text
    assert str(cast.other_team_rep) not in text


def test_a_rep_asking_for_the_team_view_gets_their_own_report(
    cast: Cast, client_as: ClientAs
) -> None:
    response = client_as(cast.owner).get(reverse("web:daily-reports"))
    assert response.status_code == 302
    assert response["Location"] == reverse("web:daily-report")


@pytest.mark.parametrize(("who", "status"), [("manager", 200), ("teammate", 404), ("ops", 200)])
def test_a_reps_history_is_read_by_those_who_may(
    cast: Cast, client_as: ClientAs, who: str, status: int
) -> None:
    url = reverse("web:daily-reports-rep", args=[cast.owner.pk])
    assert client_as(getattr(cast, who)).get(url).status_code == status


def test_an_admin_changes_the_due_time_on_the_settings_page(
    cast: Cast, client_as: ClientAs
) -> None:
    url = reverse("web:daily-report-settings")
    assert client_as(cast.manager).get(url).status_code == 403
    response = client_as(cast.admin).post(
        url, {"due_time": "20:00", "due_day": "same", "reminder_minutes": "30"}, follow=True
    )
    assert "Daily report due time saved." in response.content.decode()
    cast.org.refresh_from_db()
    assert (cast.org.daily_report_due_minutes, cast.org.daily_report_reminder_minutes) == (
        1200,
        30,
    )


def test_the_settings_page_refuses_a_due_time_before_noon(cast: Cast, client_as: ClientAs) -> None:
    response = client_as(cast.admin).post(
        reverse("web:daily-report-settings"),
        {"due_time": "09:00", "due_day": "same", "reminder_minutes": "30"},
    )
    assert response.status_code == 422
    assert "Choose a due time from 12:00 on the day to 12:00 the next day." in (
        response.content.decode()
    )


def test_the_on_time_drilldown_shows_each_days_due_time(cast: Cast, client_as: ClientAs) -> None:
    cast.org.daily_report_due_minutes = 20 * 60
    cast.org.save()
    url = reverse("web:drilldown", args=["daily_report_on_time"])
    page = client_as(cast.manager).get(url).content.decode()
    assert "Due at" in page
    assert "8 p.m." in page  # the due time of each day, in the reader's format


def test_the_rep_page_links_to_the_reps_daily_reports(cast: Cast, client_as: ClientAs) -> None:
    page = client_as(cast.manager).get(reverse("web:rep", args=[cast.owner.pk])).content.decode()
    assert reverse("web:daily-reports-rep", args=[cast.owner.pk]) in page
