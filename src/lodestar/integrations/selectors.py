"""Reads for the integrations app: channel resolution, the in-app inbox, the business calendar."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.urls import reverse

from lodestar.core.engine import BusinessCalendar
from lodestar.integrations.models import (
    CONFIGURABLE_CHANNELS,
    Channel,
    ChannelConfig,
    Notification,
)
from lodestar.org.models import Organization, Team, User
from lodestar.org.selectors import membership_of

__all__ = [
    "ResolvedChannel",
    "calendar_feed_path",
    "channels_for",
    "inbox_list",
    "inbox_unread_count",
    "organization_calendar",
]

_SCOPE_RANK = {"user": 3, "team": 2, "organization": 1}


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
    scope = Q(team__isnull=True, user__isnull=True)
    if team is not None:
        scope |= Q(team=team)
    if recipient is not None:
        scope |= Q(user=recipient)
    configs = ChannelConfig.objects.filter(scope, organization=organization).select_related(
        "team", "user"
    )
    best: dict[str, ChannelConfig] = {}
    for config in configs:
        current = best.get(config.kind)
        if current is None or _SCOPE_RANK[config.scope] > _SCOPE_RANK[current.scope]:
            best[config.kind] = config

    resolved: list[ResolvedChannel] = []
    if recipient is not None:
        resolved.append(ResolvedChannel(channel=Channel.IN_APP, config=None))
    for kind in CONFIGURABLE_CHANNELS:
        config = best.get(kind)
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
    items = items.filter(organization_id=membership.organization_id if membership else None)
    if unread_only:
        items = items.filter(read_at__isnull=True)
    return items.order_by("-created_at", "-id")


def inbox_unread_count(*, user: User) -> int:
    return inbox_list(user=user, unread_only=True).count()


def organization_calendar(*, organization: Organization) -> BusinessCalendar:
    """The organization's business hours and holidays as the SLA clock's plain calendar.

    Triggers pass this to ``lodestar.core.engine.due_at``; the sweep to ``business_time_between``.
    """
    return BusinessCalendar.build(
        time_zone=organization.time_zone,
        working_days=organization.working_days,
        opens=organization.workday_starts,
        closes=organization.workday_ends,
        holidays=organization.holidays.values_list("date", flat=True),
    )


def calendar_feed_path(*, token: str) -> str:
    """The feed's path for a raw token; prefix the site's origin to get the subscription URL."""
    return reverse("integrations:calendar-feed", kwargs={"token": token})
