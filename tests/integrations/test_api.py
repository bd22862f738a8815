"""The inbox over REST: only one's own in-app notifications, the unread filter, marking one or
all read, and 404 for anyone else's notification whatever the role or organization."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.utils import timezone

from lodestar.integrations.models import Channel, Notification
from lodestar.org.models import User
from tests.conftest import ApiClient, Cast
from tests.factories import NotificationFactory

pytestmark = pytest.mark.django_db
ApiAs = Callable[[User], ApiClient]


def test_the_list_holds_only_your_in_app_notifications(cast: Cast, api_as: ApiAs) -> None:
    unread = NotificationFactory(recipient=cast.owner)
    read = NotificationFactory(recipient=cast.owner, read_at=timezone.now())
    NotificationFactory(recipient=cast.owner, channel=Channel.EMAIL)
    NotificationFactory(recipient=cast.teammate)
    client = api_as(cast.owner)

    everything = client.get("/notifications").json()
    only_unread = client.get("/notifications", unread="true").json()
    only_read = client.get("/notifications", unread="false").json()

    assert {item["id"] for item in everything["items"]} == {unread.pk, read.pk}
    assert everything["unread"] == 1
    assert [item["id"] for item in only_unread["items"]] == [unread.pk]
    assert [item["id"] for item in only_read["items"]] == [read.pk]
    assert everything["items"][0]["created_at"].endswith("+08:00")
    assert api_as(cast.admin).get("/notifications").json()["count"] == 0


def test_marking_one_read(cast: Cast, api_as: ApiAs) -> None:
    item = NotificationFactory(recipient=cast.owner)

    response = api_as(cast.owner).post(f"/notifications/{item.pk}/read", {})
    again = api_as(cast.owner).post(f"/notifications/{item.pk}/read", {})

    assert response.status_code == 200, response.json()
    assert response.json()["read_at"] is not None
    assert again.json()["read_at"] == response.json()["read_at"]


def test_marking_all_read(cast: Cast, api_as: ApiAs) -> None:
    NotificationFactory.create_batch(3, recipient=cast.owner)
    theirs = NotificationFactory(recipient=cast.teammate)

    response = api_as(cast.owner).post("/notifications/read", {})

    assert response.status_code == 200, response.json()
    assert response.json() == {"marked": 3}
    assert not Notification.objects.filter(recipient=cast.owner, read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_nobody_reads_or_marks_anyone_elses_notification(cast: Cast, api_as: ApiAs) -> None:
    item = NotificationFactory(recipient=cast.owner)

    for user in (cast.teammate, cast.manager, cast.admin, cast.outsider):
        assert api_as(user).post(f"/notifications/{item.pk}/read", {}).status_code == 404
    assert api_as(cast.owner).post("/notifications/0/read", {}).status_code == 422
    item.refresh_from_db()
    assert item.read_at is None
