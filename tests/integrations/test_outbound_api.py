"""/api/v1/webhooks: create (the secret answered once), read, change, switch off and on, rotate,
test, read the deliveries, delete; admins and ops only, each within their organization."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from lodestar.integrations.models import WebhookDelivery, WebhookSubscription
from tests.conftest import ApiClient, Cast
from tests.factories import WebhookAttemptFactory, WebhookSubscriptionFactory

pytestmark = pytest.mark.django_db

ApiAs = Callable[[Any], ApiClient]
NEW = {"url": "https://crm.example.com/lodestar", "event_types": ["deal.stage_changed"]}


@pytest.fixture(autouse=True)
def _no_sending(monkeypatch: pytest.MonkeyPatch) -> None:
    """The API's requests commit and queue their deliveries: here nothing is posted."""
    monkeypatch.setattr("lodestar.integrations.services.enqueue_delivery", lambda ids: list(ids))


def test_an_admin_creates_a_webhook_and_gets_its_secret_this_once(
    cast: Cast, api_as: ApiAs
) -> None:
    api = api_as(cast.admin)
    created = api.post("/webhooks", {**NEW, "description": "CRM"})
    assert created.status_code == 201
    body = created.json()
    hook = WebhookSubscription.objects.get()
    assert body["secret"] == hook.secret
    assert (body["url"], body["event_types"], body["enabled"], body["waiting"]) == (
        NEW["url"],
        ["deal.stage_changed"],
        True,
        0,
    )
    read = api.get(f"/webhooks/{hook.pk}").json()
    assert "secret" not in read
    assert hook.secret not in str(api.get("/webhooks").json())


def test_ops_may_manage_webhooks_and_reps_and_managers_may_not(cast: Cast, api_as: ApiAs) -> None:
    assert api_as(cast.ops).post("/webhooks", NEW).status_code == 201
    hook = WebhookSubscription.objects.get()
    for who in (cast.owner, cast.manager):
        api = api_as(who)
        assert api.get("/webhooks").status_code == 403
        assert api.post("/webhooks", NEW).status_code == 403
        assert api.post(f"/webhooks/{hook.pk}/test", {}).status_code == 403
        assert api.delete(f"/webhooks/{hook.pk}").status_code == 403


def test_another_organizations_webhooks_are_neither_listed_nor_found(
    cast: Cast, api_as: ApiAs
) -> None:
    theirs = WebhookSubscriptionFactory(organization=cast.outsider.membership.organization)
    api = api_as(cast.admin)
    assert api.get("/webhooks").json()["count"] == 0
    assert api.get(f"/webhooks/{theirs.pk}").status_code == 404
    assert api.patch(f"/webhooks/{theirs.pk}", {"enabled": False}).status_code == 404
    assert api.post(f"/webhooks/{theirs.pk}/rotate-secret", {}).status_code == 404
    assert api.get(f"/webhooks/{theirs.pk}/deliveries").status_code == 404
    theirs.refresh_from_db()
    assert theirs.enabled


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({**NEW, "url": "http://crm.example.com/x"}, "url"),
        ({**NEW, "url": "https://10.0.0.8/x"}, "url"),
        ({**NEW, "event_types": []}, "event_types"),
        ({**NEW, "event_types": ["forecast.changed"]}, "event_types.0"),
        ({**NEW, "secret": "mine"}, "secret"),
    ],
)
def test_bad_input_is_refused_with_the_field_and_nothing_is_made(
    cast: Cast, api_as: ApiAs, payload: dict[str, Any], field: str
) -> None:
    response = api_as(cast.admin).post("/webhooks", payload)
    assert response.status_code == 422
    assert field in [detail["field"] for detail in response.json()["details"]]
    assert not WebhookSubscription.objects.exists()


def test_the_same_url_twice_is_refused(cast: Cast, api_as: ApiAs) -> None:
    api = api_as(cast.admin)
    api.post("/webhooks", NEW)
    again = api.post("/webhooks", NEW)
    assert again.status_code == 422
    assert "subscribed already" in again.json()["details"][0]["message"]


def test_it_changes_switches_off_and_on_and_rotates(cast: Cast, api_as: ApiAs) -> None:
    api = api_as(cast.admin)
    hook = WebhookSubscriptionFactory(organization=cast.org)
    changed = api.patch(
        f"/webhooks/{hook.pk}", {"event_types": ["alert.raised"], "enabled": False}
    ).json()
    assert (changed["event_types"], changed["enabled"], changed["disabled_reason"]) == (
        ["alert.raised"],
        False,
        "by_hand",
    )
    assert api.patch(f"/webhooks/{hook.pk}", {"enabled": True}).json()["enabled"] is True

    old = hook.secret
    secret = api.post(f"/webhooks/{hook.pk}/rotate-secret", {}).json()["secret"]
    hook.refresh_from_db()
    assert (hook.secret, hook.previous_secret) == (secret, old)


def test_a_test_is_queued_and_shows_in_the_deliveries_with_its_attempts(
    cast: Cast, api_as: ApiAs
) -> None:
    api = api_as(cast.ops)
    hook = WebhookSubscriptionFactory(organization=cast.org)
    queued = api.post(f"/webhooks/{hook.pk}/test", {})
    assert queued.status_code == 202
    assert (queued.json()["event_type"], queued.json()["status"]) == ("webhook.test", "pending")
    delivery = WebhookDelivery.objects.get()
    WebhookAttemptFactory(delivery=delivery, status_code=503, outcome="retry", error="HTTP 503")

    page = api.get(f"/webhooks/{hook.pk}/deliveries").json()
    assert page["count"] == 1
    (item,) = page["items"]
    assert item["delivery_id"] == delivery.delivery_id
    assert [(a["number"], a["status_code"], a["outcome"]) for a in item["attempts"]] == [
        (1, 503, "retry")
    ]


def test_deleting_takes_the_log_and_the_waiting_deliveries(cast: Cast, api_as: ApiAs) -> None:
    api = api_as(cast.admin)
    hook = WebhookSubscriptionFactory(organization=cast.org)
    api.post(f"/webhooks/{hook.pk}/test", {})
    assert api.delete(f"/webhooks/{hook.pk}").status_code == 204
    assert not WebhookDelivery.objects.exists()
    assert api.get(f"/webhooks/{hook.pk}").status_code == 404


def test_the_event_types_are_listed_with_their_descriptions(cast: Cast, api_as: ApiAs) -> None:
    names = [item["name"] for item in api_as(cast.admin).get("/webhooks/event-types").json()]
    assert names == [
        "deal.stage_changed",
        "deal.gate_refused",
        "task.created",
        "task.overdue",
        "alert.raised",
        "alert.resolved",
    ]


def test_the_operations_are_in_the_openapi_document(cast: Cast, api_as: ApiAs) -> None:
    paths = api_as(cast.admin).get("/openapi.json").json()["paths"]
    for path in (
        "/api/v1/webhooks",
        "/api/v1/webhooks/{webhook_id}",
        "/api/v1/webhooks/{webhook_id}/test",
        "/api/v1/webhooks/{webhook_id}/rotate-secret",
        "/api/v1/webhooks/{webhook_id}/deliveries",
    ):
        assert path in paths
