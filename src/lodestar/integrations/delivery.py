"""The worker's steps, as plain functions tests call directly: claim, deliver, sweep.

Exactly-once is impossible across a network; what the outbox guarantees is:

- **no double send by two workers**: a row is sent only by the worker whose conditional UPDATE
  moved it to ``sending`` (``… WHERE id = %s AND status IN ('pending','failed') AND
  next_attempt_at <= now``); the database lets exactly one such UPDATE match.
- **nothing lost**: a row stays in the table until it is delivered or dead. The periodic sweep
  picks up due pending/failed rows (an enqueue that never ran, a retry whose time has come) and
  ``sending`` rows whose claim is older than the lease (a worker killed mid-delivery).
- **at most one extra send after a crash**: if a worker dies *after* the receiver accepted the
  message but *before* recording it, the row is sent again after the lease. Every attempt
  carries the same idempotency key (HTTP header, e-mail Message-ID) so a receiver that honours
  it shows the message once.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import os
import random
import socket
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from lodestar.integrations import outbound_delivery
from lodestar.integrations.models import Channel, Notification, NotificationStatus
from lodestar.integrations.selectors import recipient_language
from lodestar.integrations.transport import (
    DeliveryError,
    Destination,
    Message,
    PermanentError,
    RetryableError,
    transport_for,
)
from lodestar.messages import Rendered, render_in

__all__ = [
    "Outcome",
    "claim",
    "deliver",
    "due_ids",
    "lease",
    "max_attempts",
    "retry_delay",
    "worker_name",
]

logger = logging.getLogger(__name__)

_SYSTEM_RANDOM = random.SystemRandom()


class Outcome(enum.StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    DEAD = "dead"
    SKIPPED = "skipped"  # not claimable: already taken, done, or not due yet


def _setting_seconds(name: str, default: int) -> dt.timedelta:
    value = getattr(settings, name, default)
    if not isinstance(value, int) or value <= 0:
        raise ValueError(f"settings.{name} must be a positive whole number of seconds")
    return dt.timedelta(seconds=value)


def lease() -> dt.timedelta:
    """How long a claim protects a ``sending`` row; far longer than one attempt can take."""
    return _setting_seconds("NOTIFICATION_LEASE_SECONDS", 300)


def max_attempts() -> int:
    value = getattr(settings, "NOTIFICATION_MAX_ATTEMPTS", 8)
    if not isinstance(value, int) or value < 1:
        raise ValueError("settings.NOTIFICATION_MAX_ATTEMPTS must be a positive integer")
    return value


def retry_delay(
    attempt: int,
    *,
    base: dt.timedelta = dt.timedelta(seconds=30),
    cap: dt.timedelta = dt.timedelta(hours=6),
    rand: Callable[[], float] = _SYSTEM_RANDOM.random,
) -> dt.timedelta:
    """Exponential back-off with jitter: ``base·2^(attempt-1)``, capped, scaled into [½, 1].

    The jitter spreads retries of a burst (a robot that was down for everyone) so they do not
    all hit the receiver — and its rate limit — in the same second.
    """
    exponent = max(attempt - 1, 0)
    doublings: int = 2 ** min(exponent, 30)  # int ** int is Any to mypy
    ceiling = min(cap, base * doublings)
    return ceiling * (0.5 + 0.5 * rand())


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def _claimable(now: dt.datetime) -> Q:
    due = Q(
        status__in=[NotificationStatus.PENDING, NotificationStatus.FAILED],
        next_attempt_at__lte=now,
    )
    abandoned = Q(status=NotificationStatus.SENDING, claimed_at__lt=now - lease())
    return due | abandoned


def claim(notification_id: int, *, worker: str, now: dt.datetime) -> bool:
    """Take the row for this worker, or report that someone else has it (or it is not due).

    One conditional UPDATE; the attempt is counted here, so a worker that crashes on a message
    still uses up an attempt and a poison message ends as a dead letter, not a crash loop.
    """
    updated = Notification.objects.filter(_claimable(now), pk=notification_id).update(
        status=NotificationStatus.SENDING,
        claimed_by=worker[:120],
        claimed_at=now,
        attempts=F("attempts") + 1,
    )
    return updated == 1


def _message_and_destination(notification: Notification) -> tuple[Message, Destination]:
    recipient = notification.recipient
    # Worded in the recipient's language (a group robot without one: the site's).
    text = render_in(
        recipient_language(user_id=notification.recipient_id),
        notification.message_key,
        notification.params,
        stored=Rendered(notification.title, notification.body),
    )
    message = Message(
        title=text.title,
        body=text.body,
        link=notification.link,
        idempotency_key=f"lodestar-{notification.organization_id}-{notification.pk}",
        recipient_name=str(recipient) if recipient is not None else "",
    )
    config = notification.config
    if notification.channel == "email":
        return message, Destination(email_address=notification.email_address)
    if config is None:
        raise PermanentError("the channel setting was deleted")
    if not config.enabled:
        raise PermanentError("the channel setting was switched off")
    return message, Destination(webhook_url=config.webhook_url, secret=config.secret)


def _finish(notification_id: int, worker: str, **fields: object) -> bool:
    """Record an outcome, but only if this worker still holds the claim."""
    return (
        Notification.objects.filter(
            pk=notification_id, status=NotificationStatus.SENDING, claimed_by=worker[:120]
        ).update(**fields)
        == 1
    )


class _Attempt:
    """One attempt's timing, and its line in the webhook delivery log (other channels keep
    theirs on the outbox row alone)."""

    def __init__(self, notification: Notification, *, started_at: dt.datetime) -> None:
        self.notification = notification
        self.started_at = started_at
        self.clock = time.monotonic()
        self.sent: outbound_delivery.Sent | None = None

    def logged(
        self, *, error: DeliveryError | None = None, next_retry_at: dt.datetime | None = None
    ) -> None:
        if self.notification.channel != Channel.WEBHOOK:
            return
        try:
            outbound_delivery.attempt_made(
                self.notification,
                started_at=self.started_at,
                duration_ms=round((time.monotonic() - self.clock) * 1000),
                sent=self.sent,
                error=error,
                next_retry_at=next_retry_at,
            )
        except Exception:  # the outcome is recorded on the outbox row; the log line is extra
            logger.exception("notification %s: the webhook log line failed", self.notification.pk)


def deliver(
    notification_id: int,
    *,
    worker: str | None = None,
    now: Callable[[], dt.datetime] = timezone.now,
    rand: Callable[[], float] = _SYSTEM_RANDOM.random,
) -> Outcome:
    """Claim, send and record one notification. Safe to call any number of times, anywhere."""
    worker = worker or worker_name()
    if not claim(notification_id, worker=worker, now=now()):
        return Outcome.SKIPPED
    notification = Notification.objects.select_related(
        "config", "recipient", "webhook__subscription"
    ).get(pk=notification_id)
    attempt = _Attempt(notification, started_at=now())
    try:
        if notification.channel == Channel.WEBHOOK:
            attempt.sent = outbound_delivery.send(notification, now=attempt.started_at)
        else:
            message, destination = _message_and_destination(notification)
            transport_for(notification.channel).send(message, destination)
    except DeliveryError as exc:
        error: DeliveryError = exc
    except Exception as exc:
        # A bug or an unexpected library error: keep the row alive (retry) and keep the trace.
        logger.exception("notification %s: unexpected delivery error", notification_id)
        error = RetryableError(f"unexpected error: {exc!r}")
    else:
        _finish(
            notification_id,
            worker,
            status=NotificationStatus.DELIVERED,
            delivered_at=now(),
            last_error="",
        )
        attempt.logged()
        return Outcome.DELIVERED

    attempts = notification.attempts
    if error.retryable and attempts < max_attempts():
        delay = retry_delay(attempts, rand=rand)
        if error.retry_after is not None:
            delay = max(delay, error.retry_after)
        next_attempt_at = now() + delay
        _finish(
            notification_id,
            worker,
            status=NotificationStatus.FAILED,
            next_attempt_at=next_attempt_at,
            last_error=str(error)[:2000],
        )
        attempt.logged(error=error, next_retry_at=next_attempt_at)
        logger.info(
            "notification %s attempt %s failed, retry in %s: %s",
            notification_id,
            attempts,
            delay,
            error,
        )
        return Outcome.RETRY
    _finish(notification_id, worker, status=NotificationStatus.DEAD, last_error=str(error)[:2000])
    attempt.logged(error=error)
    logger.warning("notification %s is a dead letter: %s", notification_id, error)
    return Outcome.DEAD


def due_ids(*, now: dt.datetime, limit: int = 500) -> list[int]:
    """Rows the sweep should (re)deliver: due pending/failed rows and expired claims."""
    return list(
        Notification.objects.filter(_claimable(now))
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
