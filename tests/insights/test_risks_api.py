"""Deal risk patterns through the API: 2 regressions, 72 h silence, 47 days stale, dwell × k,
alerts to the rep and the manager, de-duplicated and resolving themselves; stuck reasons."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from lodestar.core.spans import say_span
from lodestar.insights.models import Alert
from lodestar.insights.refresh import insights_recompute
from tests.conftest import Cast
from tests.factories import TaskFactory
from tests.insights.conftest import DAY, HOUR, ApiAs, event, live_keys

pytestmark = pytest.mark.django_db
MINUTE = dt.timedelta(minutes=1)


def test_it_flags_a_deal_moved_backward_twice_to_the_rep_and_the_manager(
    cast: Cast, make_deal: Any, api_as: ApiAs, now: dt.datetime
) -> None:
    deal = make_deal(stage="demo")
    api = api_as(cast.owner)
    for stage in ("first_contact", "demo"):
        assert api.post(f"/opportunities/{deal.pk}/advance", {"to_stage": stage}).status_code == 200
    api.post("/events", event(deal, "call", "c1", now - MINUTE))
    key = f"deal:{deal.pk}:backward_moves"
    assert key not in live_keys(cast.owner)  # once is not a pattern

    api.post(f"/opportunities/{deal.pk}/advance", {"to_stage": "first_contact"})
    api.post("/events", event(deal, "call", "c2", now))  # the next event re-checks the deal

    assert key in live_keys(cast.owner)
    assert key in live_keys(cast.manager)
    assert key not in live_keys(cast.teammate)
    risks = api.get(f"/opportunities/{deal.pk}/risks").json()
    backward = next(f for f in risks["findings"] if f["kind"] == "backward_moves")
    assert backward["message"]["zh"] == "阶段倒退 2 次"


@pytest.mark.parametrize(
    ("silent", "alerted"), [(71 * HOUR + 59 * MINUTE, False), (72 * HOUR, True)]
)
def test_it_flags_72_hours_without_customer_interaction(
    cast: Cast, make_deal: Any, api_as: ApiAs, now: dt.datetime, silent: dt.timedelta, alerted: bool
) -> None:
    deal = make_deal(stage="first_contact", entered=10 * DAY, opened=20 * DAY)
    api = api_as(cast.owner)
    api.post("/events", event(deal, "call", "c1", now - silent))
    # An internal event later does not break the silence.
    api.post("/events", event(deal, "task.completed", "t1", now - HOUR, payload={"task_id": 1}))
    insights_recompute(now=now)

    key = f"deal:{deal.pk}:silence"
    assert (key in live_keys(cast.owner)) is alerted
    assert (key in live_keys(cast.manager)) is alerted


def test_it_resolves_the_silence_alert_when_the_customer_answers(
    cast: Cast, make_deal: Any, api_as: ApiAs, now: dt.datetime
) -> None:
    deal = make_deal(stage="first_contact", opened=4 * DAY)
    insights_recompute(now=now)
    insights_recompute(now=now)  # de-duplicated: still one per recipient
    key = f"deal:{deal.pk}:silence"
    assert Alert.objects.filter(dedupe_key=key).count() == 2  # the rep and the manager

    api_as(cast.owner).post("/events", event(deal, "email.received", "e1", now - MINUTE))

    assert key not in live_keys(cast.owner) | live_keys(cast.manager)
    assert set(Alert.objects.filter(dedupe_key=key).values_list("status", flat=True)) == {
        "resolved"
    }


@pytest.mark.parametrize(("idle", "alerted"), [(46 * DAY, False), (47 * DAY, True)])
def test_it_flags_an_open_deal_with_no_new_action_for_47_days(
    cast: Cast, make_deal: Any, api_as: ApiAs, now: dt.datetime, idle: dt.timedelta, alerted: bool
) -> None:
    deal = make_deal(stage="first_contact", entered=60 * DAY, opened=60 * DAY)
    api_as(cast.owner).post("/events", event(deal, "call", "c1", now - idle))
    insights_recompute(now=now)

    assert (f"deal:{deal.pk}:stale" in live_keys(cast.manager)) is alerted
    findings = api_as(cast.manager).get(f"/opportunities/{deal.pk}/risks").json()["findings"]
    assert ("stale" in {f["kind"] for f in findings}) is alerted


def test_it_flags_dwell_beyond_twice_the_target_and_says_why_the_deal_is_stuck(
    cast: Cast, make_deal: Any, api_as: ApiAs, now: dt.datetime
) -> None:
    deal = make_deal(stage="demo", entered=11 * DAY)  # the demo stage's target is 5 days
    TaskFactory(
        opportunity=deal,
        title="POC 环境部署",
        department="技术支持部",
        created_at=now - 5 * DAY,
        due_at=now - 2 * DAY,
    )
    insights_recompute(now=now)

    assert f"deal:{deal.pk}:dwell_overrun:demo" in live_keys(cast.owner)
    body = api_as(cast.owner).get(f"/opportunities/{deal.pk}/risks").json()
    stuck = body["stuck"]
    assert stuck["message"]["zh"].startswith("在阶段2(产品演示)停留11天:")
    assert "任务「POC 环境部署」已逾期" in stuck["message"]["zh"]
    assert "需要技术支持部介入" in stuck["message"]["zh"]
    assert {c["kind"] for c in stuck["causes"]} == {"overdue_task", "unmet_criterion"}
    assert stuck["message"]["en"].startswith("In stage 2 (Product demo) for 11 days:")


def test_it_says_a_deal_past_its_target_with_the_gate_met_is_ready_for_the_next_stage(
    cast: Cast, make_deal: Any, api_as: ApiAs
) -> None:
    deal = make_deal(stage="first_contact", entered=10 * DAY)  # no exit criteria: gate met
    stuck = api_as(cast.owner).get(f"/opportunities/{deal.pk}/risks").json()["stuck"]
    assert stuck["message"]["zh"] == "在阶段1(初步接触)停留10天:可以推进到下一阶段「产品演示」"
    assert stuck["message"]["en"].endswith(": ready to move to the next stage (Product demo)")
    assert [c["kind"] for c in stuck["causes"]] == ["gate_met"]


def test_it_gives_no_stuck_reason_within_the_target(
    cast: Cast, make_deal: Any, api_as: ApiAs
) -> None:
    deal = make_deal(stage="demo", entered=4 * DAY)
    assert api_as(cast.owner).get(f"/opportunities/{deal.pk}/risks").json()["stuck"] is None


def test_it_resolves_deal_alerts_when_the_deal_is_closed(
    cast: Cast, make_deal: Any, api_as: ApiAs, now: dt.datetime
) -> None:
    deal = make_deal(stage="first_contact", opened=10 * DAY)
    insights_recompute(now=now)
    assert f"deal:{deal.pk}:silence" in live_keys(cast.owner)

    api_as(cast.owner).post(f"/opportunities/{deal.pk}/advance", {"to_stage": "lost"})
    insights_recompute(now=now + HOUR)

    assert live_keys(cast.owner) == set()


@pytest.mark.parametrize(
    ("who", "status"),
    [("owner", 200), ("manager", 200), ("ops", 200), ("teammate", 404), ("outsider", 404)],
)
def test_it_shows_a_deals_risks_to_whoever_may_read_the_deal(
    cast: Cast, make_deal: Any, api_as: ApiAs, who: str, status: int
) -> None:
    deal = make_deal()
    assert api_as(getattr(cast, who)).get(f"/opportunities/{deal.pk}/risks").status_code == status


def test_it_lets_only_the_recipient_see_and_acknowledge_an_alert(
    cast: Cast, make_deal: Any, api_as: ApiAs, now: dt.datetime
) -> None:
    deal = make_deal(stage="first_contact", opened=10 * DAY)
    insights_recompute(now=now)
    mine = Alert.objects.get(recipient=cast.owner, dedupe_key=f"deal:{deal.pk}:silence")

    for who in ("teammate", "manager", "outsider"):
        client = api_as(getattr(cast, who))
        assert mine.pk not in {a["id"] for a in client.get("/alerts").json()["items"]}
        assert client.post(f"/alerts/{mine.pk}/acknowledge", {}).status_code == 404
    answer = api_as(cast.owner).post(f"/alerts/{mine.pk}/acknowledge", {})
    assert (answer.status_code, answer.json()["status"]) == (200, "acknowledged")


def test_it_words_a_silence_alert_as_it_stands_when_read_without_rewriting_it(
    cast: Cast, make_deal: Any, api_as: ApiAs, now: dt.datetime
) -> None:
    deal = make_deal(stage="first_contact", entered=10 * DAY, opened=20 * DAY)
    api = api_as(cast.owner)
    api.post("/events", event(deal, "call", "c1", now - 80 * HOUR))
    insights_recompute(now=now)
    key = f"deal:{deal.pk}:silence"
    stored = Alert.objects.get(dedupe_key=key, recipient=cast.owner)
    assert stored.message_zh == f"【{deal.name}】已 3 天 8 小时无客户互动"
    assert stored.since == now - 80 * HOUR

    insights_recompute(now=now + 5 * HOUR)  # an hourly sweep: the condition only grew older

    again = Alert.objects.get(dedupe_key=key, recipient=cast.owner)
    assert (again.pk, again.message_zh, again.since) == (stored.pk, stored.message_zh, stored.since)
    (shown,) = [
        a for a in api.get("/alerts", status="live").json()["items"] if a["dedupe_key"] == key
    ]
    span = say_span(dt.datetime.now(dt.UTC) - stored.since)
    assert shown["message_zh"] == f"【{deal.name}】已 {span.zh}无客户互动"
    assert shown["message_en"] == f"[{deal.name}] no customer interaction for {span.en}"


def test_it_rewrites_a_silence_alert_when_a_late_event_moves_its_clock(
    cast: Cast, make_deal: Any, api_as: ApiAs, now: dt.datetime
) -> None:
    deal = make_deal(stage="first_contact", entered=10 * DAY, opened=20 * DAY)
    api = api_as(cast.owner)
    api.post("/events", event(deal, "call", "c1", now - 100 * HOUR))
    insights_recompute(now=now)
    # A call made days ago, recorded only now: still silent, but counted from the later call.
    api.post("/events", event(deal, "call", "c0", now - 90 * HOUR))

    alert = Alert.objects.get(dedupe_key=f"deal:{deal.pk}:silence", recipient=cast.owner)
    assert alert.since == now - 90 * HOUR
    assert alert.message_zh == f"【{deal.name}】已 3 天 18 小时无客户互动"


def test_it_words_a_dwell_alert_for_the_time_it_is_read_and_freezes_it_when_resolved(
    cast: Cast, make_deal: Any, now: dt.datetime
) -> None:
    from lodestar.insights.wording import alert_message

    deal = make_deal(stage="demo", entered=12 * DAY, opened=20 * DAY)
    insights_recompute(now=now)
    alert = Alert.objects.select_related("opportunity").get(
        dedupe_key=f"deal:{deal.pk}:dwell_overrun:demo", recipient=cast.owner
    )
    assert alert_message(alert, now).zh == alert.message_zh
    later = alert_message(alert, now + 2 * DAY)
    assert "14 天" in later.zh
    assert "14 days" in later.en
    alert.resolved_at = now + DAY
    assert "13 天" in alert_message(alert, now + 5 * DAY).zh
