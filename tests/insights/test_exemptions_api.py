"""Exemptions ("客户临时失联"): declared by the rep on their own deal, no silence or stale alert
and no health penalty meanwhile, a re-check task 14 days later, seen by managers, audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from lodestar.automation.models import Task
from lodestar.insights.models import Exemption
from lodestar.insights.refresh import insights_recompute
from lodestar.org.models import AuditEntry
from tests.conftest import Cast
from tests.insights.conftest import DAY, ApiAs, live_keys

pytestmark = pytest.mark.django_db
BODY = {"reason_code": "customer_unreachable", "reason": "客户出差两周,电话不通", "days": 10}


def test_it_suppresses_silence_and_stale_alerts_and_schedules_a_recheck_in_14_days(
    cast: Cast, make_deal: Any, api_as: ApiAs, now: dt.datetime
) -> None:
    deal = make_deal(stage="first_contact", entered=50 * DAY, opened=50 * DAY)
    insights_recompute(now=now)
    assert {f"deal:{deal.pk}:silence", f"deal:{deal.pk}:stale"} <= live_keys(cast.manager)

    response = api_as(cast.owner).post(f"/opportunities/{deal.pk}/exemptions", BODY)

    assert response.status_code == 201, response.json()
    exemption = response.json()
    suppressed = {f"deal:{deal.pk}:silence", f"deal:{deal.pk}:stale"}
    assert not suppressed & (live_keys(cast.owner) | live_keys(cast.manager))
    insights_recompute(now=dt.datetime.fromisoformat(exemption["starts_at"]) + DAY)
    assert not suppressed & live_keys(cast.manager)
    # The dwell overrun is not the customer's silence: it stays (exempted time is not counted).
    assert f"deal:{deal.pk}:dwell_overrun:first_contact" in live_keys(cast.manager)
    findings = api_as(cast.manager).get(f"/opportunities/{deal.pk}/risks").json()["findings"]
    assert {f["kind"] for f in findings if f["exempted"]} == {"silence", "stale"}
    task = Task.objects.get(opportunity=deal, trigger_key=f"exemption:{exemption['id']}:recheck")
    stored = Exemption.objects.get(pk=exemption["id"])
    assert stored.recheck_at - stored.starts_at == dt.timedelta(days=14)
    assert stored.ends_at - stored.starts_at == dt.timedelta(days=10)
    assert (task.assignee, task.due_at) == (cast.owner, stored.recheck_at)
    assert "客户临时失联" in task.title
    entry = AuditEntry.objects.get(action="exemption.declare", object_id=str(deal.pk))
    assert (entry.actor, entry.data["reason"]) == (cast.owner, BODY["reason"])


def test_it_does_not_give_the_recheck_task_as_the_reason_the_deal_is_stuck(
    cast: Cast, make_deal: Any, api_as: ApiAs
) -> None:
    deal = make_deal(stage="demo", entered=20 * DAY, opened=50 * DAY)
    api_as(cast.owner).post(f"/opportunities/{deal.pk}/exemptions", BODY)
    assert Task.objects.filter(opportunity=deal, trigger_key__endswith=":recheck").exists()

    stuck = api_as(cast.owner).get(f"/opportunities/{deal.pk}/risks").json()["stuck"]

    assert stuck["message"]["zh"].startswith(
        "在阶段2(产品演示)停留20天:已豁免(客户出差两周,电话不通)"
    )
    assert "复查豁免" not in stuck["message"]["zh"]
    assert {c["kind"] for c in stuck["causes"]} == {"exemption", "unmet_criterion"}


def test_it_raises_the_alerts_again_once_the_exemption_has_ended(
    cast: Cast, make_deal: Any, api_as: ApiAs, now: dt.datetime
) -> None:
    deal = make_deal(stage="first_contact", entered=50 * DAY, opened=50 * DAY)
    api_as(cast.owner).post(f"/opportunities/{deal.pk}/exemptions", {**BODY, "days": 3})
    insights_recompute(now=now + 4 * DAY)
    assert f"deal:{deal.pk}:silence" in live_keys(cast.owner)


def test_it_leaves_the_exempted_deal_out_of_the_health_score(
    cast: Cast, make_deal: Any, api_as: ApiAs
) -> None:
    deal = make_deal(stage="demo", entered=20 * DAY, opened=30 * DAY)  # 4 × target: dwell 0
    api = api_as(cast.owner)
    before = api.get(f"/reps/{cast.owner.pk}/health").json()
    assert before["parts"][0]["score"] == 0

    api.post(f"/opportunities/{deal.pk}/exemptions", BODY)

    after = api.get(f"/reps/{cast.owner.pk}/health").json()
    assert after["score"] is None  # the only deal is exempted: nothing left to score
    assert after["parts"][0]["figures"]["exempted"] == [deal.pk]


@pytest.mark.parametrize(
    ("who", "status"), [("manager", 403), ("teammate", 404), ("outsider", 404)]
)
def test_it_lets_only_the_owner_declare(
    cast: Cast, make_deal: Any, api_as: ApiAs, who: str, status: int
) -> None:
    deal = make_deal()
    response = api_as(getattr(cast, who)).post(f"/opportunities/{deal.pk}/exemptions", BODY)
    assert response.status_code == status


def test_it_refuses_a_second_exemption_and_bad_input(
    cast: Cast, make_deal: Any, api_as: ApiAs
) -> None:
    deal = make_deal()
    api = api_as(cast.owner)
    assert api.post(f"/opportunities/{deal.pk}/exemptions", BODY).status_code == 201
    assert api.post(f"/opportunities/{deal.pk}/exemptions", BODY).status_code == 409
    bad = api.post(f"/opportunities/{deal.pk}/exemptions", {**BODY, "days": 0, "reason": ""})
    assert bad.status_code == 422
    assert {d["field"] for d in bad.json()["details"]} == {"days", "reason"}


@pytest.mark.parametrize(
    ("who", "count"),
    [
        ("owner", 1),
        ("manager", 1),
        ("ops", 1),
        ("teammate", 0),
        ("other_team_rep", 0),
        ("outsider", 0),
    ],
)
def test_it_lists_exemptions_to_the_owner_their_manager_and_ops(
    cast: Cast, make_deal: Any, api_as: ApiAs, who: str, count: int
) -> None:
    deal = make_deal()
    api_as(cast.owner).post(f"/opportunities/{deal.pk}/exemptions", BODY)
    body = api_as(getattr(cast, who)).get("/exemptions", active="true").json()
    assert body["count"] == count
