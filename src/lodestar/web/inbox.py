"""Read model of the in-app inbox page: the user's notifications and their calendar feed.

Reads go through the integrations app's selectors (`inbox_list`, `inbox_unread_count`); the
writes (mark read, rotate the feed) are its services, called by the views.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Case, IntegerField, Value, When

from lodestar.integrations.models import CalendarFeed, Notification
from lodestar.integrations.selectors import inbox_list, inbox_unread_count
from lodestar.org.models import User

__all__ = ["INBOX_PAGE_SIZE", "InboxPage", "calendar_feed_since", "inbox_page"]

INBOX_PAGE_SIZE = 30


@dataclass
class InboxPage:
    items: list[Notification]
    unread: int
    page: int
    has_next: bool
    feed_since: dt.datetime | None

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def calendar_feed_since(*, user: User) -> dt.datetime | None:
    """When the user's current calendar feed URL was made, or None when they have none.

    The token itself is never stored, so it cannot be shown again: only rotated.
    """
    return CalendarFeed.objects.filter(user_id=user.pk).values_list("created_at", flat=True).first()


def inbox_page(*, user: User, page: int = 1) -> InboxPage:
    """One page of the user's own notifications: unread first, newest first within each."""
    page = max(page, 1)
    start = (page - 1) * INBOX_PAGE_SIZE
    rows = list(
        inbox_list(user=user).order_by(
            Case(
                When(read_at__isnull=True, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            ),
            "-created_at",
            "-id",
        )[start : start + INBOX_PAGE_SIZE + 1]
    )
    return InboxPage(
        items=rows[:INBOX_PAGE_SIZE],
        unread=inbox_unread_count(user=user),
        page=page,
        has_next=len(rows) > INBOX_PAGE_SIZE,
        feed_since=calendar_feed_since(user=user),
    )
