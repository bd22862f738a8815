"""The notification outbox, where each organization's channels point, and calendar feed tokens.

A `Notification` row is written in the same transaction as its cause (a task, an alert …) and
is the single source of truth for its delivery: the worker claims it with a conditional UPDATE,
sends it through the channel's transport and records the outcome on the row. Nothing lives only
in the task queue, so a lost queue message or a killed worker loses nothing: the sweep finds it.
"""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from lodestar.messages import LEGACY, Rendered, render
from lodestar.org.models import Organization, Team


class Channel(models.TextChoices):
    IN_APP = "in_app", _("In-app inbox")
    WECOM = "wecom", _("WeCom group robot")
    DINGTALK = "dingtalk", _("DingTalk robot")
    FEISHU = "feishu", _("Feishu bot")
    EMAIL = "email", _("E-mail")
    # An event posted to a subscribed URL (`lodestar.integrations.outbound`).
    WEBHOOK = "webhook", _("Outbound webhook")


# The robot channels post to a group webhook; the others address the recipient directly.
ROBOT_CHANNELS = frozenset({Channel.WECOM, Channel.DINGTALK, Channel.FEISHU})
# Channels that need a ChannelConfig to be switched on (in-app is always on).
CONFIGURABLE_CHANNELS = (Channel.WECOM, Channel.DINGTALK, Channel.FEISHU, Channel.EMAIL)


class ChannelConfig(models.Model):
    """Where one channel kind delivers, for a whole organization, one team or one user.

    When a notification is written the most specific config wins: user > team > organization.
    A disabled config at a more specific level switches the channel *off* for that scope
    (a user can mute the team's robot for themselves without touching the team's setting).
    """

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="channel_configs",
        verbose_name=_("organization"),
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="channel_configs",
        verbose_name=_("team"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="channel_configs",
        verbose_name=_("user"),
    )
    kind = models.CharField(
        _("channel"),
        max_length=16,
        choices=[(c.value, c.label) for c in CONFIGURABLE_CHANNELS],
    )
    name = models.CharField(_("name"), max_length=100, blank=True)
    webhook_url = models.URLField(_("webhook URL"), max_length=500, blank=True)
    # The robot's signing secret (DingTalk "SEC…", Feishu); needed in clear text to sign.
    secret = models.CharField(_("signing secret"), max_length=200, blank=True)
    # E-mail only: send here instead of the recipient's own address (e.g. a team list).
    email_address = models.EmailField(_("e-mail address"), blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("channel setting")
        verbose_name_plural = _("channel settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(team__isnull=True) | Q(user__isnull=True),
                name="channelconfig_team_or_user",
            ),
            models.UniqueConstraint(
                fields=["organization", "kind"],
                condition=Q(team__isnull=True, user__isnull=True),
                name="channelconfig_one_per_org",
            ),
            models.UniqueConstraint(
                fields=["organization", "team", "kind"],
                condition=Q(team__isnull=False),
                name="channelconfig_one_per_team",
            ),
            models.UniqueConstraint(
                fields=["organization", "user", "kind"],
                condition=Q(user__isnull=False),
                name="channelconfig_one_per_user",
            ),
        ]

    def __str__(self) -> str:
        scope = self.user or self.team or self.organization
        return f"{self.get_kind_display()} · {scope}"

    @property
    def scope(self) -> str:
        if self.user_id:
            return "user"
        if self.team_id:
            return "team"
        return "organization"

    def clean(self) -> None:
        errors: dict[str, str | Promise] = {}
        if self.team_id and self.user_id:
            errors["user"] = _("Choose a team or a user, not both.")
        if self.team is not None and self.team.organization_id != self.organization_id:
            errors["team"] = _("The team belongs to another organization.")
        if self.enabled and self.kind in ROBOT_CHANNELS and not self.webhook_url:
            errors["webhook_url"] = _("A robot channel needs its webhook URL.")
        if self.webhook_url and not self.webhook_url.lower().startswith(("https://", "http://")):
            errors["webhook_url"] = _("The webhook URL must start with https://.")
        if errors:
            raise ValidationError(errors)


class NotificationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed, will retry")
    DEAD = "dead", _("Dead letter")


class Notification(models.Model):
    """One message to one destination on one channel: the outbox row and the in-app inbox item.

    ``dedupe_key`` is ``cause_key`` + channel + destination and is unique per organization, so
    re-running whatever raised the cause (a replayed event, a retried sweep) never notifies the
    same place twice.
    """

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("organization"),
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("recipient"),
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    config = models.ForeignKey(
        ChannelConfig,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("channel setting"),
    )
    # E-mail destination resolved when written (the recipient's address may change later).
    email_address = models.EmailField(_("e-mail address"), blank=True)
    # What it says: a message key and its parameters, worded in the reader's language when
    # shown or sent (`lodestar.messages`). The title and body keep it as worded in the site's
    # language when written (search, admin); the key `legacy` shows them as they are.
    message_key = models.CharField(_("message"), max_length=64, default=LEGACY)
    params = models.JSONField(_("message parameters"), default=dict, blank=True)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"), blank=True)
    link = models.CharField(_("link"), max_length=500, blank=True)
    cause_key = models.CharField(_("cause"), max_length=200)
    dedupe_key = models.CharField(
        max_length=255, editable=False, verbose_name=_("deduplication key")
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=NotificationStatus.choices,
        default=NotificationStatus.PENDING,
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    last_error = models.TextField(_("last error"), blank=True)
    claimed_by = models.CharField(_("claimed by"), max_length=120, blank=True)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"))
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "dedupe_key"], name="notification_dedupe"
            ),
        ]
        indexes = [
            # The sweep: due pending/failed rows and expired `sending` leases.
            models.Index(fields=["status", "next_attempt_at"], name="notification_due"),
            models.Index(fields=["status", "claimed_at"], name="notification_lease"),
            # The inbox: a user's in-app items, unread first.
            models.Index(
                fields=["recipient", "channel", "read_at", "created_at"],
                name="notification_inbox",
            ),
            models.Index(fields=["organization", "cause_key"], name="notification_cause"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()}: {self.shown_title}"

    def rendered(self) -> Rendered:
        """What it says, in the active language."""
        return render(self.message_key, self.params, stored=Rendered(self.title, self.body))

    @property
    def shown_title(self) -> str:
        return self.rendered().title

    @property
    def shown_body(self) -> str:
        return self.rendered().body


class CalendarFeed(models.Model):
    """A user's private iCalendar subscription; only the token's SHA-256 digest is stored."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="calendar_feed",
        verbose_name=_("user"),
    )
    digest = models.CharField(max_length=64, unique=True, editable=False, verbose_name=_("digest"))
    created_at = models.DateTimeField(_("created at"))
    last_fetched_at = models.DateTimeField(_("last fetched at"), null=True, blank=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return str(_("calendar of %(user)s") % {"user": self.user})

    @staticmethod
    def digest_of(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @staticmethod
    def new_token() -> str:
        # 32 random bytes: unguessable, and URL-safe so it can sit in the path.
        return secrets.token_urlsafe(32)


class LanguagePreference(models.Model):
    """The language a user last used the site in: what their e-mails and messages are worded in.

    Remembered from their requests (`integrations.middleware.RememberLanguageMiddleware`); a
    user without one is written to in the site's language (`LANGUAGE_CODE`).
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="language_preference",
        verbose_name=_("user"),
    )
    language = models.CharField(_("language"), max_length=16)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("language preference")
        verbose_name_plural = _("language preferences")

    def __str__(self) -> str:
        return f"{self.user}: {self.language}"


# The outbound webhooks' tables live in their own module; imported here so Django knows them.
from lodestar.integrations.outbound_models import (  # noqa: E402
    AttemptOutcome,
    DisabledReason,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)

__all__ = [
    "CONFIGURABLE_CHANNELS",
    "ROBOT_CHANNELS",
    "AttemptOutcome",
    "CalendarFeed",
    "Channel",
    "ChannelConfig",
    "DisabledReason",
    "LanguagePreference",
    "Notification",
    "NotificationStatus",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookSubscription",
]
