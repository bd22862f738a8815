"""Reads of the outbound webhooks: an organization's subscriptions and each one's delivery log.

Only admins and ops read them (anyone else: PermissionDenied); a webhook of another
organization is not found.
"""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext_lazy as _

from lodestar.errors import NotFound, PermissionDenied
from lodestar.integrations.models import (
    NotificationStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from lodestar.integrations.outbound import may_manage_webhooks
from lodestar.org.models import User
from lodestar.org.selectors import Actor, actor_of

__all__ = [
    "WAITING",
    "access_webhook",
    "webhook_attempts",
    "webhook_deliveries",
    "webhook_list",
    "webhook_waiting",
]

# Outbox states of a delivery that is not finished yet.
WAITING = (NotificationStatus.PENDING, NotificationStatus.SENDING, NotificationStatus.FAILED)


def _reader(user: User) -> Actor:
    actor = actor_of(user=user)
    if actor is None or not may_manage_webhooks(actor):
        raise PermissionDenied(_("Only administrators and ops manage webhooks."))
    return actor


def webhook_list(*, user: User) -> QuerySet[WebhookSubscription]:
    """The organization's webhooks, oldest first."""
    actor = _reader(user)
    return WebhookSubscription.objects.filter(organization_id=actor.organization_id).order_by(
        "created_at", "pk"
    )


def access_webhook(*, user: User, webhook_id: int) -> WebhookSubscription:
    found = webhook_list(user=user).filter(pk=webhook_id).first()
    if found is None:
        raise NotFound()
    return found


def webhook_attempts(*, subscription: WebhookSubscription) -> QuerySet[WebhookAttempt]:
    """The delivery log: every attempt, newest first, with its delivery."""
    return (
        WebhookAttempt.objects.filter(subscription=subscription)
        .select_related("delivery")
        .order_by("-started_at", "-pk")
    )


def webhook_deliveries(*, subscription: WebhookSubscription) -> QuerySet[WebhookDelivery]:
    """Every delivery, newest first, with its outbox row and its attempts (newest first)."""
    return (
        WebhookDelivery.objects.filter(subscription=subscription)
        .select_related("notification", "organization")
        .prefetch_related(
            Prefetch(
                "attempts",
                queryset=WebhookAttempt.objects.select_related("organization").order_by(
                    "-started_at", "-pk"
                ),
            )
        )
        .order_by("-created_at", "-notification_id")
    )


def webhook_waiting(*, subscription: WebhookSubscription) -> int:
    """Deliveries not finished yet: waiting for the worker or for their next retry."""
    return WebhookDelivery.objects.filter(
        subscription=subscription, notification__status__in=WAITING
    ).count()
