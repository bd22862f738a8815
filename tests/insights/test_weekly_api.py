"""Weekly reports over REST and from the command line: list and read within the caller's teams,
generate now (once per team and week), the PDF, the schedule; `lodestar report weekly`."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from lodestar.cli.main import app
from lodestar.insights.models import WeeklyReport, WeeklyReportSchedule
from lodestar.integrations.models import Notification
from tests.conftest import Cast
from tests.insights.conftest import ApiAs
from tests.insights.weekly_data import NOW, TeamWeek, build_week

pytestmark = pytest.mark.django_db
runner = CliRunner()


@pytest.fixture
def week(cast: Cast, monkeypatch: pytest.MonkeyPatch) -> TeamWeek:
    # "Now" is half an hour after the week's moment, wherever the request asks the time.
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)
    return build_week(cast)


def generate(api: Any, **body: Any) -> Any:
    return api.post("/reports/weekly", body)


def test_a_manager_generates_their_teams_report_once(week: TeamWeek, api_as: ApiAs) -> None:
    cast = week.cast
    api = api_as(cast.manager)
    made = generate(api)
    assert made.status_code == 201, made.json()
    body = made.json()
    assert (body["created"], body["kept"]) == (1, 0)
    (item,) = body["items"]
    assert (item["team_id"], item["week"], item["trigger"]) == (cast.team.pk, "2026-W50", "manual")
    assert item["weighted_pipeline"] == "45000.00"
    assert item["url"] == f"/reports/weekly/{item['id']}/"
    again = generate(api)
    assert again.status_code == 200
    assert (again.json()["created"], again.json()["kept"]) == (0, 1)
    assert WeeklyReport.objects.count() == 1


def test_the_report_reads_back_with_its_figures(week: TeamWeek, api_as: ApiAs) -> None:
    api = api_as(week.cast.manager)
    report_id = generate(api).json()["items"][0]["id"]
    body = api.get(f"/reports/weekly/{report_id}").json()
    assert body["figures"]["health"]["below"] == [week.cast.owner.pk]
    assert body["figures"]["stuck"][0]["id"] == week.stuck_demo.pk
    assert body["period_end"].endswith("+08:00")  # the organization's zone
    listed = api.get("/reports/weekly").json()
    assert [item["id"] for item in listed["items"]] == [report_id]


def test_the_api_keeps_each_caller_to_their_teams(week: TeamWeek, api_as: ApiAs) -> None:
    cast = week.cast
    report_id = generate(api_as(cast.admin)).json()["items"][0]["id"]  # both teams
    assert WeeklyReport.objects.count() == 2
    manager = api_as(cast.manager)
    mine = [item["team_id"] for item in manager.get("/reports/weekly").json()["items"]]
    assert mine == [cast.team.pk]
    other = WeeklyReport.objects.exclude(team=cast.team).get()
    assert manager.get(f"/reports/weekly/{other.pk}").status_code == 404
    assert api_as(cast.owner).get("/reports/weekly").status_code == 403
    assert api_as(cast.owner).get(f"/reports/weekly/{report_id}").status_code == 403
    assert api_as(cast.outsider).get(f"/reports/weekly/{report_id}").status_code == 404


def test_a_bad_week_is_a_422_naming_the_field(week: TeamWeek, api_as: ApiAs) -> None:
    refused = generate(api_as(week.cast.manager), week="2026-48")
    assert refused.status_code == 422
    assert refused.json()["details"][0]["field"] == "week"
    future = generate(api_as(week.cast.manager), week="2027-W10")
    assert future.status_code == 422
    assert "has not begun yet" in future.json()["details"][0]["message"]
    assert not WeeklyReport.objects.exists()


def test_the_pdf_comes_over_the_api(week: TeamWeek, api_as: ApiAs) -> None:
    api = api_as(week.cast.manager)
    report_id = generate(api).json()["items"][0]["id"]
    response = api.get(f"/reports/weekly/{report_id}/pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_the_schedule_is_read_by_managers_and_set_by_admins(cast: Cast, api_as: ApiAs) -> None:
    read = api_as(cast.manager).get("/reports/weekly/schedule").json()
    assert (read["weekday"], read["hour"], read["time_zone"]) == (1, 8, "Asia/Shanghai")
    body = {"weekday": 5, "hour": 17, "enabled": True}
    assert api_as(cast.manager).client.put(
        "/api/v1/reports/weekly/schedule", data=body, content_type="application/json"
    ).status_code in (401, 403)
    admin = api_as(cast.admin)
    answer = admin.client.put(
        "/api/v1/reports/weekly/schedule", data=body, content_type="application/json"
    )
    assert answer.status_code == 200, answer.json()
    assert (answer.json()["weekday"], answer.json()["hour"]) == (5, 17)
    wrong = admin.client.put(
        "/api/v1/reports/weekly/schedule",
        data={"weekday": 0, "hour": 8},
        content_type="application/json",
    )
    assert wrong.status_code == 422
    assert wrong.json()["details"][0]["field"] == "weekday"
    assert WeeklyReportSchedule.objects.get(organization=cast.org).weekday == 5


def test_the_command_makes_a_teams_report_and_keeps_it_on_a_rerun(week: TeamWeek) -> None:
    cast = week.cast
    args = ["report", "weekly", "--org", "east", "--team", cast.team.name, "--week", "2026-W50"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    report = WeeklyReport.objects.get()
    assert "2026-W50 华东一组: made and sent" in first.output
    assert f"/reports/weekly/{report.pk}/" in first.output
    sent = Notification.objects.count()
    second = runner.invoke(app, args)
    assert "2026-W50 华东一组: kept" in second.output
    assert (WeeklyReport.objects.count(), Notification.objects.count()) == (1, sent)


def test_the_command_names_a_wrong_week_or_team(week: TeamWeek) -> None:
    bad_week = runner.invoke(app, ["report", "weekly", "--org", "east", "--week", "48"])
    assert bad_week.exit_code == 2
    assert "write it as YYYY-Www" in bad_week.output
    bad_team = runner.invoke(app, ["report", "weekly", "--org", "east", "--team", "北方组"])
    assert bad_team.exit_code == 2
    assert "no team '北方组' in east; known: 华东一组, 华南组" in bad_team.output
    assert not WeeklyReport.objects.exists()
