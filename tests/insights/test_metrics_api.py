"""Yardsticks with drill-down rows, scoped by role."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from lodestar.automation.models import Task, TaskStatus
from lodestar.crm.models import DailyReport
from lodestar.insights.metrics import METRICS
from tests.conftest import Cast
from tests.insights.conftest import DAY, HOUR, ApiAs

pytestmark = pytest.mark.django_db


def task(
    cast: Cast, assignee: Any, due: dt.datetime, done: dt.datetime | None, **extra: Any
) -> Task:
    return Task.objects.create(
        organization=cast.org,
        assignee=assignee,
        title="跟进",
        created_at=due - DAY,
        due_at=due,
        status=TaskStatus.DONE if done else TaskStatus.OPEN,
        completed_at=done,
        **extra,
    )


def test_it_gives_the_task_on_time_rate_with_its_rows(
    cast: Cast, published: Any, api_as: ApiAs, now: dt.datetime
) -> None:
    yesterday = now - DAY
    on_time = task(cast, cast.owner, yesterday, yesterday - HOUR)
    late = task(cast, cast.owner, yesterday, yesterday + HOUR)
    task(cast, cast.teammate, yesterday, None)
    day = yesterday.astimezone(cast.org.tz).date().isoformat()  # the period is in its time zone

    mine = api_as(cast.owner).get("/metrics/task_on_time", **{"from": day, "to": day}).json()
    team = api_as(cast.manager).get("/metrics/task_on_time", **{"from": day, "to": day}).json()

    assert (mine["figure"], mine["numerator"], mine["denominator"]) == (50, 1, 2)
    assert {r["id"]: r["hit"] for r in mine["rows"]} == {on_time.pk: True, late.pk: False}
    assert team["denominator"] == 3
    assert team["by_rep"] == {str(cast.owner.pk): 50, str(cast.teammate.pk): 0}


def test_it_gives_cross_department_response_times(
    cast: Cast, published: Any, api_as: ApiAs, now: dt.datetime
) -> None:
    task(cast, cast.owner, now - DAY, now - DAY, department="技术支持部")  # answered after 1 day
    body = api_as(cast.owner).get("/metrics/cross_department_response").json()
    assert body["figure"] == pytest.approx(1.0)
    assert body["rows"][0]["department"] == "技术支持部"


def test_it_counts_daily_reports_due_by_the_end_of_each_working_day(
    cast: Cast, published: Any, api_as: ApiAs
) -> None:
    monday = dt.date(2026, 3, 2)
    tz = cast.org.tz
    DailyReport.objects.create(
        organization=cast.org,
        author=cast.owner,
        date=monday,
        body="拜访三家客户",
        submitted_at=dt.datetime.combine(monday, dt.time(18), tzinfo=tz),
    )
    DailyReport.objects.create(
        organization=cast.org,
        author=cast.owner,
        date=monday + dt.timedelta(days=1),
        body="补交",
        submitted_at=dt.datetime.combine(monday + dt.timedelta(days=2), dt.time(9), tzinfo=tz),
    )
    body = (
        api_as(cast.owner)
        .get("/metrics/daily_report_on_time", **{"from": "2026-03-02", "to": "2026-03-08"})
        .json()
    )
    assert (body["numerator"], body["denominator"]) == (1, 5)  # Mon–Fri due, Monday's on time


@pytest.mark.parametrize("name", sorted(METRICS))
def test_it_answers_every_metric_for_a_manager(
    cast: Cast, published: Any, api_as: ApiAs, make_deal: Any, name: str
) -> None:
    make_deal(stage="demo", entered=3 * DAY)
    response = api_as(cast.manager).get(f"/metrics/{name}", team=cast.team.pk)
    assert response.status_code == 200, response.json()
    assert response.json()["name"] == name


@pytest.mark.parametrize(
    ("who", "query", "status"),
    [
        ("owner", {}, 200),
        ("owner", {"rep": "teammate"}, 404),
        ("manager", {"rep": "owner"}, 200),
        ("other_team_rep", {"rep": "owner"}, 404),
        ("outsider", {"rep": "owner"}, 404),
        ("ops", {"rep": "owner"}, 200),
    ],
)
def test_it_scopes_metrics_by_role(
    cast: Cast, published: Any, api_as: ApiAs, who: str, query: dict[str, str], status: int
) -> None:
    params = {key: getattr(cast, value).pk for key, value in query.items()}
    response = api_as(getattr(cast, who)).get("/metrics/win_rate", **params)
    assert response.status_code == status


def test_it_refuses_unknown_metrics_and_filters(cast: Cast, published: Any, api_as: ApiAs) -> None:
    api = api_as(cast.owner)
    assert api.get("/metrics/happiness").status_code == 422
    assert api.get("/metrics/win_rate", colour="red").status_code == 422
