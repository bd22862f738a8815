"""The weekly report in a real browser, as a manager on a phone: the list of past reports, one
report's sections, generating this week's report now (with its progress note), and the PDF
downloaded; nothing wider than the screen, no serious accessibility problem."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from lodestar.core.reports import IsoWeek
from lodestar.insights.models import WeeklyReport
from lodestar.insights.weekly_reports import weekly_report_make
from tests.browser.conftest import DESKTOP, PHONE, assert_accessible, log_in, screenshot
from tests.conftest import Cast
from tests.insights.weekly_data import build_week

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def last_week(cast: Cast) -> WeeklyReport:
    """The team's week (`tests.insights.weekly_data`) and last week's report of it."""
    build_week(cast)
    now = timezone.now()
    week = IsoWeek.of(now.astimezone(cast.org.tz).date()).shifted(-1)
    return weekly_report_make(organization=cast.org, team=cast.team, week=week, now=now).report


def fits(page: Any, viewport: dict[str, int]) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth") <= viewport["width"])


def test_a_manager_opens_a_report_generates_this_weeks_and_downloads_the_pdf(
    last_week: WeeklyReport, cast: Cast, live_server: Any, open_page: Any, tmp_path: Any
) -> None:
    page = open_page(PHONE)
    log_in(page, live_server.url, "manager")
    page.goto(f"{live_server.url}/reports/weekly/")
    listed = page.get_by_role("link", name=f"{last_week.week} · {cast.team.name}")
    assert listed.is_visible()
    assert fits(page, PHONE)
    assert_accessible(page)
    screenshot(page, "60-weekly-reports-375")

    listed.click()
    page.wait_for_load_state("networkidle")
    heading = page.get_by_role("heading", level=1)
    assert last_week.week in heading.inner_text()
    for name in (
        "Team funnel health",
        "Below 70, and why",
        "Stuck deals",
        "Action penetration",
        "Weighted pipeline",
        "Coaching suggestions",
    ):
        assert page.get_by_role("heading", name=name).is_visible()
    assert "This is not a forecast." in page.inner_text("main")
    assert fits(page, PHONE)
    assert_accessible(page)
    screenshot(page, "61-weekly-report-375")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download PDF").click()
    saved = tmp_path / "report.pdf"
    download_info.value.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")
    assert download_info.value.suggested_filename.endswith(".pdf")

    page.get_by_role("link", name="Weekly reports").first.click()
    page.get_by_label("Team").first.select_option(str(cast.team.pk))
    page.get_by_role("button", name="Generate now").click()
    page.wait_for_load_state("networkidle")
    this_week = WeeklyReport.objects.exclude(pk=last_week.pk).get()
    assert page.url.endswith(f"/reports/weekly/{this_week.pk}/")
    assert "1 weekly report made and sent." in page.inner_text("main")


def test_the_report_reads_at_a_desk_and_prints_without_the_navigation(
    last_week: WeeklyReport, live_server: Any, open_page: Any
) -> None:
    page = open_page(DESKTOP)
    log_in(page, live_server.url, "manager")
    page.goto(f"{live_server.url}/reports/weekly/{last_week.pk}/")
    assert page.get_by_role("button", name="Print").is_visible()
    assert fits(page, DESKTOP)
    screenshot(page, "62-weekly-report-1280")
    page.emulate_media(media="print")
    assert not page.locator("header.topbar").is_visible()
    assert page.get_by_role("heading", name="Weighted pipeline").is_visible()


def test_an_administrator_moves_the_reports_to_friday_afternoon(
    cast: Cast, live_server: Any, open_page: Any
) -> None:
    from lodestar.insights.models import WeeklyReportSchedule

    page = open_page(PHONE)
    log_in(page, live_server.url, "admin")
    page.goto(f"{live_server.url}/reports/weekly/schedule/")
    assert page.get_by_role("heading", name="Every Monday at 08:00").is_visible()
    assert_accessible(page)
    page.get_by_label("Weekday").select_option("5")
    page.get_by_label("Hour").select_option("17")
    page.get_by_role("button", name="Save schedule").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("heading", name="Every Friday at 17:00").is_visible()
    assert "The weekly report schedule is saved." in page.inner_text("main")
    assert fits(page, PHONE)
    row = WeeklyReportSchedule.objects.get(organization=cast.org)
    assert (row.weekday, row.hour, row.updated_by_id) == (5, 17, cast.admin.pk)
