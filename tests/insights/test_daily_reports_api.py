"""Daily reports over REST: send and change your own, the prefill, role scoping, the day view
and the due time."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from lodestar.crm.models import DailyReport
from tests.conftest import Cast
from tests.factories import (
    DailyReportFactory,
    EventFactory,
    HolidayFactory,
    OpportunityFactory,
)
from tests.insights.conftest import ApiAs

PAST_MONDAY = dt.date(2026, 3, 2)


def put(api: Any, path: str, body: object) -> Any:
    return api._send("put", path, body)


def today(cast: Cast) -> dt.date:
    return timezone.now().astimezone(cast.org.tz).date()


def test_it_creates_the_report_then_a_second_send_updates_it(cast: Cast, api_as: ApiAs) -> None:
    api = api_as(cast.owner)
    first = api.post("/daily-reports", {"body": "拜访两家客户", "plans": "明天报价"})
    assert first.status_code == 201, first.json()
    body = first.json()
    assert (body["date"], body["late"], body["editable"]) == (today(cast).isoformat(), False, True)
    again = api.post("/daily-reports", {"body": "拜访三家客户", "blockers": "缺样机"})
    assert again.status_code == 200
    assert again.json()["id"] == body["id"]
    assert again.json()["updated_at"] is not None
    report = DailyReport.objects.get()
    assert (report.body, report.plans, report.blockers) == ("拜访三家客户", "", "缺样机")


def test_a_change_after_the_due_time_is_refused_with_409(cast: Cast, api_as: ApiAs) -> None:
    yesterday = today(cast) - dt.timedelta(days=1)
    DailyReportFactory(author=cast.owner, date=yesterday, body="原稿")
    response = api_as(cast.owner).post(
        "/daily-reports", {"date": yesterday.isoformat(), "body": "改稿"}
    )
    assert response.status_code == 409
    assert response.json()["code"] == "daily_report_closed"
    assert DailyReport.objects.get().body == "原稿"


def test_a_first_send_after_the_due_time_is_accepted_as_late(cast: Cast, api_as: ApiAs) -> None:
    yesterday = today(cast) - dt.timedelta(days=1)
    response = api_as(cast.owner).post(
        "/daily-reports", {"date": yesterday.isoformat(), "body": "补交"}
    )
    assert response.status_code == 201
    assert (response.json()["late"], response.json()["editable"]) == (True, False)


def test_it_refuses_an_empty_report_naming_the_field(cast: Cast, api_as: ApiAs) -> None:
    response = api_as(cast.owner).post("/daily-reports", {"body": "   "})
    assert response.status_code == 422
    assert [d["field"] for d in response.json()["details"]] == ["body"]
    assert not DailyReport.objects.exists()


def test_it_refuses_a_field_it_does_not_know(cast: Cast, api_as: ApiAs) -> None:
    response = api_as(cast.owner).post("/daily-reports", {"body": "x", "activity": {}})
    assert response.status_code == 422


def test_the_prefill_gives_the_days_logged_work(cast: Cast, api_as: ApiAs) -> None:
    deal = OpportunityFactory(owner=cast.owner, name="华东机床-伺服电机")
    HolidayFactory(organization=cast.org, date=today(cast), is_working_day=True)  # a working day
    at = dt.datetime.combine(today(cast), dt.time(10), tzinfo=cast.org.tz)
    EventFactory(opportunity=deal, type="call", occurred_at=at, payload={"summary": "确认预算"})
    EventFactory(opportunity=deal, type="meeting.held", occurred_at=at - dt.timedelta(days=1))
    body = api_as(cast.owner).get("/daily-reports/prefill").json()
    assert body["activity"]["counts"]["calls"] == 1
    assert body["activity"]["counts"]["meetings"] == 0
    assert body["body"] == "Calls (1): 华东机床-伺服电机 (确认预算)"
    assert body["status"] == "pending"
    assert body["report"] is None


@pytest.mark.parametrize(
    ("who", "authors"),
    [
        ("owner", {"owner"}),
        ("manager", {"owner", "teammate"}),
        ("ops", {"owner", "teammate", "southrep"}),
        ("admin", {"owner", "teammate", "southrep"}),
        ("outsider", set()),
    ],
)
def test_it_scopes_the_list_by_role(cast: Cast, api_as: ApiAs, who: str, authors: set[str]) -> None:
    for person in (cast.owner, cast.teammate, cast.other_team_rep):
        DailyReportFactory(author=person, date=PAST_MONDAY)
    body = api_as(getattr(cast, {"southrep": "other_team_rep"}.get(who, who))).get("/daily-reports")
    assert {item["author"]["username"] for item in body.json()["items"]} == authors


@pytest.mark.parametrize(
    ("who", "status"), [("teammate", 404), ("manager", 200), ("outsider", 404)]
)
def test_a_report_is_read_only_by_those_who_may(
    cast: Cast, api_as: ApiAs, who: str, status: int
) -> None:
    report = DailyReportFactory(author=cast.owner, date=PAST_MONDAY)
    assert api_as(getattr(cast, who)).get(f"/daily-reports/{report.pk}").status_code == status


def test_the_day_view_puts_the_missing_first(cast: Cast, api_as: ApiAs) -> None:
    DailyReportFactory(
        author=cast.owner,
        date=PAST_MONDAY,
        plans="周三演示",
        submitted_at=dt.datetime.combine(PAST_MONDAY, dt.time(18), tzinfo=cast.org.tz),
    )
    body = api_as(cast.manager).get("/daily-reports/day", date=PAST_MONDAY.isoformat()).json()
    rows = [(row["person"]["username"], row["status"]) for row in body["rows"]]
    assert rows == [("teammate", "missing"), ("owner", "on_time")]
    assert (body["expected"], body["submitted"], body["missing"]) == (2, 1, 1)
    assert body["rows"][1]["plans"] == "周三演示"


def test_the_day_view_refuses_a_team_the_manager_does_not_lead(cast: Cast, api_as: ApiAs) -> None:
    other_team = cast.other_team_rep.membership.team_id
    response = api_as(cast.manager).get("/daily-reports/day", team=other_team)
    assert response.status_code == 404


def test_an_admin_sets_the_due_time_and_everyone_reads_it(cast: Cast, api_as: ApiAs) -> None:
    assert api_as(cast.owner).get("/daily-reports/settings").json()["due_minutes"] == 1440
    refused = put(
        api_as(cast.manager),
        "/daily-reports/settings",
        {"due_time": "20:00", "due_next_day": False},
    )
    assert refused.status_code == 403
    saved = put(
        api_as(cast.admin),
        "/daily-reports/settings",
        {"due_time": "20:00", "due_next_day": False, "reminder_minutes": 30},
    )
    assert saved.status_code == 200
    assert saved.json() == {
        "due_time": "20:00",
        "due_next_day": False,
        "due_minutes": 1200,
        "reminder_minutes": 30,
    }


def test_it_refuses_a_due_time_before_noon(cast: Cast, api_as: ApiAs) -> None:
    response = put(
        api_as(cast.admin), "/daily-reports/settings", {"due_time": "11:00", "due_next_day": False}
    )
    assert response.status_code == 422
    assert [d["field"] for d in response.json()["details"]] == ["due"]


def test_the_openapi_document_lists_the_daily_report_operations(client: Any) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in (
        "/api/v1/daily-reports",
        "/api/v1/daily-reports/prefill",
        "/api/v1/daily-reports/day",
        "/api/v1/daily-reports/settings",
        "/api/v1/daily-reports/{report_id}",
    ):
        assert path in paths
