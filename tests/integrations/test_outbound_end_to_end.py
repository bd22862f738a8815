"""End to end: a subscription made over the API, a deal moved over the API, the worker's task
posting the event to a receiver on a socket, the receiver checking the signature as
docs/webhooks.md says, and the delivery log read back over the API."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

import pytest

from lodestar.integrations.models import Notification, NotificationStatus, WebhookDelivery
from lodestar.integrations.tasks import sweep_notifications
from tests.conftest import ApiClient, Cast
from tests.factories import ContactFactory, OpportunityFactory
from tests.integrations.outbound_receiver import Receiver, verify

pytestmark = pytest.mark.django_db

ApiAs = Callable[[Any], ApiClient]


@pytest.fixture
def receiver(settings: Any) -> Iterator[Receiver]:
    settings.LODESTAR_WEBHOOK_ALLOW_PRIVATE = True
    server = Receiver().start()
    yield server
    server.stop()


def test_a_stage_move_reaches_the_receiver_signed_and_is_logged(
    cast: Cast, published: Any, api_as: ApiAs, receiver: Receiver
) -> None:
    admin = api_as(cast.admin)
    created = admin.post(
        "/webhooks",
        {"url": receiver.url, "event_types": ["deal.stage_changed", "deal.gate_refused"]},
    ).json()
    deal = OpportunityFactory(owner=cast.owner, stage_key="demo")
    ContactFactory(account=deal.account, is_decision_maker=True)
    rep = api_as(cast.owner)

    assert (
        rep.post(f"/opportunities/{deal.pk}/advance", {"to_stage": "tech_confirmed"}).status_code
        == 409
    )
    assert (
        rep.post(f"/opportunities/{deal.pk}/advance", {"to_stage": "first_contact"}).status_code
        == 200
    )

    # The worker (Huey, immediate in the tests) posted both once their requests committed.
    assert [a.headers["X-Lodestar-Event"] for a in receiver.arrivals] == [
        "deal.gate_refused",
        "deal.stage_changed",
    ]
    for arrival in receiver.arrivals:
        assert verify(created["secret"], arrival.headers, arrival.body)
    moved = json.loads(receiver.arrivals[1].body)["data"]
    assert (moved["deal"]["id"], moved["to_stage"]) == (deal.pk, "first_contact")

    log = admin.get(f"/webhooks/{created['id']}/deliveries").json()
    assert [(item["event_type"], item["status"]) for item in log["items"]] == [
        ("deal.stage_changed", "delivered"),
        ("deal.gate_refused", "delivered"),
    ]
    assert all(item["attempts"][0]["status_code"] == 200 for item in log["items"])


def test_the_periodic_sweep_posts_a_delivery_whose_queueing_was_lost(
    cast: Cast, published: Any, api_as: ApiAs, receiver: Receiver
) -> None:
    api_as(cast.admin).post("/webhooks", {"url": receiver.url, "event_types": ["task.created"]})
    deal = OpportunityFactory(owner=cast.owner, stage_key="demo")
    with mock.patch("lodestar.integrations.services.enqueue_delivery"):
        api_as(cast.owner).post(
            f"/opportunities/{deal.pk}/tasks",
            {"title": "回访客户", "due_at": "2099-01-01T09:00:00+08:00"},
        )
    delivery = WebhookDelivery.objects.get()
    assert receiver.arrivals == []

    sweep_notifications.call_local()

    (arrival,) = receiver.arrivals
    assert arrival.headers["X-Lodestar-Delivery"] == delivery.delivery_id
    assert Notification.objects.get(pk=delivery.pk).status == NotificationStatus.DELIVERED
