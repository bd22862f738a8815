"""The weekly report's pages: who sees which team's reports (a manager only their teams, ops and
admins all, a rep none), a report's sections and its PDF, "generate now", and the schedule
page only administrators change."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from lodestar.insights.models import WeeklyReport, WeeklyReportSchedule
from lodestar.insights.weekly_reports import weekly_report_make
from tests.conftest import Cast
from tests.insights.weekly_data import NOW, WEEK, TeamWeek, build_week

pytestmark = pytest.mark.django_db
ClientAs = Callable[[Any], Client]


@pytest.fixture
def week(cast: Cast) -> TeamWeek:
    return build_week(cast)


@pytest.fixture
def two_reports(week: TeamWeek) -> tuple[WeeklyReport, WeeklyReport]:
    """This week's report of the manager's team and of the other team."""
    cast = week.cast
    other_team = cast.other_team_rep.membership.team
    return (
        weekly_report_make(organization=cast.org, team=cast.team, week=WEEK, now=NOW).report,
        weekly_report_make(organization=cast.org, team=other_team, week=WEEK, now=NOW).report,
    )


def test_a_manager_sees_only_the_reports_of_their_teams(
    two_reports: tuple[WeeklyReport, WeeklyReport], cast: Cast, client_as: ClientAs
) -> None:
    mine, theirs = two_reports
    client = client_as(cast.manager)
    page = client.get(reverse("web:weekly-reports")).content.decode()
    assert reverse("web:weekly-report", args=[mine.pk]) in page
    assert reverse("web:weekly-report", args=[theirs.pk]) not in page
    assert client.get(reverse("web:weekly-report", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("web:weekly-report-pdf", args=[theirs.pk])).status_code == 404


@pytest.mark.parametrize("role", ["ops", "admin"])
def test_ops_and_admins_see_every_teams_reports(
    two_reports: tuple[WeeklyReport, WeeklyReport], cast: Cast, client_as: ClientAs, role: str
) -> None:
    page = client_as(getattr(cast, role)).get(reverse("web:weekly-reports")).content.decode()
    for report in two_reports:
        assert reverse("web:weekly-report", args=[report.pk]) in page


def test_a_rep_and_an_outsider_see_no_report(
    two_reports: tuple[WeeklyReport, WeeklyReport], cast: Cast, client_as: ClientAs
) -> None:
    mine, _theirs = two_reports
    rep = client_as(cast.owner)
    assert rep.get(reverse("web:weekly-reports")).status_code == 403
    assert rep.get(reverse("web:weekly-report", args=[mine.pk])).status_code == 403
    outsider = client_as(cast.outsider)
    assert outsider.get(reverse("web:weekly-report", args=[mine.pk])).status_code == 404


def test_the_report_page_shows_each_section(
    two_reports: tuple[WeeklyReport, WeeklyReport], cast: Cast, client_as: ClientAs, week: TeamWeek
) -> None:
    mine, _theirs = two_reports
    page = client_as(cast.manager).get(reverse("web:weekly-report", args=[mine.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    for heading in (
        "Team funnel health",
        "Below 70, and why",
        "Stuck deals",
        "Silent deals",
        "Action penetration",
        "Weighted pipeline",
        "This is not a forecast.",
        "Coaching suggestions",
    ):
        assert heading in html
    assert "0 of 2 tasks due were done on time" in html  # the owner's reason
    assert "In stage 2 (Product demo) for 12 days" in html  # the stuck deal's reason
    assert reverse("web:deal", args=[week.stuck_demo.pk]) in html
    assert "¥45,000" in html
    assert reverse("web:weekly-report-pdf", args=[mine.pk]) in html


def test_the_pdf_downloads_as_a_pdf(
    two_reports: tuple[WeeklyReport, WeeklyReport], cast: Cast, client_as: ClientAs
) -> None:
    mine, _theirs = two_reports
    response = client_as(cast.manager).get(reverse("web:weekly-report-pdf", args=[mine.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    assert response.content.startswith(b"%PDF")


def test_generate_now_makes_the_managers_team_report_and_opens_it(
    week: TeamWeek, cast: Cast, client_as: ClientAs
) -> None:
    client = client_as(cast.manager)
    response = client.post(reverse("web:weekly-generate"), {"team": cast.team.pk})
    report = WeeklyReport.objects.get()
    assert (report.team, report.trigger, report.generated_by) == (cast.team, "manual", cast.manager)
    assert response.status_code == 302
    assert response["Location"] == reverse("web:weekly-report", args=[report.pk])
    again = client.post(reverse("web:weekly-generate"), {"team": cast.team.pk}, follow=True)
    assert "was there already" in again.content.decode()
    assert WeeklyReport.objects.count() == 1


def test_generate_now_names_a_bad_week_and_writes_nothing(
    week: TeamWeek, cast: Cast, client_as: ClientAs
) -> None:
    page = client_as(cast.manager).post(
        reverse("web:weekly-generate"), {"week": "week 48"}, follow=True
    )
    assert "“week 48” is not a week; write it as YYYY-Www, e.g. 2026-W48." in page.content.decode()
    assert not WeeklyReport.objects.exists()


def test_generate_now_refuses_another_managers_team(
    week: TeamWeek, cast: Cast, client_as: ClientAs
) -> None:
    other_team = cast.other_team_rep.membership.team
    page = client_as(cast.manager).post(
        reverse("web:weekly-generate"), {"team": other_team.pk}, follow=True
    )
    assert f"No team {other_team.pk} among the teams you can see." in page.content.decode()
    assert not WeeklyReport.objects.exists()


def test_an_admin_changes_the_schedule_on_its_page(cast: Cast, client_as: ClientAs) -> None:
    client = client_as(cast.admin)
    response = client.post(
        reverse("web:weekly-schedule"), {"weekday": "5", "hour": "17", "enabled": "1"}
    )
    assert response.status_code == 302
    row = WeeklyReportSchedule.objects.get(organization=cast.org)
    assert (row.weekday, row.hour, row.enabled) == (5, 17, True)
    page = client.get(reverse("web:weekly-schedule")).content.decode()
    assert "Every Friday at 17:00" in page


def test_a_manager_reads_the_schedule_but_cannot_change_it(cast: Cast, client_as: ClientAs) -> None:
    client = client_as(cast.manager)
    page = client.get(reverse("web:weekly-schedule")).content.decode()
    assert "Every Monday at 08:00" in page
    assert "Administrators change the schedule." in page
    refused = client.post(reverse("web:weekly-schedule"), {"weekday": "2", "hour": "9"})
    assert refused.status_code == 403
    assert not WeeklyReportSchedule.objects.exists()


def test_a_schedule_hour_out_of_range_is_named(cast: Cast, client_as: ClientAs) -> None:
    response = client_as(cast.admin).post(
        reverse("web:weekly-schedule"), {"weekday": "1", "hour": "25", "enabled": "1"}
    )
    assert response.status_code == 422
    assert "Choose an hour from 0 to 23 (local time); got 25." in response.content.decode()
    assert not WeeklyReportSchedule.objects.exists()


def test_the_report_page_says_when_the_pdf_lacks_a_chinese_font(
    two_reports: tuple[WeeklyReport, WeeklyReport],
    cast: Cast,
    client_as: ClientAs,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from lodestar.insights import weekly_pdf

    mine, _theirs = two_reports
    url = reverse("web:weekly-report", args=[mine.pk])
    assert "fonts-noto-cjk" not in client_as(cast.manager).get(url).content.decode()
    monkeypatch.setattr(weekly_pdf, "cjk_font_available", lambda: False)
    assert "install fonts-noto-cjk (Debian)" in client_as(cast.manager).get(url).content.decode()
