"""Each webhook event type is written once per change of the domain, in its transaction.

A stage move, a gate's refusal, a task made by each of its roads, a task falling overdue, an
alert raised and resolved: one delivery per subscribed webhook, none for a change that rolls
back, none twice when the change's path runs again, none for another organization's webhook.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from lodestar.automation.services import task_complete, task_create
from lodestar.events.services import events_ingest
from lodestar.gates.services import GateBlocked, opportunity_advance
from lodestar.insights.alerts import alerts_sync, live_alert_rows
from lodestar.insights.models import Alert
from lodestar.insights.services import coaching_task_create, exemption_declare
from lodestar.insights.summary import RecomputeSummary
from lodestar.insights.task_alerts import sweep_tasks
from lodestar.integrations.models import WebhookDelivery, WebhookSubscription
from tests.conftest import Cast
from tests.factories import (
    AlertFactory,
    ContactFactory,
    OpportunityFactory,
    TaskFactory,
    WebhookSubscriptionFactory,
)

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)


@pytest.fixture
def hook(cast: Cast) -> WebhookSubscription:
    return WebhookSubscriptionFactory(organization=cast.org)


@pytest.fixture
def elsewhere(cast: Cast) -> WebhookSubscription:
    """A webhook of the outsider's organization: it must hear nothing of the cast's."""
    return WebhookSubscriptionFactory(organization=cast.outsider.membership.organization)


def sent(event_type: str) -> list[dict[str, Any]]:
    return [
        json.loads(d.body)
        for d in WebhookDelivery.objects.filter(event_type=event_type).order_by("pk")
    ]


def test_a_stage_move_is_posted_once_with_the_deal_and_the_stages(
    cast: Cast, published: Any, hook: WebhookSubscription, elsewhere: WebhookSubscription
) -> None:
    deal = OpportunityFactory(owner=cast.owner, stage_key="demo", external_ref="SF-0061")
    opportunity_advance(user=cast.owner, opportunity=deal, to_stage="first_contact")

    (body,) = sent("deal.stage_changed")
    data = body["data"]
    assert (data["from_stage"], data["to_stage"], data["kind"]) == (
        "demo",
        "first_contact",
        "regression",
    )
    assert (data["deal"]["id"], data["deal"]["external_ref"]) == (deal.pk, "SF-0061")
    assert data["moved_by"]["id"] == cast.owner.pk
    assert not WebhookDelivery.objects.filter(subscription=elsewhere).exists()


def test_a_refused_move_posts_the_refusal_with_what_is_missing_and_no_stage_change(
    cast: Cast, published: Any, hook: WebhookSubscription
) -> None:
    deal = OpportunityFactory(owner=cast.owner, stage_key="demo")
    ContactFactory(account=deal.account, is_decision_maker=True)
    with pytest.raises(GateBlocked):
        opportunity_advance(user=cast.owner, opportunity=deal, to_stage="tech_confirmed")

    assert sent("deal.stage_changed") == []
    (body,) = sent("deal.gate_refused")
    data = body["data"]
    assert (data["from_stage"], data["to_stage"]) == ("demo", "tech_confirmed")
    assert {item["criterion"] for item in data["unmet"]} == {
        "decision_makers",
        "budget",
        "minutes",
    }
    assert all(set(item["explanation"]) == {"zh", "en"} for item in data["unmet"])
    assert data["requested_by"]["id"] == cast.owner.pk


def test_each_refusal_is_posted_on_its_own(
    cast: Cast, published: Any, hook: WebhookSubscription
) -> None:
    deal = OpportunityFactory(owner=cast.owner, stage_key="demo")
    for _ in range(2):
        with pytest.raises(GateBlocked):
            opportunity_advance(user=cast.owner, opportunity=deal, to_stage="tech_confirmed")
    first, second = sent("deal.gate_refused")
    assert first["id"] != second["id"]


def test_nothing_is_posted_for_a_move_that_rolls_back(
    cast: Cast, published: Any, hook: WebhookSubscription
) -> None:
    deal = OpportunityFactory(owner=cast.owner, stage_key="demo")
    with pytest.raises(RuntimeError), transaction.atomic():  # noqa: PT012 - change, rollback
        opportunity_advance(user=cast.owner, opportunity=deal, to_stage="first_contact")
        with pytest.raises(GateBlocked):
            opportunity_advance(user=cast.owner, opportunity=deal, to_stage="quote")
        raise RuntimeError("the caller's transaction fails")
    assert not WebhookDelivery.objects.exists()


def test_a_task_added_by_hand_is_posted_once(
    cast: Cast, published: Any, hook: WebhookSubscription
) -> None:
    deal = OpportunityFactory(owner=cast.owner, stage_key="demo")
    task = task_create(
        user=cast.manager,
        opportunity=deal,
        title="回访客户",
        due_at=timezone.now() + 24 * HOUR,
        assignee_id=cast.owner.pk,
    )
    (body,) = sent("task.created")
    data = body["data"]["task"]
    assert (data["id"], data["title"]["zh"], data["assignee"]["id"]) == (
        task.pk,
        "回访客户",
        cast.owner.pk,
    )
    assert data["deal"]["id"] == deal.pk


def test_nothing_is_posted_for_a_task_that_rolls_back(
    cast: Cast, published: Any, hook: WebhookSubscription
) -> None:
    deal = OpportunityFactory(owner=cast.owner, stage_key="demo")
    with pytest.raises(RuntimeError), transaction.atomic():  # noqa: PT012 - change, rollback
        task_create(user=cast.owner, opportunity=deal, title="回访", due_at=timezone.now() + HOUR)
        raise RuntimeError("rolled back")
    assert not WebhookDelivery.objects.exists()


def test_a_triggers_task_is_posted_once_however_often_its_event_comes(
    cast: Cast, published: Any, hook: WebhookSubscription
) -> None:
    deal = OpportunityFactory(owner=cast.owner, stage_key="demo")
    for external_id in ("booked-1", "booked-2"):
        events_ingest(
            user=cast.owner,
            items=[
                {
                    "type": "demo.booked",
                    "source": "tests",
                    "external_id": external_id,
                    "occurred_at": timezone.now() - HOUR,
                    "opportunity_id": deal.pk,
                }
            ],
        )
    (body,) = sent("task.created")
    task = body["data"]["task"]
    assert task["trigger"] == "demo_prep"
    assert task["title"] == {
        "zh": "准备行业案例包 + 设置试用账号",
        "en": "Prepare case pack and trial account",
    }


def test_coaching_and_exemption_tasks_are_posted(
    cast: Cast, published: Any, hook: WebhookSubscription
) -> None:
    coaching_task_create(user=cast.manager, rep_id=cast.owner.pk, note="谈判技巧")
    deal = OpportunityFactory(owner=cast.owner, stage_key="demo")
    exemption_declare(
        user=cast.owner,
        opportunity=deal,
        reason_code="customer_on_leave",
        reason="客户春节休假",
        days=7,
    )
    assert len(sent("task.created")) == 2


def test_an_overdue_task_and_its_alert_are_posted_once_each(
    cast: Cast, published: Any, hook: WebhookSubscription
) -> None:
    now = timezone.now()
    task = TaskFactory(opportunity__owner=cast.owner, created_at=now - 24 * HOUR, due_at=now - HOUR)
    sweep_tasks(now=now)
    sweep_tasks(now=now + HOUR)

    (overdue,) = sent("task.overdue")
    assert overdue["data"]["task"]["id"] == task.pk
    raised = [b["data"]["alert"] for b in sent("alert.raised")]
    assert [(a["kind"], a["recipient"]["id"]) for a in raised] == [("task_overdue", cast.owner.pk)]


def test_a_rescheduled_task_that_falls_overdue_again_is_posted_again(
    cast: Cast, published: Any, hook: WebhookSubscription
) -> None:
    now = timezone.now()
    task = TaskFactory(opportunity__owner=cast.owner, created_at=now - 24 * HOUR, due_at=now - HOUR)
    sweep_tasks(now=now)
    task_complete(user=cast.owner, task=task, now=now)  # resolves the alert
    type(task).objects.filter(pk=task.pk).update(status="open", due_at=now + 2 * HOUR)
    sweep_tasks(now=now + 3 * HOUR)
    assert [b["data"]["task"]["id"] for b in sent("task.overdue")].count(task.pk) == 2


def test_resolved_alerts_are_posted_once(
    cast: Cast, published: Any, hook: WebhookSubscription
) -> None:
    now = timezone.now()
    task = TaskFactory(opportunity__owner=cast.owner, created_at=now - 24 * HOUR, due_at=now - HOUR)
    sweep_tasks(now=now)
    task_complete(user=cast.owner, task=task, now=now)
    sweep_tasks(now=now)

    (resolved,) = sent("alert.resolved")
    alert = resolved["data"]["alert"]
    assert (alert["kind"], alert["status"]) == ("task_overdue", "resolved")


def test_alerts_the_recompute_no_longer_wants_are_posted_resolved(
    cast: Cast, hook: WebhookSubscription
) -> None:
    alert = AlertFactory(opportunity__owner=cast.owner, kind="risk.silence")
    alerts_sync(
        organization=cast.org,
        wanted={},
        live=live_alert_rows(Alert.objects.filter(pk=alert.pk)),
        now=timezone.now(),
        summary=RecomputeSummary(),
    )
    (resolved,) = sent("alert.resolved")
    assert resolved["data"]["alert"]["id"] == alert.pk


def test_only_the_event_types_a_webhook_chose_reach_it(cast: Cast, published: Any) -> None:
    WebhookSubscriptionFactory(organization=cast.org, event_types=["alert.raised"])
    deal = OpportunityFactory(owner=cast.owner, stage_key="demo")
    opportunity_advance(user=cast.owner, opportunity=deal, to_stage="first_contact")
    task_create(user=cast.owner, opportunity=deal, title="回访", due_at=timezone.now() + HOUR)
    assert not WebhookDelivery.objects.exists()


def test_a_switched_off_webhook_is_written_nothing(cast: Cast, published: Any) -> None:
    WebhookSubscriptionFactory(organization=cast.org, enabled=False)
    deal = OpportunityFactory(owner=cast.owner, stage_key="demo")
    opportunity_advance(user=cast.owner, opportunity=deal, to_stage="first_contact")
    assert not WebhookDelivery.objects.exists()


def test_every_subscribed_webhook_gets_its_own_delivery_of_one_event(
    cast: Cast, published: Any, hook: WebhookSubscription
) -> None:
    other = WebhookSubscriptionFactory(organization=cast.org)
    deal = OpportunityFactory(owner=cast.owner, stage_key="demo")
    opportunity_advance(user=cast.owner, opportunity=deal, to_stage="first_contact")
    deliveries = list(WebhookDelivery.objects.filter(event_type="deal.stage_changed"))
    assert {d.subscription for d in deliveries} == {hook, other}
    assert len({d.event_id for d in deliveries}) == 1
    assert len({d.delivery_id for d in deliveries}) == 2


def test_nothing_is_posted_for_alerts_whose_sweep_rolls_back(
    cast: Cast, published: Any, hook: WebhookSubscription
) -> None:
    now = timezone.now()
    TaskFactory(opportunity__owner=cast.owner, created_at=now - 24 * HOUR, due_at=now - HOUR)
    with pytest.raises(RuntimeError), transaction.atomic():  # noqa: PT012 - change, rollback
        sweep_tasks(now=now)
        assert WebhookDelivery.objects.filter(event_type="alert.raised").exists()
        raise RuntimeError("the sweep's transaction fails")
    assert not WebhookDelivery.objects.exists()
    assert not Alert.objects.exists()
