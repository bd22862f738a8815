"""Outbound webhooks over REST (admins and ops): subscribe URLs to event types, change them,
switch them off and on, rotate the secret, send a test, read each one's delivery log.

Each view makes one call to `lodestar.integrations.outbound` (writes) or
`lodestar.integrations.outbound_selectors` (reads); the secret is answered only by the create
and rotate operations. docs/webhooks.md describes the payloads and the signature.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from ninja import Field, Query, Router, Schema, Status

from lodestar.fields import Id, Text
from lodestar.integrations import outbound
from lodestar.integrations.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from lodestar.integrations.outbound_selectors import (
    access_webhook,
    webhook_deliveries,
    webhook_list,
    webhook_waiting,
)
from lodestar.org.requests import AuthenticatedHttpRequest
from lodestar.rest.errors import ERROR_RESPONSES, WRITE_ERRORS
from lodestar.rest.pagination import PageQuery, page_of
from lodestar.rest.schemas import StrictIn

__all__ = ["router"]

router = Router(tags=["webhooks"])

EventType = Literal[
    "deal.stage_changed",
    "deal.gate_refused",
    "task.created",
    "task.overdue",
    "alert.raised",
    "alert.resolved",
]
Url = Annotated[Text, Field(min_length=1, max_length=500, description="https:// only.")]
Description = Annotated[Text, Field(max_length=200)]
EventTypes = Annotated[list[EventType], Field(min_length=1, max_length=len(outbound.EVENT_TYPES))]
LEFT_OUT: Any = None


def _local(tz: dt.tzinfo, moment: dt.datetime | None) -> dt.datetime | None:
    """Times are answered in the organization's zone."""
    return None if moment is None else moment.astimezone(tz)


class WebhookOut(Schema):
    id: int
    url: str
    description: str
    event_types: list[str]
    enabled: bool
    disabled_reason: str = Field(
        description="Empty while enabled; by_hand, or failures (switched off automatically after "
        "LODESTAR_WEBHOOK_MAX_FAILURES deliveries in a row failed)."
    )
    disabled_at: dt.datetime | None
    consecutive_failures: int = Field(description="Deliveries in a row that failed for good.")
    waiting: int = Field(description="Deliveries not finished yet (queued or awaiting a retry).")
    created_at: dt.datetime
    secret_rotated_at: dt.datetime | None

    @staticmethod
    def resolve_waiting(obj: WebhookSubscription) -> int:
        return webhook_waiting(subscription=obj)

    @staticmethod
    def resolve_disabled_at(obj: WebhookSubscription) -> dt.datetime | None:
        return _local(obj.organization.tz, obj.disabled_at)

    @staticmethod
    def resolve_created_at(obj: WebhookSubscription) -> dt.datetime | None:
        return _local(obj.organization.tz, obj.created_at)

    @staticmethod
    def resolve_secret_rotated_at(obj: WebhookSubscription) -> dt.datetime | None:
        return _local(obj.organization.tz, obj.secret_rotated_at)


class WebhookCreatedOut(WebhookOut):
    secret: str = Field(
        description="The signing secret: answered this once, never again (rotate it if lost)."
    )


class SecretOut(Schema):
    secret: str = Field(
        description="The new signing secret, answered once; the old one also signs for a day."
    )


class WebhookPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[WebhookOut]


class AttemptOut(Schema):
    number: int = Field(description="1 for the first attempt of the delivery.")
    started_at: dt.datetime
    duration_ms: int
    status_code: int | None = Field(description="The receiver's HTTP status; null: no reply.")
    outcome: Literal["delivered", "retry", "dead"]
    error: str
    response_excerpt: str = Field(description="The first 500 characters the receiver answered.")
    next_retry_at: dt.datetime | None

    @staticmethod
    def resolve_started_at(obj: WebhookAttempt) -> dt.datetime | None:
        return _local(obj.organization.tz, obj.started_at)

    @staticmethod
    def resolve_next_retry_at(obj: WebhookAttempt) -> dt.datetime | None:
        return _local(obj.organization.tz, obj.next_retry_at)


class DeliveryOut(Schema):
    delivery_id: str = Field(description="X-Lodestar-Delivery: the same on every attempt.")
    event_id: str = Field(description="The payload's id: the same for every webhook it went to.")
    event_type: str
    status: Literal["pending", "sending", "delivered", "failed", "dead"] = Field(
        description="pending or sending: queued; failed: awaiting a retry; delivered; dead: "
        "failed for good."
    )
    attempts: list[AttemptOut]
    created_at: dt.datetime
    body: str = Field(description="The JSON text posted, the same on every attempt.")

    @staticmethod
    def resolve_status(obj: WebhookDelivery) -> str:
        return obj.notification.status

    @staticmethod
    def resolve_attempts(obj: WebhookDelivery) -> list[WebhookAttempt]:
        return list(obj.attempts.all())

    @staticmethod
    def resolve_created_at(obj: WebhookDelivery) -> dt.datetime | None:
        return _local(obj.organization.tz, obj.created_at)


class DeliveryPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[DeliveryOut]


class EventTypeOut(Schema):
    name: str
    description: str


class WebhookCreateIn(StrictIn):
    url: Url
    event_types: EventTypes
    description: Description = ""


class WebhookUpdateIn(StrictIn):
    url: Url = LEFT_OUT
    event_types: EventTypes = LEFT_OUT
    description: Description = LEFT_OUT
    enabled: bool = Field(
        LEFT_OUT, description="false switches it off; true back on (its failure count restarts)."
    )


def _one(request: AuthenticatedHttpRequest, webhook_id: int) -> WebhookSubscription:
    access_webhook(user=request.user, webhook_id=webhook_id)  # 403 for others, 404 elsewhere
    return webhook_list(user=request.user).select_related("organization").get(pk=webhook_id)


@router.get("/webhooks/event-types", response={200: list[EventTypeOut], **ERROR_RESPONSES})
def list_webhook_event_types(request: AuthenticatedHttpRequest) -> list[dict[str, str]]:
    """The event types a webhook may subscribe to, described in the request's language."""
    return [{"name": name, "description": str(text)} for name, text in outbound.EVENT_TYPES.items()]


@router.get("/webhooks", response={200: WebhookPage, **ERROR_RESPONSES})
def list_webhooks(request: AuthenticatedHttpRequest, filters: Query[PageQuery]) -> dict[str, Any]:
    """The organization's webhooks, oldest first (admins and ops)."""
    return page_of(webhook_list(user=request.user).select_related("organization"), filters)


@router.post("/webhooks", response={201: WebhookCreatedOut, **WRITE_ERRORS})
def create_webhook(request: AuthenticatedHttpRequest, payload: WebhookCreateIn) -> Status[Any]:
    """Subscribe a URL to event types; the answer holds the signing secret, this once."""
    subscription, _secret = outbound.webhook_create(user=request.user, **payload.model_dump())
    # The secret is the subscription's own, answered here and by the rotation only.
    return Status(201, _one(request, subscription.pk))


@router.get("/webhooks/{webhook_id}", response={200: WebhookOut, **ERROR_RESPONSES})
def get_webhook(request: AuthenticatedHttpRequest, webhook_id: Id) -> WebhookSubscription:
    return _one(request, webhook_id)


@router.patch("/webhooks/{webhook_id}", response={200: WebhookOut, **WRITE_ERRORS})
def update_webhook(
    request: AuthenticatedHttpRequest, webhook_id: Id, payload: WebhookUpdateIn
) -> WebhookSubscription:
    """Change the fields given; `enabled` switches it off or back on."""
    subscription = _one(request, webhook_id)
    changes = payload.model_dump(exclude_unset=True)
    enabled = changes.pop("enabled", None)
    if changes:
        subscription = outbound.webhook_update(
            user=request.user, subscription=subscription, **changes
        )
    if enabled is not None:
        outbound.webhook_set_enabled(
            user=request.user, subscription=subscription, enabled=bool(enabled)
        )
    return _one(request, webhook_id)


@router.delete("/webhooks/{webhook_id}", response={204: None, **WRITE_ERRORS})
def delete_webhook(request: AuthenticatedHttpRequest, webhook_id: Id) -> Status[None]:
    """Delete a webhook with its log; deliveries still waiting are not sent."""
    outbound.webhook_delete(user=request.user, subscription=_one(request, webhook_id))
    return Status(204, None)


@router.post("/webhooks/{webhook_id}/rotate-secret", response={200: SecretOut, **WRITE_ERRORS})
def rotate_webhook_secret(request: AuthenticatedHttpRequest, webhook_id: Id) -> dict[str, str]:
    """A new signing secret, answered once; for a day both the new and the old one sign."""
    secret = outbound.webhook_rotate_secret(
        user=request.user, subscription=_one(request, webhook_id)
    )
    return {"secret": secret}


@router.post("/webhooks/{webhook_id}/test", response={202: DeliveryOut, **WRITE_ERRORS})
def test_webhook(request: AuthenticatedHttpRequest, webhook_id: Id) -> Status[Any]:
    """Queue a `webhook.test` event to this webhook (switched off or not), sent once; its
    outcome shows in the deliveries."""
    delivery = outbound.webhook_send_test(user=request.user, subscription=_one(request, webhook_id))
    subscription = _one(request, webhook_id)
    return Status(202, webhook_deliveries(subscription=subscription).get(pk=delivery.pk))


@router.get("/webhooks/{webhook_id}/deliveries", response={200: DeliveryPage, **ERROR_RESPONSES})
def list_webhook_deliveries(
    request: AuthenticatedHttpRequest, webhook_id: Id, filters: Query[PageQuery]
) -> dict[str, Any]:
    """The delivery log: each delivery, newest first, with its attempts (status code, duration,
    error, next retry)."""
    return page_of(webhook_deliveries(subscription=_one(request, webhook_id)), filters)
