"""Reads for the integrations app: channel resolution, the in-app inbox, calendar feed paths."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q, QuerySet
from django.urls import reverse

from lodestar.errors import NotFound
from lodestar.integrations.models import (
    CONFIGURABLE_CHANNELS,
    Channel,
    ChannelConfig,
    LanguagePreference,
    Notification,
)
from lodestar.org.models import Organization, Team, User
from lodestar.org.selectors import membership_of

__all__ = [
    "ChannelConfigs",
    "ResolvedChannel",
    "access_notification",
    "calendar_feed_path",
    "channels_for",
    "inbox_list",
    "inbox_unread_count",
    "recipient_language",
]


@dataclass(frozen=True, slots=True)
class ResolvedChannel:
    """One channel a notification goes to, with the config that decided it (None for in-app)."""

    channel: Channel
    config: ChannelConfig | None
    email_address: str = ""


def channels_for(
    *,
    organization: Organization,
    recipient: User | None,
    team: Team | None = None,
    kinds: frozenset[str] | None = None,
) -> list[ResolvedChannel]:
    """Which channels a notification to ``recipient`` uses: in-app plus configured ones.

    The most specific config of each kind wins (user > team > organization); if that config
    is disabled, the kind is off. Without a recipient, ``team`` (or else the organization)
    decides, and there is no in-app copy. ``kinds`` narrows the result to those channels.
    """
    if recipient is not None and team is None:
        membership = membership_of(user=recipient)
        team = membership.team if membership is not None else None
    team_id = team.pk if team is not None else None
    configs = ChannelConfigs.load(
        organization=organization,
        team_ids={team_id} if team_id is not None else set(),
        user_ids={recipient.pk} if recipient is not None else set(),
    )
    return configs.resolve(recipient=recipient, team_id=team_id, kinds=kinds)


class ChannelConfigs:
    """The channel settings that can apply to a set of recipients, read in one query.

    `resolve` then answers `channels_for` for any of those recipients without touching the
    database, so a batch of notifications costs one read of the settings, not one per item.
    """

    def __init__(self, configs: list[ChannelConfig]) -> None:
        self._organization: dict[str, ChannelConfig] = {}
        self._team: dict[tuple[int, str], ChannelConfig] = {}
        self._user: dict[tuple[int, str], ChannelConfig] = {}
        for config in configs:
            if config.user_id:
                self._user[(config.user_id, config.kind)] = config
            elif config.team_id:
                self._team[(config.team_id, config.kind)] = config
            else:
                self._organization[config.kind] = config

    @classmethod
    def load(
        cls, *, organization: Organization, team_ids: set[int], user_ids: set[int]
    ) -> ChannelConfigs:
        scope = Q(team__isnull=True, user__isnull=True)
        if team_ids:
            scope |= Q(team_id__in=sorted(team_ids))
        if user_ids:
            scope |= Q(user_id__in=sorted(user_ids))
        return cls(list(ChannelConfig.objects.filter(scope, organization=organization)))

    def resolve(
        self,
        *,
        recipient: User | None,
        team_id: int | None,
        kinds: frozenset[str] | None = None,
    ) -> list[ResolvedChannel]:
        resolved: list[ResolvedChannel] = []
        if recipient is not None:
            resolved.append(ResolvedChannel(channel=Channel.IN_APP, config=None))
        for kind in CONFIGURABLE_CHANNELS:
            config = (
                (self._user.get((recipient.pk, kind)) if recipient is not None else None)
                or (self._team.get((team_id, kind)) if team_id is not None else None)
                or self._organization.get(kind)
            )
            if config is None or not config.enabled:
                continue
            if kind == Channel.EMAIL:
                address = config.email_address or (recipient.email if recipient else "")
                if not address:
                    continue
                resolved.append(ResolvedChannel(channel=kind, config=config, email_address=address))
            else:
                resolved.append(ResolvedChannel(channel=kind, config=config))
        if kinds is not None:
            resolved = [item for item in resolved if item.channel in kinds]
        return resolved


def inbox_list(*, user: User, unread_only: bool = False) -> QuerySet[Notification]:
    """The user's own in-app notifications, newest first; nobody else's, whatever their role."""
    items = Notification.objects.filter(recipient=user, channel=Channel.IN_APP)
    membership = membership_of(user=user)
    # A user moved to another organization stops seeing the old tenant's items.
    items = items.filter(organization_id=membership.organization_id) if membership else items.none()
    if unread_only:
        items = items.filter(read_at__isnull=True)
    return items.order_by("-created_at", "-id")


def access_notification(*, user: User, notification_id: int) -> Notification:
    """One of the user's own in-app notifications; anyone else's is not found."""
    notification = (
        inbox_list(user=user).select_related("organization").filter(pk=notification_id).first()
    )
    if notification is None:
        raise NotFound()
    return notification


def inbox_unread_count(*, user: User) -> int:
    return inbox_list(user=user, unread_only=True).count()


def calendar_feed_path(*, token: str) -> str:
    """The feed's path for a raw token; prefix the site's origin to get the subscription URL."""
    return reverse("integrations:calendar-feed", kwargs={"token": token})


def recipient_language(*, user_id: int | None) -> str:
    """The language to word a user's e-mails and messages in: the one they last used the site
    in, else the site's (also for group robots, which have no one recipient)."""
    if user_id is not None:
        language = (
            LanguagePreference.objects.filter(user_id=user_id)
            .values_list("language", flat=True)
            .first()
        )
        if language:
            return language
    return str(settings.LANGUAGE_CODE)
