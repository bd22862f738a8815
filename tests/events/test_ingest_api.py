"""POST /api/v1/events: per-item verdicts, idempotent re-delivery, the seed trigger cases."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from lodestar.automation.models import Task, TaskStatus
from lodestar.events.models import Event
from lodestar.playbooks.models import PlaybookVersion
from tests.conftest import ApiClient, Cast
from tests.factories import ContactFactory, OpportunityFactory

ApiAs = Callable[[Any], ApiClient]
HOUR = dt.timedelta(hours=1)


def event(deal: Any, type_: str, external_id: str, at: dt.datetime, **extra: Any) -> dict[str, Any]:
    return {
        "type": type_,
        "source": "crm",
        "external_id": external_id,
        "occurred_at": at.isoformat(),
        "opportunity_id": deal.pk,
        **extra,
    }


@pytest.fixture
def deal(cast: Cast, published: PlaybookVersion) -> Any:
    return OpportunityFactory(owner=cast.owner, stage_key="demo")


def test_it_creates_the_two_hour_preparation_task_when_a_demo_is_booked(
    cast: Cast, deal: Any, api_as: ApiAs
) -> None:
    booked_at = timezone.now().replace(microsecond=0)
    response = api_as(cast.owner).post("/events", event(deal, "demo.booked", "b1", booked_at))

    assert response.status_code == 200
    task = Task.objects.get(opportunity=deal)
    assert task.title == "准备行业案例包 + 设置试用账号"
    assert task.assignee == cast.owner
    assert task.due_at == booked_at + 2 * HOUR
    assert task.trigger_key == "demo_prep"


def test_it_creates_the_proposal_task_due_in_24_hours_and_closes_it_when_the_proposal_is_sent(
    cast: Cast, deal: Any, api_as: ApiAs
) -> None:
    api = api_as(cast.owner)
    held_at = timezone.now().replace(microsecond=0) - 5 * HOUR
    api.post("/events", event(deal, "demo.held", "h1", held_at))
    task = Task.objects.get(opportunity=deal, trigger_key="proposal")
    assert (task.title, task.due_at) == ("发送定制化方案", held_at + 24 * HOUR)

    api.post("/events", event(deal, "proposal.sent", "p1", held_at + 3 * HOUR))

    task.refresh_from_db()
    assert task.status == TaskStatus.DONE
    assert task.completed_at == held_at + 3 * HOUR
    assert task.on_time is True


def test_it_never_creates_the_same_trigger_task_twice_for_one_deal(
    cast: Cast, deal: Any, api_as: ApiAs
) -> None:
    api = api_as(cast.owner)
    now = timezone.now()
    api.post("/events", event(deal, "demo.booked", "b1", now - HOUR))
    api.post("/events", event(deal, "demo.booked", "b2", now))
    assert Task.objects.filter(opportunity=deal, trigger_key="demo_prep").count() == 1


def test_it_reports_every_item_of_a_repeated_batch_as_duplicate_and_changes_nothing(
    cast: Cast, deal: Any, api_as: ApiAs
) -> None:
    api = api_as(cast.owner)
    now = timezone.now()
    batch = {"events": [event(deal, "call", f"c{i}", now - i * HOUR) for i in range(5)]}
    first = api.post("/events", batch).json()
    assert first["accepted"] == 5
    events_before, tasks_before = Event.objects.count(), Task.objects.count()

    again = api.post("/events", batch).json()

    assert (again["accepted"], again["duplicates"], again["rejected"]) == (0, 5, 0)
    assert [item["status"] for item in again["results"]] == ["duplicate"] * 5
    assert [item["event_id"] for item in again["results"]] == [
        item["event_id"] for item in first["results"]
    ]
    assert (Event.objects.count(), Task.objects.count()) == (events_before, tasks_before)


def test_it_accepts_the_good_items_of_a_batch_and_rejects_the_bad_ones_with_reasons(
    cast: Cast, deal: Any, api_as: ApiAs
) -> None:
    now = timezone.now()
    batch = {
        "events": [
            event(deal, "call", "ok-1", now),
            event(deal, "demo.boked", "bad-type", now),
            {**event(deal, "call", "naive", now), "occurred_at": "2026-01-01T10:00:00"},
            event(deal, "chat.message", "no-text", now, payload={"platform": "wecom"}),
            event(deal, "call", "ok-1", now),
            {**event(deal, "call", "other-deal", now), "opportunity_id": 999_999},
            event(deal, "call", "ok-2", now),
        ]
    }
    response = api_as(cast.owner).post("/events", batch)
    body = response.json()

    assert response.status_code == 207
    assert [item["status"] for item in body["results"]] == [
        "accepted",
        "rejected",
        "rejected",
        "rejected",
        "duplicate",
        "rejected",
        "accepted",
    ]
    reasons = {item["index"]: item["details"][0] for item in body["results"] if item["details"]}
    assert reasons[1]["field"] == "type"
    assert "demo.booked" in reasons[1]["message"]
    assert reasons[2]["field"] == "occurred_at"
    assert reasons[3]["field"] == "payload.text"
    assert reasons[5]["field"] == "opportunity_id"
    assert Event.objects.filter(opportunity=deal).count() == 2


def test_it_computes_a_late_event_as_if_it_had_arrived_in_order(
    cast: Cast, deal: Any, api_as: ApiAs
) -> None:
    api = api_as(cast.owner)
    booked_at = timezone.now() - dt.timedelta(days=3)
    api.post("/events", event(deal, "demo.booked", "late", booked_at))
    task = Task.objects.get(opportunity=deal)
    assert task.due_at == booked_at + 2 * HOUR
    assert task.created_at == booked_at


def test_it_marks_calls_as_customer_interaction_and_contact_must_belong_to_the_account(
    cast: Cast, deal: Any, api_as: ApiAs
) -> None:
    stranger = ContactFactory(organization=cast.org)
    body = (
        api_as(cast.owner)
        .post(
            "/events",
            {
                "events": [
                    event(deal, "call", "c-ok", timezone.now()),
                    event(deal, "call", "c-bad", timezone.now(), contact_id=stranger.pk),
                ]
            },
        )
        .json()
    )
    assert [i["status"] for i in body["results"]] == ["accepted", "rejected"]
    assert body["results"][1]["details"][0]["field"] == "contact_id"
    assert Event.objects.get(external_id="c-ok").with_customer is True


def test_it_refuses_a_batch_over_1000_items_with_a_clear_message(
    cast: Cast, deal: Any, api_as: ApiAs
) -> None:
    now = timezone.now()
    batch = {"events": [event(deal, "call", f"x{i}", now) for i in range(1001)]}
    response = api_as(cast.owner).post("/events", batch)
    assert response.status_code == 422
    assert response.json()["details"][0]["field"].startswith("events")
    assert not Event.objects.exists()


@pytest.mark.parametrize(
    ("actor", "status"),
    [
        ("owner", "accepted"),
        ("teammate", "rejected"),
        ("manager", "accepted"),
        ("admin", "accepted"),
        ("outsider", "rejected"),
    ],
)
def test_it_records_events_only_on_deals_the_caller_may_work(
    cast: Cast, deal: Any, api_as: ApiAs, actor: str, status: str
) -> None:
    body = (
        api_as(getattr(cast, actor))
        .post("/events", event(deal, "call", f"c-{actor}", timezone.now()))
        .json()
    )
    assert body["results"][0]["status"] == status


def test_it_refuses_ops_who_read_but_do_not_record_activity(
    cast: Cast, deal: Any, api_as: ApiAs
) -> None:
    response = api_as(cast.ops).post("/events", event(deal, "call", "ops", timezone.now()))
    assert response.status_code == 403


def test_it_accepts_event_types_the_published_playbook_declares(
    cast: Cast, deal: Any, api_as: ApiAs
) -> None:
    api = api_as(cast.owner)
    accepted = api.post("/events", event(deal, "integration.requested", "i1", timezone.now()))
    assert accepted.json()["results"][0]["status"] == "accepted"
    unknown = api.post("/events", event(deal, "integration.requestd", "i2", timezone.now()))
    assert unknown.json()["results"][0]["status"] == "rejected"


def test_it_reports_an_event_logged_before_as_duplicate_of_it_and_keeps_the_rest(
    cast: Cast, deal: Any
) -> None:
    from lodestar.events.services import events_ingest

    now = timezone.now()
    # Logged by another delivery (an earlier one, or a concurrent one that committed first).
    logged = Event.objects.create(
        organization=cast.org,
        type="call",
        source="crm",
        external_id="c1",
        occurred_at=now - HOUR,
        recorded_at=now,
        opportunity=deal,
        account_id=deal.account_id,
        with_customer=True,
    )
    items = [event(deal, "call", external_id, now - HOUR) for external_id in ("c1", "c2")]

    report = events_ingest(user=cast.owner, items=items, now=now)

    assert [(item.status, item.event_id == logged.pk) for item in report.items] == [
        ("duplicate", True),
        ("accepted", False),
    ]
    assert Event.objects.filter(source="crm", external_id="c1").get() == logged
    assert Event.objects.filter(source="crm", external_id="c2").count() == 1


def test_one_batch_gives_each_deal_the_tasks_of_its_own_teams_playbook(
    cast: Cast, deal: Any, api_as: ApiAs
) -> None:
    from lodestar.playbooks.services import playbook_publish_source
    from tests.conftest import seed_playbook_source

    south_source = (
        seed_playbook_source()
        .replace("准备行业案例包 + 设置试用账号", "准备华南案例包")
        .replace("due: 2h", "due: 4h", 1)
    )
    playbook_publish_source(
        user=cast.ops,
        source=south_source,
        source_name="south.yaml",
        team_id=cast.other_team_rep.membership.team_id,
    )
    south_deal = OpportunityFactory(owner=cast.other_team_rep, stage_key="demo")
    booked_at = timezone.now().replace(microsecond=0)

    response = api_as(cast.admin).post(
        "/events",
        {
            "events": [
                event(deal, "demo.booked", "east-1", booked_at),
                event(south_deal, "demo.booked", "south-1", booked_at),
            ]
        },
    )

    assert response.json()["accepted"] == 2
    east = Task.objects.get(opportunity=deal, trigger_key="demo_prep")
    south = Task.objects.get(opportunity=south_deal, trigger_key="demo_prep")
    assert (east.title, east.due_at) == ("准备行业案例包 + 设置试用账号", booked_at + 2 * HOUR)
    assert (south.title, south.due_at) == ("准备华南案例包", booked_at + 4 * HOUR)
    assert south.assignee == cast.other_team_rep


def test_it_refuses_an_empty_batch_with_a_clear_message_and_the_service_writes_nothing(
    cast: Cast, deal: Any, api_as: ApiAs
) -> None:
    from lodestar.events.services import events_ingest

    events_before = Event.objects.count()

    response = api_as(cast.owner).post("/events", {"events": []})
    report = events_ingest(user=cast.owner, items=[])

    assert response.status_code == 422
    assert [detail["field"] for detail in response.json()["details"]] == ["events"]
    assert report.items == []
    assert Event.objects.count() == events_before


def test_it_refuses_an_internal_stage_change_alone_and_keeps_the_rest_of_the_batch(
    cast: Cast, deal: Any, api_as: ApiAs
) -> None:
    now = timezone.now()
    moved = event(deal, "stage.changed", "s1", now, payload={"from": "demo", "to": "won"})
    response = api_as(cast.owner).post(
        "/events", {"events": [moved, event(deal, "call", "c1", now)]}
    )

    assert response.status_code == 207
    body = response.json()
    assert (body["accepted"], body["rejected"]) == (1, 1)
    [refusal] = body["results"][0]["details"]
    assert refusal["field"] == "type"
    assert "POST /api/v1/opportunities/{id}/advance" in refusal["message"]
    assert body["results"][1]["status"] == "accepted"
    assert list(Event.objects.filter(opportunity=deal).values_list("type", flat=True)) == ["call"]
    deal.refresh_from_db()
    assert deal.stage_key == "demo"


def test_it_explains_the_refusal_of_an_internal_type_in_chinese(
    cast: Cast, deal: Any, api_as: ApiAs
) -> None:
    api = api_as(cast.owner)
    api.client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-Hans"
    moved = event(deal, "stage.changed", "s1", timezone.now(), payload={"from": "a", "to": "b"})

    [refusal] = api.post("/events", moved).json()["results"][0]["details"]

    assert refusal["message"].startswith("“stage.changed”事件由 Lodestar 自行记录")
