"""The worker's side of the outbound webhooks: one signed POST, and its line in the log.

`delivery.deliver` claims a `webhook` outbox row like any other and calls `send` for the
attempt; the outbox's rules hold (one sender per row, retries with back-off and jitter, dead
letters after `NOTIFICATION_MAX_ATTEMPTS`). After each attempt `attempt_made` writes the log
line and keeps the subscription's count of failed deliveries in a row: a delivery that fails for
good adds one, one that arrives starts it again at 0, and at `LODESTAR_WEBHOOK_MAX_FAILURES` the
webhook is switched off and its managers are told.

What counts as what: a 2xx reply is delivered; 408, 429 and 5xx replies and no reply at all
(refused connection, timeout, unknown host) are retried; any other reply (a 4xx, a redirect,
which is never followed) and a refused address fail for good at once. Test deliveries are sent
once and count for nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.urls import reverse

# A module, not its names: the services import the worker's steps, which import this module.
from lodestar.integrations import services
from lodestar.integrations.models import (
    AttemptOutcome,
    DisabledReason,
    Notification,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from lodestar.integrations.outbound import (
    TEST_EVENT,
    allow_private,
    check_address,
    max_failures,
    signature_header,
    url_problem,
)
from lodestar.integrations.transport import DeliveryError, PermanentError, RetryableError
from lodestar.integrations.webhooks import DEFAULT_TIMEOUT, Reply, post_bytes
from lodestar.messages import Msg
from lodestar.org.models import Membership, Role
from lodestar.org.services import audit_record

__all__ = ["Sent", "WebhookFailed", "WebhookRefused", "attempt_made", "send"]

logger = logging.getLogger(__name__)

_EXCERPT = 500
USER_AGENT = "Lodestar-Webhooks/1"


@dataclass(frozen=True, slots=True)
class Sent:
    """A reply that counts as delivered."""

    status: int
    excerpt: str


def _excerpt(reply: Reply) -> str:
    return reply.body[:_EXCERPT].decode("utf-8", "replace")


class WebhookFailed(RetryableError):
    """No reply, or a reply worth trying again (408, 429, 5xx)."""

    def __init__(self, message: str, *, reply: Reply | None = None) -> None:
        super().__init__(message, retry_after=reply.retry_after if reply is not None else None)
        self.reply = reply


class WebhookRefused(PermanentError):
    """A reply, an address or a URL that retrying cannot change."""

    def __init__(self, message: str, *, reply: Reply | None = None) -> None:
        super().__init__(message)
        self.reply = reply


class SubscriptionOff(PermanentError):
    """The webhook was switched off (or deleted) while this delivery waited: not sent."""


def _delivery_of(notification: Notification) -> WebhookDelivery | None:
    """The row's webhook part (selected with it by the worker), or None once it is deleted."""
    try:
        return notification.webhook
    except WebhookDelivery.DoesNotExist:
        return None


def send(notification: Notification, *, now: dt.datetime) -> Sent:
    """Post the delivery once; raises a `DeliveryError` the outbox sorts into retry or dead."""
    delivery = _delivery_of(notification)
    if delivery is None:
        raise SubscriptionOff("the webhook was deleted")
    subscription = delivery.subscription
    test = delivery.event_type == TEST_EVENT
    if not subscription.enabled and not test:
        raise SubscriptionOff("the webhook is switched off")
    try:
        return _post(delivery, subscription, now=now)
    except RetryableError as exc:
        if test:  # a test is sent once: its result is what the person who sent it waits for
            raise WebhookRefused(f"{exc} (a test is sent once)", reply=_reply_of(exc)) from exc
        raise


def _reply_of(error: BaseException) -> Reply | None:
    return getattr(error, "reply", None)


def _post(
    delivery: WebhookDelivery, subscription: WebhookSubscription, *, now: dt.datetime
) -> Sent:
    problem = url_problem(subscription.url)
    if problem is not None:  # the settings changed since it was saved
        raise WebhookRefused(f"refused: {problem}")
    body = delivery.body.encode("utf-8")
    timestamp = str(int(now.timestamp()))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "X-Lodestar-Event": delivery.event_type,
        "X-Lodestar-Delivery": delivery.delivery_id,
        "X-Lodestar-Timestamp": timestamp,
        "X-Lodestar-Signature": signature_header(subscription, timestamp, body, now=now),
        "Idempotency-Key": delivery.delivery_id,
    }
    reply = post_bytes(
        subscription.url,
        body,
        headers=headers,
        timeout=DEFAULT_TIMEOUT,
        check_address=None if allow_private() else check_address,
        follow_redirects=False,
    )
    if 200 <= reply.status < 300:
        return Sent(reply.status, _excerpt(reply))
    if reply.status in (408, 429) or reply.status >= 500:
        raise WebhookFailed(f"HTTP {reply.status}", reply=reply)
    if 300 <= reply.status < 400:
        raise WebhookRefused(
            f"HTTP {reply.status}: redirects are not followed; subscribe the final URL",
            reply=reply,
        )
    raise WebhookRefused(f"HTTP {reply.status}", reply=reply)


def attempt_made(
    notification: Notification,
    *,
    started_at: dt.datetime,
    duration_ms: int,
    sent: Sent | None,
    error: DeliveryError | None,
    next_retry_at: dt.datetime | None,
) -> None:
    """Log one attempt of a webhook delivery and keep its subscription's failure count."""
    delivery = _delivery_of(notification)
    if delivery is None:
        return
    reply = _reply_of(error) if error is not None else None
    status: int | None
    if sent is not None:
        outcome, status, excerpt = AttemptOutcome.DELIVERED, sent.status, sent.excerpt
    else:
        outcome = AttemptOutcome.RETRY if next_retry_at is not None else AttemptOutcome.DEAD
        status = reply.status if reply is not None else None
        excerpt = _excerpt(reply) if reply is not None else ""
    WebhookAttempt.objects.create(
        organization_id=delivery.organization_id,
        subscription_id=delivery.subscription_id,
        delivery=delivery,
        number=max(notification.attempts, 1),
        started_at=started_at,
        duration_ms=max(duration_ms, 0),
        status_code=status,
        outcome=outcome,
        error=str(error)[:2000] if error is not None else "",
        response_excerpt=excerpt,
        next_retry_at=next_retry_at,
    )
    if delivery.event_type == TEST_EVENT or isinstance(error, SubscriptionOff):
        return
    subscriptions = WebhookSubscription.objects.filter(pk=delivery.subscription_id)
    if outcome == AttemptOutcome.DELIVERED:
        if delivery.subscription.consecutive_failures:  # as read when the attempt began
            subscriptions.update(consecutive_failures=0)
    elif outcome == AttemptOutcome.DEAD:
        subscriptions.update(consecutive_failures=F("consecutive_failures") + 1)
        _switch_off_if_failing(delivery.subscription_id, error=str(error), now=started_at)


@transaction.atomic
def _switch_off_if_failing(subscription_id: int, *, error: str, now: dt.datetime) -> None:
    """At the limit, switch the webhook off (one worker wins) and tell its managers."""
    limit = max_failures()
    switched = WebhookSubscription.objects.filter(
        pk=subscription_id, enabled=True, consecutive_failures__gte=limit
    ).update(
        enabled=False,
        disabled_reason=DisabledReason.FAILURES,
        disabled_at=now,
        updated_at=now,
    )
    if not switched:
        return
    subscription = WebhookSubscription.objects.select_related("organization").get(
        pk=subscription_id
    )
    audit_record(
        organization_id=subscription.organization_id,
        actor=None,
        action="webhook.auto_disable",
        object_type="webhook",
        object_id=subscription.pk,
        data={"url": subscription.url, "failures": subscription.consecutive_failures},
        at=now,
    )
    managers = Membership.objects.filter(
        organization_id=subscription.organization_id,
        role__in=[Role.ADMIN, Role.OPS],
        user__is_active=True,
    ).select_related("user")
    link = reverse("web:webhook", args=[subscription.pk])
    for membership in managers:
        services.notify(
            organization=subscription.organization,
            recipient=membership.user,
            message=Msg(
                "webhook.disabled",
                {
                    "url": subscription.url,
                    "count": subscription.consecutive_failures,
                    "error": error[:300],
                },
            ),
            link=link,
            cause_key=f"webhook:{subscription.pk}:disabled:{now.isoformat()}",
            now=now,
        )
    logger.warning(
        "webhook %s switched off after %s failed deliveries in a row",
        subscription.pk,
        subscription.consecutive_failures,
    )
