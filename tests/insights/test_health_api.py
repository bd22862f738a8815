"""Rep funnel health through the API: the 70 threshold, the manager's alert, the trend."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from lodestar.automation.models import Task, TaskStatus
from lodestar.insights.health import health_alert_key
from lodestar.insights.models import HealthSnapshot
from lodestar.insights.refresh import insights_recompute
from tests.conftest import Cast
from tests.insights.conftest import DAY, HOUR, ApiAs

pytestmark = pytest.mark.django_db


def tasks_due(cast: Cast, now: dt.datetime, on_time: int, late: int) -> list[Task]:
    """`on_time + late` tasks of the owner due in the last week (no open deals: the task part
    is the whole score, so the score is exactly the on-time percentage)."""
    rows = []
    for index in range(on_time + late):
        due = now - DAY - index * dt.timedelta(minutes=1)
        done = due - HOUR if index < on_time else due + HOUR
        rows.append(
            Task(
                organization=cast.org,
                assignee=cast.owner,
                title=f"任务{index}",
                created_at=due - DAY,
                due_at=due,
                status=TaskStatus.DONE,
                completed_at=done,
            )
        )
    return Task.objects.bulk_create(rows)


def test_it_alerts_the_manager_once_when_health_is_69(
    cast: Cast, published: Any, api_as: ApiAs, now: dt.datetime
) -> None:
    tasks_due(cast, now, on_time=69, late=31)
    insights_recompute(now=now)
    insights_recompute(now=now + HOUR)  # the next sweep does not raise it again

    alerts = api_as(cast.manager).get("/alerts", status="live").json()["items"]
    assert [(a["kind"], a["dedupe_key"], a["subject_user_id"]) for a in alerts] == [
        ("health", health_alert_key(cast.owner.pk), cast.owner.pk)
    ]
    assert "69" in alerts[0]["message_zh"]
    assert api_as(cast.owner).get("/alerts").json()["count"] == 0
    health = api_as(cast.manager).get(f"/reps/{cast.owner.pk}/health").json()
    assert (health["score"], health["needs_attention"]) == (69, True)


def test_it_does_not_alert_at_exactly_70(
    cast: Cast, published: Any, api_as: ApiAs, now: dt.datetime
) -> None:
    tasks_due(cast, now, on_time=70, late=30)
    insights_recompute(now=now)

    assert api_as(cast.manager).get("/alerts").json()["count"] == 0
    health = api_as(cast.owner).get(f"/reps/{cast.owner.pk}/health").json()
    assert (health["score"], health["needs_attention"]) == (70, False)


def test_it_keeps_the_alert_open_until_the_score_recovers(
    cast: Cast, published: Any, api_as: ApiAs, now: dt.datetime
) -> None:
    tasks = tasks_due(cast, now, on_time=69, late=31)
    insights_recompute(now=now)
    api = api_as(cast.manager)
    alert = api.get("/alerts", status="live").json()["items"][0]
    assert api.post(f"/alerts/{alert['id']}/acknowledge", {}).json()["status"] == "acknowledged"
    insights_recompute(now=now)
    assert api.get("/alerts", status="live").json()["count"] == 1

    late = tasks[-1]
    late.completed_at = late.due_at - HOUR
    late.save()
    insights_recompute(now=now)

    assert api.get("/alerts", status="live").json()["count"] == 0
    assert api.get("/alerts", status="resolved").json()["items"][0]["id"] == alert["id"]


def test_it_gives_parts_weights_and_a_twelve_week_trend(
    cast: Cast, published: Any, api_as: ApiAs, now: dt.datetime
) -> None:
    tasks_due(cast, now, on_time=3, late=1)
    for weeks_ago in (3, 1):
        insights_recompute(now=now - dt.timedelta(weeks=weeks_ago))
    insights_recompute(now=now)

    body = api_as(cast.owner).get(f"/reps/{cast.owner.pk}/health").json()
    assert [p["key"] for p in body["parts"]] == [
        "dwell_deviation",
        "task_on_time",
        "interaction_frequency",
    ]
    assert body["parts"][1]["score"] == 75
    assert body["parts"][1]["figures"]["due"] == 4
    assert len(body["trend"]) == 12
    assert body["trend"][-1]["score"] == 75
    dated = [point["score"] for point in body["trend"] if point["date"]]
    assert dated == [None, None, 75]  # the tasks fell due yesterday: no data before
    snapshot = HealthSnapshot.objects.get(rep=cast.owner, date=body["trend"][-1]["date"])
    assert snapshot.figures["tasks_due"] == 4
    assert snapshot.weights == {"task_on_time": 1.0}


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("owner", 200),
        ("manager", 200),
        ("ops", 200),
        ("admin", 200),
        ("teammate", 404),
        ("other_team_rep", 404),
        ("outsider", 404),
    ],
)
def test_it_shows_a_reps_health_to_the_rep_their_manager_ops_and_admin_only(
    cast: Cast, published: Any, api_as: ApiAs, who: str, status: int
) -> None:
    response = api_as(getattr(cast, who)).get(f"/reps/{cast.owner.pk}/health")
    assert response.status_code == status
    scores = api_as(getattr(cast, who)).get(f"/reps/{cast.owner.pk}/communication-scores")
    assert scores.status_code == status


def test_it_weighs_the_parts_by_the_playbook_defaults(
    cast: Cast, published: Any, make_deal: Any, api_as: ApiAs, now: dt.datetime
) -> None:
    # A deal at 1.5 × its 5-day target (dwell 50), no interactions (0), tasks on time (100).
    make_deal(stage="demo", entered=dt.timedelta(days=7.5), opened=dt.timedelta(days=20))
    tasks_due(cast, now, on_time=2, late=0)
    body = api_as(cast.owner).get(f"/reps/{cast.owner.pk}/health").json()
    # (the API computes at the real clock, a few milliseconds after the deal was made)
    assert [p["score"] for p in body["parts"]] == pytest.approx([50, 100, 0], abs=0.01)
    assert body["score"] == pytest.approx(0.4 * 50 + 0.3 * 100 + 0.3 * 0, abs=0.01)
