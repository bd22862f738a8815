"""On a 375 px phone: a rep opens the daily report from Today, finds the day's calls filled in,
edits, adds plans and blockers and sends it; the manager sees the team's day with the missing
rep first and the rep's report."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from lodestar.crm.models import DailyReport
from tests.browser.conftest import PHONE, assert_accessible, log_in, screenshot
from tests.conftest import Cast

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fits(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"])


def test_a_rep_sends_the_daily_report_and_the_manager_sees_the_team(
    cast: Cast, live_server: Any, open_page: Any
) -> None:
    from tests.factories import EventFactory, HolidayFactory, OpportunityFactory, TaskFactory

    today = timezone.now().astimezone(cast.org.tz).date()
    # Today is a working day whatever the calendar says, so a report is due from everyone.
    HolidayFactory(organization=cast.org, date=today, is_working_day=True, name="调休上班")
    morning = dt.datetime.combine(today, dt.time(0, 5), tzinfo=cast.org.tz)
    deal = OpportunityFactory(owner=cast.owner, name="华东机床-伺服电机")
    EventFactory(
        opportunity=deal, type="call", occurred_at=morning, payload={"summary": "确认预算"}
    )
    EventFactory(opportunity=deal, type="meeting.held", occurred_at=morning)
    TaskFactory(
        opportunity=deal,
        title="准备行业案例包",
        status="done",
        completed_at=morning,
        completed_by=cast.owner,
    )

    page = open_page(PHONE)
    log_in(page, live_server.url, "owner")
    page.goto(f"{live_server.url}/today/")
    card = page.locator("#daily-report-card")
    card.get_by_text("Not sent yet").wait_for()
    card.get_by_role("link", name="Write today's report").click()
    page.wait_for_load_state("networkidle")

    # The day's work is counted and written out; the rep edits it and adds the rest.
    body = page.get_by_label("What I did")
    assert "Calls (1): 华东机床-伺服电机 (确认预算)" in body.input_value()
    assert "Tasks done (1): 华东机床-伺服电机 (准备行业案例包)" in body.input_value()
    assert fits(page)
    assert_accessible(page)
    screenshot(page, "daily-report-01-form-375")
    body.fill(body.input_value() + "\n客户要求下周演示")
    page.get_by_label("Plans for the next day").fill("周三上门演示")
    page.get_by_label("Blockers and help needed").fill("缺一台样机")
    page.get_by_role("button", name="Send the report").click()
    page.get_by_text("Daily report sent on time.").wait_for()
    report = DailyReport.objects.get(author=cast.owner, date=today)
    assert report.body.endswith("客户要求下周演示")
    assert (report.plans, report.blockers) == ("周三上门演示", "缺一台样机")
    assert report.activity["counts"]["calls"] == 1
    assert page.get_by_role("button", name="Update the report").is_visible()
    assert fits(page)
    screenshot(page, "daily-report-02-sent-375")

    # The manager: the day at a glance, the teammate who has not sent one listed first.
    boss = open_page(PHONE)
    log_in(boss, live_server.url, "manager")
    boss.locator(".nav-more .more-open").click()
    boss.locator("#site-nav").get_by_role("link", name="Daily reports").click()
    boss.wait_for_load_state("networkidle")
    boss.get_by_text("1 of 2 sent").wait_for()
    rows = boss.locator(".report-rows > li")
    assert str(cast.teammate) in rows.nth(0).inner_text()
    assert str(cast.owner) in rows.nth(1).inner_text()
    assert "缺一台样机" in rows.nth(1).inner_text()
    assert "Calls 1" in rows.nth(1).inner_text()
    assert fits(boss)
    assert_accessible(boss)
    screenshot(boss, "daily-report-03-team-375")

    # The rep's history, from their name.
    rows.nth(1).get_by_role("link", name=str(cast.owner)).click()
    boss.wait_for_load_state("networkidle")
    boss.get_by_role("heading", name=f"Daily reports of {cast.owner}").wait_for()
    assert boss.locator(".report-rows > li").first.get_by_text("Sent on time").is_visible()
    assert fits(boss)
    assert_accessible(boss)
    screenshot(boss, "daily-report-04-history-375")
