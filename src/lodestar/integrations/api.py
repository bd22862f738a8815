"""The in-app inbox over REST: list your notifications, mark one or all of them read.

The reads are the inbox page's selectors (`inbox_list`, `access_notification`), the write its
service (`notification_mark_read`); nobody reads or marks anyone else's notifications, whatever
their role. Times are answered in the organization's zone.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field, Query, Router, Schema

from lodestar.fields import Id
from lodestar.integrations.models import Notification
from lodestar.integrations.selectors import access_notification, inbox_list, inbox_unread_count
from lodestar.integrations.services import notification_mark_read
from lodestar.org.requests import AuthenticatedHttpRequest
from lodestar.rest.errors import ERROR_RESPONSES, WRITE_ERRORS
from lodestar.rest.pagination import PageQuery, page_of

router = Router(tags=["notifications"])


def _local(notification: Notification, moment: dt.datetime | None) -> dt.datetime | None:
    return None if moment is None else moment.astimezone(notification.organization.tz)


class NotificationOut(Schema):
    id: int
    title: str = Field(description="What it says, in the request's language.")
    body: str = Field(description="The details, in the request's language; may be empty.")
    message_key: str = Field(
        description="What kind of message it is (e.g. task.overdue; legacy: text stored as "
        "written). docs/api.md lists the keys."
    )
    params: dict[str, Any] = Field(
        description="The message's parameters: data, or {zh, en} texts, {at} moments, {hours} "
        "durations and {choice, value} choices, worded in `title` and `body`."
    )
    link: str = Field(description="The page it is about, a path of this site; may be empty.")
    cause_key: str = Field(description="What raised it (e.g. task:12:overdue).")
    created_at: dt.datetime
    read_at: dt.datetime | None

    # Worded in the language of the request (Accept-Language), like every answer of the API.
    @staticmethod
    def resolve_title(obj: Notification) -> str:
        return obj.shown_title

    @staticmethod
    def resolve_body(obj: Notification) -> str:
        return obj.shown_body

    @staticmethod
    def resolve_created_at(obj: Notification) -> dt.datetime | None:
        return _local(obj, obj.created_at)

    @staticmethod
    def resolve_read_at(obj: Notification) -> dt.datetime | None:
        return _local(obj, obj.read_at)


class NotificationPage(Schema):
    count: int
    limit: int
    offset: int
    unread: int = Field(description="Your unread notifications, whatever the filter.")
    items: list[NotificationOut]


class NotificationQuery(PageQuery):
    unread: bool | None = Field(
        None, description="true: only the unread ones; false: only those read; all when left out."
    )


@router.get("/notifications", response={200: NotificationPage, **ERROR_RESPONSES})
def list_notifications(
    request: AuthenticatedHttpRequest, filters: Query[NotificationQuery]
) -> dict[str, Any]:
    """Your in-app notifications, newest first."""
    user = request.user
    found = inbox_list(user=user, unread_only=bool(filters.unread)).select_related("organization")
    if filters.unread is False:
        found = found.filter(read_at__isnull=False)
    return {**page_of(found, filters), "unread": inbox_unread_count(user=user)}


@router.post(
    "/notifications/{notification_id}/read", response={200: NotificationOut, **WRITE_ERRORS}
)
def read_notification(request: AuthenticatedHttpRequest, notification_id: Id) -> Notification:
    """Mark one of your notifications read; marking a read one again changes nothing."""
    user = request.user
    notification = access_notification(user=user, notification_id=notification_id)
    notification_mark_read(user=user, notification_ids=[notification.pk])
    return access_notification(user=user, notification_id=notification.pk)


class MarkedOut(Schema):
    marked: int = Field(description="How many were unread and are now read.")


@router.post("/notifications/read", response={200: MarkedOut, **WRITE_ERRORS})
def read_all_notifications(request: AuthenticatedHttpRequest) -> dict[str, int]:
    """Mark all your unread notifications read."""
    return {"marked": notification_mark_read(user=request.user)}
