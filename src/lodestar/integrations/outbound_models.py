"""Outbound webhooks: who subscribed which URL to which events, what was sent, what came back.

- `WebhookSubscription`: one URL of an organization, the event types it wants and the secret
  its payloads are signed with (kept in clear, as the robots' signing secrets are: it is needed
  to sign; shown once when made or rotated, never again).
- `WebhookDelivery`: one event for one subscription, the webhook part of an outbox row
  (`Notification` with the channel `webhook`): the exact body sent on every attempt and the
  delivery id receivers recognise a repeated delivery by.
- `WebhookAttempt`: the delivery log, one row per attempt (status code, duration, error, the
  next retry).

Imported by `lodestar.integrations.models`, so the app's models are all known to Django.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from lodestar.org.models import Organization


class DisabledReason(models.TextChoices):
    NONE = "", _("Enabled")
    BY_HAND = "by_hand", _("Switched off by hand")
    FAILURES = "failures", _("Switched off after repeated failures")


class WebhookSubscription(models.Model):
    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="webhook_subscriptions",
        verbose_name=_("organization"),
    )
    url = models.URLField(_("receiver URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    # The event type names it receives (`lodestar.integrations.outbound.EVENT_TYPES`).
    event_types = models.JSONField(_("event types"), default=list)
    secret = models.CharField(_("signing secret"), max_length=100, editable=False)
    # After a rotation the old secret also signs for a day, so receivers can switch over.
    previous_secret = models.CharField(
        _("previous secret"), max_length=100, blank=True, editable=False
    )
    previous_secret_until = models.DateTimeField(
        _("previous secret until"), null=True, blank=True, editable=False
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    disabled_reason = models.CharField(
        _("why switched off"),
        max_length=16,
        choices=DisabledReason.choices,
        default=DisabledReason.NONE,
        blank=True,
    )
    disabled_at = models.DateTimeField(_("switched off at"), null=True, blank=True)
    # Deliveries in a row that failed for good; reset by the next one that arrives.
    consecutive_failures = models.PositiveIntegerField(_("failures in a row"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))
    secret_rotated_at = models.DateTimeField(_("secret rotated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["organization", "enabled"], name="webhook_sub_org")]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One event for one subscription; its outbox row carries the status and the attempts."""

    notification = models.OneToOneField(
        "integrations.Notification",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="webhook",
        verbose_name=_("notification"),
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organization")
    )
    subscription = models.ForeignKey(
        WebhookSubscription,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("webhook subscription"),
    )
    event_type = models.CharField(_("event type"), max_length=64)
    event_id = models.CharField(_("event id"), max_length=64)
    # X-Lodestar-Delivery: the same on every attempt of this delivery.
    delivery_id = models.CharField(_("delivery id"), max_length=64, unique=True)
    # The exact JSON text posted on every attempt (signed with each attempt's timestamp).
    body = models.TextField(_("body"))
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-notification_id"]
        indexes = [
            models.Index(fields=["subscription", "created_at"], name="webhook_delivery_sub"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.delivery_id}"


class AttemptOutcome(models.TextChoices):
    DELIVERED = "delivered", _("Delivered")
    RETRY = "retry", _("Failed, will retry")
    DEAD = "dead", _("Failed for good")


class WebhookAttempt(models.Model):
    """One POST (or a refusal to post) of a delivery: the delivery log's line."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organization")
    )
    subscription = models.ForeignKey(
        WebhookSubscription,
        on_delete=models.CASCADE,
        related_name="attempts",
        verbose_name=_("webhook subscription"),
    )
    delivery = models.ForeignKey(
        WebhookDelivery,
        on_delete=models.CASCADE,
        related_name="attempts",
        verbose_name=_("webhook delivery"),
    )
    number = models.PositiveSmallIntegerField(_("attempt"))
    started_at = models.DateTimeField(_("sent at"))
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=AttemptOutcome.choices)
    error = models.TextField(_("error"), blank=True)
    # The first bytes the receiver answered, to see why it refused.
    response_excerpt = models.CharField(_("response"), max_length=500, blank=True)
    next_retry_at = models.DateTimeField(_("next retry at"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["subscription", "started_at"], name="webhook_attempt_sub"),
        ]

    def __str__(self) -> str:
        return f"{self.delivery_id} #{self.number}: {self.outcome}"
