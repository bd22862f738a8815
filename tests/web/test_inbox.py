"""The in-app inbox page: each person's own notifications, marking them read, the calendar feed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from lodestar.integrations.models import CalendarFeed, Channel, Notification, NotificationStatus
from tests.conftest import Cast
from tests.web.conftest import htmx

ClientAs = Callable[[Any], Client]


def _notify(user: Any, title: str, *, minutes_ago: int = 0, read: bool = False) -> Notification:
    now = timezone.now() - dt.timedelta(minutes=minutes_ago)
    return Notification.objects.create(
        organization_id=user.membership.organization_id,
        recipient=user,
        channel=Channel.IN_APP,
        title=title,
        body="",
        link="",
        cause_key=f"test:{title}",
        dedupe_key=f"test:{title}:{user.pk}",
        status=NotificationStatus.DELIVERED,
        next_attempt_at=now,
        created_at=now,
        delivered_at=now,
        read_at=now if read else None,
    )


@pytest.fixture
def owners_inbox(cast: Cast) -> list[Notification]:
    return [
        _notify(cast.owner, "Old and read", minutes_ago=5, read=True),
        _notify(cast.owner, "Older unread", minutes_ago=30),
        _notify(cast.owner, "Newest unread", minutes_ago=1),
    ]


def test_it_lists_the_owners_notifications_unread_first_then_newest(
    cast: Cast, client_as: ClientAs, owners_inbox: list[Notification]
) -> None:
    page = client_as(cast.owner).get(reverse("web:inbox")).content.decode()
    positions = [page.index(t) for t in ("Newest unread", "Older unread", "Old and read")]
    assert positions == sorted(positions)
    assert "2 unread notifications" in page


def test_it_shows_the_unread_count_in_the_navigation_on_every_page(
    cast: Cast, client_as: ClientAs, owners_inbox: list[Notification]
) -> None:
    page = client_as(cast.owner).get(reverse("web:board")).content.decode()
    assert 'href="/inbox/"' in page
    assert '<span id="inbox-badge" class="badge"><span aria-hidden="true">2</span>' in page


def test_it_shows_a_teammate_none_of_the_owners_notifications(
    cast: Cast, client_as: ClientAs, owners_inbox: list[Notification]
) -> None:
    page = client_as(cast.teammate).get(reverse("web:inbox")).content.decode()
    assert "Newest unread" not in page
    assert "Nothing in your inbox." in page
    assert '<span id="inbox-badge" class="badge" hidden>' in page


def test_it_keeps_outsiders_out(
    cast: Cast, client_as: ClientAs, owners_inbox: list[Notification]
) -> None:
    page = client_as(cast.outsider).get(reverse("web:inbox")).content.decode()
    assert "Newest unread" not in page
    htmx(client_as(cast.outsider), reverse("web:inbox-read"), {"id": owners_inbox[1].pk})
    assert Notification.objects.get(pk=owners_inbox[1].pk).read_at is None
    assert Client().get(reverse("web:inbox")).status_code == 302


def test_it_marks_one_read_and_updates_the_badge(
    cast: Cast, client_as: ClientAs, owners_inbox: list[Notification]
) -> None:
    older = owners_inbox[1]
    response = htmx(client_as(cast.owner), reverse("web:inbox-read"), {"id": older.pk})
    assert response.status_code == 200
    body = response.content.decode()
    assert "1 unread notification" in body
    assert 'hx-swap-oob="true"' in body
    older.refresh_from_db()
    assert older.read_at is not None
    assert Notification.objects.get(pk=owners_inbox[2].pk).read_at is None


def test_it_does_not_let_a_teammate_mark_the_owners_notification_read(
    cast: Cast, client_as: ClientAs, owners_inbox: list[Notification]
) -> None:
    htmx(client_as(cast.teammate), reverse("web:inbox-read"), {"id": owners_inbox[2].pk})
    assert Notification.objects.get(pk=owners_inbox[2].pk).read_at is None


def test_it_marks_all_read(
    cast: Cast, client_as: ClientAs, owners_inbox: list[Notification]
) -> None:
    mine_too = _notify(cast.teammate, "Teammate's own")
    response = htmx(client_as(cast.owner), reverse("web:inbox-read"))
    assert response.status_code == 200
    assert "0 unread notifications" in response.content.decode()
    assert not Notification.objects.filter(recipient=cast.owner, read_at__isnull=True).exists()
    mine_too.refresh_from_db()
    assert mine_too.read_at is None


def test_it_refuses_a_malformed_id(cast: Cast, client_as: ClientAs) -> None:
    response = htmx(client_as(cast.owner), reverse("web:inbox-read"), {"id": "x"})
    assert response.status_code == 422


def test_it_makes_a_calendar_address_shown_once_and_rotates_it(
    cast: Cast, client_as: ClientAs
) -> None:
    client = client_as(cast.owner)
    assert "You have no calendar address yet." in client.get(reverse("web:inbox")).content.decode()
    first = htmx(client, reverse("web:calendar-feed"))
    assert first.status_code == 200
    assert first["Cache-Control"] == "no-store"
    body = first.content.decode()
    assert "it is shown only once" in body
    url = body.split('id="feed-url"')[1].split('value="')[1].split('"')[0]
    assert url.startswith("http://testserver/calendar/")
    assert url.endswith(".ics")
    assert Client().get(url.removeprefix("http://testserver")).status_code == 200

    again = client.get(reverse("web:inbox")).content.decode()
    assert url not in again
    assert "You have a calendar address" in again

    second = htmx(client, reverse("web:calendar-feed")).content.decode()
    new_url = second.split('id="feed-url"')[1].split('value="')[1].split('"')[0]
    assert new_url != url
    assert Client().get(url.removeprefix("http://testserver")).status_code == 404
    assert CalendarFeed.objects.filter(user=cast.owner).count() == 1


def test_it_makes_each_person_their_own_calendar_address(cast: Cast, client_as: ClientAs) -> None:
    htmx(client_as(cast.owner), reverse("web:calendar-feed"))
    htmx(client_as(cast.teammate), reverse("web:calendar-feed"))
    assert CalendarFeed.objects.filter(user__in=[cast.owner, cast.teammate]).count() == 2
    htmx(client_as(cast.outsider), reverse("web:calendar-feed"))
    assert CalendarFeed.objects.filter(user=cast.outsider).count() == 1
